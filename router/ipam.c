/* router/ipam.c: the router's side of the mesh IPAM (DESIGN §5 channel `ipam`, §8): the
 * ownership ring (gossip/ipam.h) and our allocations (router/ipam_alloc.h), kept in
 * <state-dir>/ipam (router/ipam_store.h); the IPAM channel of the gossip hub (whole ring to a
 * new connection, to every connection when it changed and every 30 s), space
 * requests to a donor when ours runs out, seeding by consensus or seed list, minority fencing and
 * reclaim of the space of peers gone for --ipam-reclaim-after; and the API endpoints under
 * /v1/ipam that mesh-cni uses.
 *
 * The rules of gossip/ipam.h, as this file keeps them: every change of the ring or the
 * allocations is saved before the ring is gossiped and before an address is answered (a failed
 * save holds both back until a later save works); consensus seeding waits until every
 * established connection has sent its ring; allocation stops while mesh_ipam_may_allocate says
 * so; only the heir named by mesh_ipam_reclaim_decide reclaims. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gossip/ipam.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/ipam6.h"
#include "router/ipam_alloc.h"
#include "router/ipam_store.h"
#include "router/log.h"
#include "router/netpol.h"
#include "router/ipam_probe.h"
#include "router/statefile.h"

#define SPACE_REQUEST_INTERVAL_MS 2000
/* Space requests a connection may make (each answered with our ring, up to ~147 KB): one a
 * second, two at once; we ask once per SPACE_REQUEST_INTERVAL_MS ourselves. */
#define SPACE_REQUEST_RATE_PER_S 1
#define SPACE_REQUEST_BURST 2
#define REFUSED_LOG_MS 60000
#define MAX_SEEN 4096

struct ipam_seen {
	struct mesh_peer_name name;
	uint64_t last_seen_ms;         /* monotonic */
};

#define MAX_REMOVED 64

struct router_ipam {
	struct mesh_ipam_ring ring;
	struct mesh_ipam_alloc alloc;
	char path[320];
	bool unsaved;                  /* in memory but not on disk: nothing leaves until saved */
	bool save_error_logged;
	bool send_pending;             /* the ring goes to every connection at the end of the turn */
	uint64_t started_ms;
	uint64_t minority_since_ms;    /* 0: in a majority */
	uint64_t asked_ms;             /* when we last asked a donor for space */
	struct mesh_peer_name asked;
	struct ipam_seen *seen;        /* peers we have seen reachable, and when last; sorted
					* by name (seen_find) */
	size_t nseen;
	/* peers whose host is gone for good (their Node object was deleted): their space is
	 * reclaimed as soon as they are unreachable; one that comes back is taken off */
	struct mesh_peer_name removed[MAX_REMOVED];
	size_t nremoved;
	char waiting[200];             /* why the ring is not seeded yet */
	/* recovering: this host lost its IPAM state (a corrupt file, set aside; or none, while the
	 * ring says we own space), so containers may hold addresses it no longer knows of: each
	 * address is probed with ARP before it is handed out, and one found in use is recorded as
	 * "lost-<ip>". Kept in the state dir (MESH_IPAM_LOST_FILE) across restarts. */
	bool recovering;
	char lost_why[200];
	char lost_path[320];
	struct router_ipam_probe *probe;
	uint64_t found_in_use;
	struct event *sweep;           /* probes every address of ours, then ends recovering */
	uint64_t sweep_next;           /* every address of ours below it has been checked */
	bool had_file;                 /* the state file was there and loaded at start */
};

#define MESH_IPAM_LOST_FILE "ipam.lost"
#define SWEEP_TICK_MS 100
#define SWEEP_WINDOW 200        /* probes out at a time (router/ipam_probe.c keeps 256) */
static void start_recovering(struct mesh_router *r, const char *why);
static void sweep_cb(evutil_socket_t fd, short what, void *arg);

/* --- helpers ------------------------------------------------------------------------------ */

static bool is_reachable(const struct mesh_router *r, const struct mesh_peer_name *p)
{
	return mesh_peer_name_eq(p, &r->name) || mesh_routes_hops(&r->routes, p) >= 0;
}

/* "h2(0a:...)" or just the name when the topology does not know it. */
static void describe_peer(const struct mesh_router *r, const struct mesh_peer_name *p, char *out,
			  size_t cap)
{
	char n[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(p, n);
	const struct mesh_topo_peer *t = mesh_topo_find(&r->topo, p);
	if (t)
		snprintf(out, cap, "%s(%s)", t->nickname, n);
	else
		snprintf(out, cap, "%s", n);
}

static void format_cidr(uint32_t addr, uint8_t prefix, char out[20])
{
	char a[16];
	mesh_ipam_addr_format(addr, a);
	snprintf(out, 20, "%s/%u", a, prefix);
}

/* The IPv6 address of our allocation ip (router/ipam6.h) into out; false when --ipalloc-range6
 * is off (or for 0.0.0.0, which is never allocated). */
static bool ip6_of(const struct mesh_router *r, uint32_t ip, char out[MESH_IPAM6_STRLEN])
{
	uint8_t a[16];
	if (mesh_ipam6_map(&r->cfg->ipalloc_range6, ip, a) < 0)
		return false;
	mesh_ipam6_addr_format(a, out);
	return true;
}

static int save(struct mesh_router *r)
{
	struct router_ipam *im = r->own.ipam;
	int ret = mesh_ipam_store_save(im->path, &im->ring, &im->alloc);
	if (ret < 0) {
		im->unsaved = true;
		if (!im->save_error_logged)
			log_error("IPAM: cannot save %s: %s; no address is handed out and the ring is "
				  "not gossiped until it can be saved", im->path, strerror(-ret));
		im->save_error_logged = true;
		return ret;
	}
	if (im->save_error_logged)
		log_info("IPAM: %s saved again", im->path);
	im->unsaved = false;
	im->save_error_logged = false;
	return 0;
}

/* The whole ring, to a new connection, every 30 s to every connection, and to a peer we
 * refused space (it tells whom else to ask). */
static void encode_full(struct mesh_router *r, enum router_full why, struct router_gossip_out *out)
{
	struct router_ipam *im = r->own.ipam;
	if (im->unsaved)
		return; /* persist before the ring leaves us */
	size_t size = mesh_ipam_ring_encoded_size(&im->ring);
	uint8_t *buf = malloc(size);
	if (!buf)
		return;
	ssize_t len = mesh_ipam_ring_encode(&im->ring, buf, size);
	if (len >= 0)
		router_gossip_emit(out, buf, (size_t)len);
	free(buf);
}

/* The ring changed: all of it to every connection, once saved. */
static void encode_delta(struct mesh_router *r, struct router_gossip_out *out)
{
	if (!r->own.ipam->send_pending || r->own.ipam->unsaved)
		return;
	r->own.ipam->send_pending = false;
	encode_full(r, ROUTER_FULL_ONE, out);
}

static void queue_gossip(struct mesh_router *r)
{
	r->own.ipam->send_pending = true;
	router_gossip_changed(r, MESH_CHANNEL_IPAM);
}

/* After any change of ring or allocations: our free counts, save, then gossip. */
static int changed(struct mesh_router *r)
{
	struct router_ipam *im = r->own.ipam;
	if (mesh_ipam_alloc_report_free(&im->alloc, &im->ring) < 0)
		log_warn("IPAM: a free count of ours is at its version limit");
	int ret = save(r);
	queue_gossip(r); /* held back by flush_cb while unsaved */
	return ret;
}

static int seen_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(&((const struct ipam_seen *)a)->name,
				  &((const struct ipam_seen *)b)->name);
}

