/* router/ipam6.c: --ipalloc-range6 and the IPv4 -> IPv6 address mapping of the mesh IPAM
 * (see ipam6.h). Pure: no I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/ipam6.h"

static bool host_bits_zero(const uint8_t a[16], unsigned prefix)
{
	for (unsigned bit = prefix; bit < 128; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int mesh_ipam6_parse(const char *s, struct mesh_ipam6 *out, char why[MESH_IPAM_WHY_LEN])
{
	char addr[MESH_IPAM6_STRLEN];
	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "off"))
		return 0;
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : 0;
	if (!slash || alen == 0 || alen >= sizeof(addr)) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s' is not an IPv6 prefix like %s (or off)", s,
			 MESH_DEFAULT_IPALLOC_RANGE6);
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, out->base) != 1) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s': '%s' is not an IPv6 address", s, addr);
		return -EINVAL;
	}
	const char *p = slash + 1;
	unsigned prefix = 0;
	size_t digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
		prefix = prefix * 10 + (unsigned)(*p - '0');
	if (digits == 0 || *p || prefix > 128 || (digits > 1 && slash[1] == '0')) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s': the prefix length '%.8s' is not a number of 0..128",
			 s, slash + 1);
		goto bad;
	}
	if (prefix < 8) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s': a prefix of %u bits is wider than any usable "
			 "IPv6 range (use 8..%u, e.g. %s)", s, prefix, MESH_IPAM6_PREFIX_MAX,
			 MESH_DEFAULT_IPALLOC_RANGE6);
		goto bad;
	}
	if (prefix > MESH_IPAM6_PREFIX_MAX) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s': a /%u is too small: each IPv6 address embeds "
			 "the 32 bits of its IPv4 one, so the range must be a /%u or wider", s, prefix,
			 MESH_IPAM6_PREFIX_MAX);
		goto bad;
	}
	if (!host_bits_zero(out->base, prefix)) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s': the address has bits set beyond the /%u prefix",
			 s, prefix);
		goto bad;
	}
	const char *reserved = NULL;
	if (out->base[0] == 0xff)
		reserved = "a multicast prefix (ff00::/8)";
	else if (out->base[0] == 0xfe && (out->base[1] & 0xc0) == 0x80)
		reserved = "a link-local prefix (fe80::/10)";
	else if (out->base[0] == 0)
		reserved = "in ::/8 (unspecified, loopback and IPv4-mapped addresses)";
	if (reserved) {
		snprintf(why, MESH_IPAM_WHY_LEN, "'%.60s' is %s: use a unique local (fd00::/8) or "
			 "global prefix", s, reserved);
		goto bad;
	}
	out->prefix = (uint8_t)prefix;
	out->on = true;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int mesh_ipam6_map(const struct mesh_ipam6 *r6, uint32_t ip4, uint8_t out[16])
{
	if (!r6->on)
		return -ENODATA;
	if (r6->prefix > MESH_IPAM6_PREFIX_MAX || ip4 == 0)
		return -ERANGE;
	/* the base's last 32 bits are host bits, zero: the IPv4 address is set into them */
	memcpy(out, r6->base, 12);
	out[12] = (uint8_t)(ip4 >> 24);
	out[13] = (uint8_t)(ip4 >> 16);
	out[14] = (uint8_t)(ip4 >> 8);
	out[15] = (uint8_t)ip4;
	return 0;
}

int mesh_ipam6_unmap(const struct mesh_ipam6 *r6, const uint8_t ip6[16], uint32_t *ip4)
{
	if (!r6->on)
		return -ENODATA;
	if (r6->prefix > MESH_IPAM6_PREFIX_MAX || memcmp(ip6, r6->base, 12) != 0)
		return -ERANGE;
	uint32_t v = ((uint32_t)ip6[12] << 24) | ((uint32_t)ip6[13] << 16) |
		     ((uint32_t)ip6[14] << 8) | ip6[15];
	if (v == 0)
		return -ERANGE;
	*ip4 = v;
	return 0;
}

void mesh_ipam6_addr_format(const uint8_t a[16], char out[MESH_IPAM6_STRLEN])
{
	if (!inet_ntop(AF_INET6, a, out, MESH_IPAM6_STRLEN))
		snprintf(out, MESH_IPAM6_STRLEN, "?");
}

void mesh_ipam6_range_format(const struct mesh_ipam6 *r6, char out[MESH_IPAM6_CIDRLEN])
{
	char a[MESH_IPAM6_STRLEN];
	if (!r6->on) {
		snprintf(out, MESH_IPAM6_CIDRLEN, "off");
		return;
	}
	mesh_ipam6_addr_format(r6->base, a);
	snprintf(out, MESH_IPAM6_CIDRLEN, "%s/%u", a, r6->prefix);
}
