/* router/conns.c: the router's control connections: outbound targets (command line and
 * discovered from gossip) with reconnect backoff, inbound connections from the listener,
 * the tie-break between duplicates, and the overlay forwarder each connection runs. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "router/addrindex.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/listener.h"
#include "router/log.h"
#include "router/unauth.h"

#define ACCEPT_BACKLOG 64
/* Addresses learned from gossip that we dial (issue 16, finding 4): so many in all, so many per
 * peer; the peer must be one the topology knows. Addresses from the entries of peers we cannot
 * reach (which anyone with the password can make up by the thousand) have a small budget of
 * their own, so that they never take the places of those our reachable peers announce. */
#define DISCOVERED_MAX 128
#define DISCOVERED_UNVOUCHED_MAX 16
#define DISCOVERED_PER_PEER 2
#define DISCOVERY_LOG_MS 60000

struct router_conns {
	struct evconnlistener *listener;
	struct router_accept_guard guard; /* accept() failing (EMFILE): a pause, not a spin */
	struct mesh_ratelimit accept_rl;
	uint64_t refused_logged_ms;    /* when the rate limit was last logged */
	uint64_t unauth_logged_ms;     /* when the unauthenticated budget was last logged */
	uint64_t allow_logged_ms;      /* when a connection from outside --allow-from was */
	struct mesh_unauth unauth;     /* inbound connections still in their handshake */
	struct mesh_addrindex by_addr; /* every target by its address */
	unsigned ndiscovered;          /* targets learned from gossip */
	unsigned nunvouched;           /* of those, from the entries of peers we cannot reach */
	uint64_t discovery_logged_ms;  /* when a discovered address refused was last logged */
	bool partial_logged;           /* the partial mesh (partial_mesh()) as last logged */
};

static void conn_free(struct mesh_conn *c)
{
	struct mesh_router *r = c->r;
	for (struct mesh_conn **pp = &r->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			r->nconns--;
			break;
		}
	router_fastpath_conn_down(c);
	if (c->fwd)
		r->ov->ops->stop(c->fwd);
	if (c->ctl)
		mesh_control_free(c->ctl);
	if (c->target && c->target->conn == c)
		c->target->conn = NULL;
	if (c->unauth)
		mesh_unauth_release(&r->own.conns->unauth, &c->src);
	bool was_established = c->state == CONN_ESTABLISHED;
	free(c);
	if (was_established)
		router_topo_self_changed(r);
}

/* Arms t's timer for delay ms and notes when, for the status. */
static void target_arm(struct mesh_target *t, uint32_t delay)
{
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
	t->next_retry = time(NULL) + (time_t)((delay + 999) / 1000);
	event_add(t->timer, &tv);
}

static void target_schedule(struct mesh_target *t)
{
	uint32_t delay = mesh_backoff_failed(&t->backoff, mesh_mono_ms(), randombytes_random());
	target_arm(t, delay);
	log_info("will reconnect to %s in %.1f s", t->addr_str, delay / 1000.0);
}

/* A target on standby (a partial mesh with enough connections) is looked at again after this,
 * without growing its backoff (it did not fail), or at once when a connection goes. */
#define STANDBY_RECHECK_MS 10000u

static void target_schedule_standby(struct mesh_target *t)
{
	target_arm(t, STANDBY_RECHECK_MS / 2 + randombytes_uniform(STANDBY_RECHECK_MS));
}

/* A connection went: one dial slot may be free, so the targets on standby are looked at now
 * (the first takes it, the others stay on standby). */
static void wake_standby(struct mesh_router *r)
{
	struct timeval now = { 0, 0 };
	for (struct mesh_target *t = r->targets; t; t = t->next)
		if (t->standby && !t->conn)
			event_add(t->timer, &now);
}

/* Targets for a peer we just lost: try again (after their backoff). */
static void rearm_targets_for(struct mesh_router *r, const struct mesh_peer_name *peer)
{
	if (mesh_peer_name_is_zero(peer) || router_conn_to(r, peer))
		return;
	for (struct mesh_target *t = r->targets; t; t = t->next)
		if (!t->conn && !t->next_retry && mesh_peer_name_eq(&t->peer, peer))
			target_schedule(t);
}

/* How long a peer that refused us for its connection limit is left alone (the backoff then
 * grows from there). */
#define REFUSED_HOLD_MS 30000u

