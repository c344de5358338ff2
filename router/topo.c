/* router/topo.c: the topology channel (DESIGN §5) and the routes computed from it: our own
 * entry follows our usable connections; the entries that changed are passed on at the end of
 * the event loop turn (the hub coalesces them): ours to every connection, a peer's along the
 * shortest paths from that peer (relay_marks); to a new connection and to a neighbour whose
 * topology digest differs from ours (the digest channel: every 30 s and once the topology has
 * settled after a change, to a few random neighbours, ROUTER_CHANNEL_FANOUT), our summary and
 * then the entries it lacks (the summary channel, gossip/topo_summary.h), or everything to a
 * peer too old for summaries; updates from peers are merged, passed on and turned into routes,
 * once per event loop turn (and, through the hub, into discoveries); peers gone for a minute
 * are forgotten. Owns: which entries are still to be gossiped and whom they came from, the
 * end-of-turn route computation, the settle timer. */
#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/topo_summary.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"

/* An entry to gossip at the end of this turn, and the neighbour whose message changed it. */
struct pending {
	struct mesh_peer_name name;
	struct mesh_peer_name from;
	bool has_from;                   /* false: changed here (our own entry) */
	size_t seq;                      /* order of arrival: the last change of a name counts */
};

struct router_topo {
	struct pending *pending;         /* entries to gossip at the end of this turn (names may
					  * repeat: encode_delta sends each once) */
	size_t npending;
	bool all_pending;                /* more than fit: every entry goes */
	struct mesh_peer_name *changed;  /* what a merge changed (MESH_TOPO_MAX_PEERS) */
	struct event *routes;            /* recomputes the routes at the end of this turn */
	bool routes_stale;               /* the topology changed since the routes were computed */
	struct event *settle;            /* the digest round once the topology is quiet */
	uint64_t last_change_ms;
	bool short_ids_full;             /* said once: every short id is taken */
};

/* After a change, once the topology has been quiet this long, a digest round (to the fan-out
 * neighbours, as the periodic one) finds a router that an update along the shortest paths
 * missed (paths computed from topologies still on their way can disagree) instead of the
 * periodic round 30 s later. (To 2 neighbours only, routers that missed the same update
 * compared equal and waited for the periodic round: meshsim 300 peers, a partition heal.) */
#define SETTLE_MS 1000

static void compute_routes(struct mesh_router *r)
{
	r->own.topo->routes_stale = false;
	if (mesh_routes_compute(&r->routes, &r->topo) < 0)
		log_error("cannot compute routes: out of memory");
	router_fastpath_sync(r); /* broadcast tree leaves may have changed */
}

static void routes_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	if (r->own.topo->routes_stale) /* not already computed by this turn's flush */
		compute_routes(r);
}

/* The topology changed: the routes follow once at the end of this event loop turn, however
 * many updates the turn merged (each computation walks the whole topology). */
static void recompute_routes(struct mesh_router *r)
{
	r->own.topo->routes_stale = true;
	event_active(r->own.topo->routes, 0, 0);
}

static void settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	struct router_topo *tp = r->own.topo;
	uint64_t quiet = mesh_mono_ms() - tp->last_change_ms;
	if (quiet < SETTLE_MS) {
		struct timeval tv = { 0, (suseconds_t)((SETTLE_MS - quiet) * 1000) };
		event_add(tp->settle, &tv);
		return;
	}
	router_gossip_round(r, MESH_CHANNEL_TOPO_DIGEST);
}

/* The topology changed: a digest round follows once it has been quiet for SETTLE_MS. */
static void note_change(struct mesh_router *r)
{
	struct router_topo *tp = r->own.topo;
	tp->last_change_ms = mesh_mono_ms();
	if (evtimer_pending(tp->settle, NULL))
		return;
	struct timeval tv = { SETTLE_MS / 1000, (SETTLE_MS % 1000) * 1000 };
	evtimer_add(tp->settle, &tv);
}

