/* router/internal.h: what the files that make up the router share: the state in struct
 * mesh_router (identity, overlays, published state with one writer each), the connection, and
 * each file's entry points. Who calls whom: router.c sets up and calls every part; conns.c
 * calls topo.c and fastpath.c; forward.c, bridgewatch.c and status.c call macs.c, fastpath.c
 * and ipam.c; the channels (topo.c, macs.c, ipam.c) call the gossip hub (gossip.c); kube.c
 * (the Kubernetes API client) hands its watches' events to netpol.c (NetworkPolicy) and
 * kube_nodes.c (peers from Nodes), which calls conns.c and ipam.c; ipam.c tells netpol.c which
 * pod an address went to; all may call util.c; nothing calls back up but through the hub. Not
 * for other modules: they use router.h. */
#ifndef MESH_ROUTER_INTERNAL_H
#define MESH_ROUTER_INTERNAL_H

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fastdp/fastdp.h"
#include "gossip/backoff.h"
#include "gossip/control.h"
#include "gossip/macs.h"
#include "gossip/topology.h"
#include "mesh/clock.h"
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
struct router_core;
struct router_gossip;
struct router_conns;
struct router_topo;
struct router_macs;
struct router_ipam;
struct router_expose;
struct router_fastpath;
struct router_bridgewatch;
struct router_kube;
struct router_kube_nodes;
struct router_netpol;

struct mesh_conn {
	struct mesh_router *r;
	struct mesh_control *ctl;
	struct mesh_target *target;    /* outbound: the address we dialled */
	bool outbound;
	bool unauth;                   /* inbound, in its handshake: holds an unauth.h slot */
	struct mesh_addr src;          /* inbound: the address it came from */
	enum conn_state state;
	char addr[64];                 /* "ip:port" of the peer's control endpoint */
	struct mesh_addr peer_addr;    /* where the peer's control port is (port: peer_port) */
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
	struct mesh_ratelimit ipam_request_rl; /* its IPAM space requests (ipam.c) */
	uint64_t ipam_request_logged_ms; /* when a refused request was last logged (ipam.c) */
	time_t since;
	char refused_why[MESH_REFUSED_MAX + 1]; /* the peer's MESH_MSG_REFUSED, if it sent one */
	bool said_full;                /* inbound: our HELLO said we refuse it (conns.c) */
	uint32_t peer_features;        /* its HELLO's MESH_HELLO_FEATURES (enum mesh_feature) */
	char range6_conflict[MESH_IPAM6_CIDRLEN]; /* the peer's --ipalloc-range6 when it is not
						   * ours ("" when the same, or either is off) */
	struct mesh_conn *next;
};

struct mesh_target {
	struct mesh_router *r;
	struct mesh_addr addr;         /* with its port */
	char addr_str[MESH_ADDR_STRLEN];
	bool discovered;               /* learned from gossip, not given on the command line */
	bool unvouched;                /* discovered from the entry of a peer we could not reach */
	struct mesh_peer_name peer;    /* who answered there last (zero until known) */
	struct mesh_backoff backoff;
	struct event *timer;
	struct mesh_conn *conn;        /* the attempt or connection in progress, if any */
	char last_error[192];
	time_t next_retry;             /* 0: none scheduled */
	bool standby;                  /* not dialled: a partial mesh, enough connections (conns.c) */
	unsigned attempts;
	struct mesh_target *next;
};

