/* gossip/frame.h: the control connection's message frames (DESIGN §4.4): a u32 BE length,
 * then the body; with a password the body is crypto_secretbox sealed under the direction's
 * TCP key with an implicit 64-bit counter nonce (TCP keeps order, so counters are not sent).
 * Pure: the caller owns buffers and I/O. */
#ifndef MESH_GOSSIP_FRAME_H
#define MESH_GOSSIP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/psk.h"
#include "gossip/wire.h"

struct mesh_frame_chan {
	bool sealed;
	uint8_t tx_key[MESH_KEY_LEN], rx_key[MESH_KEY_LEN];
	uint64_t tx_ctr, rx_ctr;
};

/* Bytes on the wire for a message (type byte + payload) of msg_len bytes. */
size_t mesh_frame_size(const struct mesh_frame_chan *c, size_t msg_len);

/* Writes the frame for msg into out. Returns its size, or -EMSGSIZE when the body would be
 * larger than MESH_FRAME_MAX or out is too small. Advances tx_ctr when sealed. */
ssize_t mesh_frame_seal(struct mesh_frame_chan *c, const uint8_t *msg, size_t msg_len,
			uint8_t *out, size_t cap);

/* Looks at the start of a received stream: 0 when more bytes are needed, else the total size
 * of the first frame (header included) once all of it is there; -EMSGSIZE for a length over
 * MESH_FRAME_MAX, -EBADMSG for a body too short to hold a message. */
ssize_t mesh_frame_peek(const struct mesh_frame_chan *c, const uint8_t *buf, size_t len);

/* Opens a complete frame of flen bytes in place; *msg and *msg_len point at the message
 * (type byte first) inside buf. Returns 0 or -EBADMSG when authentication fails. */
int mesh_frame_open(struct mesh_frame_chan *c, uint8_t *buf, size_t flen, uint8_t **msg,
		    size_t *msg_len);

#endif
