/* router/unauth.c: the budget of inbound connections still in their handshake, per source
 * address and in total (see unauth.h). */
#include <errno.h>

#include "router/unauth.h"

static int slot_of(const struct mesh_unauth *u, const struct mesh_addr *ip)
{
	for (int i = 0; i < MESH_UNAUTH_MAX; i++)
		if (u->src[i].n && mesh_addr_same_host(&u->src[i].ip, ip))
			return i;
	return -1;
}

int mesh_unauth_take(struct mesh_unauth *u, const struct mesh_addr *ip)
{
	int i = slot_of(u, ip);
	if (i >= 0 && u->src[i].n >= MESH_UNAUTH_PER_SOURCE)
		return -EAGAIN;
	if (u->total >= MESH_UNAUTH_MAX)
		return -ENOSPC;
	if (i < 0)
		for (i = 0; u->src[i].n; i++)
			; /* a free slot exists: fewer than MESH_UNAUTH_MAX are held */
	u->src[i].ip = *ip;
	u->src[i].n++;
	u->total++;
	return 0;
}

void mesh_unauth_release(struct mesh_unauth *u, const struct mesh_addr *ip)
{
	int i = slot_of(u, ip);
	if (i < 0)
		return;
	u->src[i].n--;
	u->total--;
}

unsigned mesh_unauth_held(const struct mesh_unauth *u, const struct mesh_addr *ip)
{
	int i = slot_of(u, ip);
	return i < 0 ? 0 : u->src[i].n;
}
