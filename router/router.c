/* router/router.c: connections to peers, overlay per connection, forwarding (see router.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"
#include "gossip/backoff.h"
#include "gossip/control.h"
#include "router/log.h"
#include "router/mactable.h"
#include "router/netdev.h"
#include "router/router.h"
#include "sleeve/sleeve.h"

#define ACCEPT_BACKLOG 64
#define MAC_SWEEP_S 60
#define DROP_REPORT_S 1

enum conn_state { CONN_CONNECTING, CONN_ESTABLISHED };

struct mesh_target;

struct mesh_conn {
	struct mesh_router *r;
	struct mesh_control *ctl;
	struct mesh_target *target;    /* outbound: the address we dialled */
	bool outbound;
	enum conn_state state;
	char addr[64];                 /* "ip:port" of the peer's control endpoint */
	struct mesh_peer_name peer;
	char nickname[64];
	uint64_t conn_id;
	uint32_t local_index;
	bool encrypted;
	struct overlay_forwarder *fwd;
	time_t since;
	struct mesh_conn *next;
};

struct mesh_target {
	struct mesh_router *r;
	struct sockaddr_in addr;
	char addr_str[64];
	struct mesh_backoff backoff;
	struct event *timer;
	struct mesh_conn *conn;        /* the attempt or connection in progress, if any */
	char last_error[192];
	time_t next_retry;             /* 0: none scheduled */
	unsigned attempts;
	struct mesh_target *next;
};

struct mesh_router {
	struct event_base *base;
	const struct mesh_config *cfg;
	struct mesh_peer_name name;
	char name_str[MESH_PEER_NAME_STRLEN];
	char nickname[64];
	uint64_t uid;
	uint16_t short_id;
	bool encrypted;
	uint8_t psk[MESH_KEY_LEN];
	unsigned mtu;

	struct mesh_netdev netdev;
	struct sleeve *sleeve;
	struct overlay *ov;
	struct mesh_mactable macs;
	struct evconnlistener *listener;
	struct event *sweep;
	struct event *drop_report;
	struct sleeve_counters reported; /* drop counters as last logged */

	struct mesh_conn *conns;
	struct mesh_target *targets;
	struct mesh_router_counters ctr;
	time_t started;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, cap, "%s:%u", ip, port);
}

/* "h2(0a:..:ff) at 198.18.0.2:6783", or just the address before the peer said who it is. */
static void describe_conn(const struct mesh_conn *c, char *out, size_t cap)
{
	if (mesh_peer_name_is_zero(&c->peer)) {
		snprintf(out, cap, "%s peer at %s", c->outbound ? "outbound" : "inbound", c->addr);
		return;
	}
	char n[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&c->peer, n);
	snprintf(out, cap, "%s peer %s(%s) at %s", c->outbound ? "outbound" : "inbound",
		 c->nickname, n, c->addr);
}

/* ---- forwarding ------------------------------------------------------------------------- */

static struct mesh_conn *conn_to(struct mesh_router *r, const struct mesh_peer_name *peer)
{
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c->state == CONN_ESTABLISHED && c->fwd && mesh_peer_name_eq(&c->peer, peer))
			return c;
	return NULL;
}

static void flood(struct mesh_router *r, const struct mesh_peer_name *src, const uint8_t *frame,
		  size_t len, const struct mesh_conn *except)
{
	static const struct mesh_peer_name everyone;
	for (struct mesh_conn *c = r->conns; c; c = c->next)
		if (c != except && c->state == CONN_ESTABLISHED && c->fwd)
			r->ov->ops->send(c->fwd, src, &everyone, frame, len);
}

