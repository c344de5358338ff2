/* router/fastpath.c: overlay selection per connection (DESIGN §7). Which fast path backend
 * this router runs (--fastdp; today the kernel VXLAN device, fastdp/fastdp.c), the fast path
 * forwarder each connection runs next to its sleeve when the peer offers one, the switch of a
 * connection between fast path and sleeve as its fast path heartbeats come and go, and the
 * kernel forwarding database kept in step with MAC locations, connections and our broadcast
 * tree (reconciled once per event loop turn after anything it depends on changed).
 *
 * A connection is on the fast path while its sleeve is usable and its fast path heartbeats
 * pass both ways. Then the kernel carries, without meshd: unicast frames to the MACs that
 * live at that peer, and our own floods to it when it is a leaf of our broadcast tree. Frames
 * that must be relayed (floods to a peer with children in our tree, anything through a third
 * router) always go through meshd and the sleeve, so every host still gets a flood once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fastdp/fastdp.h"
#include "gossip/wire.h"
#include "router/internal.h"
#include "router/log.h"

struct router_fastpath {
	struct event *fdb_sync;        /* reconciles the kernel FDB at the end of the turn */
	char why[512];                 /* why there is no fast path */
};

/* The peer's underlay address as the fast path's tunnel address (IPv4 or IPv6, issue 18). */
static struct mesh_ip tunnel_ip(const struct mesh_conn *c)
{
	struct mesh_ip ip = { .family = c->peer_addr.family };
	memcpy(ip.a, c->peer_addr.a, sizeof(ip.a));
	return ip;
}

bool router_conn_on_fastpath(const struct mesh_conn *c)
{
	return c->fast && c->fast_ok && c->usable;
}

static struct mesh_conn *fast_conn_to(struct mesh_router *r, const struct mesh_peer_name *peer)
{
	struct mesh_conn *c = router_conn_to(r, peer);
	return c && router_conn_on_fastpath(c) ? c : NULL;
}

bool router_fastpath_floods_to(struct mesh_router *r, const struct mesh_peer_name *child)
{
	return r->fastdp && fast_conn_to(r, child) && !mesh_routes_is_relay(&r->routes, child);
}

static void fast_health_changed(void *arg, struct overlay_forwarder *fwd, enum overlay_health h,
				const char *why)
{
	struct mesh_router *r = arg;
	struct mesh_conn *c = fwd->ov->ops->conn_arg(fwd);
	char who[160];
	router_describe_conn(c, who, sizeof(who));
	bool ok = h == OVERLAY_HEALTH_HEALTHY;
	if (ok)
		log_info("%s: on the fast path %s: %s", who, fwd->ov->ops->name, why);
	else if (c->fast_ok)
		log_warn("%s: fast path %s failed, back on the sleeve: %s", who, fwd->ov->ops->name,
			 why);
	else if (h == OVERLAY_HEALTH_UNHEALTHY)
		log_warn("%s: staying on the sleeve: fast path %s does not work: %s", who,
			 fwd->ov->ops->name, why);
	if (ok != c->fast_ok) {
		c->fast_ok = ok;
		router_fastpath_sync(r);
	}
}

static void fast_control_send(void *arg, struct overlay_forwarder *fwd, const uint8_t *msg,
			      size_t len)
{
	struct mesh_conn *c = fwd->ov->ops->conn_arg(fwd);
	if (c->ctl && c->state == CONN_ESTABLISHED)
		mesh_control_send(c->ctl, MESH_MSG_OVERLAY, msg, len);
}

void router_fastpath_control_received(struct mesh_router *r, struct mesh_conn *c,
				      const uint8_t *msg, size_t len)
{
	const char *why = "no fast path runs on this connection";
	if (c->fast && c->fast->ov->ops->control_received &&
	    c->fast->ov->ops->control_received(c->fast, msg, len, &why) == 0)
		return;
	char who[160];
	router_describe_conn(c, who, sizeof(who));
	log_debug("%s: ignoring an overlay message (%zu bytes): %s", who, len, why);
}

/* --- the Open vSwitch datapath's misses --------------------------------------------------- */

/* What the datapath does with frames like this one (the same split as the VXLAN device's
 * FDB): from the bridge, a MAC at a peer on the fast path goes to that peer; broadcast,
 * multicast and unknown destinations go to the leaves of our broadcast tree that are on the
 * fast path; the rest is dropped here, because the sleeve (the bridge's TAP port) carries it.
 * From VXLAN, frames of a peer on the fast path go to the bridge. */
void router_fastpath_decide(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d)
{
	struct mesh_router *r = arg;
	memset(d, 0, sizeof(*d));
	if (m->from_tunnel) {
		for (struct mesh_conn *c = r->conns; c; c = c->next) {
			struct mesh_ip ip = tunnel_ip(c);
			if (!mesh_ip_cmp(&ip, &m->tun_src) && router_conn_on_fastpath(c))
				d->to_bridge = true;
		}
		return;
	}
	const struct mesh_mac_entry *e = mesh_mac_is_multicast(m->eth_dst) ? NULL
					 : mesh_mactable_lookup(&r->macs, m->eth_dst);
	if (e) {
		struct mesh_conn *c = fast_conn_to(r, &e->peer);
		if (c)
			d->peer_ips[d->n++] = tunnel_ip(c);
		return;
	}
	for (struct mesh_conn *c = r->conns; c && d->n < MESH_ODP_MAX_TARGETS; c = c->next)
		if (c->state == CONN_ESTABLISHED && router_fastpath_floods_to(r, &c->peer))
			d->peer_ips[d->n++] = tunnel_ip(c);
}

