/* router/gossip.h: the router's gossip hub (router/gossip.c). Each gossip channel (topology,
 * MACs, IPAM; ids in gossip/wire.h) is one struct router_channel: how to encode its full
 * state and what changed, how to merge what arrives. The hub does the rest for every channel
 * alike: the channel byte, sending and counting, coalescing changes into one flush per event
 * loop turn, the full state for a new connection, the periodic full state every
 * ROUTER_GOSSIP_FULL_S (to every connection, or with ROUTER_CHANNEL_FANOUT to ~2·log2(n)
 * random neighbours), and dispatch of received messages. It also carries the few notices
 * that go up from one part of the router to another (enum router_gossip_event), so that no
 * router file calls a file that calls it. */
#ifndef MESH_ROUTER_GOSSIP_H
#define MESH_ROUTER_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "gossip/wire.h"

#define ROUTER_GOSSIP_FULL_S 30

struct mesh_router;
struct mesh_conn;
struct router_gossip_out;

enum router_full {
	ROUTER_FULL_ONE,      /* to one connection: a new one, or one that needs it */
	ROUTER_FULL_PERIODIC, /* the periodic round that heals lost updates */
};

/* Periodic full state to ~2·log2(n) random neighbours (n: peers in the topology) instead of
 * every connection. */
#define ROUTER_CHANNEL_FANOUT 0x1u

struct router_channel {
	enum mesh_gossip_channel id;
	unsigned flags;
	/* The channel's full state, as messages given to router_gossip_emit. Optional (NULL: a
	 * channel that only answers what it receives). */
	void (*encode_full)(struct mesh_router *r, enum router_full why,
			    struct router_gossip_out *out);
	/* What changed since router_gossip_changed asked for a flush (may emit nothing).
	 * Optional (NULL: the channel never calls router_gossip_changed). */
	void (*encode_delta)(struct mesh_router *r, struct router_gossip_out *out);
	/* One message of this channel from c (without the channel byte). */
	void (*merge)(struct mesh_router *r, struct mesh_conn *c, const uint8_t *msg, size_t len);
	/* Optional: c was established; called before its full state goes out. */
	void (*conn_up)(struct mesh_router *r, struct mesh_conn *c);
};

int router_gossip_init(struct mesh_router *r);
void router_gossip_free(struct mesh_router *r);
/* Adds a channel (ch lives as long as the router). 0 or -EEXIST/-EINVAL. */
int router_gossip_add_channel(struct mesh_router *r, const struct router_channel *ch);

/* How the hub's messages leave: by default mesh_control_send on the connection's control
 * channel (MESH_MSG_GOSSIP); the simulator (tests/sim/) sets its own, which carries msg (channel
 * byte first) over a simulated link. 0 or a negative errno. */
typedef int (*router_gossip_transport)(struct mesh_conn *c, const uint8_t *msg, size_t len);
/* fn, or NULL for the control channel again. */
void router_gossip_set_transport(struct mesh_router *r, router_gossip_transport fn);

/* Puts one message (the channel's encoding, without the channel byte) on its way to where
 * the hub is sending. */
void router_gossip_emit(struct router_gossip_out *out, const uint8_t *msg, size_t len);
/* The one connection out sends to (encode_full's ROUTER_FULL_ONE), or NULL. */
struct mesh_conn *router_gossip_out_conn(const struct router_gossip_out *out);
/* The channel has changes: its encode_delta runs once at the end of this event loop turn. */
void router_gossip_changed(struct mesh_router *r, enum mesh_gossip_channel id);
/* The channel's full state to c alone. */
void router_gossip_full_to(struct mesh_router *r, enum mesh_gossip_channel id, struct mesh_conn *c);
/* One message of the channel to c alone. 0 or a negative errno. */
int router_gossip_send_to(struct mesh_router *r, enum mesh_gossip_channel id, struct mesh_conn *c,
			  const uint8_t *msg, size_t len);

/* The channel's periodic round now, out of turn (as every ROUTER_GOSSIP_FULL_S). */
void router_gossip_round(struct mesh_router *r, enum mesh_gossip_channel id);
/* c was established: every channel's conn_up, then its full state. */
void router_gossip_conn_up(struct mesh_router *r, struct mesh_conn *c);
/* A MESH_MSG_GOSSIP message from c (channel byte first). */
void router_gossip_received(struct mesh_router *r, struct mesh_conn *c, const uint8_t *p, size_t len);

/* Notices from the topology to the parts of the router that keep things per peer. */
enum router_gossip_event {
	ROUTER_EV_PEERS_CHANGED, /* gossip taught us peers or connections (discovery) */
	ROUTER_EV_PEERS_GONE,    /* peers left the topology (what we keep of them goes) */
	ROUTER_EV_MAX
};
typedef void (*router_gossip_handler)(struct mesh_router *r);
/* fn runs at every post of ev, in the order of subscription. 0 or -ENOSPC. */
int router_gossip_subscribe(struct mesh_router *r, enum router_gossip_event ev,
			    router_gossip_handler fn);
void router_gossip_post(struct mesh_router *r, enum router_gossip_event ev);

#endif