static void on_closed(struct mesh_control *ctl, int err, const char *reason, void *arg)
{
	struct mesh_conn *c = arg;
	struct mesh_router *r = c->r;
	char who[160];

	/* c->peer is the HELLO's, authenticated; a handshake that failed before may still have
	 * been told a name in clear (KEY): for the log only, never for the target */
	struct mesh_peer_name authenticated = c->peer;
	if (mesh_peer_name_is_zero(&c->peer)) {
		const struct mesh_hs *hs = mesh_control_hs(ctl);
		if (!mesh_peer_name_is_zero(&hs->peer_name)) {
			c->peer = hs->peer_name;
			snprintf(c->nickname, sizeof(c->nickname), "%s", hs->peer_nickname);
		}
	}
	router_describe_conn(c, who, sizeof(who));
	if (err == -ENOBUFS)
		r->ctr.control_slow_peers++;
	if (err == -ETIMEDOUT && !c->outbound && c->state != CONN_ESTABLISHED)
		r->ctr.control_hs_timeouts++;
	if (c->refused_why[0]) {
		reason = c->refused_why; /* said in the log when it arrived */
	} else if (err == -EACCES) {
		r->ctr.control_auth_failures++;
		log_error("%s: refused: %s", who, reason);
	} else if (c->state != CONN_ESTABLISHED) {
		if (err != -ECONNREFUSED && err != -ETIMEDOUT && err != -EHOSTUNREACH)
			r->ctr.control_refused++;
		log_warn("%s: connection failed: %s", who, reason);
	} else {
		log_warn("%s: connection closed: %s", who, reason);
	}
	c->ctl = NULL; /* freed by the control after this returns */
	struct mesh_target *t = c->target;
	struct mesh_peer_name peer = c->peer;
	bool was_established = c->state == CONN_ESTABLISHED;
	if (t) {
		snprintf(t->last_error, sizeof(t->last_error), "%s%s",
			 c->refused_why[0] ? "refused us: " : "", reason);
		if (c->refused_why[0])
			mesh_backoff_hold(&t->backoff, REFUSED_HOLD_MS);
		/* a peer that authenticated itself and refused us for its limit is real: its
		 * address stops taking one of the few places of addresses from peers we cannot
		 * reach, so the next discovery tries others (a new router knows only unreachable
		 * peers, the full ones among them would block it for their hold) */
		if (c->refused_why[0] && t->discovered && t->unvouched) {
			t->unvouched = false;
			r->own.conns->nunvouched--;
		}
		if (!mesh_peer_name_is_zero(&authenticated))
			t->peer = authenticated;
		t->conn = NULL;
		c->target = NULL;
		if (err == -ELOOP) /* decided on an authenticated HELLO only */
			log_info("not connecting to %s again: it is this router", t->addr_str);
		else
			target_schedule(t);
	}
	conn_free(c);
	if (was_established)
		rearm_targets_for(r, &peer);
	wake_standby(r);
}

static unsigned conn_limit(const struct mesh_router *r)
{
	return r->cfg->conn_limit ? r->cfg->conn_limit : DEFAULT_CONN_LIMIT;
}

/* Whether the mesh has more peers than --conn-limit lets us connect to: then it is a partial
 * mesh, and we dial peers found through gossip only up to a third of the limit, keeping the
 * rest for the peers that dial us (if every router dialled up to the limit, all would be full
 * and a new router refused everywhere). Frames to the others are relayed. */
static bool partial_mesh(const struct mesh_router *r)
{
	return r->topo.n > conn_limit(r);
}

static unsigned dial_limit(const struct mesh_router *r)
{
	unsigned l = conn_limit(r);
	if (!partial_mesh(r))
		return l;
	return l >= 6 ? (l + 2) / 3 : (l < 2 ? l : 2);
}

unsigned router_conns_dial_limit(const struct mesh_router *r, bool *partial)
{
	*partial = partial_mesh(r);
	return dial_limit(r);
}

/* What --conn-limit bounds: established connections and our own attempts; inbound connections
 * still in their handshake have their own budget (unauth.h) and count not. */
static unsigned counted_conns(const struct mesh_router *r)
{
	return r->nconns - r->own.conns->unauth.total;
}

/* Whether an inbound connection comes from a peer we were told to connect to (command line or
 * API): such a peer is never refused for the limit, as our dial to it would not be. */
static bool configured_peer(const struct mesh_router *r, const struct mesh_conn *c)
{
	for (const struct mesh_target *t = r->targets; t; t = t->next)
		if (!t->discovered && (mesh_peer_name_eq(&t->peer, &c->peer) ||
				       mesh_addr_eq(&t->addr, &c->peer_addr)))
			return true;
	return false;
}

/* Whether an inbound connection comes from the host of a peer we were told to connect to (its
 * source address is that peer's; the port aside): such a peer is exempt from the limit, and
 * configured_peer() can only tell by name after the handshake. */
static bool from_configured_host(const struct mesh_router *r, const struct mesh_conn *c)
{
	for (const struct mesh_target *t = r->targets; t; t = t->next)
		if (!t->discovered && mesh_addr_same_host(&t->addr, &c->src))
			return true;
	return false;
}

static void start_overlay(struct mesh_router *r, struct mesh_conn *c, const struct mesh_hs *hs)
{
	const struct mesh_hello *h = &hs->peer_hello;
	struct overlay_conn_params p;
	memset(&p, 0, sizeof(p));
	p.local = r->name;
	p.remote = h->name;
	p.local_short_id = r->short_id;
	p.remote_short_id = h->short_id;
	p.local_index = c->local_index;
	p.remote_index = h->sleeve_index;
	struct mesh_addr sleeve_at = c->peer_addr;
	sleeve_at.port = h->sleeve_port;
	mesh_addr_to_sockaddr(&sleeve_at, sleeve_at.family, &p.remote_addr);
	p.local_uid = r->uid;
	p.remote_uid = h->uid;
	p.encrypted = c->encrypted;
	memcpy(p.tx_key, hs->keys.sleeve.tx, sizeof(p.tx_key));
	memcpy(p.rx_key, hs->keys.sleeve.rx, sizeof(p.rx_key));
	memcpy(p.ipsec_tx_key, hs->keys.ipsec.tx, sizeof(p.ipsec_tx_key));
	memcpy(p.ipsec_rx_key, hs->keys.ipsec.rx, sizeof(p.ipsec_rx_key));
	c->fwd = r->ov->ops->start(r->ov, &p, c);
	if (c->fwd) {
		sleeve_at.port = 0; /* the fast path uses its own port */
		mesh_addr_to_sockaddr(&sleeve_at, sleeve_at.family, &p.remote_addr);
		router_fastpath_conn_up(r, c, &p, h->overlays);
	}
	mesh_wipe(&p, sizeof(p));
}

