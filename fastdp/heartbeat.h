/* fastdp/heartbeat.h: the fast path's heartbeat frames and their acknowledgment (DESIGN §7),
 * encoded and checked without I/O.
 *
 * A heartbeat is an Ethernet frame that meshd writes to the VXLAN device, so the kernel sends
 * it exactly as it sends container frames (same port, same encapsulation, same size):
 *   dst = heartbeat MAC of the receiver, src = heartbeat MAC of the sender,
 *   ethertype 0x88b5 (IEEE 802 local experimental), then, big endian:
 *   "MSHB"(4) version(u8 = 1) reserved(u8 = 0) sender_name(6) sender_uid(u64)
 *   receiver_uid(u64) seq(u32) frame_len(u16), then, in frames of MESH_HB_ACK_MIN_FRAME
 *   bytes or more (every real one: they are MTU-sized), ack_seq(u32) ack_frame_len(u16): the
 *   newest heartbeat the sender heard from the receiver (0 0: none yet), then zeros up to
 *   frame_len bytes in all. A receiver of version 1 without the ack fields reads them as
 *   padding, so both kinds of host mesh together.
 * frame_len is the whole frame's length as sent (MTU-sized), so a heartbeat that arrives
 * shorter is refused: a path only counts as working if it carries full-size frames.
 * The heartbeat MAC of the peer named n is 0a:6d:n[2]:n[3]:n[4]:n[5], a locally administered
 * unicast address (peer names are random, so these do not collide in practice); each router
 * points a VXLAN FDB entry for each peer's heartbeat MAC at that peer's underlay address.
 *
 * The receiver acknowledges over the TCP control connection (a MESH_MSG_OVERLAY message):
 *   overlay(u8 = MESH_OVERLAY_FASTDP) kind(u8 = 1, heartbeat ack) seq(u32) frame_len(u16)
 * and in its own next heartbeats (ack_seq above): on a lossy underlay TCP may hold an ack back
 * for seconds behind retransmissions, while the next heartbeat that gets through carries it.
 * Once a peer's heartbeats carry acks, it gets none over TCP while heartbeats pass on time: a
 * path that fails in either direction still shows at both ends (one hears nothing, the other
 * gets no ack), and a mesh of n hosts saves n·(n-1) TCP messages a second. While heartbeats
 * are lost, acks go both ways again.
 *
 * The reserved byte carries flags; bit 0, MESH_HB_FLAG_MISSING: the sender missed a heartbeat
 * or an acknowledgement of the receiver's lately. Then the receiver too sends at the lossy pace
 * (MESH_FASTDP_HEARTBEAT_LOSSY_MS) and acknowledges over TCP as well, so a path that loses packets one way is not judged by the
 * few heartbeats of an end that sees nothing wrong (a receiver that ignores the bit, as before
 * it was defined, still meshes). */
#ifndef MESH_FASTDP_HEARTBEAT_H
#define MESH_FASTDP_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesh/peer.h"

#define MESH_HB_ETHERTYPE 0x88b5
#define MESH_HB_MAGIC "MSHB"
#define MESH_HB_VERSION 1
#define MESH_HB_HDR_LEN 14
#define MESH_HB_MIN_LEN (MESH_HB_HDR_LEN + 34)   /* header + fields: 48 bytes */
#define MESH_HB_ACK_MIN_FRAME (MESH_HB_MIN_LEN + 6) /* room for ack_seq and ack_frame_len */
#define MESH_HB_MAX_LEN 65535
#define MESH_HB_ACK_KIND 1
#define MESH_HB_ACK_LEN 8
#define MESH_HB_FLAG_MISSING 0x01

#define MESH_FASTDP_HEARTBEAT_FAST_MS 500  /* until the path is healthy */
#define MESH_FASTDP_HEARTBEAT_LOSSY_MS 250 /* healthy, while either end misses one */
#define MESH_FASTDP_HEARTBEAT_LATE_MS 250  /* a heartbeat or acknowledgement later than this is taken as lost */
#define MESH_FASTDP_HEARTBEAT_MS 1000

