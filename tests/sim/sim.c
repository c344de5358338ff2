/* tests/sim/sim.c: the mesh simulator's engine (see sim.h): the routers (meshd's core, built by
 * router_core_new), the simulated links and the messages in flight on them (a heap by delivery
 * time), the virtual-time loop over one libevent base, the convergence check and the counters.
 * What it does in place of router/conns.c, which needs sockets: it makes the mesh_conn of each
 * end of a link and calls the hub as conns.c does when a connection is established
 * (router_gossip_conn_up, then router_topo_self_changed) or freed (router_topo_self_changed),
 * and hands each arriving message to router_gossip_received as conns.c's on_message does. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "router/config.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"
#include "router/routes.h"
#include "tests/sim/sim.h"
#include "tests/sim/simclock.h"

#define TICK_US 1000u   /* timers fire at most this late */

struct blob {
	unsigned refs;
	size_t len;
	uint8_t data[];
};

/* A message on its way over link `link` in direction dir (0: end[0] to end[1]); b NULL: the
 * sender closed the connection. */
struct msg {
	uint64_t at_us, seq;
	uint32_t link, gen;
	uint8_t dir;
	struct blob *b;
};

struct link {
	unsigned end[2];
	struct mesh_conn *conn[2];   /* at each end, while that end has it */
	bool up;                     /* both ends may send */
	bool cut;                    /* cut by sim_partition */
	uint32_t gen;                /* bumped when cut: what was in flight is lost */
	uint32_t lat_us;
	uint64_t busy_us[2];         /* the sender's side of the link is busy until then */
	uint64_t last_us[2];         /* the last delivery scheduled (TCP keeps the order) */
};

struct peer {
	struct mesh_router *r;
	struct mesh_config *cfg;
	unsigned degree;
	uint64_t tx_base;            /* r->ctr.gossip_tx_bytes at the last counter reset */
	uint64_t tx_dead;            /* what it sent since then, once dead */
	uint32_t *links;
	size_t nlinks, cap;
};

struct sim {
	struct sim_opts o;
	unsigned limit;
	bool full_mesh;
	struct event_base *base;
	struct mesh_config tmpl;
	char root[PATH_MAX];
	struct peer *p;
	size_t np, pcap;
	struct link *l;
	size_t nl, lcap;
	struct msg *heap;
	size_t nh, hcap;
	uint64_t seq;
	struct blob *last;           /* the last blob sent: the next send of the same bytes shares it */
	uint64_t messages, route_max_us, route_n;
	bool blackhole;
	int *comp;                   /* scratch for sim_converged */
	unsigned *queue, *compsize;
};

static struct sim *current;

/* --- names ------------------------------------------------------------------------------ */