/* from: the neighbour whose message changed the entry, NULL when we did. */
static void add_pending(struct mesh_router *r, const struct mesh_peer_name *name,
			const struct mesh_peer_name *from)
{
	struct router_topo *tp = r->own.topo;
	if (tp->npending < MESH_TOPO_MAX_PEERS) {
		struct pending *pe = &tp->pending[tp->npending];
		pe->name = *name;
		pe->has_from = from != NULL;
		if (from)
			pe->from = *from;
		pe->seq = tp->npending++;
	} else {
		tp->all_pending = true;
	}
	router_gossip_changed(r, MESH_CHANNEL_TOPOLOGY);
}

#define GOSSIP_CHUNK_MAX (512u * 1024u) /* well under the 1 MiB frame limit */

/* Emits the entries named in names (NULL: every entry), as as many gossip messages as it
 * takes to keep each under GOSSIP_CHUNK_MAX, to where out sends or, given only, to only (out
 * is then not used, and may be NULL: from another channel's merge). The
 * names are looked up through the topology's index: a list of k names costs O(k log k),
 * whatever the size of the topology. */
static void send_entries(struct mesh_router *r, struct router_gossip_out *out, struct mesh_conn *only,
			 const struct mesh_peer_name *names, size_t n)
{
	const struct mesh_topology *t = &r->topo;
	const struct mesh_topo_peer **sel = malloc((t->n + 1) * sizeof(*sel));
	uint8_t *buf = NULL;
	size_t cap = 2;
	ssize_t count = sel ? mesh_topo_select(t, names, n, sel) : -ENOMEM;
	if (count <= 0)
		goto out;
	/* the buffer fits every selected entry (sized from them, not the whole topology) */
	for (ssize_t i = 0; i < count; i++)
		cap += mesh_topo_entry_encoded_size(sel[i]);
	buf = malloc(cap);
	if (!buf)
		goto out;
	for (ssize_t i = 0; i < count;) {
		ssize_t first = i;
		size_t size = 2;
		for (; i < count; i++) {
			size_t e = mesh_topo_entry_encoded_size(sel[i]);
			if (i > first && size + e > GOSSIP_CHUNK_MAX)
				break;
			size += e;
		}
		ssize_t len = mesh_topo_encode_selected(sel + first, (size_t)(i - first), buf, cap);
		if (len >= 0 && only)
			router_gossip_send_to(r, MESH_CHANNEL_TOPOLOGY, only, buf, (size_t)len);
		else if (len >= 0)
			router_gossip_emit(out, buf, (size_t)len);
	}
out:
	free(sel);
	free(buf);
}

/* A connection by its peer's name, for relay_marks. */
struct conn_by_name {
	struct mesh_peer_name name;
	size_t index;                    /* in r->conns' list order */
	bool counted;                    /* the routes count the link (its peer lists us too) */
};

static int cmp_conn_by_name(const void *a, const void *b)
{
	return mesh_peer_name_cmp(&((const struct conn_by_name *)a)->name,
				  &((const struct conn_by_name *)b)->name);
}

static const struct conn_by_name *find_ours(const struct conn_by_name *ours, size_t nours,
					     const struct mesh_peer_name *name)
{
	struct conn_by_name key = { .name = *name };
	return bsearch(&key, ours, nours, sizeof(*ours), cmp_conn_by_name);
}

/* Which of our established connections (in list order; ours sorted by name) need entry p,
 * which the message of neighbour from (NULL: nobody) changed. Our own entry: every one. A
 * peer's entry that came along a shortest path from p (from is one hop closer to p than we
 * are): the neighbours one hop further (routes.h), so that a change travels the shortest paths
 * from p, not every link of the mesh, plus our connections that the routes do not count yet.
 * Otherwise (it came another way, or p is unknown or
 * unreachable to us: topologies still on their way differ): every neighbour. Never back to
 * from, to p, or to those p lists as connected to it, since p sent its change to each of those
 * itself (in a full mesh that leaves nobody). The digest round after the topology settles
 * (SETTLE_MS) heals what this missed. Returns how many are marked. */
