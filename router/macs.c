/* router/macs.c: the MAC-location channel (DESIGN §5): MACs learned on our bridge are
 * announced (the hub coalesces them per event loop turn), announcements from peers are merged
 * into the MAC table and passed on when they taught us something, every connection gets the
 * whole table when it comes up, and our own MACs are announced again every 30 s so that
 * others do not age them out. Owns: the announcements still to be sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gossip/macs.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"

#define SWEEP_S 60
#define REFUSED_LOG_MS 60000

struct router_macs {
	struct mesh_mac_update *pending; /* announcements to send at the end of this turn */
	size_t npending, cap;
	struct event *sweep;
	uint64_t refused_logged_ms;      /* a refused MAC is logged once a minute */
};

/* A MAC the table's bounds refused (counted there): logged once a minute. */
static void refused(struct mesh_router *r, int res, const uint8_t mac[6],
		    const struct mesh_peer_name *at, uint32_t port)
{
	struct router_macs *m = r->own.macs;
	uint64_t now = mesh_mono_ms();
	if (m->refused_logged_ms && now - m->refused_logged_ms < REFUSED_LOG_MS)
		return;
	m->refused_logged_ms = now;
	char where[96], name[MESH_PEER_NAME_STRLEN];
	const char *why;
	mesh_peer_name_format(at, name);
	if (mesh_peer_name_eq(at, &r->name) && port)
		snprintf(where, sizeof(where), "on bridge port %u", port);
	else if (mesh_peer_name_eq(at, &r->name))
		snprintf(where, sizeof(where), "on our bridge (port not known yet)");
	else
		snprintf(where, sizeof(where), "at peer %s", name);
	switch (res) {
	case MESH_MAC_REFUSED_FULL: why = "the table holds " MESH_STR(MESH_MAC_LIMIT_GLOBAL) " MACs"; break;
	case MESH_MAC_REFUSED_PEER: why = "that peer holds " MESH_STR(MESH_MAC_LIMIT_PER_PEER) " MACs"; break;
	case MESH_MAC_REFUSED_PORT: why = "that port holds " MESH_STR(MESH_MAC_LIMIT_PER_PORT) " MACs (gone ones count until they age out)"; break;
	default: why = "more than " MESH_STR(MESH_MAC_LEARN_RATE_PER_S) " new MACs a second"; break;
	}
	const struct mesh_mac_refused *c = &r->macs.refused;
	log_warn("MAC table: not learning %02x:%02x:%02x:%02x:%02x:%02x %s: %s (refused so far: "
		 "%llu table full, %llu peer, %llu port, %llu rate; logged once a minute)", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5], where, why,
		 (unsigned long long)c->full, (unsigned long long)c->peer,
		 (unsigned long long)c->port, (unsigned long long)c->rate);
}

/* Every minute: entries not seen for 10 min go. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	size_t n = mesh_mactable_expire(&r->macs, mesh_mono_ms(), MESH_MAC_MAX_AGE_MS, &r->name);
	if (n)
		router_fastpath_sync(r);
	if (n)
		log_debug("forgot %zu MAC addresses not seen for 10 min", n);
}

static void send_updates(struct router_gossip_out *out, const struct mesh_mac_update *u, size_t n)
{
	uint8_t *buf = malloc(2 + (size_t)MESH_MACS_MAX_PER_MSG * MESH_MACS_ENTRY_LEN);
	if (!buf)
		return;
	for (size_t off = 0; off < n; off += MESH_MACS_MAX_PER_MSG) {
		size_t k = n - off < MESH_MACS_MAX_PER_MSG ? n - off : MESH_MACS_MAX_PER_MSG;
		ssize_t len = mesh_macs_encode(u + off, k, buf,
					       2 + (size_t)MESH_MACS_MAX_PER_MSG * MESH_MACS_ENTRY_LEN);
		if (len < 0)
			break;
		router_gossip_emit(out, buf, (size_t)len);
	}
	free(buf);
}

static void encode_delta(struct mesh_router *r, struct router_gossip_out *out)
{
	struct router_macs *m = r->own.macs;
	if (m->npending)
		send_updates(out, m->pending, m->npending);
	m->npending = 0;
}

static void queue(struct mesh_router *r, const uint8_t mac[6], const struct mesh_peer_name *peer,
		  uint64_t version)
{
	struct router_macs *m = r->own.macs;
	if (m->npending == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct mesh_mac_update *n = realloc(m->pending, cap * sizeof(*n));
		if (!n)
			return; /* the 30 s re-announcement makes up for it */
		m->pending = n;
		m->cap = cap;
	}
	struct mesh_mac_update *u = &m->pending[m->npending++];
	memcpy(u->mac, mac, 6);
	u->peer = *peer;
	u->version = version;
	router_gossip_changed(r, MESH_CHANNEL_MACS);
}

