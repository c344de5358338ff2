/* router/routes_impl.h: what router/routes.c (the computation and unicast lookups),
 * router/routes_memo.c (what a computation keeps for the next) and router/routes_lists.c (the
 * per-source lists) share. Nothing else includes it. */
#ifndef MESH_ROUTER_ROUTES_IMPL_H
#define MESH_ROUTER_ROUTES_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/routes.h"

/* The symmetric established graph over name order (r->adj_off, r->adj). */
struct graph {
	size_t *off;     /* n + 1 */
	unsigned *adj;   /* symmetric neighbours of i: adj[off[i] .. off[i+1]), ascending */
};

static inline int routes_cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

/* name's index in r->names (name order), or -1. */
long routes_index_of(const struct mesh_routes *r, const struct mesh_peer_name *name);

/* --- routes_memo.c ------------------------------------------------------------------------- */

struct memo_entry {
	struct mesh_peer_name name;
	bool unknown;           /* lists an established connection to a name not in t */
	unsigned off, len;      /* its resolved connections: list[off .. off + len) */
	uint64_t stamp;
};

struct mesh_routes_memo {
	uint64_t topo_id;
	size_t n;
	struct memo_entry *e;   /* n, by entry index */
	unsigned *order;        /* n: name order -> entry index */
	unsigned *rank;         /* n: entry index -> name order */
	unsigned *list;         /* resolved connections (entry indices), len of them */
	size_t len;
};

/* Brings m up to date with t (routes_memo.c says how little it reads). 0, or -ENOMEM (m as
 * it was). */
int routes_memo_update(struct mesh_routes_memo *m, const struct mesh_topology *t);
void routes_memo_free(struct mesh_routes_memo *m);

#endif
