/* router/topo.c: the router's side of topology gossip (DESIGN §5): our own entry follows our
 * usable connections; changes are gossiped to every connection once per event loop turn
 * (coalesced), everything to a new connection at once and to a few random neighbours every
 * 30 s; updates from peers are merged, re-gossiped and turned into routes and discoveries;
 * peers gone for a minute are forgotten. */
#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "router/internal.h"
#include "router/log.h"

static void recompute_routes(struct mesh_router *r)
{
	if (mesh_routes_compute(&r->routes, &r->topo) < 0)
		log_error("cannot compute routes: out of memory");
	router_fastpath_sync(r); /* broadcast tree leaves may have changed */
}

static void add_pending(struct mesh_router *r, const struct mesh_peer_name *name)
{
	for (size_t i = 0; i < r->npending; i++)
		if (mesh_peer_name_eq(&r->pending[i], name))
			return;
	if (r->npending < MESH_TOPO_MAX_PEERS)
		r->pending[r->npending++] = *name;
	event_active(r->gossip_flush, 0, 0);
}

#define GOSSIP_CHUNK_MAX (512u * 1024u) /* well under the 1 MiB frame limit */

/* Bytes one entry takes in a topology update (see gossip/topology.h). */
static size_t entry_size(const struct mesh_topo_peer *p)
{
	return 6 + 1 + strlen(p->nickname) + 8 + 8 + 2 + 2 + (size_t)p->nconns * 13;
}

int router_gossip_send(struct mesh_router *r, struct mesh_conn *c, const uint8_t *msg, size_t len)
{
	if (mesh_control_send(c->ctl, MESH_MSG_GOSSIP, msg, len) < 0)
		return -1;
	r->ctr.gossip_tx_bytes += len;
	return 0;
}

void router_gossip_send_all(struct mesh_router *r, struct mesh_conn *only, const uint8_t *msg,
			    size_t len)
{
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c->state == CONN_ESTABLISHED && (!only || c == only))
			router_gossip_send(r, c, msg, len);
}

/* Sends the entries named in names (NULL: every entry) on c, as as many gossip messages as
 * it takes to keep each under GOSSIP_CHUNK_MAX. */
static void send_entries(struct mesh_router *r, struct mesh_conn *c, const struct mesh_peer_name *names,
			 size_t n)
{
	size_t count = names ? n : r->topo.n;
	struct mesh_peer_name *chunk = malloc(count * sizeof(*chunk));
	uint8_t *buf = malloc(1 + mesh_topo_encoded_size(&r->topo));
	if (!chunk || !buf)
		goto out;
	buf[0] = MESH_GOSSIP_TOPOLOGY;
	for (size_t i = 0; i < count;) {
		size_t k = 0, size = 2;
		for (; i < count; i++) {
			const struct mesh_peer_name *name = names ? &names[i] : &r->topo.peers[i].name;
			const struct mesh_topo_peer *p = mesh_topo_find(&r->topo, name);
			if (!p)
				continue;
			if (k && size + entry_size(p) > GOSSIP_CHUNK_MAX)
				break;
			size += entry_size(p);
			chunk[k++] = *name;
		}
		if (!k)
			break;
		ssize_t len = mesh_topo_encode(&r->topo, chunk, k, buf + 1, mesh_topo_encoded_size(&r->topo));
		if (len >= 0)
			router_gossip_send(r, c, buf, 1 + (size_t)len);
	}
out:
	free(chunk);
	free(buf);
}

static void gossip_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	if (!r->npending)
		return;
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c->state == CONN_ESTABLISHED)
			send_entries(r, c, r->pending, r->npending);
	r->npending = 0;
}

void router_topo_send_full(struct mesh_router *r, struct mesh_conn *c)
{
	send_entries(r, c, NULL, 0);
}

/* Every 30 s: everything to ~2·log2(n) random neighbours, so lost updates heal. */
static void gossip_full_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	unsigned established = 0;
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		established += c->state == CONN_ESTABLISHED;
	if (!established)
		return;
	unsigned fanout = 0; /* 2·ceil(log2(n + 1)) */
	for (size_t n = r->topo.n; n; n >>= 1)
		fanout += 2;
	for (struct mesh_conn *c = r->conns; c; c = c->next) {
		if (c->state != CONN_ESTABLISHED)
			continue;
		/* pick each with probability fanout / established */
		if (fanout >= established || randombytes_uniform(established) < fanout)
			router_topo_send_full(r, c);
	}
}