static size_t relay_marks(struct mesh_router *r, const struct mesh_topo_peer *p,
			  const struct mesh_peer_name *from, const struct conn_by_name *ours,
			  size_t nours, bool *need, const struct mesh_peer_name **kids)
{
	memset(need, 0, r->nconns * sizeof(*need));
	if (mesh_peer_name_eq(&p->name, &r->name)) {
		for (size_t i = 0; i < nours; i++)
			need[ours[i].index] = true;
		return nours;
	}
	size_t n = 0;
	if (from && mesh_routes_relay_closer(&r->routes, &p->name, from)) {
		size_t nk = mesh_routes_relay_further(&r->routes, &p->name, kids, MESH_TOPO_MAX_CONNS);
		for (size_t k = 0; k < nk && k < MESH_TOPO_MAX_CONNS; k++) {
			const struct conn_by_name *hit = find_ours(ours, nours, kids[k]);
			if (hit && !need[hit->index]) {
				need[hit->index] = true;
				n++;
			}
		}
		/* and a new connection whose peer's entry does not list us yet: the routes do not
		 * count it, so nobody may think that peer is further from p through us */
		for (size_t i = 0; i < nours; i++)
			if (!need[ours[i].index] && !ours[i].counted) {
				need[ours[i].index] = true;
				n++;
			}
	} else {
		for (size_t i = 0; i < nours; i++)
			need[ours[i].index] = true;
		n = nours;
	}
	for (unsigned k = 0; k <= p->nconns + (from != NULL); k++) { /* p, whom it lists, from */
		const struct mesh_peer_name *name = k == 0 ? &p->name :
						    k <= p->nconns ? &p->conns[k - 1].peer : from;
		const struct conn_by_name *hit = find_ours(ours, nours, name);
		if (hit && need[hit->index]) {
			need[hit->index] = false;
			n--;
		}
	}
	return n;
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int c = mesh_peer_name_cmp(&x->name, &y->name);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* What changed, each entry to the connections relay_marks picks. */
static void encode_delta(struct mesh_router *r, struct router_gossip_out *out)
{
	struct router_topo *tp = r->own.topo;
	size_t npending = tp->npending;
	bool all = tp->all_pending;
	tp->npending = 0;
	tp->all_pending = false;
	if (all) {
		send_entries(r, out, NULL, NULL, 0);
		return;
	}
	if (!npending)
		return;
	if (tp->routes_stale) /* this turn's merges first: the trees are read below */
		compute_routes(r);
	struct pending *pend = tp->pending;
	struct mesh_peer_name *names = malloc(npending * sizeof(*names)),
			      *everyone = malloc(npending * sizeof(*everyone));
	struct conn_by_name *ours = malloc((r->nconns + 1) * sizeof(*ours));
	const struct mesh_peer_name **kids = malloc(MESH_TOPO_MAX_CONNS * sizeof(*kids));
	bool *need = malloc((r->nconns + 1) * npending * sizeof(*need));
	size_t nours = 0, neveryone = 0, nrest = 0;
	if (!names || !everyone || !ours || !kids || !need) {
		for (size_t e = 0; e < npending && names; e++)
			names[e] = pend[e].name;
		if (names) /* as before: to every connection */
			send_entries(r, out, NULL, names, npending);
		goto out;
	}
	size_t i = 0;
	for (const struct mesh_conn *c = r->conns; c; c = c->next, i++)
		if (c->state == CONN_ESTABLISHED)
			ours[nours++] = (struct conn_by_name){
				.name = c->peer, .index = i,
				.counted = mesh_routes_hops(&r->routes, &c->peer) == 1,
			};
	qsort(ours, nours, sizeof(*ours), cmp_conn_by_name);
	qsort(pend, npending, sizeof(*pend), cmp_pending);
	/* the relay lists of every owner that relay_marks asks about, 64 owners per BFS */
	size_t nsrc = 0;
	for (size_t e = 0; e < npending; e++)
		if (pend[e].has_from)
			names[nsrc++] = pend[e].name;
	mesh_routes_relay_prepare(&r->routes, names, nsrc);
	/* entries everyone needs go to everyone[], the others to names[] with their marks in
	 * need[]; of a name pending twice, the last change counts (who it came from) */
	for (size_t e = 0; e < npending; e++) {
		if (e + 1 < npending && mesh_peer_name_eq(&pend[e].name, &pend[e + 1].name))
			continue;
		const struct mesh_topo_peer *p = mesh_topo_find(&r->topo, &pend[e].name);
		if (!p)
			continue; /* forgotten since */
		bool *marks = need + nrest * r->nconns;
		size_t k = relay_marks(r, p, pend[e].has_from ? &pend[e].from : NULL, ours, nours,
				       marks, kids);
		if (k == nours)
			everyone[neveryone++] = pend[e].name;
		else if (k)
			names[nrest++] = pend[e].name;
	}
	if (neveryone)
		send_entries(r, out, NULL, everyone, neveryone);
	/* the rest, one message per connection that needs any (everyone[] holds its list now) */
	i = 0;
	for (struct mesh_conn *c = r->conns; c && nrest; c = c->next, i++) {
		size_t k = 0;
		for (size_t e = 0; e < nrest; e++)
			if (need[e * r->nconns + i])
				everyone[k++] = names[e];
		if (k)
			send_entries(r, out, c, everyone, k);
	}
out:
	free(names);
	free(everyone);
	free(ours);
	free(kids);
	free(need);
}

static bool takes_summaries(const struct mesh_conn *c)
{
	return c->peer_features & MESH_FEATURE_TOPO_SUMMARY;
}

/* Our summary to c (flags: MESH_TOPO_SUMMARY_NO_REPLY or 0). */
static void send_summary(struct mesh_router *r, struct mesh_conn *c, uint8_t flags)
{
	size_t cap = mesh_topo_summary_size(&r->topo);
	uint8_t *buf = malloc(cap);
	ssize_t len = buf ? mesh_topo_summary_encode(&r->topo, flags, buf, cap) : -ENOMEM;
	if (len > 0)
		router_gossip_send_to(r, MESH_CHANNEL_TOPO_SUMMARY, c, buf, (size_t)len);
	else
		log_error("cannot send our topology summary: out of memory"); /* the digest round
									     * retries */
	free(buf);
}

/* A new connection: our summary (it sends its own, and each side then sends the entries the
 * other lacks), or everything to a peer too old for summaries. The periodic round is the
 * digest channel's. */
static void encode_full(struct mesh_router *r, enum router_full why, struct router_gossip_out *out)
{
	if (why == ROUTER_FULL_PERIODIC)
		return;
	struct mesh_conn *c = router_gossip_out_conn(out);
	if (c && takes_summaries(c))
		send_summary(r, c, MESH_TOPO_SUMMARY_NO_REPLY);
	else
		send_entries(r, out, NULL, NULL, 0);
}

/* --- the digest channel: the periodic round -------------------------------------------------- */

/* Every ROUTER_GOSSIP_FULL_S, to ~2·log2(n) random neighbours: our digest. */
static void digest_full(struct mesh_router *r, enum router_full why, struct router_gossip_out *out)
{
	if (why != ROUTER_FULL_PERIODIC)
		return; /* a new connection gets the full state from the topology channel */
	struct mesh_topo_digest d;
	uint8_t buf[MESH_TOPO_DIGEST_LEN];
	mesh_topo_digest_make(&r->topo, 0, &d);
	if (mesh_topo_digest_encode(&d, buf, sizeof(buf)) == MESH_TOPO_DIGEST_LEN)
		router_gossip_emit(out, buf, sizeof(buf));
}

/* A peer's digest: when it differs from ours, our summary (it answers with the entries we lack
 * and its own summary if it lacks any); to a peer too old for summaries, our full state, and
 * unless its digest was a reply, our digest as a reply (so that it sends us its full state). */
static void digest_merge(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	struct mesh_topo_digest d;
	const char *why = "";
	char who[160];
	if (mesh_topo_digest_decode(p, len, &d, &why) < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: topology digest refused: %s", who, why);
		r->ctr.gossip_refused++;
		return;
	}
	if (mesh_topo_digest_matches(&r->topo, &d))
		return;
	if (takes_summaries(c)) {
		send_summary(r, c, 0);
		return;
	}
	router_gossip_full_to(r, MESH_CHANNEL_TOPOLOGY, c);
	if (d.flags & MESH_TOPO_DIGEST_REPLY)
		return;
	uint8_t buf[MESH_TOPO_DIGEST_LEN];
	mesh_topo_digest_make(&r->topo, MESH_TOPO_DIGEST_REPLY, &d);
	if (mesh_topo_digest_encode(&d, buf, sizeof(buf)) == MESH_TOPO_DIGEST_LEN)
		router_gossip_send_to(r, MESH_CHANNEL_TOPO_DIGEST, c, buf, sizeof(buf));
}

/* --- the summary channel ----------------------------------------------------------------------- */

/* A peer's summary: the entries it lacks or has older, and unless it said NO_REPLY, our summary
 * when it has entries we lack or have older (it then sends those). */
static void summary_merge(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	char who[160];
	struct mesh_topo_summary_diff d;
	const char *why = "";
	struct mesh_peer_name *send = malloc((r->topo.n + 1) * sizeof(*send));
	int ret = send ? mesh_topo_summary_compare(&r->topo, p, len, send, &d, &why) : -ENOMEM;
	if (ret < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: topology summary refused: %s", who,
			 ret == -ENOMEM ? "out of memory" : why);
		r->ctr.gossip_refused++;
		free(send);
		return;
	}
	if (d.nsend)
		send_entries(r, NULL, c, send, d.nsend);
	free(send);
	if (d.nneed && !(d.flags & MESH_TOPO_SUMMARY_NO_REPLY))
		send_summary(r, c, MESH_TOPO_SUMMARY_NO_REPLY);
}