/* The entry of seen[0..n) (sorted) for p, or NULL. */
static struct ipam_seen *seen_find(const struct ipam_seen *seen, size_t n,
				   const struct mesh_peer_name *p)
{
	struct ipam_seen key = { .name = *p };
	if (!n)
		return NULL;
	return (struct ipam_seen *)bsearch(&key, seen, n, sizeof(*seen), seen_cmp);
}

static void note_seen(struct mesh_router *r, uint64_t now)
{
	struct router_ipam *im = r->own.ipam;
	size_t sorted = im->nseen; /* new names go after the sorted part, sorted in at the end */
	for (size_t i = 0; i < r->topo.n; i++) {
		const struct mesh_topo_peer *p = &r->topo.peers[i];
		if (mesh_peer_name_eq(&p->name, &r->name) || !is_reachable(r, &p->name))
			continue;
		for (size_t j = 0; j < im->nremoved; j++)
			if (mesh_peer_name_eq(&im->removed[j], &p->name)) {
				char who[96];
				describe_peer(r, &p->name, who, sizeof(who));
				log_info("IPAM: %s, removed earlier, is back: its space is not reclaimed", who);
				im->removed[j] = im->removed[--im->nremoved];
				break;
			}
		struct ipam_seen *e = seen_find(im->seen, sorted, &p->name);
		if (!e) { /* the topology names each peer once: no need to look among the new */
			if (im->nseen == MAX_SEEN)
				continue;
			e = &im->seen[im->nseen++];
			e->name = p->name;
		}
		e->last_seen_ms = now;
	}
	if (im->nseen > sorted && im->nseen)
		qsort(im->seen, im->nseen, sizeof(*im->seen), seen_cmp);
}

static bool is_removed(const struct router_ipam *im, const struct mesh_peer_name *p)
{
	for (size_t k = 0; k < im->nremoved; k++)
		if (mesh_peer_name_eq(&im->removed[k], p))
			return true;
	return false;
}

static uint64_t last_seen(const struct router_ipam *im, const struct mesh_peer_name *p)
{
	const struct ipam_seen *e = seen_find(im->seen, im->nseen, p);
	return e ? e->last_seen_ms : 0;
}

static int peer_seen_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(&((const struct mesh_ipam_peer_seen *)a)->name,
				  &((const struct mesh_ipam_peer_seen *)b)->name);
}

static int peer_name_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(a, b);
}

/* What we know of the peers for majority and reclaim: every peer of the topology and every
 * owner in the ring, with reachability and when last seen. Caller frees. */
static struct mesh_ipam_peer_seen *peers_seen(const struct mesh_router *r, size_t *n)
{
	const struct router_ipam *im = r->own.ipam;
	struct mesh_ipam_peer_seen *s = calloc(r->topo.n + im->ring.n + 1, sizeof(*s));
	size_t k = 0;
	if (!s)
		return NULL;
	for (size_t i = 0; i < r->topo.n; i++) {
		const struct mesh_peer_name *p = &r->topo.peers[i].name;
		if (mesh_peer_name_eq(p, &r->name))
			continue;
		s[k].name = *p;
		s[k].reachable = is_reachable(r, p);
		s[k].last_seen_ms = last_seen(im, p);
		s[k].removed = is_removed(im, p);
		k++;
	}
	/* the owners that the topology does not name, each once (sorted lookups: a walk per
	 * owner was O(n^2) at thousands of peers) */
	size_t ntopo = k;
	if (ntopo) /* qsort and bsearch want a non-null array even when empty */
		qsort(s, ntopo, sizeof(*s), peer_seen_cmp);
	struct mesh_peer_name *owners = im->ring.n ? malloc(im->ring.n * sizeof(*owners)) : NULL;
	if (im->ring.n && !owners) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < im->ring.n; i++)
		owners[i] = im->ring.e[i].owner;
	if (im->ring.n)
		qsort(owners, im->ring.n, sizeof(*owners), peer_name_cmp);
	for (size_t i = 0; i < im->ring.n; i++) {
		const struct mesh_peer_name *p = &owners[i];
		struct mesh_ipam_peer_seen key = { .name = *p };
		if ((i > 0 && mesh_peer_name_eq(&owners[i - 1], p)) || mesh_peer_name_eq(p, &r->name) ||
		    (ntopo && bsearch(&key, s, ntopo, sizeof(*s), peer_seen_cmp)))
			continue;
		s[k].name = *p;
		s[k].reachable = false;
		s[k].last_seen_ms = last_seen(im, p);
		s[k].removed = is_removed(im, p);
		k++;
	}
	free(owners);
	*n = k;
	return s;
}

/* Seeds the ring when the rules allow (see the top of gossip/ipam.h). */
static void try_seed(struct mesh_router *r)
{
	struct router_ipam *im = r->own.ipam;
	const struct mesh_ipam_init *init = &r->cfg->ipalloc_init;
	if (im->ring.n)
		return;
	if (!init->nseeds) {
		for (struct mesh_conn *c = r->conns; c; c = c->next) {
			if (c->state != CONN_ESTABLISHED || c->ipam_rx)
				continue;
			char who[96];
			describe_peer(r, &c->peer, who, sizeof(who));
			snprintf(im->waiting, sizeof(im->waiting),
				 "the IPAM ring is not seeded yet: waiting for the ring of %s", who);
			return;
		}
	}
	struct mesh_peer_name *known = calloc(r->topo.n + 1, sizeof(*known));
	size_t n = 0;
	if (!known)
		return;
	for (size_t i = 0; i < r->topo.n; i++)
		if (is_reachable(r, &r->topo.peers[i].name))
			known[n++] = r->topo.peers[i].name;
	int ret = mesh_ipam_init_maybe_seed(&im->ring, init, known, n);
	free(known);
	if (ret == 0) {
		snprintf(im->waiting, sizeof(im->waiting),
			 "the IPAM ring is not seeded yet: %s needs %u peers, %zu known", r->cfg->ipalloc_init_str,
			 init->quorum, n);
		return;
	}
	if (ret < 0) {
		snprintf(im->waiting, sizeof(im->waiting), "the IPAM ring cannot be seeded: %s",
			 strerror(-ret));
		log_error("IPAM: cannot seed the ring (%s): %s", r->cfg->ipalloc_init_str, strerror(-ret));
		return;
	}
	im->waiting[0] = '\0';
	char range[20];
	format_cidr(im->ring.start, im->ring.prefix, range);
	uint64_t ours = 0;
	for (size_t i = 0; i < im->ring.n; i++)
		if (mesh_peer_name_eq(&im->ring.e[i].owner, &r->name))
			ours += mesh_ipam_entry_end(&im->ring, i) - im->ring.e[i].token;
	log_info("IPAM: seeded the ring of %s among %zu peer(s) (%s, seed %016llx); %llu addresses "
		 "are ours", range, im->ring.n, r->cfg->ipalloc_init_str,
		 (unsigned long long)im->ring.seed, (unsigned long long)ours);
	changed(r);
}

