/* router/expose.h: the host's address on the bridge and the masquerade rule (`--expose`,
 * `--masquerade`; see expose.c). */
#ifndef MESH_ROUTER_EXPOSE_H
#define MESH_ROUTER_EXPOSE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_MASQ_TABLE "mesh_nat"

struct mesh_router;

/* Starts what the config asks for (nothing without --expose and --masquerade). 0 or a
 * negative errno with err filled in (the masquerade table could not be made). */
int router_expose_start(struct mesh_router *r, char *err, size_t errlen);
/* Removes the masquerade table; the bridge keeps its address. */
void router_expose_stop(struct mesh_router *r);
/* Our address on the bridge ("10.32.0.1"), the containers' gateway; NULL while none. */
const char *router_expose_gateway(const struct mesh_router *r);
/* The same address's IPv6 (--ipalloc-range6) once it is on the bridge, else NULL. */
const char *router_expose_gateway6(const struct mesh_router *r);
/* {"expose", "address" (or null and "waiting"), "masquerade", "address_repairs",
 *  "masquerade_repairs"} */
cJSON *router_expose_status_json(const struct mesh_router *r);

/* The nft transaction that (re)makes table `ip mesh_nat`: masquerade what comes from
 * subnet/prefix (host order, as in
 * struct mesh_config), goes outside it, is not multicast and does not leave through
 * the bridge. Pure. 0, -EINVAL for a bad prefix or bridge name, -ENOSPC when cap is short. */
int mesh_masquerade_ruleset(uint32_t subnet, uint8_t prefix, const char *bridge, char *out,
			    size_t cap);

#endif
