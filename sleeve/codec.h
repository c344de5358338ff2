/* sleeve/codec.h: the sleeve datagram format (DESIGN §7), pure encode/decode.
 *
 *   header (16 bytes, in clear):
 *     type u8 | flags u8 | sender short id u16 BE | receiver index u32 BE | counter u64 BE
 *   payload: sealed (flags & SLEEVE_F_SEALED) with crypto_secretbox under the connection's
 *   sleeve key; nonce = counter ‖ the first 8 header bytes, so a changed header fails to open.
 *   A FRAMES payload is one or more records:
 *     length u16 BE (of the Ethernet frame) | src peer (6) | dst peer (6, zero = flooded) |
 *     offload (10: flags u8, gso_type u8, hdr_len, gso_size, csum_start, csum_offset u16 BE;
 *     all zero for a plain frame, else a TCP super-frame and/or a checksum to complete) | frame
 *   A HEARTBEAT / HEARTBEAT_ACK payload is the sender's 8-byte echo value (u64 BE). A plain
 *   HEARTBEAT (SLEEVE_HB_PLEN bytes) then carries the newest heartbeat the sender heard from
 *   the receiver: its echo (u64 BE, 0: none yet) and datagram length (u16 BE), so the receiver
 *   needs no HEARTBEAT_ACK datagram for it; a HEARTBEAT of 8 bytes (an older meshd) gets one,
 *   as does a larger one, a path MTU probe (zero padding after the echo).
 *
 *   A FRAMES datagram larger than the path (a TCP super-frame of up to 64 KB) travels as
 *   FRAGMENT datagrams, each no larger than the path, sent together with one UDP_SEGMENT
 *   sendmsg and usually received together through UDP_GRO:
 *     the whole datagram's 16-byte header with type FRAGMENT (flags, short id, index and
 *     counter as in the whole) | offset u16 BE | total u16 BE | a slice of the whole's body
 *   The body (everything after the whole's header, i.e. MAC and sealed payload, or the plain
 *   payload) is cut into slices of one size, a multiple of 8 bytes, but the last; `offset`
 *   is the slice's place in the body, `total` the body's length. The receiver puts the
 *   slices back together (one datagram in progress per connection; a newer counter drops
 *   it, and it is dropped SLEEVE_REASM_AGE_MS after its first fragment; a fragment whose
 *   counter is more than the replay window beyond the newest authenticated one never starts
 *   one, so a forged fragment cannot hold the reassembly for long), restores type FRAMES in the header and handles the whole as if it had come in one
 *   datagram: the counter, the replay window and the seal (nonce from the FRAMES header)
 *   are the whole's, so the fragment headers need no seal of their own: a forged one only
 *   makes the whole fail to open. One seal per super-frame, not per fragment: a lost
 *   fragment loses the whole super-frame, as a lost IP fragment did before. */
#ifndef MESH_SLEEVE_CODEC_H
#define MESH_SLEEVE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/replay.h"
#include "mesh/overlay.h"
#include "mesh/peer.h"

#define SLEEVE_HDR_LEN 16
#define SLEEVE_OFFLOAD_LEN 10
#define SLEEVE_REC_HDR_LEN (2 + 2 * MESH_PEER_NAME_LEN + SLEEVE_OFFLOAD_LEN)
#define SLEEVE_ETH_MIN 14
#define SLEEVE_F_SEALED 0x01
#define SLEEVE_FRAG_HDR_LEN (SLEEVE_HDR_LEN + 4)
#define SLEEVE_FRAG_ALIGN 8
/* Largest body of a datagram put back together (a whole datagram is at most 64 KiB). */
#define SLEEVE_REASM_MAX (65536 - SLEEVE_HDR_LEN)
/* A datagram's fragments leave in one send: one not complete this long after its first
 * fragment never will be (or was forged), and gives way to any other. */
#define SLEEVE_REASM_AGE_MS 100

#define SLEEVE_HB_PLEN 18 /* a plain heartbeat's payload: echo, acked echo, acked length */

enum sleeve_type {
	SLEEVE_FRAMES = 1,
	SLEEVE_HEARTBEAT = 2,
	SLEEVE_HEARTBEAT_ACK = 3,
	SLEEVE_FRAGMENT = 4,
};

struct sleeve_hdr {
	uint8_t type, flags;
	uint16_t short_id;
	uint32_t index;
	uint64_t counter;
};

void sleeve_hdr_encode(const struct sleeve_hdr *h, uint8_t out[SLEEVE_HDR_LEN]);
/* 0, or -EBADMSG for a short datagram, an unknown type or unknown flags. */
int sleeve_hdr_decode(const uint8_t *buf, size_t len, struct sleeve_hdr *h);

/* Appends frame records to a payload buffer. */
struct sleeve_batch {
	uint8_t *buf;
	size_t cap, len;
	unsigned frames;
};

void sleeve_batch_init(struct sleeve_batch *b, uint8_t *buf, size_t cap);
/* off may be NULL (a plain frame). A frame already where its record puts it (just after the
 * record header at the end of the batch) is not copied. 0, -ENOSPC when the record does not fit in what is left,
 * -EINVAL for a frame shorter than an Ethernet header or longer than 65535. */