/* --- gossip ------------------------------------------------------------------------------- */

/* Consensus seeding waits until c's ring arrived. */
static void conn_up(struct mesh_router *r, struct mesh_conn *c)
{
	c->ipam_rx = false;
	mesh_ratelimit_init(&c->ipam_request_rl, SPACE_REQUEST_RATE_PER_S, SPACE_REQUEST_BURST,
			    mesh_mono_ms());
	c->ipam_request_logged_ms = 0;
}

/* A request refused for its sender or its rate: counted, logged once a minute per connection. */
static void request_refused(struct mesh_router *r, struct mesh_conn *c, const char *why)
{
	char who[160];
	r->ctr.ipam_requests_refused++;
	uint64_t now = mesh_mono_ms();
	if (c->ipam_request_logged_ms && now - c->ipam_request_logged_ms < REFUSED_LOG_MS)
		return;
	c->ipam_request_logged_ms = now;
	router_describe_conn(c, who, sizeof(who));
	log_warn("%s: IPAM space request refused: %s", who, why);
}

static void ring_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	struct router_ipam *im = r->own.ipam;
	char why[MESH_IPAM_WHY_LEN] = "", who[160];
	bool was_seeded = im->ring.n > 0, ch = false;
	c->ipam_rx = true;
	int ret = mesh_ipam_ring_merge_msg(&im->ring, p, len, mesh_ipam_alloc_has_in, &im->alloc,
					   &ch, why);
	if (ret == -EXDEV || ret == -EDOM || ret == -EPERM || ret == -ERANGE) {
		if (!c->ipam_refused_logged) {
			char nick[96];
			describe_peer(r, &c->peer, nick, sizeof(nick));
			log_error("refusing %s's IPAM ring: %s", nick, why);
		}
		c->ipam_refused_logged = true;
		r->ctr.gossip_refused++;
		return;
	}
	if (ret < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: IPAM gossip refused: %s", who, ret == -ENOMEM ? "out of memory" : why);
		r->ctr.gossip_refused++;
		return;
	}
	if (ch) {
		if (!was_seeded) {
			char nick[96];
			describe_peer(r, &c->peer, nick, sizeof(nick));
			log_info("IPAM: joined the mesh's ring (seed %016llx) from %s",
				 (unsigned long long)im->ring.seed, nick);
			im->waiting[0] = '\0';
			bool ours = false;
			for (size_t i = 0; i < im->ring.n && !ours; i++)
				ours = mesh_peer_name_eq(&im->ring.e[i].owner, &r->name);
			if (ours && !im->had_file && !im->recovering) {
				char lost[400];
				snprintf(lost, sizeof(lost), "no IPAM state in %s, but the mesh's ring gives "
					 "this host space (was its state dir lost?)", im->path);
				start_recovering(r, lost);
			}
		}
		size_t stray = mesh_ipam_alloc_not_owned(&im->alloc, &im->ring, NULL, 0);
		if (stray)
			log_warn("IPAM: %zu of our allocations are in space the ring gives to others",
				 stray);
		changed(r);
	}
	try_seed(r);
}

static void request_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	struct router_ipam *im = r->own.ipam;
	struct mesh_ipam_request q;
	char why[MESH_IPAM_WHY_LEN] = "", who[160];
	if (mesh_ipam_request_decode(p, len, &q, why) < 0) {
		router_describe_conn(c, who, sizeof(who));
		log_warn("%s: IPAM space request refused: %s", who, why);
		r->ctr.gossip_refused++;
		return;
	}
	if (mesh_ipam_request_check_sender(&q, &c->peer, why) < 0) {
		request_refused(r, c, why);
		return;
	}
	if (!mesh_ratelimit_take(&c->ipam_request_rl, mesh_mono_ms())) {
		request_refused(r, c, "more than " MESH_STR(SPACE_REQUEST_RATE_PER_S) " a second "
				"(each is answered with our ring)");
		return;
	}
	describe_peer(r, &q.requester, who, sizeof(who));
	int64_t n = mesh_ipam_alloc_donate(&im->alloc, &im->ring, &q, why);
	if (n < 0) {
		log_info("IPAM: not giving %s address space: %s", who, why);
		/* our ring tells it who else might have some */
		router_gossip_full_to(r, MESH_CHANNEL_IPAM, c);
		return;
	}
	log_info("IPAM: gave %lld addresses to %s, which ran out of space", (long long)n, who);
	changed(r);
}

static void merge(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len)
{
	char who[160];
	int type = mesh_ipam_msg_type(p, len);
	if (type == MESH_IPAM_MSG_RING)
		return ring_received(r, c, p, len);
	if (type == MESH_IPAM_MSG_SPACE_REQUEST)
		return request_received(r, c, p, len);
	router_describe_conn(c, who, sizeof(who));
	log_debug("%s: IPAM gossip of unknown type %d ignored", who, type);
}

/* Asks the connected peer with the most free space for some. 0 when asked (or a request is
 * still in flight: why says to whom), -ENOSPC when no connected peer has any. */
