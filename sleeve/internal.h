/* sleeve/internal.h: what the sleeve's files share (sleeve.c: setup, connections, heartbeats
 * and path MTU; tx.c: TAP to datagrams; rx.c: datagrams to TAP): the buffers, the state of
 * the sleeve and of each connection, and the functions one file offers the others. Not an
 * interface outside sleeve/ (that is sleeve.h). */
#ifndef MESH_SLEEVE_INTERNAL_H
#define MESH_SLEEVE_INTERNAL_H

#include <event2/event.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <time.h>

#include "crypto/replay.h"
#include "crypto/seal.h"
#include "sleeve/codec.h"
#include "sleeve/gro.h"
#include "sleeve/pmtu.h"
#include "sleeve/sleeve.h"
#include "sleeve/tap.h"
#include "mesh/clock.h"

#define BATCH 64
#define DGRAM_MAX 65536           /* datagram buffer: a TCP super-frame travels whole */
#define TAP_READ_BUDGET 256       /* frames read from the TAP per event */
#define UDP_PAYLOAD_MAX 65507     /* 65535 - IPv4 header - UDP header */
#define SEG_MIN (576 - 28)        /* smallest wire datagram we cut a large one into */
/* fragments of one datagram, at most: the largest body in the smallest slices */
#define FRAG_MAX ((SLEEVE_REASM_MAX + ((SEG_MIN - SLEEVE_FRAG_HDR_LEN) & ~(SLEEVE_FRAG_ALIGN - 1)) - 1) / \
		  ((SEG_MIN - SLEEVE_FRAG_HDR_LEN) & ~(SLEEVE_FRAG_ALIGN - 1)))
#define GSO_SEGS_MAX 64           /* UDP_MAX_SEGMENTS of older kernels */
#define RX_HEADROOM 32            /* before each receive area: room to put a header back */
#define RX_SEG_MAX 9216           /* wire datagrams up to this size are read split */
#define RX_CHUNKS_MAX ((DGRAM_MAX + SEG_MIN - 1) / SEG_MIN)
#define TXQ_MSGS 256              /* messages per sendmmsg */
#define TXQ_IOV 1024

/* A slot's buffer, or the spare one the TAP is read into: a datagram of up to DGRAM_MAX bytes,
 * or a frame read from the TAP of up to SLEEVE_TAP_FRAME_MAX bytes at tap_at (at most
 * TAP_FRAME_AT: where the first record's frame sits in a sealed datagram). */
#define TAP_FRAME_AT (SLEEVE_HDR_LEN + MESH_SEAL_OVERHEAD + SLEEVE_REC_HDR_LEN)
#define SLOT_BUF (TAP_FRAME_AT + SLEEVE_TAP_FRAME_MAX)

struct tx_slot {
	uint8_t *buf;                 /* SLOT_BUF bytes of the sleeve's pool */
	size_t len;                   /* datagram length once closed */
	struct sleeve_fwd *fwd;       /* owner while open or queued */
	struct sleeve_batch batch;    /* records, while open */
	bool open;
	uint8_t fh[FRAG_MAX][SLEEVE_FRAG_HDR_LEN]; /* fragment headers, when cut up */
};

/* Datagrams queued for one sendmmsg: a whole datagram is one message with one iovec; a large
 * one is cut into fragments, each a fragment header and a slice of the body (two iovecs),
 * and a run of them goes as one message with UDP_SEGMENT (the kernel cuts it where the
 * fragments end: every fragment but the last has the same size). */
struct txq {
	struct mmsghdr msgs[TXQ_MSGS];
	struct iovec iov[TXQ_IOV];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[TXQ_MSGS];
	unsigned nmsg, niov;
};

/* Heartbeats sent whose acks still count, when they come in the peer's heartbeats: the last
 * SLEEVE_HB_SENT_RING of them, no older than SLEEVE_HB_ACK_FRESH_MS (so an ack the peer keeps
 * repeating because ours stopped arriving does not keep counting). */
#define SLEEVE_HB_SENT_RING 8
#define SLEEVE_HB_ACK_FRESH_MS 2500

struct sleeve_fwd {
	struct overlay_forwarder base;
	struct sleeve *s;
	struct overlay_conn_params p;
	void *conn_arg;
	uint64_t tx_ctr;
	struct mesh_replay replay;
	struct tx_slot *cur;          /* slot being filled, or NULL */
	struct event *hb_timer;
	uint64_t last_rx_ms, last_ack_ms;
	uint64_t hb_echo;
	uint64_t hb_sent_ms[SLEEVE_HB_SENT_RING]; /* when echo e went out: [e % ring] */
	uint64_t heard_echo;          /* the newest heartbeat heard from the peer, and its */
	uint16_t heard_len;           /* datagram length: acknowledged in each heartbeat we send */
	bool reads_hb_acks;           /* the peer's heartbeats carry acks: it needs no ACK datagram
				       * for a plain heartbeat (a probe still gets one) */
	enum overlay_health health;
	const char *why;
	struct sleeve_pmtu pmtu;
	struct sleeve_reasm reasm;    /* a large datagram coming in as fragments */
	uint8_t *reasm_buf;           /* allocated with the first fragment */
	uint64_t probe_sent_ms;       /* 0: no probe in flight */
	uint16_t verified;            /* largest datagram verified end to end, 0 until known */
	struct sleeve_fwd *next;
};