void router_topo_self_changed(struct mesh_router *r)
{
	struct mesh_topo_conn conns[MESH_TOPO_MAX_CONNS];
	unsigned n = 0;
	for (struct mesh_conn *c = r->conns; c && n < MESH_TOPO_MAX_CONNS; c = c->next) {
		if (c->state != CONN_ESTABLISHED)
			continue;
		conns[n].peer = c->peer;
		conns[n].ip = c->peer_ip;
		conns[n].port = c->peer_port;
		conns[n].flags = (uint8_t)((c->outbound ? MESH_TOPO_CONN_OUTBOUND : 0) |
					   (c->usable ? MESH_TOPO_CONN_ESTABLISHED : 0));
		n++;
	}
	if (mesh_topo_set_self_conns(&r->topo, conns, n) < 0) {
		log_error("cannot update our topology entry: out of memory");
		return;
	}
	recompute_routes(r);
	add_pending(r, &r->name);
}

/* Short ids (12 bits, for VXLAN VNIs) must be unique: on a collision the peer with the lower
 * name keeps it and the other picks again (DESIGN §3). */
static void check_short_id(struct mesh_router *r)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		bool clash = false;
		for (size_t i = 1; i < r->topo.n; i++) {
			const struct mesh_topo_peer *p = &r->topo.peers[i];
			if (p->short_id == r->short_id && mesh_peer_name_cmp(&p->name, &r->name) < 0)
				clash = true;
		}
		if (!clash)
			return;
		uint16_t old = r->short_id;
		r->short_id = (uint16_t)(randombytes_random() & 0xfff);
		log_info("short id %u is taken by a peer with a lower name: now %u", old, r->short_id);
		mesh_topo_set_self_short_id(&r->topo, r->short_id);
		add_pending(r, &r->name);
	}
}

void router_topo_gossip_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p,
				 size_t len)
{
	char who[160];
	r->ctr.gossip_rx_bytes += len;
	if (len < 1) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: empty gossip message ignored", who);
		return;
	}
	if (p[0] == MESH_GOSSIP_MACS) {
		router_macs_received(r, c, p + 1, len - 1);
		return;
	}
	if (p[0] == MESH_GOSSIP_IPAM) {
		router_ipam_received(r, c, p + 1, len - 1);
		return;
	}
	if (p[0] != MESH_GOSSIP_TOPOLOGY) {
		router_describe_conn(c, who, sizeof(who));
		log_debug("%s: gossip on unknown channel %u ignored", who, p[0]);
		return;
	}
	struct mesh_peer_name changed[64];
	size_t nchanged = 0;
	const char *why = "";
	int ret = mesh_topo_merge(&r->topo, p + 1, len - 1, changed, 64, &nchanged, &why);
	if (ret < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: topology gossip refused: %s", who,
			 ret == -ENOMEM ? "out of memory" : why);
		r->ctr.gossip_refused++;
		return;
	}
	if (!nchanged)
		return;
	if (nchanged > 64) {
		/* too many to list: everything goes out again */
		for (size_t i = 0; i < r->topo.n; i++)
			add_pending(r, &r->topo.peers[i].name);
	} else {
		for (size_t i = 0; i < nchanged; i++)
			add_pending(r, &changed[i]);
	}
	check_short_id(r);
	recompute_routes(r);
	router_discover(r);
}

void router_topo_housekeeping(struct mesh_router *r)
{
	size_t n = mesh_topo_forget_unreachable(&r->topo, mesh_mono_ms(), FORGET_GRACE_MS);
	if (n) {
		log_info("forgot %zu peer(s) unreachable for %u s", n, FORGET_GRACE_MS / 1000);
		recompute_routes(r);
		router_forget_targets(r);
		router_macs_forget_gone_peers(r);
	}
	router_discover(r);
}

int router_topo_init(struct mesh_router *r)
{
	/* The first version is our start time in ms: a restart outranks our former self. */
	uint64_t version = mesh_wall_ms();
	if (mesh_topo_init(&r->topo, &r->name, r->nickname, r->uid, version, r->short_id) < 0)
		return -ENOMEM;
	r->pending = calloc(MESH_TOPO_MAX_PEERS, sizeof(*r->pending));
	r->gossip_flush = event_new(r->base, -1, 0, gossip_flush_cb, r);
	r->gossip_full = event_new(r->base, -1, EV_PERSIST, gossip_full_cb, r);
	struct timeval every = { GOSSIP_FULL_INTERVAL_S, 0 };
	if (!r->pending || !r->gossip_flush || !r->gossip_full || event_add(r->gossip_full, &every) < 0)
		return -ENOMEM;
	recompute_routes(r);
	return 0;
}

void router_topo_free(struct mesh_router *r)
{
	if (r->gossip_flush)
		event_free(r->gossip_flush);
	if (r->gossip_full)
		event_free(r->gossip_full);
	free(r->pending);
	mesh_routes_free(&r->routes);
	mesh_topo_free(&r->topo);
}
