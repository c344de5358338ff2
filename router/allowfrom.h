/* router/allowfrom.h: --allow-from, the underlay networks control connections may come from
 * (issue 16, finding 7: without a password anyone who reaches TCP 6783 could join). A connection
 * from elsewhere is closed at accept, before a byte of it is read. Pure: parse and match. */
#ifndef MESH_ROUTER_ALLOWFROM_H
#define MESH_ROUTER_ALLOWFROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/addr.h"

#define MESH_ALLOW_FROM_MAX 64
/* "[v6]/128" at most, NUL included */
#define MESH_CIDR_STRLEN 48

struct mesh_cidr {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t a[16];    /* as in struct mesh_addr, host bits zero */
	uint8_t prefix;
};

/* "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7": /32, "2001:db8::7": /128).
 * Host bits set ("10.0.0.1/8") are refused, as a likely typo. 0, or -EINVAL with *why. */
int mesh_cidr_parse(const char *s, struct mesh_cidr *out, const char **why);
void mesh_cidr_format(const struct mesh_cidr *c, char out[MESH_CIDR_STRLEN]);
/* Whether a falls in c (the port aside; an IPv4-mapped address is IPv4, see mesh/addr.h). */
bool mesh_cidr_match(const struct mesh_cidr *c, const struct mesh_addr *a);
/* Whether a may connect: n == 0 (no --allow-from) allows everyone. */
bool mesh_allow_from(const struct mesh_cidr *list, size_t n, const struct mesh_addr *a);

#endif