struct sleeve {
	struct overlay ov;
	struct event_base *base;
	struct overlay_callbacks cb;
	char tap_name[IFNAMSIZ];
	int tap_fd, udp_fd;
	int family;                   /* of udp_fd: AF_INET6 (dual-stack) or AF_INET */
	uint16_t port;
	unsigned mtu;
	struct event *tap_ev, *udp_ev;
	struct sleeve_fwd *fwds;
	struct sleeve_counters ctr;
	struct tx_slot tx[BATCH];
	uint8_t *spare;               /* the pool's buffer in no slot: the TAP is read into it */
	size_t tap_at;                /* where in it: a record's place in a datagram to our peers */
	unsigned tx_used;             /* slots 0..tx_used-1 are open or queued */
	bool gso;                     /* UDP_SEGMENT works (until the kernel refuses it) */
	bool uso_tap;                 /* the TAP takes UDP GSO frames (until it refuses one) */
	bool in_rx;                   /* in a receive round: deliveries may be coalesced */
	struct sleeve_gro gro;        /* UDP frames coalesced for one TAP write */
	struct txq txq;
	/* Receive buffers (rx_layout): read split at rx_seg, the wire size a large datagram was
	 * last seen cut into, each wire datagram's head goes to rx_hdr and the rest to the
	 * message's area, so a fragmented datagram's slices land side by side and it is opened
	 * where it lies. */
	size_t rx_seg, rx_want;       /* 0: one piece per message */
	bool rx_change;
	unsigned rx_niov;
	struct iovec rx_iov[BATCH][2 * RX_CHUNKS_MAX];
	uint8_t rx_hdr[BATCH][RX_CHUNKS_MAX][SLEEVE_FRAG_HDR_LEN];
	uint8_t rx[BATCH][RX_HEADROOM + DGRAM_MAX + RX_SEG_MAX];
	uint8_t rx_scratch[DGRAM_MAX];
	uint8_t pool[BATCH + 1][SLOT_BUF];
	uint8_t gro_buf[SLEEVE_GRO_BUF];
};

/* The length of a peer's socket address. */
static inline socklen_t sleeve_addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Whether the peer is reached over IPv6 (not an IPv4 address mapped on the dual-stack socket). */
static inline bool sleeve_peer_is_ipv6(const struct sleeve_fwd *f)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&f->p.remote_addr;
	return f->p.remote_addr.ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
}

static inline size_t payload_off(const struct sleeve_fwd *f)
{
	return SLEEVE_HDR_LEN + (f->p.encrypted ? MESH_SEAL_OVERHEAD : 0);
}

/* Datagram bytes around one frame's IP packet: header, MAC, record header, Ethernet header.
 * A datagram of size D carries an IP MTU of D - frame_overhead(f). */
static inline size_t frame_overhead(const struct sleeve_fwd *f)
{
	return payload_off(f) + SLEEVE_REC_HDR_LEN + SLEEVE_ETH_MIN;
}

/* tx.c */
size_t sleeve_finish_datagram(struct sleeve_fwd *f, uint8_t type, uint8_t *buf, size_t plen);
void sleeve_flush(struct sleeve *s);
void sleeve_send_control(struct sleeve_fwd *f, uint8_t type, uint64_t echo, uint16_t got);
int sleeve_send(struct overlay_forwarder *ofwd, const struct mesh_peer_name *src,
		const struct mesh_peer_name *dst, const struct mesh_offload *off,
		const uint8_t *frame, size_t len);
unsigned sleeve_tap_rx(struct sleeve *s);

/* rx.c */
void sleeve_rx_init(struct sleeve *s);
unsigned sleeve_udp_rx(struct sleeve *s);
int sleeve_deliver(struct overlay *ov, const struct mesh_offload *off, const uint8_t *frame,
		   size_t len);

/* sleeve.c */
/* A heartbeat answer came: the connection is healthy; `got` (the size of the heartbeat it
 * answers) may settle a path MTU probe. */
void sleeve_heartbeat_answered(struct sleeve_fwd *f, uint16_t got);
/* A HEARTBEAT of plen (8 or more) payload bytes, len bytes as a datagram, came from f's peer:
 * what it acknowledges counts, and it is acknowledged (in our next heartbeat, or at once by a
 * HEARTBEAT_ACK datagram for a probe or an older meshd's heartbeat). */
void sleeve_heartbeat_received(struct sleeve_fwd *f, const uint8_t *payload, size_t plen,
			       uint16_t len);

#endif
