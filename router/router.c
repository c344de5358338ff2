/* router/router.c: one host's router: identity, setup of the bridge and the sleeve, the
 * start of every part in order (the gossip hub, the channels, the fast path, the bridge
 * watch, the connections, the Kubernetes client) and teardown in reverse; the housekeeping
 * timer and the sleeve's drop report. Owns: those two timers. The core (identity, hub,
 * channels, housekeeping) is built and freed on its own by router_core_new/router_core_free,
 * which need no socket, device or netlink: mesh_router_new adds the rest, and the simulator
 * (tests/sim/) runs routers made of the core alone. Connections live in conns.c, gossip in
 * gossip.c and its channels topo.c, macs.c, ipam.c, forwarding in forward.c, status in
 * status.c, Kubernetes in kube.c (with kube_nodes.c and netpol.c). */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"
#include "gossip/hello.h"
#include "router/expose.h"
#include "router/kube.h"
#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"

#define DROP_REPORT_S 1

struct router_core {
	struct event *drop_report, *housekeeping;
	struct sleeve_counters reported; /* drop counters as last logged */
};

static void housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	router_topo_housekeeping(arg);
	router_discover(arg);
	router_ipam_housekeeping(arg);
	router_fastpath_sync(arg); /* a safety net: it only changes what differs */
}

/* Logs, at most once a second, what the sleeve dropped since the last report. */
static void drop_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	const struct sleeve_counters *now = sleeve_counters(r->sleeve);
	struct sleeve_counters *was = &r->own.router->reported;
	static const struct {
		size_t off;
		const char *what;
		enum mesh_log_level level;
	} drops[] = {
		{ offsetof(struct sleeve_counters, drop_replay), "replayed or duplicate sleeve datagrams (replay window)", MESH_LOG_WARN },
		{ offsetof(struct sleeve_counters, drop_auth), "sleeve datagrams that failed authentication", MESH_LOG_WARN },
		{ offsetof(struct sleeve_counters, drop_malformed), "malformed sleeve datagrams", MESH_LOG_WARN },
		/* a peer's first heartbeats often beat its HELLO to us: normal, so only at debug */
		{ offsetof(struct sleeve_counters, drop_unknown_conn), "sleeve datagrams for no known connection (a peer still setting up, or gone)", MESH_LOG_DEBUG },
		{ offsetof(struct sleeve_counters, drop_tx_full), "outgoing sleeve datagrams (send buffer full)", MESH_LOG_WARN },
		{ offsetof(struct sleeve_counters, drop_mtu), "frames larger than the overlay MTU", MESH_LOG_WARN },
		{ offsetof(struct sleeve_counters, drop_tap), "frames the TAP device would not take", MESH_LOG_WARN },
		{ offsetof(struct sleeve_counters, drop_offload), "frames from peers with an invalid offload (virtio-net) header", MESH_LOG_WARN },
	};
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		uint64_t a = *(const uint64_t *)((const char *)now + drops[i].off);
		uint64_t b = *(const uint64_t *)((const char *)was + drops[i].off);
		if (a != b)
			mesh_log(drops[i].level, "dropped %llu %s in the last %d s (%llu in all)",
				 (unsigned long long)(a - b), drops[i].what, DROP_REPORT_S,
				 (unsigned long long)a);
	}
	*was = *now;
}

static struct event *add_timer(struct mesh_router *r, event_callback_fn fn, int seconds)
{
	struct event *ev = event_new(r->base, -1, EV_PERSIST, fn, r);
	struct timeval tv = { seconds, 0 };
	if (ev && event_add(ev, &tv) < 0) {
		event_free(ev);
		return NULL;
	}
	return ev;
}

struct mesh_router *router_core_new(struct event_base *base, const struct mesh_config *cfg,
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
	r->own.router = calloc(1, sizeof(*r->own.router));
	if (!r->own.router || router_gossip_init(r) < 0 || router_topo_init(r) < 0 ||
	    router_macs_init(r) < 0) {
		snprintf(err, errlen, "out of memory");
		goto errout;
	}
	if (router_ipam_init(r, err, errlen) < 0)
		goto errout;
	r->own.router->housekeeping = add_timer(r, housekeeping_cb, HOUSEKEEPING_S);
	if (!r->own.router->housekeeping) {
		snprintf(err, errlen, "cannot register timers");
		goto errout;
	}
	return r;
errout:
	router_core_free(r);
	return NULL;
}