static int request_space(struct mesh_router *r, char *why, size_t cap)
{
	struct router_ipam *im = r->own.ipam;
	uint64_t now = mesh_mono_ms();
	char who[96];
	if (im->asked_ms && now - im->asked_ms < SPACE_REQUEST_INTERVAL_MS) {
		describe_peer(r, &im->asked, who, sizeof(who));
		snprintf(why, cap, "our address space is used up; asked %s for more, waiting for it", who);
		return 0;
	}
	struct mesh_peer_name *conn = calloc(r->nconns + 1, sizeof(*conn));
	size_t n = 0;
	if (!conn)
		return -ENOMEM;
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c->state == CONN_ESTABLISHED)
			conn[n++] = c->peer;
	struct mesh_peer_name donor;
	int ret = mesh_ipam_pick_donor(&im->ring, conn, n, &donor);
	free(conn);
	if (ret < 0)
		return ret;
	struct mesh_conn *c = router_conn_to(r, &donor);
	if (!c)
		return -ENOSPC;
	struct mesh_ipam_request q = {
		.start = im->ring.start, .prefix = im->ring.prefix, .seed = im->ring.seed,
		.requester = r->name, .wanted = 1,
	};
	uint8_t buf[MESH_IPAM_REQUEST_LEN];
	ssize_t len = mesh_ipam_request_encode(&q, buf, sizeof(buf));
	if (len < 0 || router_gossip_send_to(r, MESH_CHANNEL_IPAM, c, buf, (size_t)len) < 0)
		return -EIO;
	im->asked = donor;
	im->asked_ms = now;
	describe_peer(r, &donor, who, sizeof(who));
	log_info("IPAM: our address space is used up; asking %s for some", who);
	snprintf(why, cap, "our address space is used up; asked %s for more, waiting for it", who);
	return 0;
}

/* --- housekeeping ------------------------------------------------------------------------- */

static void fence_and_reclaim(struct mesh_router *r, uint64_t now)
{
	struct router_ipam *im = r->own.ipam;
	size_t n = 0;
	struct mesh_ipam_peer_seen *s = peers_seen(r, &n);
	if (!s || !im->ring.n) {
		free(s);
		return;
	}
	bool majority = mesh_ipam_have_majority(&im->ring, s, n);
	uint64_t after = r->cfg->ipam_reclaim_after_ms;
	if (!majority && !im->minority_since_ms) {
		im->minority_since_ms = now ? now : 1;
		if (after)
			log_warn("IPAM: this peer no longer reaches a majority of the mesh; it stops "
				 "handing out new addresses in %llu s unless that changes",
				 (unsigned long long)(after / 2000));
	} else if (majority && im->minority_since_ms) {
		log_info("IPAM: a majority of the mesh is reachable again");
		im->minority_since_ms = 0;
	}
	struct mesh_peer_name victim, heir;
	if (mesh_ipam_reclaim_decide(&im->ring, s, n, now, im->started_ms, after, &victim, &heir) == 1 &&
	    mesh_peer_name_eq(&heir, &r->name)) {
		char who[96];
		describe_peer(r, &victim, who, sizeof(who));
		int64_t got = mesh_ipam_ring_reclaim(&im->ring, &victim);
		if (got > 0 && is_removed(im, &victim))
			log_info("IPAM: peer %s is removed (its Node object was deleted); as its heir we "
				 "take over its %lld addresses", who, (long long)got);
		else if (got > 0)
			log_info("IPAM: peer %s has been gone for more than %llu s; the reachable majority "
				 "agrees, and as its heir we take over its %lld addresses", who,
				 (unsigned long long)(after / 1000), (long long)got);
		if (got > 0)
			changed(r);
	}
	free(s);
}

void router_ipam_peer_removed(struct mesh_router *r, const struct mesh_peer_name *peer)
{
	struct router_ipam *im = r->own.ipam;
	if (!im || mesh_peer_name_eq(peer, &r->name) || is_removed(im, peer))
		return;
	if (im->nremoved == MAX_REMOVED)
		im->removed[0] = im->removed[--im->nremoved]; /* the oldest gives way */
	im->removed[im->nremoved++] = *peer;
	/* the heir acts now, not at the next housekeeping */
	fence_and_reclaim(r, mesh_mono_ms());
}

void router_ipam_housekeeping(struct mesh_router *r)
{
	struct router_ipam *im = r->own.ipam;
	if (!im)
		return;
	uint64_t now = mesh_mono_ms();
	if (im->unsaved && save(r) == 0)
		queue_gossip(r);
	note_seen(r, now);
	try_seed(r);
	fence_and_reclaim(r, now);
}

/* --- setup -------------------------------------------------------------------------------- */

static const struct router_channel channel = {
	.id = MESH_CHANNEL_IPAM,
	.encode_full = encode_full,
	.encode_delta = encode_delta,
	.merge = merge,
	.conn_up = conn_up,
};

