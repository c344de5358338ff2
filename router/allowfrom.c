/* router/allowfrom.c: --allow-from's networks (see allowfrom.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "router/allowfrom.h"

int mesh_cidr_parse(const char *s, struct mesh_cidr *out, const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	memset(out, 0, sizeof(*out));
	if (hl == 0 || hl >= sizeof(host)) {
		*why = "not an address";
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	unsigned bits;
	if (inet_pton(AF_INET, host, out->a) == 1) {
		out->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, out->a) == 1) {
		out->family = AF_INET6;
		bits = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	out->prefix = (uint8_t)bits;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9') {
			*why = "the prefix length is not a number";
			return -EINVAL;
		}
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (*end || p > bits || end - (slash + 1) > 3) {
			*why = out->family == AF_INET ? "the prefix length is not 0..32"
						      : "the prefix length is not 0..128";
			return -EINVAL;
		}
		out->prefix = (uint8_t)p;
	}
	for (unsigned i = out->prefix; i < bits; i++) {
		if (out->a[i / 8] & (0x80 >> (i % 8))) {
			*why = "host bits are set after the prefix (a typo? give the network address)";
			return -EINVAL;
		}
	}
	return 0;
}

void mesh_cidr_format(const struct mesh_cidr *c, char out[MESH_CIDR_STRLEN])
{
	char host[INET6_ADDRSTRLEN];
	if (!inet_ntop(c->family, c->a, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(out, MESH_CIDR_STRLEN, "%s/%u", host, (unsigned)c->prefix);
}

bool mesh_cidr_match(const struct mesh_cidr *c, const struct mesh_addr *a)
{
	if (a->family != c->family)
		return false;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a->a, c->a, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->a[full] & mask) == c->a[full];
}

bool mesh_allow_from(const struct mesh_cidr *list, size_t n, const struct mesh_addr *a)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (mesh_cidr_match(&list[i], a))
			return true;
	return false;
}