int router_macs_learn(struct mesh_router *r, const uint8_t mac[6], const struct mesh_peer_name *at,
		      uint32_t port)
{
	int res = mesh_mactable_learn_port(&r->macs, mac, at, port, mesh_mono_ms(), mesh_wall_ms());
	if (mesh_mac_refused(res))
		refused(r, res, mac, at, port);
	if ((res == MESH_MAC_NEW || res == MESH_MAC_MOVED) && mesh_peer_name_eq(at, &r->name)) {
		const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, mac);
		if (e)
			queue(r, mac, &r->name, e->version);
	}
	return res;
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

/* Emits every entry of the table, or only ours. */
static void announce_table(struct mesh_router *r, struct router_gossip_out *out, bool ours_only)
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
		send_updates(out, u, n);
	free(u);
}

/* A new connection gets the whole table; every 30 s we announce our own MACs again. */
static void encode_full(struct mesh_router *r, enum router_full why, struct router_gossip_out *out)
{
	announce_table(r, out, why == ROUTER_FULL_PERIODIC);
}

static void merge(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
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
	uint64_t now = mesh_mono_ms(), wall = mesh_wall_ms();
	size_t far = 0;
	for (ssize_t i = 0; i < n; i++) {
		/* our own MACs are ours to announce; only a newer location elsewhere moves them */
		int res = mesh_mactable_merge(&r->macs, u[i].mac, &u[i].peer, u[i].version, now,
					      wall, &r->name);
		if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED) {
			queue(r, u[i].mac, &u[i].peer, u[i].version);
			router_fastpath_sync(r);
		} else if (res == MESH_MAC_REFUSED) {
			far++;
		} else if (mesh_mac_refused(res)) {
			refused(r, res, u[i].mac, &u[i].peer, 0);
		}
	}
	if (far) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: %zu MAC locations with versions more than a day ahead of our clock "
			 "ignored (a peer's clock or ours is wrong, or they are forged)", who, far);
		r->ctr.gossip_refused++;
	}
	free(u);
}

/* MACs of peers the topology no longer knows go with them. */
static void forget_gone_peers(struct mesh_router *r)
{
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

static const struct router_channel channel = {
	.id = MESH_CHANNEL_MACS,
	.encode_full = encode_full,
	.encode_delta = encode_delta,
	.merge = merge,
};

int router_macs_init(struct mesh_router *r)
{
	struct router_macs *m = calloc(1, sizeof(*m));
	if (!m || mesh_mactable_init(&r->macs) < 0) {
		free(m);
		return -ENOMEM;
	}
	r->own.macs = m;
	static const struct mesh_mac_limits limits = {
		.global = MESH_MAC_LIMIT_GLOBAL, .per_peer = MESH_MAC_LIMIT_PER_PEER,
		.per_port = MESH_MAC_LIMIT_PER_PORT, .learn_rate_per_s = MESH_MAC_LEARN_RATE_PER_S,
		.learn_burst = MESH_MAC_LEARN_BURST,
	};
	mesh_mactable_set_limits(&r->macs, &limits, &r->name, mesh_mono_ms());
	m->sweep = event_new(r->base, -1, EV_PERSIST, sweep_cb, r);
	struct timeval every = { SWEEP_S, 0 };
	if (!m->sweep || event_add(m->sweep, &every) < 0 ||
	    router_gossip_add_channel(r, &channel) < 0 ||
	    router_gossip_subscribe(r, ROUTER_EV_PEERS_GONE, forget_gone_peers) < 0)
		return -ENOMEM;
	return 0;
}

void router_macs_free(struct mesh_router *r)
{
	struct router_macs *m = r->own.macs;
	if (!m)
		return;
	if (m->sweep)
		event_free(m->sweep);
	free(m->pending);
	free(m);
	r->own.macs = NULL;
	mesh_mactable_free(&r->macs);
}