/* Refusing c for the connection limit: first our topology, so that a new router that named
 * only us learns whom else to connect to, then why (MESH_MSG_REFUSED); the caller closes
 * gracefully (mesh_control_close), so both are written before the FIN. */
static void refuse_full(struct mesh_router *r, struct mesh_conn *c)
{
	char why[MESH_REFUSED_MAX + 1];
	/* a peer we already reach through others is in the mesh and gets its gossip: the
	 * topology would only cost bytes (a configured peer dials us again and again) */
	bool in_mesh = mesh_routes_hops(&r->routes, &c->peer) >= 0;
	int n = snprintf(why, sizeof(why), "%s reached its connection limit (%u); %s",
			 r->nickname[0] ? r->nickname : r->name_str, conn_limit(r),
			 in_mesh ? "it is reached through the mesh"
				 : "connect to the peers in the topology it sent");
	/* the full state, never a summary (gossip/topo_summary.h): nothing it would answer
	 * arrives before we close */
	c->peer_features = 0;
	if (!in_mesh)
		router_gossip_full_to(r, MESH_CHANNEL_TOPOLOGY, c);
	if (n > 0)
		mesh_control_send(c->ctl, MESH_MSG_REFUSED, (const uint8_t *)why,
				  (size_t)n < MESH_REFUSED_MAX ? (size_t)n : MESH_REFUSED_MAX);
}

/* The peer's MESH_MSG_REFUSED: kept (printable ASCII only) for the log, the target's last error
 * and its longer backoff when the connection closes. */