int router_ipam_init(struct mesh_router *r, char *err, size_t errlen)
{
	const struct mesh_config *cfg = r->cfg;
	struct router_ipam *im = calloc(1, sizeof(*im));
	char why[MESH_IPAM_WHY_LEN] = "";
	if (!im || !(im->seen = calloc(MAX_SEEN, sizeof(*im->seen)))) {
		free(im);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->own.ipam = im;
	im->started_ms = mesh_mono_ms();
	snprintf(im->path, sizeof(im->path), "%s/%s", cfg->state_dir, MESH_IPAM_STORE_FILE);
	snprintf(im->lost_path, sizeof(im->lost_path), "%s/%s", cfg->state_dir, MESH_IPAM_LOST_FILE);
	char lost[sizeof(im->lost_why)];
	ssize_t ln = mesh_read_small(im->lost_path, lost, sizeof(lost) - 1);
	if (ln > 0) {
		lost[ln] = '\0';
		lost[strcspn(lost, "\n")] = '\0';
		start_recovering(r, lost[0] ? lost : "an earlier start found its IPAM state lost");
	}
	if (mesh_ipam_ring_init(&im->ring, &r->name, cfg->ipalloc_start, cfg->ipalloc_prefix) < 0 ||
	    mesh_ipam_alloc_init(&im->alloc, cfg->ipalloc_subnet, cfg->ipalloc_subnet_prefix) < 0) {
		snprintf(err, errlen, "IPAM: bad range or default subnet");
		return -EINVAL;
	}
	int ret = mesh_ipam_store_load(im->path, &im->ring, &im->alloc, why);
	if (ret == -EBADMSG || ret == -ESTALE || ret == -EDOM || ret == -EFBIG) {
		char aside[400] = "";
		int sret = mesh_set_aside(im->path, aside, sizeof(aside));
		log_error("IPAM: %s cannot be used (%s); %s, starting with no IPAM state", im->path, why,
			  sret < 0 ? "could not set it aside" : "set aside");
		if (sret == 0)
			log_error("IPAM: the old state is in %s", aside);
		char unusable[260];
		snprintf(unusable, sizeof(unusable), "%s could not be used (%s)", im->path, why);
		start_recovering(r, unusable);
		if (sret < 0) {
			snprintf(err, errlen, "IPAM: %s is unusable (%s) and cannot be set aside: %s",
				 im->path, why, strerror(-sret));
			return sret;
		}
	} else if (ret < 0 && ret != -ENOENT) {
		snprintf(err, errlen, "IPAM: cannot load %s: %s", im->path, why);
		return ret;
	} else if (ret == 0) {
		im->had_file = true;
		char range[20];
		format_cidr(im->ring.start, im->ring.prefix, range);
		log_info("IPAM: loaded %s: ring of %s %s, %zu allocation(s) of ours", im->path, range,
			 im->ring.n ? "seeded" : "not seeded yet", im->alloc.n);
	}
	if (router_gossip_add_channel(r, &channel) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(im->waiting, sizeof(im->waiting), "the IPAM ring is not seeded yet");
	try_seed(r);
	return 0;
}

void router_ipam_free(struct mesh_router *r)
{
	struct router_ipam *im = r->own.ipam;
	if (!im)
		return;
	mesh_ipam_ring_free(&im->ring);
	mesh_ipam_alloc_free(&im->alloc);
	router_ipam_probe_free(im->probe);
	if (im->sweep)
		event_free(im->sweep);
	free(im->seen);
	free(im);
	r->own.ipam = NULL;
}

/* --- a lost IPAM state -------------------------------------------------------------------- */

/* Enters recovering (see struct router_ipam), saying why in the log and in the marker file. */
static void start_recovering(struct mesh_router *r, const char *why)
{
	struct router_ipam *im = r->own.ipam;
	char text[300];
	if (!im->recovering || strcmp(im->lost_why, why)) {
		snprintf(im->lost_why, sizeof(im->lost_why), "%s", why);
		snprintf(text, sizeof(text), "%s\n", why);
		if (mesh_write_atomic(im->lost_path, text, strlen(text)) < 0)
			log_error("IPAM: cannot write %s: the next start will not know the state was lost",
				  im->lost_path);
	}
	im->recovering = true;
	im->sweep_next = 0;
	if (!im->sweep)
		im->sweep = evtimer_new(r->base, sweep_cb, r);
	if (im->sweep) {
		struct timeval tv = { 0, SWEEP_TICK_MS * 1000 };
		evtimer_add(im->sweep, &tv);
	}
	log_warn("IPAM: %s: containers may hold addresses this host no longer knows of, so every "
		 "address is checked with ARP before it is handed out, and all of ours in the "
		 "background", why);
}

/* ip, found in use by the container at mac that this host no longer knew of: kept as
 * "lost-<ip>" so it is never handed out. */
static void keep_lost(struct mesh_router *r, uint32_t ip, const uint8_t mac[6])
{
	struct router_ipam *im = r->own.ipam;
	char a[16], who[24], lost_id[32], why[MESH_IPAM_WHY_LEN];
	mesh_ipam_addr_format(ip, a);
	snprintf(lost_id, sizeof(lost_id), "lost-%s", a);
	if (mesh_ipam_alloc_claim(&im->alloc, &im->ring, lost_id, 0, 0, ip, why) < 0)
		return;
	im->found_in_use++;
	snprintf(who, sizeof(who), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	log_warn("IPAM: %s is in use by %s, which this host no longer knew of (its IPAM state was "
		 "lost): kept as \"%s\" (release it through the API once that container is gone)",
		 a, who, lost_id);
}

static bool ensure_probe(struct mesh_router *r, char *err, size_t errlen)
{
	struct router_ipam *im = r->own.ipam;
	if (!im->probe)
		im->probe = router_ipam_probe_new(r->base, r->cfg->bridge, err, errlen);
	return im->probe != NULL;
}

/* The background check of every address of ours: a window of probes at a time, the cursor
 * moving past what has been settled; at the end, recovering is over. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	struct router_ipam *im = r->own.ipam;
	char err[200];
	uint8_t mac[6];
	bool changes = false;
	(void)fd;
	(void)what;
	if (!im->recovering)
		return;
	struct timeval tv = { 0, SWEEP_TICK_MS * 1000 };
	if (!im->ring.n || !ensure_probe(r, err, sizeof(err))) {
		evtimer_add(im->sweep, &tv); /* not seeded yet, or no bridge yet */
		return;
	}
	uint64_t end = (uint64_t)im->ring.start + mesh_ipam_ring_size(&im->ring);
	uint64_t a = mesh_ipam_ring_next_owned(&im->ring, im->sweep_next ? im->sweep_next
								     : im->ring.start);
	bool settled_so_far = true;
	for (unsigned k = 0; k < SWEEP_WINDOW && a < end; k++) {
		bool settled = true;
		if (!mesh_ipam_alloc_count_in(&im->alloc, (uint32_t)a, a + 1)) {
			switch (router_ipam_probe_check(im->probe, (uint32_t)a, mac)) {
			case MESH_IPAM_PROBE_PENDING:
				settled = false;
				break;
			case MESH_IPAM_PROBE_IN_USE:
				keep_lost(r, (uint32_t)a, mac);
				changes = true;
				break;
			case MESH_IPAM_PROBE_FREE:
				break;
			}
		}
		settled_so_far = settled_so_far && settled;
		if (settled_so_far)
			im->sweep_next = a + 1;
		a = mesh_ipam_ring_next_owned(&im->ring, a + 1);
	}
	if (changes)
		changed(r);
	if (mesh_ipam_ring_next_owned(&im->ring, im->sweep_next ? im->sweep_next : im->ring.start) < end) {
		evtimer_add(im->sweep, &tv);
		return;
	}
	im->recovering = false;
	unlink(im->lost_path);
	log_info("IPAM: every address of ours checked with ARP: %llu found in use by containers this "
		 "host had lost track of (kept as lost-<address>); addresses are handed out without "
		 "checks again", (unsigned long long)im->found_in_use);
}

/* In recovering: whether ip (just allocated for `id`) may be handed out. 1 yes; 0 not yet (a
 * probe is out: msg says so, the allocation is undone); -EADDRINUSE: a container answered,
 * the address is now recorded as "lost-<ip>" and the caller tries the next one. */
static int recovered_check(struct mesh_router *r, const char *id, uint32_t ip, char *msg,
			   size_t cap)
{
	struct router_ipam *im = r->own.ipam;
	char a[16], err[200];
	uint8_t mac[6];
	if (!im->recovering)
		return 1;
	if (!ensure_probe(r, err, sizeof(err))) {
		mesh_ipam_alloc_release(&im->alloc, id);
		snprintf(msg, cap, "this host lost its IPAM state and cannot check addresses before "
			 "handing them out: %s", err);
		return 0;
	}
	mesh_ipam_addr_format(ip, a);
	switch (router_ipam_probe_check(im->probe, ip, mac)) {
	case MESH_IPAM_PROBE_FREE:
		return 1;
	case MESH_IPAM_PROBE_PENDING:
		mesh_ipam_alloc_release(&im->alloc, id);
		snprintf(msg, cap, "checking with ARP that %s is free (this host lost its IPAM state: "
			 "%s)", a, im->lost_why);
		return 0;
	case MESH_IPAM_PROBE_IN_USE:
		break;
	}
	mesh_ipam_alloc_release(&im->alloc, id);
	keep_lost(r, ip, mac);
	return -EADDRINUSE;
}

/* --- status and API ----------------------------------------------------------------------- */

/* True when an address can be handed out now (as far as seeding, saving and fencing go);
 * else why. */
static bool ready(const struct mesh_router *r, char *why, size_t cap)
{
	const struct router_ipam *im = r->own.ipam;
	if (!im->ring.n) {
		snprintf(why, cap, "%s", im->waiting[0] ? im->waiting : "the IPAM ring is not seeded yet");
		return false;
	}
	if (im->unsaved) {
		snprintf(why, cap, "the IPAM state cannot be saved to %s (see meshd's log)", im->path);
		return false;
	}
	if (!mesh_ipam_may_allocate(im->minority_since_ms, mesh_mono_ms(),
				    r->cfg->ipam_reclaim_after_ms)) {
		snprintf(why, cap, "this peer has not reached a majority of the mesh for %llu s: no new "
			 "addresses until it does (existing ones stay)",
			 (unsigned long long)((mesh_mono_ms() - im->minority_since_ms) / 1000));
		return false;
	}
	return true;
}

/* "container_id" (and "network", for ids "network/container") of an allocation's id. */
static void add_id(cJSON *o, const char *id)
{
	const char *slash = strchr(id, '/');
	if (!slash) {
		cJSON_AddStringToObject(o, "container_id", id);
		return;
	}
	cJSON_AddStringToObject(o, "container_id", slash + 1);
	char net[MESH_IPAM_ID_MAX + 1];
	snprintf(net, sizeof(net), "%.*s", (int)(slash - id), id);
	cJSON_AddStringToObject(o, "network", net);
}

cJSON *router_ipam_status_json(const struct mesh_router *r, bool allocations)
{
	const struct router_ipam *im = r->own.ipam;
	if (!im)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	char s[20], why[256], seed[17];
	format_cidr(im->ring.start, im->ring.prefix, s);
	cJSON_AddStringToObject(o, "range", s);
	format_cidr(im->alloc.subnet, im->alloc.prefix, s);
	cJSON_AddStringToObject(o, "default_subnet", s);
	/* IPv6: each allocation's address is mapped from its IPv4 one into range6 */
	char r6[MESH_IPAM6_CIDRLEN];
	mesh_ipam6_range_format(&r->cfg->ipalloc_range6, r6);
	if (r->cfg->ipalloc_range6.on)
		cJSON_AddStringToObject(o, "range6", r6);
	else
		cJSON_AddNullToObject(o, "range6");
	cJSON_AddStringToObject(o, "init", r->cfg->ipalloc_init_str);
	cJSON_AddNumberToObject(o, "reclaim_after_s", (double)(r->cfg->ipam_reclaim_after_ms / 1000));
	cJSON_AddBoolToObject(o, "seeded", im->ring.n > 0);
	if (im->ring.n) {
		snprintf(seed, sizeof(seed), "%016llx", (unsigned long long)im->ring.seed);
		cJSON_AddStringToObject(o, "seed", seed);
	} else {
		cJSON_AddNullToObject(o, "seed");
	}
	bool ok = ready(r, why, sizeof(why));
	cJSON_AddBoolToObject(o, "ready", ok);
	if (ok)
		cJSON_AddNullToObject(o, "why_not_ready");
	else
		cJSON_AddStringToObject(o, "why_not_ready", why);
	cJSON_AddBoolToObject(o, "majority", im->minority_since_ms == 0);
	cJSON_AddNumberToObject(o, "allocation_count", (double)im->alloc.n);
	cJSON_AddNumberToObject(o, "free", (double)mesh_ipam_alloc_free_total(&im->alloc, &im->ring));
	cJSON_AddNumberToObject(o, "entries", (double)im->ring.n);
	if (im->recovering) {
		uint64_t sent, claims;
		router_ipam_probe_counts(im->probe, &sent, &claims);
		cJSON *rec = cJSON_AddObjectToObject(o, "recovering");
		cJSON_AddStringToObject(rec, "why", im->lost_why);
		cJSON_AddNumberToObject(rec, "probes_sent", (double)sent);
		cJSON_AddNumberToObject(rec, "found_in_use", (double)im->found_in_use);
		char upto[16] = "";
		if (im->sweep_next && im->sweep_next < (uint64_t)im->ring.start + mesh_ipam_ring_size(&im->ring))
			mesh_ipam_addr_format((uint32_t)im->sweep_next, upto);
		cJSON_AddStringToObject(rec, "checked_below", upto);
	} else {
		cJSON_AddNullToObject(o, "recovering");
	}

	cJSON *owners = cJSON_AddArrayToObject(o, "owners");
	size_t n = mesh_ipam_ring_owners(&im->ring, NULL, 0);
	struct mesh_ipam_owner_stat *st = n ? calloc(n, sizeof(*st)) : NULL;
	if (st) {
		n = mesh_ipam_ring_owners(&im->ring, st, n);
		for (size_t i = 0; i < n; i++) {
			cJSON *j = cJSON_CreateObject();
			char name[MESH_PEER_NAME_STRLEN];
			mesh_peer_name_format(&st[i].owner, name);
			cJSON_AddStringToObject(j, "name", name);
			const struct mesh_topo_peer *t = mesh_topo_find(&r->topo, &st[i].owner);
			if (t)
				cJSON_AddStringToObject(j, "nickname", t->nickname);
			else
				cJSON_AddNullToObject(j, "nickname");
			cJSON_AddBoolToObject(j, "self", mesh_peer_name_eq(&st[i].owner, &r->name));
			cJSON_AddBoolToObject(j, "reachable", is_reachable(r, &st[i].owner));
			cJSON_AddNumberToObject(j, "owned", (double)st[i].owned);
			cJSON_AddNumberToObject(j, "free", (double)st[i].free);
			cJSON_AddNumberToObject(j, "ranges", (double)st[i].ranges);
			cJSON_AddItemToArray(owners, j);
		}
	}
	free(st);
	if (allocations) {
		cJSON *a = cJSON_AddArrayToObject(o, "allocations");
		for (size_t i = 0; i < im->alloc.n; i++) {
			const struct mesh_ipam_allocation *x = &im->alloc.a[i];
			cJSON *j = cJSON_CreateObject();
			char ip[16];
			mesh_ipam_addr_format(x->ip, ip);
			add_id(j, x->id);
			cJSON_AddStringToObject(j, "ip", ip);
			char ip6[MESH_IPAM6_STRLEN];
			if (ip6_of(r, x->ip, ip6))
				cJSON_AddStringToObject(j, "ip6", ip6);
			format_cidr(x->subnet, x->prefix, s);
			cJSON_AddStringToObject(j, "subnet", s);
			cJSON_AddItemToArray(a, j);
		}
	}
	return o;
}

static int api_error(cJSON **out, int code, const char *msg, bool retry)
{
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "error", msg);
	if (retry)
		cJSON_AddBoolToObject(*out, "retry", 1);
	return code;
}

