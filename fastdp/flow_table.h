/* fastdp/flow_table.h: the flows meshd installed in the Open vSwitch datapath, as it decided
 * them (pure; no I/O). When what decisions depend on changes (a MAC moves, a connection leaves
 * the fast path, a route changes), each recorded flow is decided again and only those whose
 * decision differs are deleted, so the rest keep flowing in the kernel instead of every flow
 * being flushed and re-learned through misses. A flow is keyed as installed: input port and
 * Ethernet source and destination; the miss that made it (with the tunnel source for frames
 * from VXLAN, which the flow does not match on) is kept to decide it again. */
#ifndef MESH_FASTDP_FLOW_TABLE_H
#define MESH_FASTDP_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastdp/odp_path.h"

struct mesh_flow_rec {
	bool used;
	uint32_t in_port;
	struct mesh_odp_miss miss;
	uint64_t decision;           /* mesh_odp_decision_hash of what was installed */
};

struct mesh_flow_table {
	struct mesh_flow_rec *slots;
	size_t cap, count;           /* cap: a power of two */
	bool overflow;               /* a flow could not be recorded: only a flush is exact */
};

/* A table of cap (rounded up to a power of two) flows. 0 or -ENOMEM. */
int mesh_flow_table_init(struct mesh_flow_table *t, size_t cap);
void mesh_flow_table_free(struct mesh_flow_table *t);
/* Forgets every flow (after a flush), overflow included. */
void mesh_flow_table_clear(struct mesh_flow_table *t);
/* Records (or re-records) the flow for in_port and m's Ethernet addresses. A full table (kept
 * at most three quarters full) sets overflow instead. */
void mesh_flow_table_put(struct mesh_flow_table *t, uint32_t in_port, const struct mesh_odp_miss *m,
			 uint64_t decision);
/* Forgets one flow; false when it was not recorded. */
bool mesh_flow_table_del(struct mesh_flow_table *t, uint32_t in_port, const uint8_t src[6],
			 const uint8_t dst[6]);

uint64_t mesh_odp_decision_hash(const struct mesh_odp_decision *d);

/* Decides every recorded flow again; those whose decision changed are passed to stale()
 * (which deletes the kernel's flow) and forgotten. Returns how many. */
size_t mesh_flow_table_revalidate(struct mesh_flow_table *t,
				  void (*decide)(void *arg, const struct mesh_odp_miss *m,
						 struct mesh_odp_decision *d),
				  void *decide_arg,
				  void (*stale)(void *arg, const struct mesh_flow_rec *r), void *arg);

#endif
