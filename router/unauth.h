/* router/unauth.h: the budget of inbound control connections that have not authenticated yet
 * (issue 16, finding 1). Strangers without the password can only hold these: at most
 * MESH_UNAUTH_MAX in all and MESH_UNAUTH_PER_SOURCE from one address (either family); they do not count
 * towards --conn-limit, so they never block our own dials nor an authenticated peer. Pure: no
 * I/O, no clock; at most MESH_UNAUTH_MAX sources are ever held, so every lookup is bounded. */
#ifndef MESH_ROUTER_UNAUTH_H
#define MESH_ROUTER_UNAUTH_H

#include <stdint.h>
#include "mesh/addr.h"

#define MESH_UNAUTH_MAX 32
#define MESH_UNAUTH_PER_SOURCE 4

struct mesh_unauth {
	struct {
		struct mesh_addr ip; /* the port aside */
		unsigned n;    /* 0: free slot */
	} src[MESH_UNAUTH_MAX];
	unsigned total;
};

/* Takes one slot for a connection from ip: 0, -EAGAIN when that address already holds
 * MESH_UNAUTH_PER_SOURCE, -ENOSPC when MESH_UNAUTH_MAX are held in all. */
int mesh_unauth_take(struct mesh_unauth *u, const struct mesh_addr *ip);
/* Gives back a slot taken for ip (the connection authenticated or ended). */
void mesh_unauth_release(struct mesh_unauth *u, const struct mesh_addr *ip);
/* Slots held by ip. */
unsigned mesh_unauth_held(const struct mesh_unauth *u, const struct mesh_addr *ip);

#endif
