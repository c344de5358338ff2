/* router/gossip.c: the gossip hub (see router/gossip.h; DESIGN §5). It owns, for every
 * channel alike: the channel byte, sending and the gossip byte counters, the coalescing of
 * changes into one flush per event loop turn, every channel's full state to a new connection,
 * the periodic full state and its fan-out rule, the dispatch of received messages, and the
 * notices between parts of the router. It calls no other file of router/ but util.c: the
 * channels and the subscribers are reached through their function pointers. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"

#define MAX_SUBSCRIBERS 4

struct router_gossip {
	const struct router_channel *ch[MESH_CHANNEL_MAX + 1]; /* by id */
	bool pending[MESH_CHANNEL_MAX + 1];  /* encode_delta at the end of this turn */
	struct event *flush, *full;
	uint8_t *buf;                        /* channel byte + message */
	size_t cap;
	router_gossip_handler subs[ROUTER_EV_MAX][MAX_SUBSCRIBERS];
	router_gossip_transport transport;   /* NULL: the connection's control channel */
};

/* Where emitted messages go: one connection, every established one, or those marked. */
struct router_gossip_out {
	struct mesh_router *r;
	enum mesh_gossip_channel id;
	struct mesh_conn *only;
	const bool *marked;                  /* NULL: all; else per connection in list order */
};

static int send_one(struct mesh_router *r, struct mesh_conn *c, const uint8_t *msg, size_t len)
{
	router_gossip_transport t = r->own.gossip->transport;
	if (t ? t(c, msg, len) < 0 : mesh_control_send(c->ctl, MESH_MSG_GOSSIP, msg, len) < 0)
		return -EIO;
	r->ctr.gossip_tx_bytes += len;
	return 0;
}

/* The hub's buffer holding the channel byte and msg. NULL when out of memory. */
static uint8_t *framed(struct router_gossip *g, enum mesh_gossip_channel id, const uint8_t *msg,
		       size_t len)
{
	if (1 + len > g->cap) {
		uint8_t *b = realloc(g->buf, 1 + len);
		if (!b)
			return NULL;
		g->buf = b;
		g->cap = 1 + len;
	}
	g->buf[0] = (uint8_t)id;
	memcpy(g->buf + 1, msg, len);
	return g->buf;
}

void router_gossip_set_transport(struct mesh_router *r, router_gossip_transport fn)
{
	r->own.gossip->transport = fn;
}

void router_gossip_emit(struct router_gossip_out *out, const uint8_t *msg, size_t len)
{
	struct mesh_router *r = out->r;
	uint8_t *m = framed(r->own.gossip, out->id, msg, len);
	if (!m)
		return; /* the periodic full state makes up for it */
	if (out->only) {
		send_one(r, out->only, m, 1 + len);
		return;
	}
	size_t i = 0;
	for (struct mesh_conn *c = r->conns; c; c = c->next, i++)
		if (c->state == CONN_ESTABLISHED && (!out->marked || out->marked[i]))
			send_one(r, c, m, 1 + len);
}

struct mesh_conn *router_gossip_out_conn(const struct router_gossip_out *out)
{
	return out->only;
}

int router_gossip_send_to(struct mesh_router *r, enum mesh_gossip_channel id, struct mesh_conn *c,
			  const uint8_t *msg, size_t len)
{
	uint8_t *m = framed(r->own.gossip, id, msg, len);
	return m ? send_one(r, c, m, 1 + len) : -ENOMEM;
}

void router_gossip_full_to(struct mesh_router *r, enum mesh_gossip_channel id, struct mesh_conn *c)
{
	const struct router_channel *ch = r->own.gossip->ch[id];
	struct router_gossip_out out = { .r = r, .id = id, .only = c };
	if (ch && ch->encode_full)
		ch->encode_full(r, ROUTER_FULL_ONE, &out);
}

void router_gossip_changed(struct mesh_router *r, enum mesh_gossip_channel id)
{
	r->own.gossip->pending[id] = true;
	event_active(r->own.gossip->flush, 0, 0);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	struct router_gossip *g = r->own.gossip;
	for (int id = 1; id <= MESH_CHANNEL_MAX; id++) {
		if (!g->ch[id] || !g->ch[id]->encode_delta || !g->pending[id])
			continue;
		g->pending[id] = false;
		struct router_gossip_out out = { .r = r, .id = id };
		g->ch[id]->encode_delta(r, &out);
	}
}

/* Marks ~2·ceil(log2(n + 1)) of the established connections at random (n: peers in the
 * topology), or all when there are not more. Returns how many are established. */