/* A frame from our bridge (through the TAP). */
static void on_local_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct mesh_router *r = arg;
	const uint8_t *dst = frame, *src = frame + 6;

	if (!mesh_mac_is_multicast(src))
		mesh_mactable_learn(&r->macs, src, &r->name, mono_ms());
	if (mesh_mac_is_multicast(dst)) {
		flood(r, &r->name, frame, len, NULL);
		return;
	}
	const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, dst);
	if (!e) {
		flood(r, &r->name, frame, len, NULL);
		return;
	}
	if (mesh_peer_name_eq(&e->peer, &r->name))
		return; /* local: the bridge delivers it */
	struct mesh_conn *c = conn_to(r, &e->peer);
	if (c)
		r->ov->ops->send(c->fwd, &r->name, &e->peer, frame, len);
	else
		flood(r, &r->name, frame, len, NULL);
}

/* A frame a peer sent us over an overlay. */
static void on_frame_received(void *arg, struct overlay_forwarder *fwd,
			      const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
			      const uint8_t *frame, size_t len)
{
	struct mesh_router *r = arg;
	const uint8_t *smac = frame + 6;

	if (!mesh_peer_name_is_zero(dst) && !mesh_peer_name_eq(dst, &r->name)) {
		r->ctr.drop_no_route++; /* relaying through this host arrives with the mesh routes */
		return;
	}
	if (mesh_peer_name_eq(src, &r->name))
		return; /* our own frame came back */
	if (!mesh_mac_is_multicast(smac))
		mesh_mactable_learn(&r->macs, smac, src, mono_ms());
	if (r->ov->ops->deliver(r->ov, frame, len) == 0)
		r->ctr.frames_delivered++;
}

static void on_health_changed(void *arg, struct overlay_forwarder *fwd, enum overlay_health h,
			      const char *why)
{
	struct mesh_router *r = arg;
	struct mesh_conn *c = r->ov->ops->conn_arg(fwd);
	char who[160];
	describe_conn(c, who, sizeof(who));
	if (h == OVERLAY_HEALTH_HEALTHY)
		log_info("%s: sleeve healthy (%s)", who, why);
	else
		log_warn("%s: sleeve unhealthy: %s", who, why);
}

/* ---- connections ------------------------------------------------------------------------ */

static void conn_free(struct mesh_conn *c)
{
	struct mesh_router *r = c->r;
	for (struct mesh_conn **pp = &r->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->fwd)
		r->ov->ops->stop(c->fwd);
	if (c->ctl)
		mesh_control_free(c->ctl);
	if (c->target && c->target->conn == c)
		c->target->conn = NULL;
	free(c);
}

static void target_schedule(struct mesh_target *t)
{
	uint32_t delay = mesh_backoff_failed(&t->backoff, mono_ms(), randombytes_random());
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
	t->next_retry = time(NULL) + (time_t)((delay + 999) / 1000);
	event_add(t->timer, &tv);
	log_info("will reconnect to %s in %.1f s", t->addr_str, delay / 1000.0);
}

static void on_closed(struct mesh_control *ctl, int err, const char *reason, void *arg)
{
	struct mesh_conn *c = arg;
	struct mesh_router *r = c->r;
	char who[160];

	if (mesh_peer_name_is_zero(&c->peer)) {
		/* the handshake may have learned who it is before failing */
		const struct mesh_hs *hs = mesh_control_hs(ctl);
		if (hs->state >= MESH_HS_WANT_HELLO || err == -EACCES || err == -ELOOP) {
			if (!mesh_peer_name_is_zero(&hs->peer_name)) {
				c->peer = hs->peer_name;
				snprintf(c->nickname, sizeof(c->nickname), "%s", hs->peer_nickname);
			}
		}
	}
	describe_conn(c, who, sizeof(who));
	if (err == -EACCES) {
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
	/* MACs of that peer stay until they age out or move: a reconnect keeps them useful. */
	if (t) {
		snprintf(t->last_error, sizeof(t->last_error), "%s", reason);
		t->conn = NULL;
		if (err != -ELOOP)
			target_schedule(t);
		else
			log_warn("not reconnecting to %s: it is this router", t->addr_str);
	}
	conn_free(c);
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
	c->conn_id = c->outbound ? hs->cfg.hello.conn_id : h->conn_id;
	c->encrypted = hs->chan.sealed;
	describe_conn(c, who, sizeof(who));

	/* Two connections between the same pair: keep the lower connection id. */
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
		conn_free(o);
		break;
	}

	struct overlay_conn_params p;
	memset(&p, 0, sizeof(p));
	p.local = r->name;
	p.remote = h->name;
	p.local_short_id = r->short_id;
	p.remote_short_id = h->short_id;
	p.local_index = c->local_index;
	p.remote_index = h->sleeve_index;
	p.remote_addr = *mesh_control_remote(ctl);
	((struct sockaddr_in *)&p.remote_addr)->sin_port = htons(h->sleeve_port);
	p.encrypted = c->encrypted;
	memcpy(p.tx_key, hs->keys.sleeve.tx, sizeof(p.tx_key));
	memcpy(p.rx_key, hs->keys.sleeve.rx, sizeof(p.rx_key));
	c->fwd = r->ov->ops->start(r->ov, &p, c);
	mesh_wipe(&p, sizeof(p));
	if (!c->fwd) {
		log_error("%s: cannot start the sleeve for this connection (out of memory)", who);
		conn_free(c);
		return;
	}
	c->state = CONN_ESTABLISHED;
	c->since = time(NULL);
	if (c->target) {
		mesh_backoff_up(&c->target->backoff, mono_ms());
		c->target->last_error[0] = '\0';
		c->target->next_retry = 0;
	}
	log_info("%s: connection established (protocol %u, %s)", who, hs->version,
		 c->encrypted ? "encrypted" : "not encrypted");
}