int sleeve_batch_add(struct sleeve_batch *b, const struct mesh_peer_name *src,
		     const struct mesh_peer_name *dst, const struct mesh_offload *off,
		     const uint8_t *frame, size_t len);

struct sleeve_frame {
	struct mesh_peer_name src, dst;
	struct mesh_offload off;
	const uint8_t *data;
	size_t len;
};

struct sleeve_frame_iter {
	const uint8_t *p;
	size_t left;
};

void sleeve_frames_begin(struct sleeve_frame_iter *it, const uint8_t *payload, size_t len);
/* 1: *f is the next frame; 0: end; -EBADMSG: truncated record or a runt frame (the datagram
 * is then malformed; frames already returned were well-formed). */
int sleeve_frames_next(struct sleeve_frame_iter *it, struct sleeve_frame *f);

/* The smallest gso_size taken from a peer: the smallest TCP MSS Linux sends (TCP_MIN_SND_MSS),
 * which bounds a 64 KB super-frame to some 1400 segments. */
#define SLEEVE_GSO_SIZE_MIN 48

/* Whether a record's offload state (a peer's virtio-net header) is one our TAP may be given
 * with a frame of len bytes: known flags (NEEDS_CSUM, DATA_VALID) and gso_type (none, TCPv4,
 * TCPv6, ECN only with TCP, UDP_L4), hdr_len within the frame; with NEEDS_CSUM the checksum
 * field (csum_start + csum_offset + 2) within the frame and csum_start past the Ethernet
 * header; a GSO frame with NEEDS_CSUM and gso_size from SLEEVE_GSO_SIZE_MIN to len. Pure; 0
 * or -EBADMSG. */
int sleeve_offload_check(const struct mesh_offload *o, size_t len);

/* One fragment: the header of the whole (type FRAGMENT), where its slice goes, the body's
 * length. */
struct sleeve_frag {
	struct sleeve_hdr h;
	uint16_t offset, total;
};

/* Writes the fragment header for a slice at `offset` of a body of `total` bytes of the
 * datagram whose header is `whole` (whose type is ignored). */
void sleeve_frag_encode(const struct sleeve_hdr *whole, uint16_t offset, uint16_t total,
			uint8_t out[SLEEVE_FRAG_HDR_LEN]);
/* Decodes a FRAGMENT datagram of len bytes; its slice is buf + SLEEVE_FRAG_HDR_LEN, len -
 * SLEEVE_FRAG_HDR_LEN bytes. 0, or -EBADMSG: short, not a FRAGMENT, empty slice, a slice
 * outside the body, an offset not a multiple of SLEEVE_FRAG_ALIGN, or a body above
 * SLEEVE_REASM_MAX. */
int sleeve_frag_decode(const uint8_t *buf, size_t len, struct sleeve_frag *f);

/* Fragments read together (one UDP_GRO read), their n headers apart (hdrs) and their slices
 * already side by side in one buffer: each `slice` bytes but the last, `last` bytes. Returns
 * true when they are exactly all of one whole datagram, in order (the usual case: a sender
 * cuts a datagram into one UDP_SEGMENT send, which arrives as one read); the body is then
 * the buffer's first *total bytes and *whole the whole's header (type FRAMES). False for
 * anything else (they then go through sleeve_reasm one by one). Pure. */
bool sleeve_frags_whole(const uint8_t (*hdrs)[SLEEVE_FRAG_HDR_LEN], size_t n, size_t slice,
			size_t last, struct sleeve_hdr *whole, size_t *total);

/* Puts one whole datagram back together from its fragments (pure; the caller owns buf, of
 * SLEEVE_HDR_LEN + SLEEVE_REASM_MAX bytes). Coverage is tracked per SLEEVE_FRAG_ALIGN bytes,
 * so repeated and overlapping slices are recognized. */
struct sleeve_reasm {
	uint8_t *buf;
	bool active;
	struct sleeve_hdr h;      /* of the datagram in progress (type FRAMES) */
	uint16_t total;
	uint32_t got;             /* body bytes in place */
	uint64_t started_ms;      /* monotonic ms of its first fragment */
	uint64_t have[SLEEVE_REASM_MAX / SLEEVE_FRAG_ALIGN / 64 + 1];
};

void sleeve_reasm_init(struct sleeve_reasm *r, uint8_t *buf);
/* Adds a fragment (already decoded, with its slice) that came at now_ms (monotonic), on the
 * connection whose replay window is win (the caller has checked the counter against it).
 * Returns SLEEVE_HDR_LEN + total once the whole is complete (it is then at r->buf, header
 * with type FRAMES, and r is idle again); 0 while incomplete or for a repeated slice;
 * -ERANGE for a counter far ahead of the window (mesh_replay_far_ahead; nothing changed);
 * -ESTALE for a fragment of an older datagram than the one in progress, unless that one is
 * older than SLEEVE_REASM_AGE_MS (it is then dropped and this one starts); -EBADMSG for a
 * fragment that contradicts the one in progress (same counter, other header or total, or a
 * slice overlapping part of one already in). */
int sleeve_reasm_add(struct sleeve_reasm *r, const struct sleeve_frag *f, const uint8_t *slice,
		     size_t len, const struct mesh_replay *win, uint64_t now_ms);

#endif