void router_topo_self_changed(struct mesh_router *r)
{
	struct mesh_topo_conn conns[MESH_TOPO_MAX_CONNS];
	unsigned n = 0;
	for (struct mesh_conn *c = r->conns; c && n < MESH_TOPO_MAX_CONNS; c = c->next) {
		if (c->state != CONN_ESTABLISHED)
			continue;
		conns[n].peer = c->peer;
		conns[n].flags = (uint8_t)((c->outbound ? MESH_TOPO_CONN_OUTBOUND : 0) |
					   (c->usable ? MESH_TOPO_CONN_ESTABLISHED : 0));
		struct mesh_addr a = c->peer_addr;
		a.port = c->peer_port;
		mesh_topo_conn_set_addr(&conns[n], &a);
		n++;
	}
	if (mesh_topo_set_self_conns(&r->topo, conns, n) < 0) {
		log_error("cannot update our topology entry: out of memory");
		return;
	}
	recompute_routes(r);
	note_change(r);
	add_pending(r, &r->name, NULL);
}

/* Short ids (12 bits) should be unique: on a collision the peer with the lower name keeps it
 * and the other picks a free one (DESIGN §3). Past 4096 peers none is free: we keep ours (a
 * short id only labels our sleeve datagrams; the receiver finds the session by its index),
 * and say so once, instead of re-picking on every merge (which never settled: each new pick
 * changed our entry and was flooded to the whole mesh). */
