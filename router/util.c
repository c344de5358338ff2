/* router/util.c: small helpers every part of the router uses, over the state they share
 * (router/internal.h): naming a connection in logs, finding the connection to a peer, this
 * host's Kubernetes Node name. A leaf:
 * it calls no other file of router/. */
#include <stdio.h>

#include "router/internal.h"

/* "outbound peer h2(0a:..:ff) at 198.18.0.2:6783", or just the address before the peer said
 * who it is. */
void router_describe_conn(const struct mesh_conn *c, char *out, size_t cap)
{
	const char *dir = c->outbound ? "outbound" : "inbound";
	if (mesh_peer_name_is_zero(&c->peer)) {
		snprintf(out, cap, "%s peer at %s", dir, c->addr);
		return;
	}
	char n[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&c->peer, n);
	snprintf(out, cap, "%s peer %s(%s) at %s", dir, c->nickname, n, c->addr);
}

struct mesh_conn *router_conn_to(struct mesh_router *r, const struct mesh_peer_name *peer)
{
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c->state == CONN_ESTABLISHED && c->fwd && mesh_peer_name_eq(&c->peer, peer))
			return c;
	return NULL;
}

const char *router_node_name(const struct mesh_router *r)
{
	return r->cfg->node_name[0] ? r->cfg->node_name : r->nickname;
}
