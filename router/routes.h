/* router/routes.h: routes computed from the topology (DESIGN §6). Pure: no I/O.
 *
 * Only established, symmetric connections count (a lists b established and b lists a).
 * Unicast: a BFS from us; each level is expanded in peer-name order and each node's
 * neighbours are visited in peer-name order, so every router computing the same topology gets
 * the same result. Result: destination → next hop (a direct neighbour of ours).
 * Broadcast: for each source, the BFS tree rooted at that source, built by the same rule; a
 * router forwards a flooded frame from source S only to its children in S's tree, so each
 * reachable peer gets it exactly once. */
#ifndef MESH_ROUTER_ROUTES_H
#define MESH_ROUTER_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "gossip/topology.h"
#include "mesh/peer.h"

/* Per source s (an index into names): our neighbours one hop further from s than we are for
 * which we are one of their first `parents` neighbours one hop closer, then our neighbours one
 * hop closer; all lists one after another in `a`, in the order first asked for. idx has 3n
 * entries: [s] the further count, [n + s] where s's lists start (UINT_MAX: not computed yet),
 * [2n + s] the closer count. Read through routes.c's functions only. */
struct mesh_routes_lists {
	unsigned parents;
	int *a;
	size_t len, cap;
	unsigned *idx;
};

struct mesh_routes {
	struct mesh_peer_name self;
	size_t n;                          /* peers in the topology when computed */
	struct mesh_peer_name *names;      /* sorted by name */
	int *next_hop;                     /* index into names, -1 when unreachable or self */
	unsigned *hops;                    /* distance in hops, 0 for self, UINT_MAX unreachable */
	/* per source, neighbours computed the first time they are asked for (most sources never
	 * flood or gossip, and all n lists cost n BFS walks), from the graph kept here */
	unsigned me;                       /* our index into names */
	size_t *adj_off;                   /* n + 1: the symmetric established neighbours of i */
	unsigned *adj;                     /* are adj[adj_off[i] .. adj_off[i + 1]), ascending */
	struct mesh_routes_lists bcast;    /* our children in each source's broadcast tree */
	struct mesh_routes_lists relay;    /* the gossip relay's neighbours (mesh_routes_relay_*) */
	struct mesh_routes_memo *memo;     /* routes.c's own: what the next computation reuses */
};

/* Computes every route. 0 or -ENOMEM (routes left empty). Replaces what r held, reusing what
 * it read of the same topology (t->id) last time for every entry that has not changed since:
 * change an entry through topology.c, or change its version (routes.c, "the memo"). */
int mesh_routes_compute(struct mesh_routes *r, const struct mesh_topology *t);
void mesh_routes_free(struct mesh_routes *r);

/* The neighbour to send to for dst, or NULL (unreachable, unknown, or dst is us). */
const struct mesh_peer_name *mesh_routes_next_hop(const struct mesh_routes *r,
						  const struct mesh_peer_name *dst);
/* Whether some peer other than hop is reached through neighbour hop, i.e. hop has children
 * in our own broadcast tree (the same BFS as unicast). A neighbour that is not a relay is a
 * leaf of our tree: our floods can reach it by kernel head-end replication. */
bool mesh_routes_is_relay(const struct mesh_routes *r, const struct mesh_peer_name *hop);
/* Hops to dst, or -1 when unreachable or unknown. */
int mesh_routes_hops(const struct mesh_routes *r, const struct mesh_peer_name *dst);
/* Our children in src's broadcast tree: fills out (up to cap) and returns their count.
 * Unknown src (or src not reachable): 0. The first call for a src computes its tree (O(n + E),
 * cached until the next mesh_routes_compute); out of memory: 0. */
size_t mesh_routes_bcast_children(struct mesh_routes *r, const struct mesh_peer_name *src,
				  const struct mesh_peer_name **out, size_t cap);

/* Gossip from src (which, unlike a flooded frame, may reach a peer more than once) is relayed
 * to each peer by its first MESH_ROUTES_RELAY_PARENTS neighbours one hop closer to src (name
 * order; the broadcast tree's parent is the first): a peer whose view of the topology differs a
 * little from ours still gets it from someone, at most this many times. */
#define MESH_ROUTES_RELAY_PARENTS 2
/* The neighbours one hop further from src than we are that we relay src's gossip to. Fills
 * out (up to cap), returns their count; 0 when src is unknown or unreachable. Cached per
 * source until the next mesh_routes_compute. */
size_t mesh_routes_relay_further(struct mesh_routes *r, const struct mesh_peer_name *src,
				 const struct mesh_peer_name **out, size_t cap);
/* Computes the relay lists of many sources at once (64 per BFS, see routes.c), as the calls
 * above would one by one: for a caller about to ask for many (a gossip message's entries).
 * Unknown, unreachable and already computed sources are skipped; out of memory leaves the
 * rest to be computed when asked for. */
void mesh_routes_relay_prepare(struct mesh_routes *r, const struct mesh_peer_name *srcs, size_t k);
/* Whether neighbour nb is one hop closer to src than we are (what it relays from src comes to
 * us along a shortest path). False when src is us, unknown or unreachable. */
bool mesh_routes_relay_closer(struct mesh_routes *r, const struct mesh_peer_name *src,
			      const struct mesh_peer_name *nb);

#endif