static void on_message(struct mesh_control *ctl, uint8_t type, const uint8_t *payload, size_t len,
		       void *arg)
{
	struct mesh_conn *c = arg;
	char who[160];
	describe_conn(c, who, sizeof(who));
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
	return c;
}

static void hs_config(struct mesh_router *r, struct mesh_conn *c, struct mesh_hs_config *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->is_client = c->outbound;
	hc->psk = r->encrypted ? r->psk : NULL;
	hc->proto_min = MESH_PROTO_MIN;
	hc->proto_max = MESH_PROTO_MAX;
	hc->hello.name = r->name;
	snprintf(hc->hello.nickname, sizeof(hc->hello.nickname), "%s", r->nickname);
	hc->hello.uid = r->uid;
	hc->hello.short_id = r->short_id;
	randombytes_buf(&hc->hello.conn_id, sizeof(hc->hello.conn_id));
	hc->hello.overlays = MESH_OVERLAY_SLEEVE;
	hc->hello.sleeve_port = r->cfg->port;
	hc->hello.sleeve_index = c->local_index;
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
	t->attempts++;
	struct mesh_conn *c = conn_new(r, true);
	if (!c) {
		target_schedule(t);
		return;
	}
	c->target = t;
	snprintf(c->addr, sizeof(c->addr), "%s", t->addr_str);
	hs_config(r, c, &hc);
	cb.arg = c;
	log_debug("connecting to %s", t->addr_str);
	c->ctl = mesh_control_new(r->base, -1, (struct sockaddr *)&t->addr, sizeof(t->addr), &hc, &cb);
	mesh_wipe(&hc, sizeof(hc));
	if (!c->ctl) {
		snprintf(t->last_error, sizeof(t->last_error), "cannot start a connection");
		conn_free(c);
		target_schedule(t);
		return;
	}
	t->conn = c;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct mesh_router *r = arg;
	struct mesh_hs_config hc;
	struct mesh_control_callbacks cb = control_cb;
	struct mesh_conn *c = conn_new(r, false);
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	format_addr((struct sockaddr_storage *)sa, c->addr, sizeof(c->addr));
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
	int err = EVUTIL_SOCKET_ERROR();
	log_warn("accepting control connections: %s", evutil_socket_error_to_string(err));
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	size_t n = mesh_mactable_expire(&r->macs, mono_ms(), MESH_MAC_MAX_AGE_MS);
	if (n)
		log_debug("forgot %zu MAC addresses not seen for 10 min", n);
}