/* The optional string "network" of a request body (a CNI network name), checked: *net is NULL
 * when there is none. 0, or the HTTP code with the answer set. */
/* A network name or container id given alone (no '/'): 0, or the HTTP code with the answer
 * naming the body's field. */
static int check_name(const char *field, const char *what, const char *v, cJSON **out)
{
	char why[MESH_IPAM_WHY_LEN], msg[300];
	if (strchr(v, '/'))
		snprintf(why, sizeof(why), "a %s has no '/'", what);
	else if (mesh_ipam_id_check(v, why) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s: %s", field, why);
	return api_error(out, 400, msg, false);
}

static int body_network(const cJSON *j, const char **net, cJSON **out)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "network");
	*net = NULL;
	if (!n || cJSON_IsNull(n))
		return 0;
	if (!cJSON_IsString(n))
		return api_error(out, 400, "\"network\" must be a string (a CNI network name)", false);
	int code = check_name("network", "network name", n->valuestring, out);
	if (code)
		return code;
	*net = n->valuestring;
	return 0;
}

/* The allocation id of a request body: its "container_id", as "network/container_id" when it
 * names a network; checked, into id (MESH_IPAM_ID_MAX + 1). NULL with the answer set; *legacy
 * is the bare container id when a network was named (allocations made before mesh-cni named
 * its network), else NULL. */