static void check_short_id(struct mesh_router *r)
{
	if (!mesh_topo_short_id_clash(&r->topo))
		return;
	int id = mesh_topo_free_short_id(&r->topo, (uint16_t)(randombytes_random() & 0xfff));
	if (id < 0) {
		if (!r->own.topo->short_ids_full) {
			r->own.topo->short_ids_full = true;
			log_info("short id %u is also a peer's with a lower name, and all 4096 are "
				 "taken (more than 4096 peers): keeping it", r->short_id);
		}
		return;
	}
	uint16_t old = r->short_id;
	r->short_id = (uint16_t)id;
	log_info("short id %u is taken by a peer with a lower name: now %u", old, r->short_id);
	mesh_topo_set_self_short_id(&r->topo, r->short_id);
	add_pending(r, &r->name, NULL);
}

static void merge(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	char who[160];
	struct router_topo *tp = r->own.topo;
	size_t nchanged = 0;
	const char *why = "";
	int ret = mesh_topo_merge(&r->topo, p, len, mesh_wall_ms(), tp->changed,
				  MESH_TOPO_MAX_PEERS, &nchanged, &why);
	if (ret < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: topology gossip refused: %s", who,
			 ret == -ENOMEM ? "out of memory" : why);
		r->ctr.gossip_refused++;
		return;
	}
	if (ret > 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: %d %s", who, ret, why);
		r->ctr.gossip_refused++;
	}
	if (!nchanged)
		return;
	/* only what changed is passed on (the topology never holds more than fit in changed) */
	for (size_t i = 0; i < nchanged && i < MESH_TOPO_MAX_PEERS; i++)
		add_pending(r, &tp->changed[i], &c->peer);
	check_short_id(r);
	recompute_routes(r);
	note_change(r);
	router_gossip_post(r, ROUTER_EV_PEERS_CHANGED);
}