/* Logs, at most once a second, what the sleeve dropped since the last report. */
static void drop_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	const struct sleeve_counters *now = sleeve_counters(r->sleeve);
	struct sleeve_counters *was = &r->reported;
	static const struct {
		size_t off;
		const char *what;
	} drops[] = {
		{ offsetof(struct sleeve_counters, drop_replay), "replayed or duplicate sleeve datagrams (replay window)" },
		{ offsetof(struct sleeve_counters, drop_auth), "sleeve datagrams that failed authentication" },
		{ offsetof(struct sleeve_counters, drop_malformed), "malformed sleeve datagrams" },
		{ offsetof(struct sleeve_counters, drop_unknown_conn), "sleeve datagrams for no known connection" },
		{ offsetof(struct sleeve_counters, drop_tx_full), "outgoing sleeve datagrams (send buffer full)" },
		{ offsetof(struct sleeve_counters, drop_mtu), "frames larger than the overlay MTU" },
		{ offsetof(struct sleeve_counters, drop_tap), "frames the TAP device would not take" },
	};
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		uint64_t a = *(const uint64_t *)((const char *)now + drops[i].off);
		uint64_t b = *(const uint64_t *)((const char *)was + drops[i].off);
		if (a != b)
			log_warn("dropped %llu %s in the last %d s (%llu in all)",
				 (unsigned long long)(a - b), drops[i].what, DROP_REPORT_S,
				 (unsigned long long)a);
	}
	*was = *now;
}

/* ---- setup ------------------------------------------------------------------------------ */

static int add_target(struct mesh_router *r, const struct mesh_peer_addr *pa)
{
	struct mesh_target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->r = r;
	t->addr.sin_family = AF_INET;
	t->addr.sin_port = htons(pa->port);
	inet_pton(AF_INET, pa->host, &t->addr.sin_addr);
	snprintf(t->addr_str, sizeof(t->addr_str), "%s:%u", pa->host, pa->port);
	mesh_backoff_init(&t->backoff);
	t->timer = event_new(r->base, -1, 0, target_connect, t);
	if (!t->timer) {
		free(t);
		return -ENOMEM;
	}
	t->next = r->targets;
	r->targets = t;
	event_active(t->timer, 0, 0);
	return 0;
}

struct mesh_router *mesh_router_new(struct event_base *base, const struct mesh_config *cfg,
				    const struct mesh_peer_name *name, const uint8_t *psk,
				    char *err, size_t errlen)
{
	struct mesh_router *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	r->cfg = cfg;
	r->name = *name;
	mesh_peer_name_format(name, r->name_str);
	if (cfg->nickname[0])
		snprintf(r->nickname, sizeof(r->nickname), "%s", cfg->nickname);
	else if (gethostname(r->nickname, sizeof(r->nickname) - 1) < 0 || !r->nickname[0] ||
		 !mesh_nickname_valid(r->nickname, strlen(r->nickname)))
		snprintf(r->nickname, sizeof(r->nickname), "%s", r->name_str);
	randombytes_buf(&r->uid, sizeof(r->uid));
	r->short_id = (uint16_t)(randombytes_random() & 0xfff);
	r->encrypted = psk != NULL;
	if (psk)
		memcpy(r->psk, psk, MESH_KEY_LEN);
	r->mtu = cfg->mtu ? cfg->mtu : SLEEVE_DEFAULT_MTU;
	r->started = time(NULL);
	if (mesh_mactable_init(&r->macs) < 0) {
		snprintf(err, errlen, "out of memory");
		goto errout;
	}

	if (mesh_netdev_open(&r->netdev, err, errlen) < 0)
		goto errout;
	if (mesh_netdev_bridge_ensure(&r->netdev, cfg->bridge, r->mtu, err, errlen) < 0)
		goto errout;

	struct overlay_callbacks ocb = {
		.frame_received = on_frame_received,
		.local_frame = on_local_frame,
		.health_changed = on_health_changed,
		.arg = r,
	};
	struct sleeve_config scfg = { .port = cfg->port, .tap_name = "mesh-tap", .mtu = r->mtu };
	r->sleeve = sleeve_new(base, &scfg, &ocb, err, errlen);
	if (!r->sleeve)
		goto errout;
	r->ov = sleeve_overlay(r->sleeve);
	if (mesh_netdev_attach(&r->netdev, sleeve_tap_name(r->sleeve), r->mtu, err, errlen) < 0)
		goto errout;

	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	r->listener = evconnlistener_new_bind(base, on_accept, r,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					      LEV_OPT_CLOSE_ON_EXEC, ACCEPT_BACKLOG,
					      (struct sockaddr *)&sin, sizeof(sin));
	if (!r->listener) {
		snprintf(err, errlen, "cannot listen on TCP port %u: %s", cfg->port, strerror(errno));
		goto errout;
	}
	evconnlistener_set_error_cb(r->listener, on_accept_error);

	r->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, r);
	struct timeval sweep_every = { MAC_SWEEP_S, 0 };
	if (!r->sweep || event_add(r->sweep, &sweep_every) < 0) {
		snprintf(err, errlen, "cannot register timers");
		goto errout;
	}

	r->drop_report = event_new(base, -1, EV_PERSIST, drop_report_cb, r);
	struct timeval report_every = { DROP_REPORT_S, 0 };
	if (!r->drop_report || event_add(r->drop_report, &report_every) < 0) {
		snprintf(err, errlen, "cannot register timers");
		goto errout;
	}

	for (unsigned i = 0; i < cfg->npeers; i++)
		if (add_target(r, &cfg->peers[i]) < 0) {
			snprintf(err, errlen, "out of memory");
			goto errout;
		}
	log_info("router %s(%s) listening on TCP/UDP port %u, bridge %s, MTU %u, encryption %s",
		 r->nickname, r->name_str, cfg->port, cfg->bridge, r->mtu, r->encrypted ? "on" : "off");
	return r;