/* --- the kernel FDB -------------------------------------------------------------------- */

static void fdb_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	if (!r->fastdp)
		return;
	size_t n = 0, cap = r->macs.count + r->nconns + 1;
	struct mesh_fdb_entry *want = calloc(cap, sizeof(*want));
	if (!want) {
		log_error("cannot update the fast path's forwarding table: out of memory");
		return;
	}
	for (size_t i = 0; i < r->macs.cap && n < cap; i++) {
		const struct mesh_mac_entry *e = &r->macs.slots[i];
		if (!e->used || mesh_peer_name_is_zero(&e->peer) ||
		    mesh_peer_name_eq(&e->peer, &r->name))
			continue;
		struct mesh_conn *c = fast_conn_to(r, &e->peer);
		if (!c)
			continue;
		memcpy(want[n].mac, e->mac, 6);
		want[n++].ip = tunnel_ip(c);
	}
	for (struct mesh_conn *c = r->conns; c && n < cap; c = c->next)
		if (c->state == CONN_ESTABLISHED && router_fastpath_floods_to(r, &c->peer))
			want[n++].ip = tunnel_ip(c); /* all-zero MAC: a flood entry */
	char err[256] = "";
	size_t failed = mesh_fastdp_program(r->fastdp, want, n, err, sizeof(err));
	if (failed)
		log_error("fast path: %zu forwarding table changes failed, last: %s", failed, err);
	free(want);
}

void router_fastpath_sync(struct mesh_router *r)
{
	if (r->fastdp && r->own.fastpath && r->own.fastpath->fdb_sync)
		event_active(r->own.fastpath->fdb_sync, 0, 0);
}

/* --- connections ----------------------------------------------------------------------- */

void router_fastpath_conn_up(struct mesh_router *r, struct mesh_conn *c,
			     const struct overlay_conn_params *p, uint8_t peer_overlays)
{
	if (!r->fastdp)
		return;
	char who[160];
	router_describe_conn(c, who, sizeof(who));
	if (!(peer_overlays & MESH_OVERLAY_FASTDP)) {
		log_info("%s: sleeve only: the peer runs no fast path", who);
		return;
	}
	c->fast = r->fov->ops->start(r->fov, p, c);
	if (!c->fast)
		log_error("%s: cannot start the fast path (out of memory); sleeve only", who);
}

void router_fastpath_conn_down(struct mesh_conn *c)
{
	struct mesh_router *r = c->r;
	if (!c->fast)
		return;
	r->fov->ops->stop(c->fast);
	c->fast = NULL;
	if (c->fast_ok) {
		c->fast_ok = false;
		router_fastpath_sync(r);
	}
}

const char *router_conn_overlay(const struct mesh_router *r, const struct mesh_conn *c,
				enum overlay_health *state, char *why, size_t cap)
{
	const char *w = NULL;
	if (router_conn_on_fastpath(c)) {
		*state = c->fast->ov->ops->health(c->fast, &w);
		snprintf(why, cap, "%s", w ? w : "");
		return c->fast->ov->ops->name;
	}
	*state = r->ov->ops->health(c->fwd, &w);
	char fast_why[192];
	if (c->fast) {
		const char *fw = NULL;
		enum overlay_health fh = c->fast->ov->ops->health(c->fast, &fw);
		snprintf(fast_why, sizeof(fast_why), "fast path %s: %s", c->fast->ov->ops->name,
			 fh == OVERLAY_HEALTH_HEALTHY ? "waiting for the sleeve" : fw ? fw : "");
	} else if (r->fastdp) {
		snprintf(fast_why, sizeof(fast_why), "the peer runs no fast path");
	} else {
		snprintf(fast_why, sizeof(fast_why), "%s", router_fastpath_why(r));
	}
	snprintf(why, cap, "%s; %s", fast_why, w ? w : "");
	return r->ov->ops->name;
}

const char *router_fastpath_why(const struct mesh_router *r)
{
	return r->fov || !r->own.fastpath ? "" : r->own.fastpath->why;
}

/* --- the backend ----------------------------------------------------------------------- */

/* An encrypted mesh on a kernel without IPsec ESP: whatever --fastdp asked for, the fast path
 * would carry frames in the clear, so every connection stays on the encrypted sleeve. */
static int no_ipsec(struct mesh_router *r, const char *why)
{
	snprintf(r->own.fastpath->why, sizeof(r->own.fastpath->why), "no fast path: an encrypted "
		 "mesh needs kernel IPsec for it, but %s", why);
	log_warn("fast path off: an encrypted mesh needs kernel IPsec for it, but %s; every "
		 "connection stays on the encrypted sleeve", why);
	return 0;
}