static void peer_refused(struct mesh_conn *c, const uint8_t *p, size_t len)
{
	char who[160];
	size_t n = 0;
	for (size_t i = 0; i < len && n < MESH_REFUSED_MAX; i++)
		c->refused_why[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	c->refused_why[n] = '\0';
	if (!n)
		snprintf(c->refused_why, sizeof(c->refused_why), "(no reason given)");
	router_describe_conn(c, who, sizeof(who));
	log_warn("%s: the peer refused us: %s", who, c->refused_why);
}

/* Hosts with different --ipalloc-range6 give their containers IPv6 addresses in different
 * prefixes, which do not reach each other (on-link each): said in the log and the status. */
static void check_range6(struct mesh_router *r, struct mesh_conn *c, const struct mesh_hello *h,
			 const char *who)
{
	const struct mesh_ipam6 *ours = &r->cfg->ipalloc_range6;
	struct mesh_ipam6 theirs = { .on = h->range6_prefix != 0, .prefix = h->range6_prefix };
	memcpy(theirs.base, h->range6, 16);
	c->range6_conflict[0] = '\0';
	if (!ours->on || !theirs.on ||
	    (ours->prefix == theirs.prefix && !memcmp(ours->base, theirs.base, 16)))
		return;
	char mine[MESH_IPAM6_CIDRLEN];
	mesh_ipam6_range_format(&theirs, c->range6_conflict);
	mesh_ipam6_range_format(ours, mine);
	r->ctr.ipam_range6_conflicts++;
	log_warn("%s: the peer's IPv6 range is %s, this host's %s: their containers cannot reach "
		 "ours over IPv6 (give every host the same --ipalloc-range6)", who,
		 c->range6_conflict, mine);
}

static void on_established(struct mesh_control *ctl, void *arg)
{
	struct mesh_conn *c = arg;
	struct mesh_router *r = c->r;
	const struct mesh_hs *hs = mesh_control_hs(ctl);
	const struct mesh_hello *h = &hs->peer_hello;
	char who[160];

	c->peer = h->name;
	snprintf(c->nickname, sizeof(c->nickname), "%s", h->nickname);
	if (c->unauth) {
		mesh_unauth_release(&r->own.conns->unauth, &c->src);
		c->unauth = false;
	}
	c->conn_id = c->outbound ? hs->cfg.hello.conn_id : h->conn_id;
	c->encrypted = hs->chan.sealed;
	const struct sockaddr_storage *remote = mesh_control_remote(ctl);
	mesh_addr_from_sockaddr((const struct sockaddr *)remote, sizeof(*remote), &c->peer_addr);
	c->peer_port = h->sleeve_port; /* the peer listens for control on its sleeve port too */
	c->peer_addr.port = c->peer_port;
	if (!c->outbound)
		mesh_addr_format(&c->peer_addr, c->addr, sizeof(c->addr));
	if (c->target)
		c->target->peer = h->name;
	router_describe_conn(c, who, sizeof(who));
	if (c->outbound && h->full) {
		/* the peer refuses us for its limit: no overlays, nothing in our topology; its
		 * topology and MESH_MSG_REFUSED follow, then it closes */
		log_info("%s: the peer is at its connection limit (%u); taking the topology it sends "
			 "to find other peers", who, h->full);
		return;
	}
	if (!c->outbound && (c->said_full || (counted_conns(r) > conn_limit(r) &&
					       !configured_peer(r, c)))) {
		log_warn("%s: refused: connection limit (%u) reached; told it whom else to connect to",
			 who, conn_limit(r));
		r->ctr.control_refused++;
		r->ctr.control_refused_limit++;
		refuse_full(r, c);
		mesh_control_close(c->ctl);
		c->ctl = NULL;
		conn_free(c);
		return;
	}

	/* Two connections between the same pair: both ends keep the lower connection id. */
	for (struct mesh_conn *o = r->conns; o; o = o->next) {
		if (o == c || o->state != CONN_ESTABLISHED || !mesh_peer_name_eq(&o->peer, &c->peer))
			continue;
		if (o->conn_id <= c->conn_id) {
			log_info("%s: already connected to this peer; dropping the duplicate", who);
			if (c->target) {
				snprintf(c->target->last_error, sizeof(c->target->last_error),
					 "duplicate of an existing connection");
				c->target->conn = NULL;
				c->target = NULL;
			}
			conn_free(c);
			return;
		}
		log_info("%s: replaces a duplicate connection with a higher id", who);
		if (o->target) {
			o->target->conn = NULL;
			o->target = NULL;
		}
		conn_free(o);
		break;
	}

	start_overlay(r, c, hs);
	if (!c->fwd) {
		log_error("%s: cannot start the sleeve for this connection (out of memory, or the "
			  "peer is reached over IPv6 and this host has no IPv6)", who);
		conn_free(c);
		return;
	}
	c->state = CONN_ESTABLISHED;
	c->since = time(NULL);
	if (c->target) {
		mesh_backoff_up(&c->target->backoff, mesh_mono_ms());
		c->target->last_error[0] = '\0';
		c->target->next_retry = 0;
	}
	log_info("%s: connection established (protocol %u, %s)", who, hs->version,
		 c->encrypted ? "encrypted" : "not encrypted");
	check_range6(r, c, h, who);
	c->peer_features = h->features;
	router_gossip_conn_up(r, c);
	router_topo_self_changed(r);
}

static void on_message(struct mesh_control *ctl, uint8_t type, const uint8_t *payload, size_t len,
		       void *arg)
{
	struct mesh_conn *c = arg;
	char who[160];
	if (type == MESH_MSG_GOSSIP) {
		router_gossip_received(c->r, c, payload, len);
		return;
	}
	if (type == MESH_MSG_OVERLAY) {
		router_fastpath_control_received(c->r, c, payload, len);
		return;
	}
	if (type == MESH_MSG_REFUSED) {
		peer_refused(c, payload, len);
		return;
	}
	router_describe_conn(c, who, sizeof(who));
	log_debug("%s: ignoring message type %u (%zu bytes): not used by this version", who, type, len);
}

static struct mesh_conn *conn_new(struct mesh_router *r, bool outbound)
{
	struct mesh_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->r = r;
	c->outbound = outbound;
	c->state = CONN_CONNECTING;
	c->since = time(NULL);
	do
		c->local_index = randombytes_random();
	while (c->local_index == 0);
	c->next = r->conns;
	r->conns = c;
	r->nconns++;
	return c;
}

static void hs_config(struct mesh_router *r, struct mesh_conn *c, struct mesh_hs_config *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->is_client = c->outbound;
	hc->psk = r->encrypted ? r->psk : NULL;
	hc->psk_alt = r->encrypted && r->has_psk_alt ? r->psk_alt : NULL;
	snprintf(hc->mesh_name, sizeof(hc->mesh_name), "%s", r->cfg->mesh_name);
	hc->proto_min = MESH_PROTO_MIN;
	hc->proto_max = MESH_PROTO_MAX;
	hc->hello.name = r->name;
	snprintf(hc->hello.nickname, sizeof(hc->hello.nickname), "%s", r->nickname);
	hc->hello.uid = r->uid;
	hc->hello.short_id = r->short_id;
	randombytes_buf(&hc->hello.conn_id, sizeof(hc->hello.conn_id));
	hc->hello.overlays = MESH_OVERLAY_SLEEVE | (r->fastdp ? MESH_OVERLAY_FASTDP : 0);
	hc->hello.sleeve_port = r->cfg->port;
	hc->hello.sleeve_index = c->local_index;
	hc->hello.features = MESH_FEATURES_OURS;
	/* inbound, while full: we will refuse it for the limit, and say so in our HELLO, so that
	 * the peer does not take the connection up only to see it close */
	c->said_full = !c->outbound && counted_conns(r) >= conn_limit(r) && !from_configured_host(r, c);
	hc->hello.full = c->said_full ? (uint16_t)(conn_limit(r) < 0xffff ? conn_limit(r) : 0xffff) : 0;
	if (r->cfg->ipalloc_range6.on) {
		memcpy(hc->hello.range6, r->cfg->ipalloc_range6.base, 16);
		hc->hello.range6_prefix = r->cfg->ipalloc_range6.prefix;
	}
}

static const struct mesh_control_callbacks control_cb = {
	.established = on_established,
	.message = on_message,
	.closed = on_closed,
};


static void target_connect(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_target *t = arg;
	struct mesh_router *r = t->r;
	struct mesh_hs_config hc;
	struct mesh_control_callbacks cb = control_cb;

	t->next_retry = 0;
	if (t->conn)
		return;
	if (!mesh_peer_name_is_zero(&t->peer) && router_conn_to(r, &t->peer))
		return; /* connected to that peer another way; re-armed if that connection ends */
	/* our own dials to the peers we were given always go; discovered ones within the limit */
	t->standby = false;
	if (t->discovered && counted_conns(r) >= dial_limit(r)) {
		t->standby = partial_mesh(r);
		if (t->standby)
			snprintf(t->last_error, sizeof(t->last_error), "not dialled: a partial mesh "
				 "(%zu peers, --conn-limit %u): this router dials at most %u, and "
				 "has that many connections", r->topo.n, conn_limit(r),
				 dial_limit(r));
		else
			snprintf(t->last_error, sizeof(t->last_error), "connection limit (%u) reached",
				 conn_limit(r));
		if (t->standby)
			target_schedule_standby(t);
		else
			target_schedule(t);
		return;
	}
	t->attempts++;
	struct mesh_conn *c = conn_new(r, true);
	if (!c) {
		target_schedule(t);
		return;
	}
	c->target = t;
	c->peer_addr = t->addr;
	c->peer_port = t->addr.port;
	snprintf(c->addr, sizeof(c->addr), "%s", t->addr_str);
	hs_config(r, c, &hc);
	cb.arg = c;
	log_debug("connecting to %s", t->addr_str);
	struct sockaddr_storage ss;
	socklen_t sslen = mesh_addr_to_sockaddr(&t->addr, t->addr.family, &ss);
	c->ctl = mesh_control_new(r->base, -1, (struct sockaddr *)&ss, sslen, &hc, &cb);
	mesh_wipe(&hc, sizeof(hc));
	if (!c->ctl) {
		snprintf(t->last_error, sizeof(t->last_error), "cannot start a connection");
		conn_free(c);
		target_schedule(t);
		return;
	}
	t->conn = c;
}

/* Whether a refusal may be logged now: at most one line a second per kind (*last: when the
 * last was), so that a flood of refused connections does not flood the log. */
static bool log_due(uint64_t *last)
{
	uint64_t now = mesh_mono_ms();
	if (now - *last <= 1000)
		return false;
	*last = now;
	return true;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct mesh_router *r = arg;
	struct mesh_hs_config hc;
	struct mesh_control_callbacks cb = control_cb;
	char addr[MESH_ADDR_STRLEN];
	struct mesh_addr src;

	if (mesh_addr_from_sockaddr(sa, (socklen_t)salen, &src) < 0) {
		evutil_closesocket(fd);
		return;
	}
	mesh_addr_format(&src, addr, sizeof(addr));
	struct router_conns *cn = r->own.conns;
	src.port = 0; /* the budget is per address */
	/* --allow-from: closed before a byte of it is read */
	if (!mesh_allow_from(r->cfg->allow_from, r->cfg->nallow, &src)) {
		r->ctr.control_refused++;
		r->ctr.control_refused_allow++;
		if (log_due(&cn->allow_logged_ms)) {
			log_warn("refusing a connection from %s: not in --allow-from", addr);
		}
		evutil_closesocket(fd);
		return;
	}
	/* a stranger's connections are bounded before anything else, so that they cannot use up
	 * the accept rate either */
	int ret = mesh_unauth_take(&cn->unauth, &src);
	if (ret < 0) {
		r->ctr.control_refused++;
		r->ctr.control_refused_unauth++;
		if (log_due(&cn->unauth_logged_ms)) {
			if (ret == -EAGAIN)
				log_warn("refusing a connection from %s: %d connections from that "
					 "address are already in their handshake", addr,
					 MESH_UNAUTH_PER_SOURCE);
			else
				log_warn("refusing a connection from %s: %d connections are already "
					 "in their handshake", addr, MESH_UNAUTH_MAX);
		}
		evutil_closesocket(fd);
		return;
	}
	if (!mesh_ratelimit_take(&cn->accept_rl, mesh_mono_ms())) {
		mesh_unauth_release(&cn->unauth, &src);
		r->ctr.control_refused++;
		if (log_due(&cn->refused_logged_ms)) {
			log_warn("refusing a connection from %s: more than %d connection attempts a "
				 "second (accept rate limit)", addr, ACCEPT_RATE_PER_S);
		}
		evutil_closesocket(fd);
		return;
	}
	struct mesh_conn *c = conn_new(r, false);
	if (!c) {
		mesh_unauth_release(&cn->unauth, &src);
		evutil_closesocket(fd);
		return;
	}
	c->unauth = true;
	c->src = src;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	hs_config(r, c, &hc);
	cb.arg = c;
	log_debug("accepted a connection from %s", c->addr);
	c->ctl = mesh_control_new(r->base, fd, NULL, 0, &hc, &cb);
	mesh_wipe(&hc, sizeof(hc));
	if (!c->ctl) {
		log_error("cannot handle the connection from %s (out of memory)", c->addr);
		conn_free(c);
	}
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct mesh_router *r = arg;
	router_accept_failed(&r->own.conns->guard);
}

static struct mesh_target *find_target(struct mesh_router *r, const struct mesh_addr *a)
{
	return mesh_addrindex_get(&r->own.conns->by_addr, a);
}

static struct mesh_target *add_target(struct mesh_router *r, const struct mesh_addr *a,
				      bool discovered)
{
	struct mesh_target *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->r = r;
	t->discovered = discovered;
	t->addr = *a;
	mesh_addr_format(a, t->addr_str, sizeof(t->addr_str));
	mesh_backoff_init(&t->backoff);
	t->timer = event_new(r->base, -1, 0, target_connect, t);
	if (!t->timer || mesh_addrindex_put(&r->own.conns->by_addr, a, t) < 0) {
		if (t->timer)
			event_free(t->timer);
		free(t);
		return NULL;
	}
	r->own.conns->ndiscovered += discovered;
	t->next = r->targets;
	r->targets = t;
	event_active(t->timer, 0, 0);
	return t;
}

static void target_free(struct mesh_target *t)
{
	struct router_conns *cn = t->r->own.conns;
	mesh_addrindex_del(&cn->by_addr, &t->addr);
	cn->ndiscovered -= t->discovered;
	cn->nunvouched -= t->discovered && t->unvouched;
	if (t->conn)
		t->conn->target = NULL;
	event_free(t->timer);
	free(t);
}

/* A discovered address not dialled for a bound: counted, logged once a minute. */
static void discovery_refused(struct mesh_router *r, const struct mesh_addr *a, const char *why)
{
	struct router_conns *cn = r->own.conns;
	uint64_t now = mesh_mono_ms();
	r->ctr.discovery_refused++;
	if (cn->discovery_logged_ms && now - cn->discovery_logged_ms < DISCOVERY_LOG_MS)
		return;
	cn->discovery_logged_ms = now;
	char astr[MESH_ADDR_STRLEN];
	mesh_addr_format(a, astr, sizeof(astr));
	log_warn("not dialling %s, learned through gossip: %s (logged once a minute)", astr, why);
}

static unsigned discovered_for(const struct mesh_router *r, const struct mesh_peer_name *peer)
{
	unsigned n = 0;
	for (const struct mesh_target *t = r->targets; t; t = t->next)
		n += t->discovered && mesh_peer_name_eq(&t->peer, peer);
	return n;
}

/* One pass of router_discover over the entries of the peers we reach (vouched) or of those we
 * do not; it ends where its budget runs out. */
static void discover_pass(struct mesh_router *r, bool vouched)
{
	struct router_conns *cn = r->own.conns;
	/* from a random peer on: in a partial mesh only the first few get dialled, and new routers
	 * must not all pick the same ones */
	size_t others = r->topo.n > 1 ? r->topo.n - 1 : 0;
	size_t first = others ? randombytes_uniform((uint32_t)others) : 0;
	for (size_t j = 0; j < others; j++) {
		const struct mesh_topo_peer *p = &r->topo.peers[1 + (first + j) % others];
		if ((mesh_routes_hops(&r->routes, &p->name) >= 0) != vouched)
			continue;
		for (unsigned k = 0; k < p->nconns; k++) {
			const struct mesh_topo_conn *tc = &p->conns[k];
			struct mesh_addr a;
			mesh_topo_conn_addr(tc, &a);
			if (mesh_peer_name_eq(&tc->peer, &r->name) || !mesh_addr_dialable(&a) || !a.port)
				continue;
			if (find_target(r, &a) || router_conn_to(r, &tc->peer))
				continue;
			if (cn->ndiscovered - cn->nunvouched >= DISCOVERED_MAX) {
				discovery_refused(r, &a, "already dialling "
						  MESH_STR(DISCOVERED_MAX) " addresses learned so");
				return;
			}
			if (!vouched && cn->nunvouched >= DISCOVERED_UNVOUCHED_MAX) {
				discovery_refused(r, &a, "already dialling "
						  MESH_STR(DISCOVERED_UNVOUCHED_MAX) " addresses "
						  "from the gossip of peers this host cannot reach");
				return;
			}
			if (!mesh_topo_find(&r->topo, &tc->peer))
				continue; /* a peer nobody announced: nothing to dial */
			if (discovered_for(r, &tc->peer) >= DISCOVERED_PER_PEER) {
				discovery_refused(r, &a, "already dialling "
						  MESH_STR(DISCOVERED_PER_PEER) " addresses of that peer");
				continue;
			}
			struct mesh_target *t = add_target(r, &a, true);
			if (!t)
				return;
			t->peer = tc->peer;
			t->unvouched = !vouched;
			cn->nunvouched += !vouched;
			char n[MESH_PEER_NAME_STRLEN];
			mesh_peer_name_format(&tc->peer, n);
			log_info("discovered peer %s at %s (through gossip%s)", n, t->addr_str,
				 vouched ? "" : " of a peer this host cannot reach");
		}
	}
}

/* Connects to peers we learned of through gossip: addresses at which some peer reached a peer
 * that the topology knows and we have no connection to; at most DISCOVERED_MAX addresses from
 * the entries of peers we reach, DISCOVERED_UNVOUCHED_MAX from those of peers we do not (asked
 * after), and DISCOVERED_PER_PEER per peer. */
void router_discover(struct mesh_router *r)
{
	if (r->cfg->no_discovery)
		return;
	struct router_conns *cn = r->own.conns;
	if (partial_mesh(r) != cn->partial_logged) {
		cn->partial_logged = partial_mesh(r);
		if (cn->partial_logged)
			log_info("the mesh has %zu peers, more than --conn-limit %u: a partial mesh; this "
				 "router dials at most %u peers it learns of, the rest are reached through "
				 "relays", r->topo.n, conn_limit(r), dial_limit(r));
		else
			log_info("the mesh has %zu peers, within --conn-limit %u: connecting to every "
				 "peer", r->topo.n, conn_limit(r));
	}
	discover_pass(r, true);
	discover_pass(r, false);
}

/* Drops discovered targets whose peer the topology no longer knows. */
static void forget_targets(struct mesh_router *r)
{
	for (struct mesh_target **pp = &r->targets; *pp;) {
		struct mesh_target *t = *pp;
		if (t->discovered && !t->conn && !mesh_topo_find(&r->topo, &t->peer)) {
			*pp = t->next;
			log_info("forgetting address %s: its peer left the mesh", t->addr_str);
			target_free(t);
			continue;
		}
		pp = &t->next;
	}
}

/* The control listener: one dual-stack AF_INET6 socket (IPV6_V6ONLY off, so IPv4 peers arrive
 * as mapped addresses), or an AF_INET one where the host has no IPv6. A listening socket, or
 * -errno with err set. */
static int listen_socket(uint16_t port, char *err, size_t errlen)
{
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0 && listen(fd, ACCEPT_BACKLOG) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT) {
			snprintf(err, errlen, "cannot listen on TCP port %u: %s", port, strerror(e));
			return -e;
		}
	} else if (errno != EAFNOSUPPORT) {
		snprintf(err, errlen, "cannot create the control socket: %s", strerror(errno));
		return -errno;
	}
	log_info("no IPv6 on this host: the control port listens on IPv4 only");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, ACCEPT_BACKLOG) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on TCP port %u: %s", port, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int router_conns_start(struct mesh_router *r, char *err, size_t errlen)
{
	struct router_conns *cn = calloc(1, sizeof(*cn));
	if (!cn) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->own.conns = cn;
	if (mesh_addrindex_init(&cn->by_addr) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int lfd = listen_socket(r->cfg->port, err, errlen);
	if (lfd < 0)
		return lfd;
	cn->listener = evconnlistener_new(r->base, on_accept, r,
					  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, lfd);
	if (!cn->listener) {
		snprintf(err, errlen, "cannot listen on TCP port %u: out of memory", r->cfg->port);
		close(lfd);
		return -ENOMEM;
	}
	if (router_accept_guard_init(&cn->guard, cn->listener, "control") < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(cn->listener, on_accept_error);
	if (router_gossip_subscribe(r, ROUTER_EV_PEERS_CHANGED, router_discover) < 0 ||
	    router_gossip_subscribe(r, ROUTER_EV_PEERS_GONE, forget_targets) < 0) {
		snprintf(err, errlen, "cannot subscribe to topology changes");
		return -ENOSPC;
	}
	mesh_ratelimit_init(&cn->accept_rl, ACCEPT_RATE_PER_S, ACCEPT_BURST, mesh_mono_ms());
	for (unsigned i = 0; i < r->cfg->npeers; i++) {
		if (find_target(r, &r->cfg->peers[i]))
			continue;
		if (!add_target(r, &r->cfg->peers[i], false)) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

void router_conns_stop(struct mesh_router *r)
{
	while (r->conns) {
		struct mesh_conn *c = r->conns;
		/* no gossip on the way out: just close */
		r->conns = c->next;
		router_fastpath_conn_down(c);
		if (c->fwd)
			r->ov->ops->stop(c->fwd);
		if (c->ctl)
			mesh_control_free(c->ctl);
		free(c);
	}
	r->nconns = 0;
	while (r->targets) {
		struct mesh_target *t = r->targets;
		r->targets = t->next;
		t->conn = NULL;
		target_free(t);
	}
	if (r->own.conns)
		router_accept_guard_free(&r->own.conns->guard);
	if (r->own.conns && r->own.conns->listener)
		evconnlistener_free(r->own.conns->listener);
	if (r->own.conns)
		mesh_addrindex_free(&r->own.conns->by_addr);
	free(r->own.conns);
	r->own.conns = NULL;
}

void router_on_health_changed(void *arg, struct overlay_forwarder *fwd, enum overlay_health h,
			      const char *why)
{
	struct mesh_router *r = arg;
	struct mesh_conn *c = r->ov->ops->conn_arg(fwd);
	char who[160];
	router_describe_conn(c, who, sizeof(who));
	if (h == OVERLAY_HEALTH_HEALTHY)
		log_info("%s: sleeve healthy (%s)", who, why);
	else
		log_warn("%s: sleeve unhealthy: %s; routing around it", who, why);
	bool usable = h == OVERLAY_HEALTH_HEALTHY;
	if (usable != c->usable) {
		c->usable = usable;
		router_topo_self_changed(r);
		router_update_mtu(r);
		router_fastpath_sync(r);
	}
}

/* The bridge MTU, which new containers take (the lab and mesh-cni read it), follows the
 * smallest MTU our usable connections carry (their verified path MTU less the sleeve's
 * overhead), unless --mtu fixes it. The TAP keeps the full MTU so that containers attached
 * earlier are not cut off: their larger frames go out as fragmented datagrams. */
void router_update_mtu(struct mesh_router *r)
{
	unsigned want = r->cfg->mtu ? r->cfg->mtu : SLEEVE_DEFAULT_MTU;
	if (!r->cfg->mtu)
		for (struct mesh_conn *c = r->conns; c; c = c->next)
			if (c->usable && c->fwd) {
				unsigned m = r->ov->ops->mtu(c->fwd);
				if (m < want)
					want = m;
			}
	if (want == r->mtu)
		return;
	char err[256];
	if (mesh_netdev_set_mtu(&r->netdev, r->cfg->bridge, want, err, sizeof(err)) < 0) {
		log_error("cannot change the overlay MTU to %u: %s", want, err);
		return;
	}
	log_info("container MTU (bridge %s) now %u (was %u): %s", r->cfg->bridge, want, r->mtu,
		 want < r->mtu ? "a peer's path carries less" : "the smallest path grew");
	r->mtu = want;
	router_update_tso(r);
	router_fastpath_set_mtu(r);
}

/* Whether every usable connection carries full-size packets: no --mtu below the default, and
 * no verified path smaller than what a 1500-byte underlay of its family carries (over IPv6
 * that is SLEEVE_IPV6_EXTRA bytes less: its header is longer). */
static bool paths_full_size(const struct mesh_router *r)
{
	if (r->cfg->mtu && r->cfg->mtu < SLEEVE_DEFAULT_MTU)
		return false;
	for (const struct mesh_conn *c = r->conns; c; c = c->next) {
		if (!c->usable || !c->fwd)
			continue;
		unsigned full = SLEEVE_DEFAULT_MTU -
				(c->peer_addr.family == AF_INET6 ? SLEEVE_IPV6_EXTRA : 0);
		if (r->ov->ops->mtu(c->fwd) < full)
			return false;
	}
	return true;
}

/* Super-frames go out as one datagram cut into fragments the size of each peer's verified
 * path: only while every path carries full-size packets (paths_full_size). */
void router_update_tso(struct mesh_router *r)
{
	bool on = r->tso_capable && paths_full_size(r);
	if (on == r->tso_on)
		return;
	if (sleeve_set_tso(r->sleeve, on) < 0) {
		log_warn("cannot switch TCP segmentation offload %s on %s", on ? "on" : "off",
			 sleeve_tap_name(r->sleeve));
		return;
	}
	r->tso_on = on;
	log_info("TCP super-frames on the sleeve: %s", on ? "on" :
		 "off (a path or --mtu is below full size)");
}

void router_on_mtu_changed(void *arg, struct overlay_forwarder *fwd)
{
	struct mesh_router *r = arg;
	struct mesh_conn *c = r->ov->ops->conn_arg(fwd);
	char who[160];
	router_describe_conn(c, who, sizeof(who));
	log_info("%s: path MTU verified; containers can use MTU %u towards it", who,
		 r->ov->ops->mtu(fwd));
	router_update_mtu(r);
}

/* IPv4[:port], [IPv6][:port] or IPv6 (port defaulting to ours) from the API. 0, or -EINVAL
 * with msg set. */
static int api_addr(const struct mesh_router *r, const char *addr, struct mesh_addr *a,
		    char *msg, size_t msglen)
{
	const char *why;
	if (mesh_addr_parse(addr, r->cfg->port, a, &why) < 0) {
		snprintf(msg, msglen, "address '%.64s': %s (give IPv4[:port], [IPv6][:port] or IPv6)",
			 addr, why);
		return -EINVAL;
	}
	return 0;
}

int mesh_router_connect(struct mesh_router *r, const char *addr, const char *origin, char *msg,
			size_t msglen)
{
	struct mesh_addr a;
	if (api_addr(r, addr, &a, msg, msglen) < 0)
		return -EINVAL;
	struct mesh_target *t = find_target(r, &a);
	if (t) {
		r->own.conns->ndiscovered -= t->discovered;
		r->own.conns->nunvouched -= t->discovered && t->unvouched;
		t->discovered = false;
		snprintf(msg, msglen, "already connecting to %s", t->addr_str);
		return 0;
	}
	t = add_target(r, &a, false);
	if (!t) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	log_info("connecting to %s (%s)", t->addr_str, origin);
	snprintf(msg, msglen, "connecting to %s", t->addr_str);
	return 0;
}

int mesh_router_forget(struct mesh_router *r, const char *addr, const char *origin, char *msg,
		       size_t msglen)
{
	struct mesh_addr a;
	if (api_addr(r, addr, &a, msg, msglen) < 0)
		return -EINVAL;
	for (struct mesh_target **pp = &r->targets; *pp; pp = &(*pp)->next) {
		struct mesh_target *t = *pp;
		if (!mesh_addr_eq(&t->addr, &a))
			continue;
		*pp = t->next;
		struct mesh_conn *c = t->conn;
		bool stays = c && c->state == CONN_ESTABLISHED;
		if (c && !stays)
			conn_free(c); /* an attempt in progress ends; a working connection stays */
		log_info("no longer connecting to %s (%s)", t->addr_str, origin);
		snprintf(msg, msglen, "forgot %s%s", t->addr_str,
			 stays ? "; its established connection stays up" : "");
		target_free(t);
		return 0;
	}
	char astr[MESH_ADDR_STRLEN];
	mesh_addr_format(&a, astr, sizeof(astr));
	snprintf(msg, msglen, "%s is not an address this router connects to", astr);
	return -ENOENT;
}