errout:
	mesh_router_free(r);
	return NULL;
}

void mesh_router_free(struct mesh_router *r)
{
	if (!r)
		return;
	while (r->conns)
		conn_free(r->conns);
	while (r->targets) {
		struct mesh_target *t = r->targets;
		r->targets = t->next;
		event_free(t->timer);
		free(t);
	}
	if (r->sweep)
		event_free(r->sweep);
	if (r->drop_report)
		event_free(r->drop_report);
	if (r->listener)
		evconnlistener_free(r->listener);
	if (r->sleeve)
		sleeve_free(r->sleeve);
	mesh_netdev_close(&r->netdev, !r->cfg->keep_bridge);
	mesh_mactable_free(&r->macs);
	mesh_wipe(r->psk, sizeof(r->psk));
	free(r);
}

/* ---- status ----------------------------------------------------------------------------- */

static cJSON *conn_json(const struct mesh_router *r, const struct mesh_conn *c)
{
	cJSON *o = cJSON_CreateObject();
	char n[MESH_PEER_NAME_STRLEN];
	if (!mesh_peer_name_is_zero(&c->peer)) {
		mesh_peer_name_format(&c->peer, n);
		cJSON_AddStringToObject(o, "peer", n);
		cJSON_AddStringToObject(o, "nickname", c->nickname);
	} else {
		cJSON_AddNullToObject(o, "peer");
		cJSON_AddNullToObject(o, "nickname");
	}
	cJSON_AddStringToObject(o, "address", c->addr);
	cJSON_AddStringToObject(o, "direction", c->outbound ? "outbound" : "inbound");
	cJSON_AddStringToObject(o, "state", c->state == CONN_ESTABLISHED ? "established" : "connecting");
	if (c->fwd) {
		const char *why = NULL;
		enum overlay_health h = r->ov->ops->health(c->fwd, &why);
		static const char *const hs[] = { "connecting", "healthy", "unhealthy" };
		cJSON_AddStringToObject(o, "overlay", r->ov->ops->name);
		cJSON_AddStringToObject(o, "overlay_state", hs[h]);
		cJSON_AddStringToObject(o, "overlay_reason", why ? why : "");
		cJSON_AddNumberToObject(o, "mtu", r->ov->ops->mtu(c->fwd));
	} else {
		cJSON_AddNullToObject(o, "overlay");
	}
	cJSON_AddBoolToObject(o, "encrypted", c->state == CONN_ESTABLISHED ? c->encrypted : r->encrypted);
	cJSON_AddNumberToObject(o, "since", (double)c->since);
	if (c->target && c->target->last_error[0])
		cJSON_AddStringToObject(o, "last_error", c->target->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	return o;
}

cJSON *mesh_router_status(const struct mesh_router *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", MESH_VERSION_STRING);
	cJSON_AddNumberToObject(o, "protocol", MESH_PROTO_MAX);
	cJSON_AddStringToObject(o, "name", r->name_str);
	cJSON_AddStringToObject(o, "nickname", r->nickname);
	char uid[17];
	snprintf(uid, sizeof(uid), "%016llx", (unsigned long long)r->uid);
	cJSON_AddStringToObject(o, "uid", uid);
	cJSON_AddBoolToObject(o, "encryption", r->encrypted);
	cJSON_AddNumberToObject(o, "port", r->cfg->port);
	cJSON_AddStringToObject(o, "bridge", r->cfg->bridge);
	cJSON_AddNumberToObject(o, "mtu", r->mtu);
	cJSON_AddNumberToObject(o, "started", (double)r->started);

	cJSON *conns = cJSON_AddArrayToObject(o, "connections");
	for (const struct mesh_conn *c = r->conns; c; c = c->next)
		cJSON_AddItemToArray(conns, conn_json(r, c));
	/* Outbound targets waiting for their next attempt have no connection object. */
	cJSON *targets = cJSON_AddArrayToObject(o, "targets");
	for (const struct mesh_target *t = r->targets; t; t = t->next) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "address", t->addr_str);
		cJSON_AddStringToObject(j, "state", t->conn ? (t->conn->state == CONN_ESTABLISHED
							       ? "established" : "connecting")
							    : "retry-wait");
		cJSON_AddNumberToObject(j, "attempts", t->attempts);
		if (t->last_error[0])
			cJSON_AddStringToObject(j, "last_error", t->last_error);
		else
			cJSON_AddNullToObject(j, "last_error");
		if (!t->conn && t->next_retry)
			cJSON_AddNumberToObject(j, "next_retry", (double)t->next_retry);
		cJSON_AddItemToArray(targets, j);
	}

	const struct sleeve_counters *s = sleeve_counters(r->sleeve);
	cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(ctr, "sleeve_rx_datagrams", (double)s->rx_datagrams);
	cJSON_AddNumberToObject(ctr, "sleeve_tx_datagrams", (double)s->tx_datagrams);
	cJSON_AddNumberToObject(ctr, "sleeve_rx_frames", (double)s->rx_frames);
	cJSON_AddNumberToObject(ctr, "sleeve_tx_frames", (double)s->tx_frames);
	cJSON_AddNumberToObject(ctr, "sleeve_rx_bytes", (double)s->rx_bytes);
	cJSON_AddNumberToObject(ctr, "sleeve_tx_bytes", (double)s->tx_bytes);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_replay", (double)s->drop_replay);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_auth", (double)s->drop_auth);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_malformed", (double)s->drop_malformed);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_unknown_conn", (double)s->drop_unknown_conn);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_tx_full", (double)s->drop_tx_full);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_mtu", (double)s->drop_mtu);
	cJSON_AddNumberToObject(ctr, "sleeve_drop_tap", (double)s->drop_tap);
	cJSON_AddNumberToObject(ctr, "drop_no_route", (double)r->ctr.drop_no_route);
	cJSON_AddNumberToObject(ctr, "frames_delivered", (double)r->ctr.frames_delivered);
	cJSON_AddNumberToObject(ctr, "control_auth_failures", (double)r->ctr.control_auth_failures);
	cJSON_AddNumberToObject(ctr, "control_refused", (double)r->ctr.control_refused);
	cJSON_AddNumberToObject(ctr, "mac_table_size", (double)r->macs.count);
	return o;
}
