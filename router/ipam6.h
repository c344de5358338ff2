/* router/ipam6.h: the IPv6 side of the mesh IPAM (--ipalloc-range6): its flag value and the
 * mapping of an IPv4 allocation to its IPv6 address. Pure: no I/O.
 *
 * There is no second ring. Each allocation's IPv6 address is derived from its IPv4 address:
 * the range6 prefix (a /96 or wider) with the 32 bits of the IPv4 address in its last 32 bits,
 *   10.40.0.5 -> fd6d:6573:6800::a28:5   (RFC 6052 style embedding, without a suffix)
 * so ownership, hand-over, reclaim and uniqueness of the IPv6 addresses are those of the IPv4
 * ring exactly, and nothing new is gossiped or stored. The mapping is injective; it never gives
 * the range6 prefix's own address (its Subnet-Router anycast address, RFC 4291 2.6.1), since
 * 0.0.0.0 is never allocated; and every host must run with the same range6, as with the same
 * range. (Adding the IPv4 address's offset in --ipalloc-range instead would allow a smaller
 * range6, but hand out that anycast address for the range's first address, which is
 * allocatable whenever the range does not start the default subnet, as in scripts/lab.)
 * Addresses are in network byte order. */
#ifndef MESH_ROUTER_IPAM6_H
#define MESH_ROUTER_IPAM6_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/ipam.h"

/* A ULA /48 (fd00::/8, RFC 4193) whose 40-bit global id spells "mesh" ("6d 65 73 68 00"
 * after the fd): fd6d:6573:6800::/48. */
#define MESH_DEFAULT_IPALLOC_RANGE6 "fd6d:6573:6800::/48"
#define MESH_IPAM6_PREFIX_MAX 96   /* 32 host bits: room for any IPv4 address */
#define MESH_IPAM6_STRLEN 46       /* INET6_ADDRSTRLEN */
#define MESH_IPAM6_CIDRLEN 50      /* address, '/', up to 3 digits */

struct mesh_ipam6 {
	bool on;               /* false: --ipalloc-range6 off, containers get IPv4 only */
	uint8_t base[16];      /* the prefix, host bits zero */
	uint8_t prefix;        /* 8..96 */
};

/* Parses "off" or an IPv6 CIDR with the host bits zero, prefix 8..96, neither multicast
 * (ff00::/8), link-local (fe80::/10) nor in ::/8 (unspecified, loopback, IPv4-mapped).
 * 0, or -EINVAL with why (what is wrong with which part). */
int mesh_ipam6_parse(const char *s, struct mesh_ipam6 *out, char why[MESH_IPAM_WHY_LEN]);

/* The IPv6 address of IPv4 address ip4 (host order): 0, -ENODATA when r6 is off, -ERANGE for
 * 0.0.0.0 (it would be range6's anycast address; the IPAM never hands it out). */
int mesh_ipam6_map(const struct mesh_ipam6 *r6, uint32_t ip4, uint8_t out[16]);

/* The inverse: the IPv4 address (host order) an IPv6 address of r6 stands for. 0, -ENODATA when
 * off, -ERANGE when ip6 is not in r6's /96 or is its anycast address. */
int mesh_ipam6_unmap(const struct mesh_ipam6 *r6, const uint8_t ip6[16], uint32_t *ip4);

/* "fd6d:6573:6800::a28:5" and "fd6d:6573:6800::/48" (r6's base and prefix; "off"). */
void mesh_ipam6_addr_format(const uint8_t a[16], char out[MESH_IPAM6_STRLEN]);
void mesh_ipam6_range_format(const struct mesh_ipam6 *r6, char out[MESH_IPAM6_CIDRLEN]);

#endif