static const char *body_id(const cJSON *j, cJSON **out, int *code, char *id, const char **legacy)
{
	char msg[300];
	const char *net;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "container_id");
	if (!cJSON_IsObject(j) || !cJSON_IsString(c)) {
		*code = api_error(out, 400, "body must be a JSON object with a string \"container_id\"",
				  false);
		return NULL;
	}
	if ((*code = check_name("container_id", "container id", c->valuestring, out)) != 0 ||
	    (*code = body_network(j, &net, out)) != 0)
		return NULL;
	*legacy = net ? c->valuestring : NULL;
	int n = snprintf(id, MESH_IPAM_ID_MAX + 1, "%s%s%s", net ? net : "", net ? "/" : "",
			 c->valuestring);
	if (n < 0 || n > MESH_IPAM_ID_MAX) {
		snprintf(msg, sizeof(msg), "network and container id together are longer than %d characters",
			 MESH_IPAM_ID_MAX);
		*code = api_error(out, 400, msg, false);
		return NULL;
	}
	return id;
}

/* {"container_id", "network", "ip", "prefix", "subnet"} and, with --ipalloc-range6, "ip6",
 * "prefix6" and "subnet6" (range6: the on-link prefix containers get). */
static int address_answer(const struct mesh_router *r, const char *id, uint32_t ip, cJSON **out)
{
	const struct router_ipam *im = r->own.ipam;
	char a[16], s[20], a6[MESH_IPAM6_STRLEN], s6[MESH_IPAM6_CIDRLEN];
	*out = cJSON_CreateObject();
	mesh_ipam_addr_format(ip, a);
	add_id(*out, id);
	cJSON_AddStringToObject(*out, "ip", a);
	cJSON_AddNumberToObject(*out, "prefix", im->alloc.prefix);
	format_cidr(im->alloc.subnet, im->alloc.prefix, s);
	cJSON_AddStringToObject(*out, "subnet", s);
	if (ip6_of(r, ip, a6)) {
		cJSON_AddStringToObject(*out, "ip6", a6);
		cJSON_AddNumberToObject(*out, "prefix6", r->cfg->ipalloc_range6.prefix);
		mesh_ipam6_range_format(&r->cfg->ipalloc_range6, s6);
		cJSON_AddStringToObject(*out, "subnet6", s6);
	}
	return 200;
}

/* The pod mesh-cni names (CNI_ARGS of kubelet) in an allocation: "pod": {"namespace",
 * "name"}; both NULL when absent or not strings. */
static void body_pod(const cJSON *j, const char **ns, const char **name)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pod");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "namespace");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "name");
	bool ok = cJSON_IsString(n) && cJSON_IsString(m) && n->valuestring[0] && m->valuestring[0];
	*ns = ok ? n->valuestring : NULL;
	*name = ok ? m->valuestring : NULL;
}

/* The answer for an address given to id; NetworkPolicy's rules for it are in place first. */
static int allocated(struct mesh_router *r, const cJSON *j, const char *id, uint32_t ip,
		     cJSON **out)
{
	const char *ns, *name;
	body_pod(j, &ns, &name);
	router_netpol_address_assigned(r, htonl(ip), ns, name);
	return address_answer(r, id, ip, out);
}

