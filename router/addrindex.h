/* router/addrindex.h: an index of address (either family, mesh/addr.h) and port to a pointer (the router's connection
 * targets, issue 16 finding 4: looked up for every address gossip names, so hashed, not a list
 * walk). Open addressing under SipHash with a random key per index (addresses come from peers
 * and cannot be chosen to collide), backward-shift deletion. Pure: no I/O; it allocates only
 * when it grows. */
#ifndef MESH_ROUTER_ADDRINDEX_H
#define MESH_ROUTER_ADDRINDEX_H

#include <stddef.h>
#include <stdint.h>
#include "mesh/addr.h"

struct mesh_addrindex_slot {
	struct mesh_addr a; /* with its port */
	void *v;        /* NULL: free */
};

struct mesh_addrindex {
	struct mesh_addrindex_slot *slots;
	size_t cap, count;
	uint8_t key[16];
};

int mesh_addrindex_init(struct mesh_addrindex *x);
void mesh_addrindex_free(struct mesh_addrindex *x);
/* The value at a (address and port), or NULL. */
void *mesh_addrindex_get(const struct mesh_addrindex *x, const struct mesh_addr *a);
/* Adds a → v (not NULL): 0, -EEXIST when present, -ENOMEM. */
int mesh_addrindex_put(struct mesh_addrindex *x, const struct mesh_addr *a, void *v);
/* Removes a (nothing when absent). */
void mesh_addrindex_del(struct mesh_addrindex *x, const struct mesh_addr *a);

#endif