/* What the parts of the router share. Identity and overlays are set up by router.c; each piece
 * of published state has one writer, named beside it, and is only read elsewhere. Everything
 * else a file keeps is in its own struct under `own`, defined in that file alone. */
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
	bool has_psk_alt;              /* a second password accepted (password change under way) */
	uint8_t psk_alt[MESH_KEY_LEN];
	time_t started;
	unsigned mtu;                  /* the bridge's (conns.c) */
	bool tso_capable, tso_on;      /* TCP super-frames on the sleeve: possible, and in use */

	/* the overlays and the links (router.c, fastpath.c) */
	struct mesh_netdev netdev;
	struct sleeve *sleeve;
	struct overlay *ov;            /* the sleeve */
	struct mesh_fastdp *fastdp;    /* the fast path, if any */
	struct overlay *fov;

	/* published state */
	struct mesh_topology topo;     /* topo.c */
	struct mesh_routes routes;     /* topo.c */
	struct mesh_mactable macs;     /* macs.c */
	struct mesh_conn *conns;       /* conns.c */
	unsigned nconns;
	struct mesh_target *targets;   /* conns.c */
	struct mesh_router_counters ctr; /* each counter by the file that counts it */

	struct {
		struct router_core *router;    /* router.c */
		struct router_gossip *gossip;  /* gossip.c */
		struct router_conns *conns;    /* conns.c */
		struct router_topo *topo;      /* topo.c */
		struct router_macs *macs;      /* macs.c */
		struct router_ipam *ipam;      /* ipam.c */
		struct router_expose *expose;  /* expose.c */
		struct router_fastpath *fastpath; /* fastpath.c */
		struct router_bridgewatch *bridgewatch; /* bridgewatch.c */
		struct router_kube *kube;      /* kube.c */
		struct router_kube_nodes *kube_nodes; /* kube_nodes.c */
		struct router_netpol *netpol;  /* netpol.c */
	} own;
};

/* router.c: the core of a router (identity, the gossip hub, the topology, MAC and IPAM
 * channels, the housekeeping timer): what mesh_router_new builds before any socket, device or
 * netlink, and what the simulator (tests/sim/) runs alone. NULL with err filled in. */
struct mesh_router *router_core_new(struct event_base *base, const struct mesh_config *cfg,
				   const struct mesh_peer_name *name, const uint8_t *psk,
				   char *err, size_t errlen);
/* Frees what router_core_new built, and r (its connections must be gone). */
void router_core_free(struct mesh_router *r);

/* util.c */
void router_describe_conn(const struct mesh_conn *c, char *out, size_t cap);
/* The established connection to peer, or NULL. */
struct mesh_conn *router_conn_to(struct mesh_router *r, const struct mesh_peer_name *peer);
/* This host's Kubernetes Node name: --node-name, else the nickname. */
const char *router_node_name(const struct mesh_router *r);

/* conns.c */
int router_conns_start(struct mesh_router *r, char *err, size_t errlen);
void router_conns_stop(struct mesh_router *r);
/* How many peers learned through gossip this router dials at most; *partial: whether the mesh
 * has more peers than --conn-limit (then a third of it). */
unsigned router_conns_dial_limit(const struct mesh_router *r, bool *partial);
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
/* Why no fast path runs ("" when one does). */
const char *router_fastpath_why(const struct mesh_router *r);
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
/* Learns that mac is at peer `at` (a frame from there, or our bridge when at is us, on bridge
 * port `port` (ifindex, 0 when not known): then it is announced if new or moved). The
 * MESH_MAC_* result of mesh_mactable_learn_port; a refusal by the table's bounds is logged. */
int router_macs_learn(struct mesh_router *r, const uint8_t mac[6], const struct mesh_peer_name *at,
		      uint32_t port);
/* One of our MACs left the bridge (its container is gone): gossip a tombstone. */
void router_macs_gone_local(struct mesh_router *r, const uint8_t mac[6]);

/* ipam.c: the mesh IPAM (gossip/ipam.h ring, router/ipam_alloc.h allocations, persisted with
 * router/ipam_store.h), its gossip channel and its API */
int router_ipam_init(struct mesh_router *r, char *err, size_t errlen);
void router_ipam_free(struct mesh_router *r);
/* Every HOUSEKEEPING_S: seeding, minority fencing, reclaim, a failed save retried. */
void router_ipam_housekeeping(struct mesh_router *r);
/* peer's host is gone for good (its Node object was deleted): its space is reclaimed as soon
 * as it is unreachable (by the heir of the reachable majority), not after
 * --ipam-reclaim-after; it is taken off that list if it becomes reachable again. */
void router_ipam_peer_removed(struct mesh_router *r, const struct mesh_peer_name *peer);
/* The IPAM part of the status (allocations listed when asked); "null" without IPAM. */
cJSON *router_ipam_status_json(const struct mesh_router *r, bool allocations);

/* forward.c */
void router_on_local_frame(void *arg, const struct mesh_offload *off, const uint8_t *frame,
			   size_t len);
void router_on_frame_received(void *arg, struct overlay_forwarder *fwd,
			      const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
			      const struct mesh_offload *off, const uint8_t *frame, size_t len);

#endif