static int api_allocate(struct mesh_router *r, const cJSON *j, cJSON **out)
{
	struct router_ipam *im = r->own.ipam;
	char why[MESH_IPAM_WHY_LEN], msg[400];
	int code;
	uint32_t ip;
	char key[MESH_IPAM_ID_MAX + 1];
	const char *legacy, *id = body_id(j, out, &code, key, &legacy);
	if (!id)
		return code;
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(j, "ifname");
	if (ifn && !cJSON_IsString(ifn) && !cJSON_IsNull(ifn))
		return api_error(out, 400, "\"ifname\" must be a string", false);
	/* an id that has its address already gets it again, even while we cannot allocate */
	if (mesh_ipam_alloc_lookup(&im->alloc, id, 0, 0, &ip) == 0 && !im->unsaved)
		return allocated(r, j, id, ip, out);
	if (!ready(r, msg, sizeof(msg)))
		return api_error(out, 503, msg, true);
	int ret, tries = 0;
	do {
		ret = mesh_ipam_alloc_allocate(&im->alloc, &im->ring, id, 0, 0, &ip, why);
		if (ret != 1)
			break;
		int ok = recovered_check(r, id, ip, msg, sizeof(msg));
		if (ok == 0) {
			mesh_ipam_alloc_report_free(&im->alloc, &im->ring);
			return api_error(out, 503, msg, true);
		}
		if (ok == 1)
			break;
		/* found in use and recorded: save that, then the next address */
		if (changed(r) < 0)
			return api_error(out, 500, "cannot save the IPAM state (see meshd's log)", true);
	} while (++tries < 16);
	if (tries == 16) {
		snprintf(msg, sizeof(msg), "16 addresses in a row were found in use by containers this "
			 "host lost track of; asking again goes on with the next ones");
		return api_error(out, 503, msg, true);
	}
	if (ret == 1) {
		if (changed(r) < 0) {
			mesh_ipam_alloc_release(&im->alloc, id);
			mesh_ipam_alloc_report_free(&im->alloc, &im->ring);
			snprintf(msg, sizeof(msg), "cannot save the IPAM state to %s", im->path);
			return api_error(out, 500, msg, true);
		}
		char a[16];
		mesh_ipam_addr_format(ip, a);
		log_debug("IPAM: %s for container %s", a, id);
		return allocated(r, j, id, ip, out);
	}
	if (ret == 0)
		return allocated(r, j, id, ip, out);
	if (ret == -EINVAL)
		return api_error(out, 400, why, false);
	if (ret == -E2BIG) {
		snprintf(msg, sizeof(msg), "this peer holds the most allocations it can (%d)",
			 MESH_IPAM_ALLOC_MAX);
		return api_error(out, 507, msg, false);
	}
	if (ret == -ENOSPC) {
		int q = request_space(r, msg, sizeof(msg));
		if (q == 0)
			return api_error(out, 503, msg, true);
		/* nobody connected has free space: full, or the free space is with peers we do not
		 * reach now */
		uint64_t elsewhere = 0;
		for (size_t i = 0; i < im->ring.n; i++)
			if (!mesh_peer_name_eq(&im->ring.e[i].owner, &r->name))
				elsewhere += im->ring.e[i].free;
		char range[20];
		format_cidr(im->ring.start, im->ring.prefix, range);
		if (elsewhere) {
			snprintf(msg, sizeof(msg), "our address space is used up and no connected peer has "
				 "any to give (%llu addresses are free with peers not connected to us)",
				 (unsigned long long)elsewhere);
			return api_error(out, 503, msg, true);
		}
		snprintf(msg, sizeof(msg), "the IPAM range %s is full: every address is allocated", range);
		return api_error(out, 507, msg, false);
	}
	snprintf(msg, sizeof(msg), "cannot allocate: %s", ret == -ENOMEM ? "out of memory" : why);
	return api_error(out, ret == -EDOM ? 400 : 500, msg, false);
}

static int released(struct mesh_router *r, size_t n, cJSON **out)
{
	if (n && changed(r) < 0) {
		/* in memory the addresses are free; on disk they are not yet: the next save fixes it */
		return api_error(out, 500, "cannot save the IPAM state (see meshd's log)", true);
	}
	*out = cJSON_CreateObject();
	cJSON_AddNumberToObject(*out, "released", (double)n);
	return 200;
}

static int api_release(struct mesh_router *r, const cJSON *j, cJSON **out)
{
	int code;
	char key[MESH_IPAM_ID_MAX + 1];
	const char *legacy, *id = body_id(j, out, &code, key, &legacy);
	if (!id)
		return code;
	uint32_t ip;
	if (mesh_ipam_alloc_lookup(&r->own.ipam->alloc, id, 0, 0, &ip) == 0)
		router_netpol_address_released(r, htonl(ip));
	size_t n = mesh_ipam_alloc_release(&r->own.ipam->alloc, id);
	if (legacy) /* what an older mesh-cni allocated for this container goes too */
		n += mesh_ipam_alloc_release(&r->own.ipam->alloc, legacy);
	if (n)
		log_debug("IPAM: released %zu address(es) of container %s", n, id);
	return released(r, n, out);
}

static int api_gc(struct mesh_router *r, const cJSON *j, cJSON **out)
{
	const cJSON *keep = cJSON_GetObjectItemCaseSensitive(j, "keep"), *k;
	const char *net;
	int code;
	if (!cJSON_IsObject(j) || !cJSON_IsArray(keep))
		return api_error(out, 400, "body must be a JSON object with an array \"keep\" of "
			"container ids", false);
	if ((code = body_network(j, &net, out)) != 0)
		return code;
	size_t n = (size_t)cJSON_GetArraySize(keep), i = 0;
	const char **ids = calloc(n + 1, sizeof(*ids));
	if (!ids)
		return api_error(out, 500, "out of memory", true);
	cJSON_ArrayForEach(k, keep) {
		if (!cJSON_IsString(k)) {
			free(ids);
			return api_error(out, 400, "\"keep\" must hold only strings", false);
		}
		ids[i++] = k->valuestring;
	}
	size_t rel = mesh_ipam_alloc_release_except(&r->own.ipam->alloc, net, ids, i);
	free(ids);
	if (rel)
		log_info("IPAM: garbage collection%s%s released %zu address(es)", net ? " of network " : "",
			 net ? net : "", rel);
	return released(r, rel, out);
}

static int api_lookup(struct mesh_router *r, const cJSON *j, cJSON **out)
{
	int code;
	uint32_t ip;
	char key[MESH_IPAM_ID_MAX + 1];
	const char *legacy, *id = body_id(j, out, &code, key, &legacy);
	if (!id)
		return code;
	if (mesh_ipam_alloc_lookup(&r->own.ipam->alloc, id, 0, 0, &ip) < 0) {
		if (!legacy || mesh_ipam_alloc_lookup(&r->own.ipam->alloc, legacy, 0, 0, &ip) < 0)
			return api_error(out, 404, "no address is allocated to this container id", false);
		id = legacy;
	}
	return address_answer(r, id, ip, out);
}

int mesh_router_ipam_api(struct mesh_router *r, const char *method, const char *path,
			 const char *body, size_t len, cJSON **out)
{
	static const char endpoints[] = "GET /v1/ipam, POST /v1/ipam/allocate, /v1/ipam/release, "
					"/v1/ipam/gc, /v1/ipam/lookup";
	if (!r->own.ipam)
		return api_error(out, 503, "IPAM is not running", true);
	if (!strcmp(path, "/v1/ipam")) {
		if (strcmp(method, "GET"))
			return api_error(out, 405, "use GET for /v1/ipam", false);
		*out = router_ipam_status_json(r, true);
		return 200;
	}
	static const struct {
		const char *path;
		int (*fn)(struct mesh_router *, const cJSON *, cJSON **);
	} posts[] = {
		{ "/v1/ipam/allocate", api_allocate }, { "/v1/ipam/release", api_release },
		{ "/v1/ipam/gc", api_gc }, { "/v1/ipam/lookup", api_lookup },
	};
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		if (strcmp(path, posts[i].path))
			continue;
		if (strcmp(method, "POST"))
			return api_error(out, 405, "use POST", false);
		cJSON *j = cJSON_ParseWithLength(body, len);
		if (!j)
			return api_error(out, 400, "body is not JSON", false);
		int code = posts[i].fn(r, j, out);
		cJSON_Delete(j);
		return code;
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "no such endpoint (%s)", endpoints);
	return api_error(out, 404, msg, false);
}
