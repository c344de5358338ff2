/* fastdp/fdb_plan.h: what the kernel VXLAN backend must change in the forwarding database to
 * get from what it programmed to what the router wants, computed without I/O.
 * An entry is a remote container MAC and the underlay address of the peer it lives at; an
 * all-zero MAC is a flood entry (head-end replication of broadcast and unknown frames to that
 * address). */
#ifndef MESH_FASTDP_FDB_PLAN_H
#define MESH_FASTDP_FDB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastdp/decide.h"

struct mesh_fdb_entry {
	uint8_t mac[6];
	struct mesh_ip ip; /* IPv4 or IPv6 (issue 18) */
};

static inline bool mesh_fdb_is_flood(const struct mesh_fdb_entry *e)
{
	static const uint8_t zero[6];
	return __builtin_memcmp(e->mac, zero, 6) == 0;
}

/* Sorts by (mac, ip) and drops duplicates; returns the new count. */
size_t mesh_fdb_normalize(struct mesh_fdb_entry *e, size_t n);

/* Walks two normalized lists and calls fn for every difference: first every entry of `have`
 * not in `want` (add = false), then every entry of `want` not in `have` (add = true). A MAC
 * whose address changed is a removal then an addition. Returns the number of calls. */
size_t mesh_fdb_diff(const struct mesh_fdb_entry *have, size_t nhave,
		     const struct mesh_fdb_entry *want, size_t nwant,
		     void (*fn)(void *arg, bool add, const struct mesh_fdb_entry *e), void *arg);

#endif