static struct mesh_peer_name name_of(unsigned i)
{
	struct mesh_peer_name n = { { 0x0a, 0x51, (uint8_t)(i >> 24), (uint8_t)(i >> 16),
				      (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

void sim_mac(unsigned i, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0xc0;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* 198.18.0.0/15, the testbed's underlay: index i is 198.18.0.0 + i + 1 */
static uint32_t ip_of(unsigned i)
{
	return htonl(0xc6120000u + i + 1);
}

/* --- route computation: timed in CPU time -------------------------------------------------------------- */

/* Linked with -Wl,--wrap=mesh_routes_compute: topo.c's calls come here. */
int __real_mesh_routes_compute(struct mesh_routes *r, const struct mesh_topology *t);
int __wrap_mesh_routes_compute(struct mesh_routes *r, const struct mesh_topology *t);
int __wrap_mesh_routes_compute(struct mesh_routes *r, const struct mesh_topology *t)
{
	uint64_t t0 = simclock_cpu_ns();
	int ret = __real_mesh_routes_compute(r, t);
	uint64_t us = (simclock_cpu_ns() - t0) / 1000;
	if (current) {
		current->route_n++;
		if (us > current->route_max_us)
			current->route_max_us = us;
	}
	return ret;
}

/* --- messages in flight ------------------------------------------------------------------- */

static bool before(const struct msg *a, const struct msg *b)
{
	return a->at_us < b->at_us || (a->at_us == b->at_us && a->seq < b->seq);
}

static int heap_push(struct sim *s, struct msg m)
{
	if (s->nh == s->hcap) {
		size_t cap = s->hcap ? s->hcap * 2 : 1024;
		struct msg *h = realloc(s->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->hcap = cap;
	}
	size_t i = s->nh++;
	while (i && before(&m, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = m;
	return 0;
}

static struct msg heap_pop(struct sim *s)
{
	struct msg top = s->heap[0], last = s->heap[--s->nh];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nh)
			break;
		if (c + 1 < s->nh && before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nh)
		s->heap[i] = last;
	return top;
}

static void blob_unref(struct blob *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static double draw01(void)
{
	return (double)(simclock_random() >> 11) / 9007199254740992.0;
}

/* When a message of len bytes sent now over l in direction d arrives. */
static uint64_t arrival(struct sim *s, struct link *l, int d, size_t len)
{
	uint64_t now = simclock_now_us();
	uint64_t start = l->busy_us[d] > now ? l->busy_us[d] : now;
	uint64_t tx = s->o.bandwidth_bps ? (uint64_t)len * 8 * 1000000 / s->o.bandwidth_bps : 0;
	l->busy_us[d] = start + tx;
	uint64_t at = start + tx + l->lat_us;
	while (s->o.loss > 0 && draw01() < s->o.loss)
		at += SIM_RTO_MS * 1000u;
	if (s->o.turn_us)
		at = (at + s->o.turn_us - 1) / s->o.turn_us * s->o.turn_us;
	if (at < l->last_us[d])
		at = l->last_us[d];
	l->last_us[d] = at;
	return at;
}

/* The hub's transport (router_gossip_set_transport): c->conn_id is link * 2 + end. */
static int transport(struct mesh_conn *c, const uint8_t *msg, size_t len)
{
	struct sim *s = current;
	uint32_t id = (uint32_t)(c->conn_id >> 1);
	int d = (int)(c->conn_id & 1);
	struct link *l = &s->l[id];
	if (!l->up)
		return -EPIPE;
	if (s->blackhole)
		return 0; /* sent, as far as the hub knows */
	struct blob *b = s->last;
	if (!b || b->len != len || memcmp(b->data, msg, len) != 0) {
		b = malloc(sizeof(*b) + len);
		if (!b)
			return -ENOMEM;
		b->refs = 1; /* s->last's */
		b->len = len;
		memcpy(b->data, msg, len);
		blob_unref(s->last);
		s->last = b;
	}
	struct msg m = { .at_us = arrival(s, l, d, len), .seq = s->seq++, .link = id,
			 .gen = l->gen, .dir = (uint8_t)d, .b = b };
	if (heap_push(s, m) < 0)
		return -ENOMEM;
	b->refs++;
	return 0;
}

/* --- connections -------------------------------------------------------------------------- */

static int add_link_to_peer(struct peer *p, uint32_t id)
{
	if (p->nlinks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		uint32_t *n = realloc(p->links, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->links = n;
		p->cap = cap;
	}
	p->links[p->nlinks++] = id;
	return 0;
}

/* The connection at end d of link id, as conns.c has it once established (its sleeve
 * healthy at once: usable). */
static struct mesh_conn *conn_new(struct sim *s, uint32_t id, int d)
{
	struct link *l = &s->l[id];
	unsigned self = l->end[d], other = l->end[!d];
	struct mesh_router *r = s->p[self].r;
	struct mesh_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->r = r;
	c->outbound = d == 0;
	c->state = CONN_ESTABLISHED;
	c->peer_port = 6783;
	if (other % 2) { /* every other peer is reached over IPv6 (issue 18): 2001:2:0:6d::<i+1> */
		memset(&c->peer_addr, 0, sizeof(c->peer_addr));
		c->peer_addr.family = AF_INET6;
		memcpy(c->peer_addr.a, "\x20\x01\x00\x02\x00\x00\x00\x6d", 8);
		memcpy(c->peer_addr.a + 12, &(uint32_t){ htonl(other + 1) }, 4);
		c->peer_addr.port = c->peer_port;
	} else {
		mesh_addr_from_ipv4(ip_of(other), c->peer_port, &c->peer_addr);
	}
	mesh_addr_format(&c->peer_addr, c->addr, sizeof(c->addr));
	c->peer = name_of(other);
	snprintf(c->nickname, sizeof(c->nickname), "sim%u", other);
	c->conn_id = (uint64_t)id * 2 + (uint64_t)d;
	/* an old router uses no feature with anyone; a new one none with an old one */
	c->peer_features = self < s->o.legacy_peers || other < s->o.legacy_peers ? 0 : MESH_FEATURES_OURS;
	c->usable = true;
	c->next = r->conns;
	r->conns = c;
	r->nconns++;
	return c;
}

/* Takes c out of its router's list and frees it, as conns.c's conn_free does. */
static void conn_unlink(struct mesh_conn *c)
{
	struct mesh_router *r = c->r;
	for (struct mesh_conn **pp = &r->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			r->nconns--;
			break;
		}
	free(c);
}

static int link_up(struct sim *s, uint32_t id)
{
	struct link *l = &s->l[id];
	for (int d = 0; d < 2; d++)
		if (!(l->conn[d] = conn_new(s, id, d))) {
			if (d)
				conn_unlink(l->conn[0]);
			l->conn[0] = NULL;
			return -ENOMEM;
		}
	l->up = true;
	l->busy_us[0] = l->busy_us[1] = l->last_us[0] = l->last_us[1] = 0;
	for (int d = 0; d < 2; d++) {
		struct mesh_router *r = s->p[l->end[d]].r;
		s->p[l->end[d]].degree++;
		router_gossip_conn_up(r, l->conn[d]);
		router_topo_self_changed(r);
	}
	return 0;
}

/* End d of link id loses its connection. */
static void end_down(struct sim *s, uint32_t id, int d, bool tell)
{
	struct link *l = &s->l[id];
	struct mesh_conn *c = l->conn[d];
	if (!c)
		return;
	struct mesh_router *r = c->r;
	l->conn[d] = NULL;
	s->p[l->end[d]].degree--;
	conn_unlink(c);
	if (tell)
		router_topo_self_changed(r);
}

static int connect_peers(struct sim *s, unsigned a, unsigned b)
{
	if (s->nl == s->lcap) {
		size_t cap = s->lcap ? s->lcap * 2 : 1024;
		struct link *n = realloc(s->l, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->l = n;
		s->lcap = cap;
	}
	uint32_t id = (uint32_t)s->nl;
	struct link *l = &s->l[id];
	memset(l, 0, sizeof(*l));
	l->end[0] = a;
	l->end[1] = b;
	l->lat_us = (uint32_t)(s->o.latency_us / 2 + simclock_random() % (s->o.latency_us + 1));
	if (!l->lat_us)
		l->lat_us = 1;
	if (add_link_to_peer(&s->p[a], id) < 0 || add_link_to_peer(&s->p[b], id) < 0)
		return -ENOMEM;
	s->nl++;
	return link_up(s, id);
}

/* --- the loop ----------------------------------------------------------------------------- */

static void deliver(struct sim *s, struct msg *m)
{
	struct link *l = &s->l[m->link];
	int to = !m->dir;
	struct mesh_conn *c = l->conn[to];
	if (m->gen != l->gen || !c) {
		blob_unref(m->b);
		return;
	}
	if (!m->b) {
		end_down(s, m->link, to, true); /* the sender closed it */
		return;
	}
	s->messages++;
	router_gossip_received(c->r, c, m->b->data, m->b->len);
	blob_unref(m->b);
}

/* Runs every message and timer due until target_us (virtual). */
static void advance(struct sim *s, uint64_t target_us)
{
	for (;;) {
		uint64_t now = simclock_now_us();
		while (s->nh && s->heap[0].at_us <= now) {
			struct msg m = heap_pop(s);
			deliver(s, &m);
		}
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		if (now >= target_us)
			break;
		uint64_t next = now + TICK_US;
		if (s->nh && s->heap[0].at_us < next)
			next = s->heap[0].at_us;
		simclock_set_us(next < target_us ? next : target_us);
	}
}

void sim_run(struct sim *s, uint64_t ms)
{
	advance(s, simclock_now_us() + ms * 1000);
}

uint64_t sim_now_ms(const struct sim *s)
{
	(void)s;
	return simclock_now_us() / 1000;
}

int64_t sim_run_until_converged(struct sim *s, uint64_t limit_ms)
{
	uint64_t start = simclock_now_us();
	for (;;) {
		uint64_t took = (simclock_now_us() - start) / 1000;
		if (sim_converged(s))
			return (int64_t)took;
		if (took >= limit_ms)
			return -1;
		sim_run(s, SIM_CHECK_MS);
	}
}

/* --- convergence -------------------------------------------------------------------------- */

/* Order-independent digest of the topology (each entry's name, incarnation and version):
 * the one the routers gossip (gossip/topology.c). */
static uint64_t topo_digest(const struct mesh_topology *t)
{
	struct mesh_topo_digest d;
	mesh_topo_digest_make(t, 0, &d);
	return d.digest;
}

/* Groups the live routers by the up links between them: s->comp[i] (-1 dead) and sizes. */
static void components(struct sim *s)
{
	for (size_t i = 0; i < s->np; i++)
		s->comp[i] = -1;
	int ncomp = 0;
	for (size_t i = 0; i < s->np; i++) {
		if (!s->p[i].r || s->comp[i] >= 0)
			continue;
		size_t qn = 0;
		s->queue[qn++] = (unsigned)i;
		s->comp[i] = ncomp;
		for (size_t q = 0; q < qn; q++) {
			const struct peer *p = &s->p[s->queue[q]];
			for (size_t k = 0; k < p->nlinks; k++) {
				const struct link *l = &s->l[p->links[k]];
				if (!l->up)
					continue;
				unsigned o = l->end[0] == s->queue[q] ? l->end[1] : l->end[0];
				if (s->p[o].r && s->comp[o] < 0) {
					s->comp[o] = ncomp;
					s->queue[qn++] = o;
				}
			}
		}
		s->compsize[ncomp++] = (unsigned)qn;
	}
}

static size_t reachable(const struct mesh_routes *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->hops[i] != UINT_MAX && r->hops[i] != 0;
	return n;
}

bool sim_converged(struct sim *s)
{
	components(s);
	/* the first live router of each group is the reference for the others */
	for (size_t i = 0; i < s->np; i++) {
		const struct mesh_router *r = s->p[i].r;
		if (!r)
			continue;
		size_t ref = 0;
		while (s->comp[ref] != s->comp[i])
			ref++;
		const struct mesh_router *rr = s->p[ref].r;
		if (r->topo.n != rr->topo.n || r->routes.n != r->topo.n ||
		    (ref != i && topo_digest(&r->topo) != topo_digest(&rr->topo)))
			return false;
		if (reachable(&r->routes) != s->compsize[s->comp[i]] - 1)
			return false;
	}
	for (size_t i = 0; i < s->np; i++) {
		const struct mesh_router *r = s->p[i].r;
		for (size_t j = 0; r && j < s->np; j++) {
			if (j == i || s->comp[j] != s->comp[i])
				continue;
			uint8_t mac[6];
			sim_mac((unsigned)j, mac);
			const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, mac);
			struct mesh_peer_name at = name_of((unsigned)j);
			if (!e || mesh_mac_entry_gone(e) || !mesh_peer_name_eq(&e->peer, &at))
				return false;
		}
	}
	return true;
}

/* --- peers -------------------------------------------------------------------------------- */

static int grow_peers(struct sim *s)
{
	if (s->np < s->pcap)
		return 0;
	size_t cap = s->pcap ? s->pcap * 2 : 64;
	struct peer *p = realloc(s->p, cap * sizeof(*p));
	int *comp = realloc(s->comp, cap * sizeof(*comp));
	if (p)
		s->p = p;
	if (comp)
		s->comp = comp;
	unsigned *q = realloc(s->queue, cap * sizeof(*q));
	if (q)
		s->queue = q;
	unsigned *cs = realloc(s->compsize, cap * sizeof(*cs));
	if (cs)
		s->compsize = cs;
	if (!p || !comp || !q || !cs)
		return -ENOMEM;
	s->pcap = cap;
	return 0;
}

int sim_add_peer(struct sim *s)
{
	char err[256];
	if (grow_peers(s) < 0)
		return -ENOMEM;
	unsigned i = (unsigned)s->np;
	struct peer *p = &s->p[i];
	memset(p, 0, sizeof(*p));
	p->cfg = malloc(sizeof(*p->cfg));
	if (!p->cfg)
		return -ENOMEM;
	*p->cfg = s->tmpl;
	p->cfg->password = NULL;
	snprintf(p->cfg->nickname, sizeof(p->cfg->nickname), "sim%u", i);
	int n = snprintf(p->cfg->state_dir, sizeof(p->cfg->state_dir), "%s/%u", s->root, i);
	if (n < 0 || (size_t)n >= sizeof(p->cfg->state_dir) || mkdir(p->cfg->state_dir, 0700) < 0) {
		free(p->cfg);
		return -EIO;
	}
	struct mesh_peer_name name = name_of(i);
	p->r = router_core_new(s->base, p->cfg, &name, NULL, err, sizeof(err));
	if (!p->r) {
		fprintf(stderr, "meshsim: router %u: %s\n", i, err);
		free(p->cfg);
		return -ENOMEM;
	}
	s->np++;
	router_gossip_set_transport(p->r, transport);
	uint8_t mac[6];
	sim_mac(i, mac);
	router_macs_learn(p->r, mac, &p->r->name, 1); /* one container on bridge port 1 */

	/* whom to connect to */
	unsigned *cand = malloc((s->np + 1) * sizeof(*cand));
	size_t nc = 0;
	if (!cand)
		return -ENOMEM;
	for (unsigned j = 0; j < i; j++)
		if (s->p[j].r && (s->full_mesh || s->p[j].degree < s->limit))
			cand[nc++] = j;
	size_t want = s->full_mesh ? nc : (s->limit + 2) / 3;
	if (want > nc)
		want = nc;
	for (size_t k = 0; k < want; k++) {
		size_t pick = k + simclock_random() % (nc - k);
		unsigned t = cand[pick];
		cand[pick] = cand[k];
		cand[k] = t;
	}
	int ret = 0;
	for (size_t k = 0; k < want && ret == 0; k++)
		ret = connect_peers(s, i, cand[k]);
	free(cand);
	return ret < 0 ? ret : (int)i;
}

static void peer_free(struct sim *s, unsigned i)
{
	struct peer *p = &s->p[i];
	if (!p->r)
		return;
	p->tx_dead = p->r->ctr.gossip_tx_bytes - p->tx_base;
	for (size_t k = 0; k < p->nlinks; k++) {
		struct link *l = &s->l[p->links[k]];
		for (int d = 0; d < 2; d++)
			if (l->end[d] == i && l->conn[d])
				end_down(s, p->links[k], d, false);
	}
	router_core_free(p->r);
	p->r = NULL;
}

void sim_kill(struct sim *s, unsigned i)
{
	if (i >= s->np || !s->p[i].r)
		return;
	struct peer *p = &s->p[i];
	for (size_t k = 0; k < p->nlinks; k++) {
		uint32_t id = p->links[k];
		struct link *l = &s->l[id];
		if (!l->up)
			continue;
		l->up = false;
		int d = l->end[0] == i ? 0 : 1;
		/* the close, behind what is in flight from us */
		struct msg m = { .at_us = arrival(s, l, d, 0), .seq = s->seq++, .link = id,
				 .gen = l->gen, .dir = (uint8_t)d, .b = NULL };
		if (heap_push(s, m) < 0)
			end_down(s, id, !d, true);
	}
	peer_free(s, i);
}

void sim_partition(struct sim *s, const bool *side)
{
	for (size_t id = 0; id < s->nl; id++) {
		struct link *l = &s->l[id];
		if (!l->up || side[l->end[0]] == side[l->end[1]])
			continue;
		l->up = false;
		l->cut = true;
		l->gen++;
		end_down(s, (uint32_t)id, 0, true);
		end_down(s, (uint32_t)id, 1, true);
	}
}

void sim_heal(struct sim *s, unsigned spread_ms)
{
	size_t m = 0;
	uint32_t *ids = malloc((s->nl ? s->nl : 1) * sizeof(*ids));
	for (size_t id = 0; id < s->nl; id++) {
		struct link *l = &s->l[id];
		if (!l->cut)
			continue;
		l->cut = false;
		if (!s->p[l->end[0]].r || !s->p[l->end[1]].r)
			continue;
		if (!ids || !spread_ms)
			link_up(s, (uint32_t)id);
		else
			ids[m++] = (uint32_t)id;
	}
	/* one by one in a random order, as reconnection backoff brings them back */
	for (size_t i = m; i > 1; i--) {
		size_t j = (size_t)(simclock_random() % i);
		uint32_t t = ids[i - 1];
		ids[i - 1] = ids[j];
		ids[j] = t;
	}
	uint64_t t0 = simclock_now_us();
	for (size_t i = 0; i < m; i++) {
		advance(s, t0 + (uint64_t)spread_ms * 1000 * i / m);
		if (s->p[s->l[ids[i]].end[0]].r && s->p[s->l[ids[i]].end[1]].r)
			link_up(s, ids[i]);
	}
	free(ids);
}

void sim_set_blackhole(struct sim *s, bool on)
{
	s->blackhole = on;
}

unsigned sim_peers(const struct sim *s)
{
	return (unsigned)s->np;
}

bool sim_alive(const struct sim *s, unsigned i)
{
	return i < s->np && s->p[i].r;
}

struct mesh_router *sim_router(struct sim *s, unsigned i)
{
	return i < s->np ? s->p[i].r : NULL;
}

unsigned sim_conn_limit(const struct sim *s)
{
	return s->limit;
}

unsigned sim_degree(const struct sim *s, unsigned i)
{
	return i < s->np ? s->p[i].degree : 0;
}

/* --- counters ----------------------------------------------------------------------------- */

void sim_counters_reset(struct sim *s)
{
	for (size_t i = 0; i < s->np; i++) {
		s->p[i].tx_dead = 0;
		if (s->p[i].r)
			s->p[i].tx_base = s->p[i].r->ctr.gossip_tx_bytes;
	}
	s->messages = s->route_max_us = s->route_n = 0;
}

uint64_t sim_tx_bytes(const struct sim *s, unsigned i)
{
	const struct peer *p = &s->p[i];
	return p->r ? p->r->ctr.gossip_tx_bytes - p->tx_base : p->tx_dead;
}

uint64_t sim_messages(const struct sim *s)
{
	return s->messages;
}

uint64_t sim_max_route_compute_us(const struct sim *s)
{
	return s->route_max_us;
}

uint64_t sim_route_computes(const struct sim *s)
{
	return s->route_n;
}

/* --- setup -------------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* meshd's own option parser makes the routers' configuration: defaults as meshd's, no
 * discovery (the simulator connects), IPAM seeded by router 0. */
static int make_config(struct sim *s, char *err, size_t errlen)
{
	char seed[8 + MESH_PEER_NAME_STRLEN], limit[16];
	struct mesh_peer_name n0 = name_of(0);
	char n0s[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&n0, n0s);
	snprintf(seed, sizeof(seed), "seed=%s", n0s);
	snprintf(limit, sizeof(limit), "%u", s->limit);
	char *argv[] = { "meshd", "--no-discovery", "--no-kube", "--ipalloc-init", seed,
			 "--conn-limit", limit, "--state-dir", s->root, NULL };
	char why[256];
	if (mesh_config_parse(&s->tmpl, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, NULL, why,
			      sizeof(why)) != MESH_CONFIG_OK) {
		snprintf(err, errlen, "meshd's options refused: %s", why);
		return -EINVAL;
	}
	return 0;
}

int sim_new(const struct sim_opts *opts, struct sim **out, char *err, size_t errlen)
{
	int ret = -ENOMEM;
	if (current) {
		snprintf(err, errlen, "one simulation at a time");
		return -EBUSY;
	}
	if (opts->loss < 0 || opts->loss >= 1) {
		snprintf(err, errlen, "loss %g: must be at least 0 and below 1", opts->loss);
		return -EINVAL;
	}
	struct sim *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->o = *opts;
	s->limit = opts->conn_limit ? opts->conn_limit : DEFAULT_CONN_LIMIT;
	s->full_mesh = s->limit >= opts->peers;
	/* sodium_init draws random bytes the first time only: before the seeding, so that every
	 * run of a seed draws the same */
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		free(s);
		return -ENOMEM;
	}
	simclock_start(opts->seed);
	current = s;
	const char *root = opts->state_root;
	struct stat st;
	if (!root)
		root = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(s->root, sizeof(s->root), "%s/meshsim.XXXXXX", root);
	if (!mkdtemp(s->root)) {
		ret = -errno;
		snprintf(err, errlen, "cannot make a state directory under %s: %s", root, strerror(errno));
		s->root[0] = '\0';
		goto errout;
	}
	if ((ret = make_config(s, err, errlen)) < 0)
		goto errout;
	struct event_config *ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	s->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	if (!s->base) {
		snprintf(err, errlen, "cannot make an event base");
		ret = -ENOMEM;
		goto errout;
	}
	/* All at once: the links come up with gossip held back, then every connection is
	 * announced as if it had just come up, so that each router's first entry to go out is
	 * its final one (else every intermediate version would flood the mesh on its own). */
	s->blackhole = !opts->spread_ms;
	for (unsigned i = 0; i < opts->peers; i++) {
		if (opts->spread_ms)
			advance(s, (uint64_t)opts->spread_ms * 1000 * i / opts->peers);
		ret = sim_add_peer(s);
		if (ret < 0) {
			snprintf(err, errlen, "cannot start router %u: %s", i, strerror(-ret));
			goto errout;
		}
	}
	if (s->blackhole) {
		s->blackhole = false;
		for (size_t id = 0; id < s->nl; id++)
			for (int d = 0; d < 2; d++)
				router_gossip_conn_up(s->p[s->l[id].end[d]].r, s->l[id].conn[d]);
	}
	*out = s;
	return 0;
errout:
	sim_free(s);
	return ret;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->np; i++) {
		peer_free(s, (unsigned)i);
		free(s->p[i].cfg);
		free(s->p[i].links);
	}
	while (s->nh) {
		struct msg m = heap_pop(s);
		blob_unref(m.b);
	}
	blob_unref(s->last);
	if (s->base)
		event_base_free(s->base);
	mesh_config_free(&s->tmpl);
	if (s->root[0])
		nftw(s->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(s->heap);
	free(s->l);
	free(s->p);
	free(s->comp);
	free(s->queue);
	free(s->compsize);
	if (current == s)
		current = NULL;
	simclock_stop();
	free(s);
}