struct mesh_heartbeat {
	struct mesh_peer_name sender;
	uint64_t sender_uid, receiver_uid;
	uint8_t flags;       /* MESH_HB_FLAG_* */
	uint32_t seq;
	uint16_t frame_len;
	/* the newest heartbeat heard from the receiver; 0 0 when none, or when frame_len is
	 * below MESH_HB_ACK_MIN_FRAME (encode then leaves them out, decode reads 0 0) */
	uint32_t ack_seq;
	uint16_t ack_frame_len;
};

struct mesh_heartbeat_ack {
	uint32_t seq;
	uint16_t frame_len;
};

/* The heartbeat MAC of the peer with this name. */
void mesh_hb_mac(const struct mesh_peer_name *peer, uint8_t mac[6]);

/* Writes a heartbeat to peer `receiver`, hb->frame_len bytes long (MESH_HB_MIN_LEN..cap).
 * Returns the length or -EINVAL. */
ssize_t mesh_hb_encode(const struct mesh_heartbeat *hb, const struct mesh_peer_name *receiver,
		       uint8_t *out, size_t cap);
/* Checks a received frame: addressed to our heartbeat MAC, from the heartbeat MAC of the
 * sender it names, our magic and version, and exactly frame_len bytes long. Returns 0, or
 * -EBADMSG with *why saying what is wrong. */
int mesh_hb_decode(const uint8_t *frame, size_t len, const struct mesh_peer_name *us,
		   struct mesh_heartbeat *out, const char **why);

/* One connection's heartbeat clock, as the pace functions below read it (times in ms of a
 * monotonic clock, 0: never). */
struct mesh_hb_pace {
	bool healthy;             /* the fast path counts as working */
	uint64_t last_heard_ms;   /* the newest heartbeat from the peer arrived */
	uint64_t last_ack_ms;     /* the peer's newest acknowledgement of ours arrived */
	bool peer_missing;        /* the peer's newest heartbeat had MESH_HB_FLAG_MISSING */
	bool peer_reads_acks;     /* the peer's heartbeats carry acks (so it reads ours there) */
};

/* Whether we missed one of the peer's heartbeats or acknowledgements lately: one later than
 * MESH_FASTDP_HEARTBEAT_MS + MESH_FASTDP_HEARTBEAT_LATE_MS counts as lost (and until the path
 * is healthy, everything does). Sent to the peer as MESH_HB_FLAG_MISSING. */
bool mesh_hb_missing(const struct mesh_hb_pace *p, uint64_t now_ms);
/* When mesh_hb_missing turns true if nothing more arrives: the time (ms) the older of the last
 * heartbeat and ack becomes late; 0 when it already is (or the path is not healthy). The timer
 * wakes then, so that lateness is noticed (and told, and the pace raised) at once instead of
 * at the next heartbeat of the 1 s pace. */
uint64_t mesh_hb_late_at(const struct mesh_hb_pace *p);
/* Milliseconds to the next heartbeat: MESH_FASTDP_HEARTBEAT_FAST_MS until the path is
 * healthy; then MESH_FASTDP_HEARTBEAT_MS while neither end misses anything, else
 * MESH_FASTDP_HEARTBEAT_LOSSY_MS, so that the 3.5 s before "unhealthy" hold about ten
 * tries after the 1.25 s it takes to notice a loss (mesh_hb_late_at), not three: at 20 % loss each way a heartbeat and the ack in the answer pass with
 * p = 0.64, and four tries all fail with p = 2 % (a fall to the sleeve every minute or two
 * among three connections: CI saw two on one in a minute), ten with p = 4e-5. */
unsigned mesh_hb_interval_ms(const struct mesh_hb_pace *p, uint64_t now_ms);
/* Whether a heartbeat that just arrived is acknowledged over TCP as well as in our next
 * heartbeat: for a peer that does not read acks in heartbeats, and while either end misses
 * something (then a lost heartbeat with our ack in it is not the only way back). */
bool mesh_hb_ack_over_tcp(const struct mesh_hb_pace *p, uint64_t now_ms);

/* The MESH_MSG_OVERLAY payload acknowledging a heartbeat: MESH_HB_ACK_LEN bytes. */
void mesh_hb_ack_encode(const struct mesh_heartbeat_ack *ack, uint8_t out[MESH_HB_ACK_LEN]);
/* Parses such a payload (the overlay byte included). 0 or -EBADMSG with *why. */
int mesh_hb_ack_decode(const uint8_t *p, size_t len, struct mesh_heartbeat_ack *out,
		       const char **why);

#endif
