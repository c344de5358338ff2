/* router/internal.h: the router's state, shared by the files that make up the router
 * (router.c setup, conns.c connections, topo.c topology and gossip, forward.c forwarding,
 * status.c status). Not for other modules: they use router.h. */
#ifndef MESH_ROUTER_INTERNAL_H
#define MESH_ROUTER_INTERNAL_H

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fastdp/odp_path.h"
#include "gossip/backoff.h"
#include "gossip/control.h"
#include "gossip/macs.h"
#include "gossip/topology.h"
#include "mesh/clock.h"
#include "router/gossip.h"
#include "router/mactable.h"
#include "router/netdev.h"
#include "router/ratelimit.h"
#include "router/router.h"
#include "router/routes.h"
#include "sleeve/sleeve.h"

#define FORGET_GRACE_MS (60u * 1000u)
#define HOUSEKEEPING_S 5
#define DEFAULT_CONN_LIMIT 100
#define ACCEPT_RATE_PER_S 20
#define ACCEPT_BURST 64

enum conn_state { CONN_CONNECTING, CONN_ESTABLISHED };

struct mesh_target;
struct router_gossip;
struct router_topo;
struct router_macs;
struct router_ipam;

struct mesh_conn {
	struct mesh_router *r;
	struct mesh_control *ctl;
	struct mesh_target *target;    /* outbound: the address we dialled */
	bool outbound;
	enum conn_state state;
	char addr[64];                 /* "ip:port" of the peer's control endpoint */
	uint32_t peer_ip;              /* network order: where the peer's control port is */
	uint16_t peer_port;
	struct mesh_peer_name peer;
	char nickname[64];
	uint64_t conn_id;
	uint32_t local_index;
	bool encrypted;
	bool usable;                   /* established and its sleeve is healthy */
	struct overlay_forwarder *fwd; /* the sleeve */
	struct overlay_forwarder *fast;/* the fast path, when both ends run one */
	bool fast_ok;                  /* its heartbeats pass both ways */
	bool ipam_rx;                  /* its IPAM ring arrived (ipam.c: consensus waits for it) */
	bool ipam_refused_logged;      /* its ring was refused once (logged once per connection) */
	time_t since;
	struct mesh_conn *next;
};

struct mesh_target {
	struct mesh_router *r;
	struct sockaddr_in addr;
	char addr_str[64];
	bool discovered;               /* learned from gossip, not given on the command line */
	struct mesh_peer_name peer;    /* who answered there last (zero until known) */
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
	bool tso_capable, tso_on;    /* TCP super-frames on the sleeve: possible, and in use */

	struct mesh_netdev netdev;
	struct sleeve *sleeve;
	struct overlay *ov;            /* the sleeve */
	struct mesh_fastdp *fastdp;     /* the fast path, if any */
	struct overlay *fov;
	char fastdp_why[512];          /* why there is none */
	struct event *fdb_sync;
	int bw_fd;                     /* bridgewatch.c: bridge FDB notifications */
	struct event *bw_ev;
	uint8_t *bw_buf;
	int bw_skip[3];                /* data path ports, whose entries are not containers */
	struct mesh_mactable macs;
	struct evconnlistener *listener;
	struct mesh_ratelimit accept_rl;
	uint64_t accept_refused_logged_ms;
	struct event *sweep, *drop_report, *housekeeping;
	struct sleeve_counters reported; /* drop counters as last logged */

	struct mesh_topology topo;
	struct mesh_routes routes;

	/* Each file's own state, defined in that file alone. */
	struct {
		struct router_gossip *gossip;  /* gossip.c */
		struct router_topo *topo;      /* topo.c */
		struct router_macs *macs;      /* macs.c: the MAC channel */
		struct router_ipam *ipam;      /* ipam.c */
	} own;

	struct mesh_conn *conns;
	unsigned nconns;
	struct mesh_target *targets;
	struct mesh_router_counters ctr;
	time_t started;
};

/* util.c */
void router_describe_conn(const struct mesh_conn *c, char *out, size_t cap);
/* The established connection to peer, or NULL. */
struct mesh_conn *router_conn_to(struct mesh_router *r, const struct mesh_peer_name *peer);

/* conns.c */
int router_conns_start(struct mesh_router *r, char *err, size_t errlen);
void router_conns_stop(struct mesh_router *r);
/* Connects to peers the topology knows and we have no connection to (unless --no-discovery). */
void router_discover(struct mesh_router *r);
void router_on_health_changed(void *arg, struct overlay_forwarder *fwd, enum overlay_health h,
			      const char *why);
void router_on_mtu_changed(void *arg, struct overlay_forwarder *fwd);
void router_update_mtu(struct mesh_router *r);
void router_update_tso(struct mesh_router *r);

/* fastpath.c */
int router_fastpath_start(struct mesh_router *r, char *err, size_t errlen);
void router_fastpath_stop(struct mesh_router *r);
void router_fastpath_set_mtu(struct mesh_router *r);
void router_fastpath_conn_up(struct mesh_router *r, struct mesh_conn *c,
			     const struct overlay_conn_params *p, uint8_t peer_overlays);
void router_fastpath_conn_down(struct mesh_conn *c);
void router_fastpath_control_received(struct mesh_router *r, struct mesh_conn *c,
				      const uint8_t *msg, size_t len);
void router_fastpath_sync(struct mesh_router *r);
bool router_conn_on_fastpath(const struct mesh_conn *c);
/* Whether the kernel carries our floods to child (so meshd must not send them too). */
bool router_fastpath_floods_to(struct mesh_router *r, const struct mesh_peer_name *child);
/* The Open vSwitch datapath's question: what to do with frames like m (arg is the router). */
void router_fastpath_decide(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d);
/* The overlay carrying c now, its state, and why (fills why). */
const char *router_conn_overlay(const struct mesh_router *r, const struct mesh_conn *c,
				enum overlay_health *state, char *why, size_t cap);

/* bridgewatch.c */
int router_bridgewatch_start(struct mesh_router *r, char *err, size_t errlen);
void router_bridgewatch_stop(struct mesh_router *r);

/* topo.c: the topology channel and the routes */
int router_topo_init(struct mesh_router *r);
void router_topo_free(struct mesh_router *r);
void router_topo_self_changed(struct mesh_router *r);
void router_topo_housekeeping(struct mesh_router *r);

/* macs.c */
int router_macs_init(struct mesh_router *r);
void router_macs_free(struct mesh_router *r);
void router_macs_learned_local(struct mesh_router *r, const uint8_t mac[6]);
/* One of our MACs left the bridge (its container is gone): gossip a tombstone. */
void router_macs_gone_local(struct mesh_router *r, const uint8_t mac[6]);

/* ipam.c: the mesh IPAM (gossip/ipam.h ring, router/ipam_alloc.h allocations, persisted with
 * router/ipam_store.h), its gossip channel and its API */
int router_ipam_init(struct mesh_router *r, char *err, size_t errlen);
void router_ipam_free(struct mesh_router *r);
/* Every HOUSEKEEPING_S: seeding, minority fencing, reclaim, a failed save retried. */
void router_ipam_housekeeping(struct mesh_router *r);
/* The IPAM part of the status (allocations listed when asked); "null" without IPAM. */
cJSON *router_ipam_status_json(const struct mesh_router *r, bool allocations);

/* forward.c */
void router_on_local_frame(void *arg, const struct mesh_offload *off, const uint8_t *frame,
			   size_t len);
void router_on_frame_received(void *arg, struct overlay_forwarder *fwd,
			      const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
			      const struct mesh_offload *off, const uint8_t *frame, size_t len);

#endif
