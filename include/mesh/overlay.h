/* include/mesh/overlay.h: the interface both data paths (sleeve, fastdp) offer the router
 * (DESIGN §2). The router asks an overlay to carry frames to a peer over one connection and
 * gets received frames and health changes back through callbacks; it never branches on which
 * overlay carries a connection. */
#ifndef MESH_OVERLAY_H
#define MESH_OVERLAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/peer.h"

struct overlay_ops;

/* Overlay ids: bits of HELLO's overlays offered (gossip/wire.h), and the first byte of an
 * overlay control message (MESH_MSG_OVERLAY). */
enum mesh_overlay_bit {
	MESH_OVERLAY_SLEEVE = 0x01,
	MESH_OVERLAY_FASTDP = 0x02,
};

/* Offload state of a frame, as the kernel hands it over with the TAP's virtio-net header
 * (host byte order): a checksum the receiver's kernel still has to complete, and/or a TCP
 * super-frame (GSO) of many MSS-sized segments that the kernel splits only where it must.
 * All zero for a plain frame. Carried with the frame end to end so that a 64 KB TCP burst
 * crosses the mesh as one frame. */
struct mesh_offload {
	uint8_t flags;       /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;    /* VIRTIO_NET_HDR_GSO_* */
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

static inline bool mesh_offload_is_gso(const struct mesh_offload *o)
{
	return o && o->gso_type != 0;
}

/* One data path instance (e.g. the sleeve of this router); embedded first in its owner. */
struct overlay {
	const struct overlay_ops *ops;
};

/* That data path's state for one connection to one peer; embedded first in its owner. */
struct overlay_forwarder {
	struct overlay *ov;
};

/* What a connection hands its overlay when it starts a forwarder. Keys are all-zero and
 * `encrypted` false when the mesh runs without a password. */
struct overlay_conn_params {
	struct mesh_peer_name local, remote;
	uint16_t local_short_id, remote_short_id;
	uint32_t local_index;   /* index the remote puts in datagrams it sends us */
	uint32_t remote_index;  /* index we put in datagrams we send it */
	struct sockaddr_storage remote_addr; /* the peer's overlay (UDP) address */
	uint64_t local_uid, remote_uid;      /* this run of each router (HELLO uid) */
	bool encrypted;
	uint8_t tx_key[32], rx_key[32];             /* the sleeve's */
	uint8_t ipsec_tx_key[32], ipsec_rx_key[32]; /* the fast path's (kernel IPsec) */
};

enum overlay_health {
	OVERLAY_HEALTH_CONNECTING = 0, /* no heartbeat answered yet */
	OVERLAY_HEALTH_HEALTHY,
	OVERLAY_HEALTH_UNHEALTHY,      /* heartbeats stopped */
};

/* Callbacks from an overlay into its owner (the router). */
struct overlay_callbacks {
	/* A frame from `src` (peer) to `dst` (peer, or all-zero for flooded frames) arrived on fwd.
	 * The buffer is only valid during the call. */
	void (*frame_received)(void *arg, struct overlay_forwarder *fwd,
			       const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
			       const struct mesh_offload *off, const uint8_t *frame, size_t len);
	/* A frame read from the local side (TAP) that the router must decide about. */
	void (*local_frame)(void *arg, const struct mesh_offload *off, const uint8_t *frame,
			    size_t len);
	void (*health_changed)(void *arg, struct overlay_forwarder *fwd,
			       enum overlay_health health, const char *why);
	/* The MTU fwd can carry (ops->mtu) changed, e.g. a path MTU was verified. */
	void (*mtu_changed)(void *arg, struct overlay_forwarder *fwd);
	/* fwd asks the owner to send msg to the peer over the connection's TCP control channel
	 * (a MESH_MSG_OVERLAY message; msg[0] names the overlay). May be NULL. */
	void (*control_send)(void *arg, struct overlay_forwarder *fwd, const uint8_t *msg,
			     size_t len);
	void *arg;
};

struct overlay_ops {
	const char *name;
	struct overlay_forwarder *(*start)(struct overlay *ov, const struct overlay_conn_params *p,
					   void *conn_arg);
	void (*stop)(struct overlay_forwarder *fwd);
	/* Queue one frame for the peer; frames queued in one event loop turn go out batched.
	 * NULL for a kernel data path (fastdp), which forwards frames without the router. */
	int (*send)(struct overlay_forwarder *fwd, const struct mesh_peer_name *src,
		    const struct mesh_peer_name *dst, const struct mesh_offload *off,
		    const uint8_t *frame, size_t len);
	/* Write a frame to the local side (TAP / bridge port). NULL for a kernel data path. */
	int (*deliver)(struct overlay *ov, const struct mesh_offload *off, const uint8_t *frame,
		       size_t len);
	enum overlay_health (*health)(const struct overlay_forwarder *fwd, const char **why);
	unsigned (*mtu)(const struct overlay_forwarder *fwd);
	void *(*conn_arg)(const struct overlay_forwarder *fwd);
	/* A MESH_MSG_OVERLAY message for this overlay arrived from the peer over TCP. May be
	 * NULL (the overlay sends none). Returns 0 or -EBADMSG with *why. */
	int (*control_received)(struct overlay_forwarder *fwd, const uint8_t *msg, size_t len,
				const char **why);
};

#endif