void router_core_free(struct mesh_router *r)
{
	if (!r)
		return;
	struct router_core *core = r->own.router;
	if (core && core->housekeeping)
		event_free(core->housekeeping);
	free(core);
	r->own.router = NULL;
	router_ipam_free(r);
	router_macs_free(r);
	router_topo_free(r);
	router_gossip_free(r);
	mesh_wipe(r->psk, sizeof(r->psk));
	mesh_wipe(r->psk_alt, sizeof(r->psk_alt));
	free(r);
}

int mesh_router_set_passwords(struct mesh_router *r, const uint8_t *psk, const uint8_t *alt)
{
	if (!r->encrypted || !psk)
		return -EINVAL;
	memcpy(r->psk, psk, MESH_KEY_LEN);
	r->has_psk_alt = alt != NULL;
	if (alt)
		memcpy(r->psk_alt, alt, MESH_KEY_LEN);
	else
		mesh_wipe(r->psk_alt, sizeof(r->psk_alt));
	return 0;
}

struct mesh_router *mesh_router_new(struct event_base *base, const struct mesh_config *cfg,
				    const struct mesh_peer_name *name, const uint8_t *psk,
				    char *err, size_t errlen)
{
	struct mesh_router *r = router_core_new(base, cfg, name, psk, err, errlen);
	if (!r)
		return NULL;

	if (mesh_netdev_open(&r->netdev, err, errlen) < 0)
		goto errout;
	if (mesh_netdev_bridge_ensure(&r->netdev, cfg->bridge, r->mtu, err, errlen) < 0)
		goto errout;

	struct overlay_callbacks ocb = {
		.frame_received = router_on_frame_received,
		.local_frame = router_on_local_frame,
		.health_changed = router_on_health_changed,
		.mtu_changed = router_on_mtu_changed,
		.arg = r,
	};
	struct sleeve_config scfg = { .port = cfg->port, .tap_name = "mesh-tap", .mtu = r->mtu };
	r->sleeve = sleeve_new(base, &scfg, &ocb, err, errlen);
	if (!r->sleeve)
		goto errout;
	r->ov = sleeve_overlay(r->sleeve);
	if (!sleeve_coalesces(r->sleeve))
		log_info("sleeve: this kernel takes no UDP GSO frames from a TAP (Linux 6.2 and later "
			 "do): received UDP frames are written to the bridge one by one (slower)");
	if (mesh_netdev_attach(&r->netdev, sleeve_tap_name(r->sleeve), r->mtu, err, errlen) < 0)
		goto errout;
	char gso_err[256];
	if (mesh_netdev_set_gso_max_size(&r->netdev, sleeve_tap_name(r->sleeve), SLEEVE_TAP_GSO_MAX,
					 gso_err, sizeof(gso_err)) < 0) {
		/* an older kernel: without the cap a super-frame could outgrow a datagram */
		log_warn("%s: TCP segmentation offload off on the sleeve (slower)", gso_err);
		r->tso_capable = false;
	} else {
		r->tso_capable = true;
	}
	router_update_tso(r);
	if (router_fastpath_start(r, err, errlen) < 0 || router_bridgewatch_start(r, err, errlen) < 0)
		goto errout;

	struct router_core *core = r->own.router;
	core->drop_report = add_timer(r, drop_report_cb, DROP_REPORT_S);
	if (!core->drop_report) {
		snprintf(err, errlen, "cannot register timers");
		goto errout;
	}
	if (router_expose_start(r, err, errlen) < 0 || router_conns_start(r, err, errlen) < 0 ||
	    router_kube_start(r, err, errlen) < 0)
		goto errout;
	log_info("router %s(%s) listening on TCP/UDP port %u, bridge %s, MTU %u, encryption %s%s",
		 r->nickname, r->name_str, cfg->port, cfg->bridge, r->mtu, r->encrypted ? "on" : "off",
		 cfg->no_discovery ? ", discovery off" : "");
	return r;
errout:
	mesh_router_free(r);
	return NULL;
}

void mesh_router_free(struct mesh_router *r)
{
	if (!r)
		return;
	router_kube_stop(r);
	router_conns_stop(r);
	mesh_control_free_lingering();
	router_expose_stop(r);
	struct router_core *core = r->own.router;
	if (core && core->drop_report)
		event_free(core->drop_report);
	if (core)
		core->drop_report = NULL;
	router_bridgewatch_stop(r);
	router_fastpath_stop(r);
	if (r->sleeve)
		sleeve_free(r->sleeve);
	mesh_netdev_close(&r->netdev, !r->cfg->keep_bridge);
	router_core_free(r);
}