void router_topo_housekeeping(struct mesh_router *r)
{
	size_t n = mesh_topo_forget_unreachable(&r->topo, mesh_mono_ms(), FORGET_GRACE_MS);
	if (n) {
		log_info("forgot %zu peer(s) unreachable for %u s", n, FORGET_GRACE_MS / 1000);
		recompute_routes(r);
		router_gossip_post(r, ROUTER_EV_PEERS_GONE);
	}
}

static const struct router_channel channel = {
	.id = MESH_CHANNEL_TOPOLOGY,
	.encode_full = encode_full,
	.encode_delta = encode_delta,
	.merge = merge,
};

/* no encode_delta: changes go out on the topology channel */
static const struct router_channel digest_channel = {
	.id = MESH_CHANNEL_TOPO_DIGEST,
	.flags = ROUTER_CHANNEL_FANOUT,
	.encode_full = digest_full,
	.merge = digest_merge,
};

/* only answered here: a summary is sent by the topology channel's encode_full (a new
 * connection) and by digest_merge */
static const struct router_channel summary_channel = {
	.id = MESH_CHANNEL_TOPO_SUMMARY,
	.merge = summary_merge,
};

int router_topo_init(struct mesh_router *r)
{
	/* The first version is our start time in ms: a restart outranks our former self. */
	uint64_t version = mesh_wall_ms();
	if (mesh_topo_init(&r->topo, &r->name, r->nickname, r->uid, version, r->short_id) < 0)
		return -ENOMEM;
	struct router_topo *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	r->own.topo = tp;
	tp->pending = calloc(MESH_TOPO_MAX_PEERS, sizeof(*tp->pending));
	tp->changed = calloc(MESH_TOPO_MAX_PEERS, sizeof(*tp->changed));
	tp->routes = event_new(r->base, -1, 0, routes_cb, r);
	tp->settle = evtimer_new(r->base, settle_cb, r);
	if (!tp->pending || !tp->changed || !tp->routes || !tp->settle || router_gossip_add_channel(r, &channel) < 0 ||
	    router_gossip_add_channel(r, &digest_channel) < 0 ||
	    router_gossip_add_channel(r, &summary_channel) < 0)
		return -ENOMEM;
	compute_routes(r);
	return 0;
}

void router_topo_free(struct mesh_router *r)
{
	if (r->own.topo) {
		free(r->own.topo->pending);
		free(r->own.topo->changed);
		if (r->own.topo->routes)
			event_free(r->own.topo->routes);
		if (r->own.topo->settle)
			event_free(r->own.topo->settle);
	}
	free(r->own.topo);
	r->own.topo = NULL;
	mesh_routes_free(&r->routes);
	mesh_topo_free(&r->topo);
}
