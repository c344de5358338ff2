/* router/macs.c: the router's side of MAC-location gossip (DESIGN §5): MACs learned on our
 * bridge are announced (coalesced per event loop turn), announcements from peers are merged
 * into the MAC table and passed on when they taught us something, every connection gets the
 * whole table when it comes up, and our own MACs are announced again every 30 s so that
 * others do not age them out. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gossip/macs.h"
#include "router/internal.h"
#include "router/log.h"

static void send_updates(struct mesh_router *r, struct mesh_conn *only,
			 const struct mesh_mac_update *u, size_t n)
{
	uint8_t *buf = malloc(1 + 2 + (size_t)MESH_MACS_MAX_PER_MSG * MESH_MACS_ENTRY_LEN);
	if (!buf)
		return;
	for (size_t off = 0; off < n; off += MESH_MACS_MAX_PER_MSG) {
		size_t k = n - off < MESH_MACS_MAX_PER_MSG ? n - off : MESH_MACS_MAX_PER_MSG;
		buf[0] = MESH_GOSSIP_MACS;
		ssize_t len = mesh_macs_encode(u + off, k, buf + 1,
					       2 + (size_t)MESH_MACS_MAX_PER_MSG * MESH_MACS_ENTRY_LEN);
		if (len < 0)
			break;
		router_gossip_send_all(r, only, buf, 1 + (size_t)len);
	}
	free(buf);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	if (r->nmac_pending)
		send_updates(r, NULL, r->mac_pending, r->nmac_pending);
	r->nmac_pending = 0;
}

static void queue(struct mesh_router *r, const uint8_t mac[6], const struct mesh_peer_name *peer,
		  uint64_t version)
{
	if (r->nmac_pending == r->mac_pending_cap) {
		size_t cap = r->mac_pending_cap ? r->mac_pending_cap * 2 : 64;
		struct mesh_mac_update *n = realloc(r->mac_pending, cap * sizeof(*n));
		if (!n)
			return; /* the 30 s re-announcement makes up for it */
		r->mac_pending = n;
		r->mac_pending_cap = cap;
	}
	struct mesh_mac_update *u = &r->mac_pending[r->nmac_pending++];
	memcpy(u->mac, mac, 6);
	u->peer = *peer;
	u->version = version;
	event_active(r->mac_flush, 0, 0);
}

void router_macs_learned_local(struct mesh_router *r, const uint8_t mac[6])
{
	const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, mac);
	if (e)
		queue(r, mac, &r->name, e->version);
}

void router_macs_gone_local(struct mesh_router *r, const uint8_t mac[6])
{
	const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, mac);
	if (!e || !mesh_peer_name_eq(&e->peer, &r->name))
		return;
	static const struct mesh_peer_name nobody;
	uint64_t version = mesh_mactable_gone(&r->macs, mac, mesh_mono_ms(), mesh_wall_ms());
	log_debug("%02x:%02x:%02x:%02x:%02x:%02x left our bridge; telling the peers", mac[0],
		  mac[1], mac[2], mac[3], mac[4], mac[5]);
	queue(r, mac, &nobody, version);
}

/* Sends every entry of the table (peer NULL) or only ours (peer = us) to one or all. */
static void announce_table(struct mesh_router *r, struct mesh_conn *only, bool ours_only)
{
	size_t n = 0;
	struct mesh_mac_update *u = malloc((r->macs.count + 1) * sizeof(*u));
	if (!u)
		return;
	for (size_t i = 0; i < r->macs.cap; i++) {
		const struct mesh_mac_entry *e = &r->macs.slots[i];
		if (!e->used || (ours_only && !mesh_peer_name_eq(&e->peer, &r->name)))
			continue;
		memcpy(u[n].mac, e->mac, 6);
		u[n].peer = e->peer;
		u[n].version = e->version;
		n++;
	}
	if (n)
		send_updates(r, only, u, n);
	free(u);
}

void router_macs_send_all(struct mesh_router *r, struct mesh_conn *c)
{
	announce_table(r, c, false);
}

static void reannounce_cb(evutil_socket_t fd, short what, void *arg)
{
	announce_table(arg, NULL, true);
}

void router_macs_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	struct mesh_mac_update *u = malloc(MESH_MACS_MAX_PER_MSG * sizeof(*u));
	const char *why = "";
	char who[160];
	if (!u)
		return;
	ssize_t n = mesh_macs_decode(p, len, u, &why);
	if (n < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: MAC gossip refused: %s", who, why);
		r->ctr.gossip_refused++;
		free(u);
		return;
	}
	uint64_t now = mesh_mono_ms();
	for (ssize_t i = 0; i < n; i++) {
		/* our own MACs are ours to announce; only a newer location elsewhere moves them */
		int res = mesh_mactable_merge(&r->macs, u[i].mac, &u[i].peer, u[i].version, now);
		if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED) {
			queue(r, u[i].mac, &u[i].peer, u[i].version);
			router_fastpath_sync(r);
		}
	}
	free(u);
}

void router_macs_forget_gone_peers(struct mesh_router *r)
{
	/* MACs of peers the topology no longer knows go with them */
	for (size_t i = 0; i < r->macs.cap;) {
		const struct mesh_mac_entry *e = &r->macs.slots[i];
		if (e->used && !mesh_mac_entry_gone(e) && !mesh_topo_find(&r->topo, &e->peer)) {
			struct mesh_peer_name gone = e->peer;
			size_t k = mesh_mactable_forget_peer(&r->macs, &gone);
			router_fastpath_sync(r);
			log_debug("forgot %zu MAC addresses of a departed peer", k);
			continue; /* slot i may hold another entry now */
		}
		i++;
	}
}

int router_macs_init(struct mesh_router *r)
{
	r->mac_flush = event_new(r->base, -1, 0, flush_cb, r);
	r->mac_reannounce = event_new(r->base, -1, EV_PERSIST, reannounce_cb, r);
	struct timeval every = { GOSSIP_FULL_INTERVAL_S, 0 };
	if (!r->mac_flush || !r->mac_reannounce || event_add(r->mac_reannounce, &every) < 0)
		return -1;
	return 0;
}

void router_macs_free(struct mesh_router *r)
{
	if (r->mac_flush)
		event_free(r->mac_flush);
	if (r->mac_reannounce)
		event_free(r->mac_reannounce);
	free(r->mac_pending);
}
