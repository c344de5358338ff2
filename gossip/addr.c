/* gossip/addr.c: parsing and formatting of peer addresses of either family (see
 * include/mesh/addr.h). Pure: no I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "mesh/addr.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int parse_port(const char *s, uint16_t *port, const char **why)
{
	unsigned long v = 0;
	if (!*s) {
		*why = "the port after ':' is empty";
		return -EINVAL;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			*why = "the port is not a decimal number";
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535) {
			*why = "the port is above 65535";
			return -EINVAL;
		}
	}
	if (v == 0) {
		*why = "the port is 0";
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* An IPv6 literal (no brackets, no zone) into out; mapped IPv4 becomes IPv4. */
static int set_v6(const char *host, struct mesh_addr *out)
{
	struct in6_addr a6;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return -EINVAL;
	memset(out->a, 0, sizeof(out->a));
	if (memcmp(a6.s6_addr, v4mapped_prefix, 12) == 0) {
		out->family = AF_INET;
		memcpy(out->a, a6.s6_addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->a, a6.s6_addr, 16);
	}
	return 0;
}

int mesh_addr_parse(const char *s, uint16_t default_port, struct mesh_addr *out, const char **why)
{
	const char *why_local;
	char host[INET6_ADDRSTRLEN];
	const char *port_str = NULL;
	size_t hl;
	struct mesh_addr a = { .port = default_port };

	if (!why)
		why = &why_local;
	if (!s || !*s) {
		*why = "the address is empty";
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			*why = "'[' without a closing ']'";
			return -EINVAL;
		}
		hl = (size_t)(close - s - 1);
		if (close[1] == ':')
			port_str = close + 2;
		else if (close[1]) {
			*why = "only ':port' may follow ']'";
			return -EINVAL;
		}
		if (hl == 0 || hl >= sizeof(host)) {
			*why = hl ? "the address in brackets is too long" : "the brackets are empty";
			return -EINVAL;
		}
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (strchr(host, '%')) {
			*why = "an IPv6 zone (%interface) is not supported: a link-local address "
			       "cannot be a peer";
			return -EINVAL;
		}
		if (set_v6(host, &a) < 0) {
			*why = "the address in brackets is not an IPv6 address";
			return -EINVAL;
		}
	} else if (strchr(s, ']')) {
		*why = "']' without an opening '['";
		return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* more than one ':': a bare IPv6 address, which cannot carry a port */
			hl = strlen(s);
			if (strchr(s, '%')) {
				*why = "an IPv6 zone (%interface) is not supported: a link-local "
				       "address cannot be a peer";
				return -EINVAL;
			}
			if (hl >= sizeof(host) || set_v6(s, &a) < 0) {
				*why = "not an IPv4 address nor an IPv6 address (write an IPv6 address "
				       "with a port as [addr]:port)";
				return -EINVAL;
			}
		} else {
			struct in_addr a4;
			hl = colon ? (size_t)(colon - s) : strlen(s);
			if (hl == 0 || hl >= sizeof(host)) {
				*why = hl ? "the address is too long" : "the address before ':' is empty";
				return -EINVAL;
			}
			memcpy(host, s, hl);
			host[hl] = '\0';
			if (inet_pton(AF_INET, host, &a4) != 1) {
				*why = "not an IPv4 address (a.b.c.d) nor an IPv6 address";
				return -EINVAL;
			}
			a.family = AF_INET;
			memcpy(a.a, &a4, 4);
			if (colon)
				port_str = colon + 1;
		}
	}
	if (port_str && parse_port(port_str, &a.port, why) < 0)
		return -EINVAL;
	*out = a;
	return 0;
}

size_t mesh_addr_format_host(const struct mesh_addr *a, char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN] = "none";
	if (a->family == AF_INET)
		inet_ntop(AF_INET, a->a, buf, sizeof(buf));
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, a->a, buf, sizeof(buf));
	int n = snprintf(out, cap, "%s", buf);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

size_t mesh_addr_format(const struct mesh_addr *a, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	mesh_addr_format_host(a, host, sizeof(host));
	bool v6 = a->family == AF_INET6;
	int n = a->port ? snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", a->port)
			: snprintf(out, cap, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

int mesh_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct mesh_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)sa;
		out->family = AF_INET;
		memcpy(out->a, &s->sin_addr, 4);
		out->port = ntohs(s->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)sa;
		if (memcmp(s->sin6_addr.s6_addr, v4mapped_prefix, 12) == 0) {
			out->family = AF_INET;
			memcpy(out->a, s->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->a, s->sin6_addr.s6_addr, 16);
		}
		out->port = ntohs(s->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t mesh_addr_to_sockaddr(const struct mesh_addr *a, int sock_family,
				struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (sock_family == AF_INET) {
		if (a->family != AF_INET)
			return 0;
		struct sockaddr_in *s = (void *)out;
		s->sin_family = AF_INET;
		s->sin_port = htons(a->port);
		memcpy(&s->sin_addr, a->a, 4);
		return sizeof(*s);
	}
	if (sock_family != AF_INET6 || (a->family != AF_INET && a->family != AF_INET6))
		return 0;
	struct sockaddr_in6 *s = (void *)out;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(a->port);
	if (a->family == AF_INET) {
		memcpy(s->sin6_addr.s6_addr, v4mapped_prefix, 12);
		memcpy(s->sin6_addr.s6_addr + 12, a->a, 4);
	} else {
		memcpy(s->sin6_addr.s6_addr, a->a, 16);
	}
	return sizeof(*s);
}

void mesh_addr_from_ipv4(uint32_t ip_be, uint16_t port, struct mesh_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->a, &ip_be, 4);
	out->port = port;
}

bool mesh_addr_same_host(const struct mesh_addr *x, const struct mesh_addr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, sizeof(x->a)) == 0;
}

bool mesh_addr_eq(const struct mesh_addr *x, const struct mesh_addr *y)
{
	return mesh_addr_same_host(x, y) && x->port == y->port;
}

uint32_t mesh_addr_ipv4(const struct mesh_addr *a)
{
	uint32_t ip = 0;
	if (a->family == AF_INET)
		memcpy(&ip, a->a, 4);
	return ip;
}

bool mesh_addr_is_unspecified(const struct mesh_addr *a)
{
	static const uint8_t zero[16];
	return (a->family != AF_INET && a->family != AF_INET6) || memcmp(a->a, zero, 16) == 0;
}

bool mesh_addr_dialable(const struct mesh_addr *a)
{
	if (mesh_addr_is_unspecified(a))
		return false;
	if (a->family == AF_INET)
		return (a->a[0] & 0xf0) != 0xe0 && /* 224.0.0.0/4 multicast */
		       !(a->a[0] == 255 && a->a[1] == 255 && a->a[2] == 255 && a->a[3] == 255);
	if (a->a[0] == 0xff)
		return false; /* ff00::/8 multicast */
	return !(a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80); /* fe80::/10 link-local */
}
