/* gossip/frame.c: length-prefixed, optionally sealed control frames (see frame.h). */
#include <errno.h>
#include <string.h>

#include "crypto/seal.h"
#include "gossip/frame.h"
#include "gossip/tlv.h"

static size_t overhead(const struct mesh_frame_chan *c)
{
	return c->sealed ? MESH_SEAL_OVERHEAD : 0;
}

size_t mesh_frame_size(const struct mesh_frame_chan *c, size_t msg_len)
{
	return MESH_FRAME_HDR_LEN + msg_len + overhead(c);
}

ssize_t mesh_frame_seal(struct mesh_frame_chan *c, const uint8_t *msg, size_t msg_len,
			uint8_t *out, size_t cap)
{
	size_t body = msg_len + overhead(c);
	if (msg_len == 0 || body > MESH_FRAME_MAX || cap < MESH_FRAME_HDR_LEN + body)
		return -EMSGSIZE;
	put_be32(out, (uint32_t)body);
	if (c->sealed) {
		uint8_t nonce[MESH_NONCE_LEN];
		mesh_nonce_build(c->tx_ctr++, NULL, 0, nonce);
		if (mesh_seal(out + MESH_FRAME_HDR_LEN, msg, msg_len, nonce, c->tx_key) < 0)
			return -EMSGSIZE;
	} else {
		memmove(out + MESH_FRAME_HDR_LEN, msg, msg_len);
	}
	return (ssize_t)(MESH_FRAME_HDR_LEN + body);
}

ssize_t mesh_frame_peek(const struct mesh_frame_chan *c, const uint8_t *buf, size_t len)
{
	if (len < MESH_FRAME_HDR_LEN)
		return 0;
	uint32_t body = get_be32(buf);
	if (body > MESH_FRAME_MAX)
		return -EMSGSIZE;
	if (body < 1 + overhead(c))
		return -EBADMSG;
	if (len - MESH_FRAME_HDR_LEN < body)
		return 0;
	return (ssize_t)(MESH_FRAME_HDR_LEN + body);
}

int mesh_frame_open(struct mesh_frame_chan *c, uint8_t *buf, size_t flen, uint8_t **msg,
		    size_t *msg_len)
{
	if (flen < MESH_FRAME_HDR_LEN + 1 + overhead(c))
		return -EBADMSG;
	uint8_t *body = buf + MESH_FRAME_HDR_LEN;
	size_t body_len = flen - MESH_FRAME_HDR_LEN;
	if (c->sealed) {
		uint8_t nonce[MESH_NONCE_LEN];
		mesh_nonce_build(c->rx_ctr, NULL, 0, nonce);
		if (mesh_open(body, body, body_len, nonce, c->rx_key) < 0)
			return -EBADMSG;
		c->rx_ctr++;
		body_len -= MESH_SEAL_OVERHEAD;
	}
	*msg = body;
	*msg_len = body_len;
	return 0;
}
