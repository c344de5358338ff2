/* router/ipam6.h: the IPv6 side of the mesh IPAM (--ipalloc-range6): its flag value and the
 * mapping of an IPv4 allocation to its IPv6 address. Pure: no I/O.
 *
 * There is no second ring. Each allocation's IPv6 address is derived from its IPv4 address:
 *   ip6 = range6 base + (ip4 - --ipalloc-range start)
 * so ownership, hand-over, reclaim and uniqueness of the IPv6 addresses are those of the IPv4
 * ring exactly, and nothing new is gossiped or stored. The mapping is injective because range6
 * has at least as many host bits as the IPv4 range (mesh_ipam6_check_fits); every host must run
 * with the same range6, as with the same range. Addresses are in network byte order. */
#ifndef MESH_ROUTER_IPAM6_H
#define MESH_ROUTER_IPAM6_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/ipam.h"

/* A ULA /48 (fd00::/8, RFC 4193) whose 40-bit global id spells "mesh" ("6d 65 73 68" after
 * the fd): fd6d:6573:6800::/48. */
#define MESH_DEFAULT_IPALLOC_RANGE6 "fd6d:6573:6800::/48"
#define MESH_IPAM6_STRLEN 46   /* INET6_ADDRSTRLEN */
#define MESH_IPAM6_CIDRLEN 50  /* address, '/', up to 3 digits */

struct mesh_ipam6 {
	bool on;               /* false: --ipalloc-range6 off, containers get IPv4 only */
	uint8_t base[16];      /* the prefix, host bits zero */
	uint8_t prefix;        /* 8..128 */
};

/* Parses "off" or an IPv6 CIDR with the host bits zero, neither multicast (ff00::/8),
 * link-local (fe80::/10) nor in ::/8 (unspecified, loopback, IPv4-mapped), prefix 8..128.
 * 0, or -EINVAL with why (what is wrong with which part). */
int mesh_ipam6_parse(const char *s, struct mesh_ipam6 *out, char why[MESH_IPAM_WHY_LEN]);

/* 0 when r6 (on) has room for every address of an IPv4 range of prefix4 bits (1..32), i.e.
 * 128 - r6->prefix >= 32 - prefix4; else -ERANGE with why naming both. Always 0 when off. */
int mesh_ipam6_check_fits(const struct mesh_ipam6 *r6, uint8_t prefix4,
			  char why[MESH_IPAM_WHY_LEN]);

/* The IPv6 address of IPv4 address ip4 (host order) of the range start4/prefix4: 0, -ENODATA
 * when r6 is off, -ERANGE when ip4 is outside the range or r6 is too small for it. */
int mesh_ipam6_map(const struct mesh_ipam6 *r6, uint32_t start4, uint8_t prefix4, uint32_t ip4,
		   uint8_t out[16]);

/* The inverse: the IPv4 address (host order) an IPv6 address of r6 stands for. 0, -ENODATA when
 * off, -ERANGE when ip6 is not the image of an address of the IPv4 range. */
int mesh_ipam6_unmap(const struct mesh_ipam6 *r6, uint32_t start4, uint8_t prefix4,
		     const uint8_t ip6[16], uint32_t *ip4);

/* "fd6d:6573:6800::1" and "fd6d:6573:6800::/48" (r6's base and prefix). */
void mesh_ipam6_addr_format(const uint8_t a[16], char out[MESH_IPAM6_STRLEN]);
void mesh_ipam6_range_format(const struct mesh_ipam6 *r6, char out[MESH_IPAM6_CIDRLEN]);

#endif