static unsigned pick_fanout(const struct mesh_router *r, bool *marked)
{
	unsigned established = 0, fanout = 0;
	for (const struct mesh_conn *c = r->conns; c; c = c->next)
		established += c->state == CONN_ESTABLISHED;
	for (size_t n = r->topo.n; n; n >>= 1)
		fanout += 2;
	size_t i = 0;
	for (const struct mesh_conn *c = r->conns; c; c = c->next, i++)
		/* each with probability fanout / established */
		marked[i] = c->state == CONN_ESTABLISHED &&
			    (fanout >= established || randombytes_uniform(established) < fanout);
	return established;
}

/* One channel's periodic full state: to every connection, or to the fan-out neighbours. */
static void round_of(struct mesh_router *r, const struct router_channel *ch)
{
	struct router_gossip_out out = { .r = r, .id = ch->id };
	if (!ch->encode_full)
		return;
	if (!(ch->flags & ROUTER_CHANNEL_FANOUT)) {
		ch->encode_full(r, ROUTER_FULL_PERIODIC, &out);
		return;
	}
	bool *marked = calloc(r->nconns + 1, sizeof(*marked));
	if (!marked)
		return;
	if (pick_fanout(r, marked)) {
		out.marked = marked;
		ch->encode_full(r, ROUTER_FULL_PERIODIC, &out);
	}
	free(marked);
}

/* Every ROUTER_GOSSIP_FULL_S: each channel's full state, so lost updates heal. */
static void full_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	for (int id = 1; id <= MESH_CHANNEL_MAX; id++)
		if (r->own.gossip->ch[id])
			round_of(r, r->own.gossip->ch[id]);
}

void router_gossip_round(struct mesh_router *r, enum mesh_gossip_channel id)
{
	if (id >= 1 && id <= MESH_CHANNEL_MAX && r->own.gossip->ch[id])
		round_of(r, r->own.gossip->ch[id]);
}

void router_gossip_conn_up(struct mesh_router *r, struct mesh_conn *c)
{
	for (int id = 1; id <= MESH_CHANNEL_MAX; id++) {
		const struct router_channel *ch = r->own.gossip->ch[id];
		if (!ch)
			continue;
		if (ch->conn_up)
			ch->conn_up(r, c);
		router_gossip_full_to(r, id, c);
	}
}

void router_gossip_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	char who[160];
	r->ctr.gossip_rx_bytes += len;
	if (len < 1) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: empty gossip message ignored", who);
		return;
	}
	const struct router_channel *ch = p[0] <= MESH_CHANNEL_MAX ? r->own.gossip->ch[p[0]] : NULL;
	if (!ch) {
		router_describe_conn(c, who, sizeof(who));
		log_debug("%s: gossip on unknown channel %u ignored", who, p[0]);
		return;
	}
	ch->merge(r, c, p + 1, len - 1);
}

int router_gossip_add_channel(struct mesh_router *r, const struct router_channel *ch)
{
	if (ch->id < 1 || ch->id > MESH_CHANNEL_MAX || !ch->merge)
		return -EINVAL;
	if (r->own.gossip->ch[ch->id])
		return -EEXIST;
	r->own.gossip->ch[ch->id] = ch;
	return 0;
}

int router_gossip_subscribe(struct mesh_router *r, enum router_gossip_event ev,
			    router_gossip_handler fn)
{
	for (int i = 0; i < MAX_SUBSCRIBERS; i++)
		if (!r->own.gossip->subs[ev][i]) {
			r->own.gossip->subs[ev][i] = fn;
			return 0;
		}
	return -ENOSPC;
}

void router_gossip_post(struct mesh_router *r, enum router_gossip_event ev)
{
	for (int i = 0; i < MAX_SUBSCRIBERS && r->own.gossip->subs[ev][i]; i++)
		r->own.gossip->subs[ev][i](r);
}

int router_gossip_init(struct mesh_router *r)
{
	struct router_gossip *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r->own.gossip = g;
	g->flush = event_new(r->base, -1, 0, flush_cb, r);
	g->full = event_new(r->base, -1, EV_PERSIST, full_cb, r);
	struct timeval every = { ROUTER_GOSSIP_FULL_S, 0 };
	if (!g->flush || !g->full || event_add(g->full, &every) < 0)
		return -ENOMEM;
	return 0;
}

void router_gossip_free(struct mesh_router *r)
{
	struct router_gossip *g = r->own.gossip;
	if (!g)
		return;
	if (g->flush)
		event_free(g->flush);
	if (g->full)
		event_free(g->full);
	free(g->buf);
	free(g);
	r->own.gossip = NULL;
}