int router_fastpath_start(struct mesh_router *r, char *err, size_t errlen)
{
	enum mesh_fastdp_mode mode = r->cfg->fastdp;
	struct router_fastpath *fp = calloc(1, sizeof(*fp));
	if (!fp) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->own.fastpath = fp;
	if (mode == MESH_FASTDP_OFF) {
		snprintf(fp->why, sizeof(fp->why), "no fast path: --fastdp off");
		log_info("fast path off (--fastdp off): every connection uses the sleeve");
		return 0;
	}
	struct overlay_callbacks cb = {
		.health_changed = fast_health_changed,
		.control_send = fast_control_send,
		.arg = r,
	};
	struct mesh_fastdp_config vc = {
		.bridge = r->cfg->bridge,
		.tap_name = sleeve_tap_name(r->sleeve),
		.port = MESH_VXLAN_DEFAULT_PORT,
		.mtu = r->mtu,
		.local_name = r->name,
		.local_uid = r->uid,
		.encrypt = r->encrypted,
		.decide = router_fastpath_decide,
	};
	char why[512];
	int errnum = 0;
	if (mode == MESH_FASTDP_ODP || mode == MESH_FASTDP_AUTO) {
		vc.odp = true;
		r->fastdp = mesh_fastdp_new(r->base, &vc, &cb, &errnum, why, sizeof(why));
		if (!r->fastdp && r->encrypted && errnum == -EPROTONOSUPPORT)
			return no_ipsec(r, why);
		if (!r->fastdp && mode == MESH_FASTDP_ODP) {
			snprintf(err, errlen, "--fastdp odp: %s", why);
			return errnum < 0 ? errnum : -EIO;
		}
		if (!r->fastdp)
			log_info("fast path: %s; using the kernel VXLAN device instead", why);
		vc.odp = false;
	}
	if (!r->fastdp)
		r->fastdp = mesh_fastdp_new(r->base, &vc, &cb, &errnum, why, sizeof(why));
	if (!r->fastdp && r->encrypted && errnum == -EPROTONOSUPPORT)
		return no_ipsec(r, why);
	if (!r->fastdp) {
		if (mode == MESH_FASTDP_VXLAN) {
			snprintf(err, errlen, "--fastdp vxlan: %s", why);
			return -EIO;
		}
		snprintf(fp->why, sizeof(fp->why), "no fast path: %s", why);
		log_warn("fast path off, every connection uses the sleeve: %s", why);
		return 0;
	}
	r->fov = mesh_fastdp_overlay(r->fastdp);
	uint64_t purged = mesh_fastdp_counters(r->fastdp)->xfrm_purged;
	if (purged)
		log_info("fast path: deleted %llu IPsec SAs and policies an earlier meshd left",
			 (unsigned long long)purged);
	if (mesh_fastdp_filter_note(r->fastdp)[0])
		log_warn("fast path: %s", mesh_fastdp_filter_note(r->fastdp));
	fp->fdb_sync = event_new(r->base, -1, 0, fdb_sync_cb, r);
	if (!fp->fdb_sync) {
		snprintf(err, errlen, "cannot register an event");
		return -ENOMEM;
	}
	const char *enc = r->encrypted ? ", encrypted with kernel IPsec ESP (AES-GCM); unencrypted "
					 "VXLAN is dropped (nftables table inet mesh_ipsec)"
				       : "";
	if (mesh_fastdp_is_odp(r->fastdp))
		log_info("fast path: Open vSwitch datapath %s, VXLAN on UDP %u (VNI %u)%s; connections "
			 "move onto it once its heartbeats pass", mesh_fastdp_device(r->fastdp),
			 MESH_VXLAN_DEFAULT_PORT, MESH_VXLAN_VNI, enc);
	else
		log_info("fast path: kernel VXLAN device %s on UDP %u (VNI %u)%s%s; connections move "
			 "onto it once its heartbeats pass", mesh_fastdp_device(r->fastdp),
			 MESH_VXLAN_DEFAULT_PORT, MESH_VXLAN_VNI,
			 mesh_fastdp_ipv6_note(r->fastdp)[0] ? "" : " (" MESH_VXLAN6_DEV " for peers "
			 "reached over IPv6)", enc);
	if (mesh_fastdp_ipv6_note(r->fastdp)[0])
		log_warn("fast path: %s; connections to peers reached over IPv6 stay on the sleeve",
			 mesh_fastdp_ipv6_note(r->fastdp));
	return 0;
}

void router_fastpath_set_mtu(struct mesh_router *r)
{
	if (r->fastdp)
		mesh_fastdp_set_mtu(r->fastdp, r->mtu);
}

void router_fastpath_stop(struct mesh_router *r)
{
	if (r->own.fastpath && r->own.fastpath->fdb_sync)
		event_free(r->own.fastpath->fdb_sync);
	free(r->own.fastpath);
	r->own.fastpath = NULL;
	mesh_fastdp_free(r->fastdp);
	r->fastdp = NULL;
	r->fov = NULL;
}
