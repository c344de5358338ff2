/* sleeve/codec.c: sleeve datagram header and frame records (see codec.h). */
#include <errno.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/codec.h"

void sleeve_hdr_encode(const struct sleeve_hdr *h, uint8_t out[SLEEVE_HDR_LEN])
{
	out[0] = h->type;
	out[1] = h->flags;
	put_be16(out + 2, h->short_id);
	put_be32(out + 4, h->index);
	put_be64(out + 8, h->counter);
}

int sleeve_hdr_decode(const uint8_t *buf, size_t len, struct sleeve_hdr *h)
{
	if (len < SLEEVE_HDR_LEN)
		return -EBADMSG;
	h->type = buf[0];
	h->flags = buf[1];
	h->short_id = get_be16(buf + 2);
	h->index = get_be32(buf + 4);
	h->counter = get_be64(buf + 8);
	if (h->type < SLEEVE_FRAMES || h->type > SLEEVE_HEARTBEAT_ACK)
		return -EBADMSG;
	if (h->flags & ~SLEEVE_F_SEALED)
		return -EBADMSG;
	return 0;
}

void sleeve_batch_init(struct sleeve_batch *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->frames = 0;
}

static void offload_encode(const struct mesh_offload *o, uint8_t *p)
{
	static const struct mesh_offload none;
	if (!o)
		o = &none;
	p[0] = o->flags;
	p[1] = o->gso_type;
	put_be16(p + 2, o->hdr_len);
	put_be16(p + 4, o->gso_size);
	put_be16(p + 6, o->csum_start);
	put_be16(p + 8, o->csum_offset);
}

static void offload_decode(const uint8_t *p, struct mesh_offload *o)
{
	o->flags = p[0];
	o->gso_type = p[1];
	o->hdr_len = get_be16(p + 2);
	o->gso_size = get_be16(p + 4);
	o->csum_start = get_be16(p + 6);
	o->csum_offset = get_be16(p + 8);
}

int sleeve_batch_add(struct sleeve_batch *b, const struct mesh_peer_name *src,
		     const struct mesh_peer_name *dst, const struct mesh_offload *off,
		     const uint8_t *frame, size_t len)
{
	if (len < SLEEVE_ETH_MIN || len > 0xffff)
		return -EINVAL;
	if (b->cap - b->len < SLEEVE_REC_HDR_LEN + len)
		return -ENOSPC;
	uint8_t *p = b->buf + b->len;
	put_be16(p, (uint16_t)len);
	memcpy(p + 2, src->b, MESH_PEER_NAME_LEN);
	memcpy(p + 2 + MESH_PEER_NAME_LEN, dst->b, MESH_PEER_NAME_LEN);
	offload_encode(off, p + 2 + 2 * MESH_PEER_NAME_LEN);
	memcpy(p + SLEEVE_REC_HDR_LEN, frame, len);
	b->len += SLEEVE_REC_HDR_LEN + len;
	b->frames++;
	return 0;
}

void sleeve_frames_begin(struct sleeve_frame_iter *it, const uint8_t *payload, size_t len)
{
	it->p = payload;
	it->left = len;
}

int sleeve_frames_next(struct sleeve_frame_iter *it, struct sleeve_frame *f)
{
	if (it->left == 0)
		return 0;
	if (it->left < SLEEVE_REC_HDR_LEN)
		return -EBADMSG;
	size_t len = get_be16(it->p);
	if (len < SLEEVE_ETH_MIN || it->left - SLEEVE_REC_HDR_LEN < len)
		return -EBADMSG;
	memcpy(f->src.b, it->p + 2, MESH_PEER_NAME_LEN);
	memcpy(f->dst.b, it->p + 2 + MESH_PEER_NAME_LEN, MESH_PEER_NAME_LEN);
	offload_decode(it->p + 2 + 2 * MESH_PEER_NAME_LEN, &f->off);
	f->data = it->p + SLEEVE_REC_HDR_LEN;
	f->len = len;
	it->p += SLEEVE_REC_HDR_LEN + len;
	it->left -= SLEEVE_REC_HDR_LEN + len;
	return 1;
}
