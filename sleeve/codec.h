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
 *   A HEARTBEAT / HEARTBEAT_ACK payload is the sender's 8-byte echo value (u64 BE). */
#ifndef MESH_SLEEVE_CODEC_H
#define MESH_SLEEVE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/overlay.h"
#include "mesh/peer.h"

#define SLEEVE_HDR_LEN 16
#define SLEEVE_OFFLOAD_LEN 10
#define SLEEVE_REC_HDR_LEN (2 + 2 * MESH_PEER_NAME_LEN + SLEEVE_OFFLOAD_LEN)
#define SLEEVE_ETH_MIN 14
#define SLEEVE_F_SEALED 0x01

enum sleeve_type {
	SLEEVE_FRAMES = 1,
	SLEEVE_HEARTBEAT = 2,
	SLEEVE_HEARTBEAT_ACK = 3,
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
/* off may be NULL (a plain frame). 0, -ENOSPC when the record does not fit in what is left,
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

#endif
