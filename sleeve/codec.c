/* sleeve/codec.c: sleeve datagram header and frame records (see codec.h). */
#include <errno.h>
#include <linux/virtio_net.h>
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
	if (h->type < SLEEVE_FRAMES || h->type > SLEEVE_FRAGMENT)
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
	if (frame != p + SLEEVE_REC_HDR_LEN) /* else read straight into its place */
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

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

int sleeve_offload_check(const struct mesh_offload *o, size_t len)
{
	bool csum = o->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint8_t gso = o->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	bool tcp = gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6;

	if (o->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -EBADMSG;
	if (!tcp && gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EBADMSG;
	if ((o->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !tcp)
		return -EBADMSG;
	if (o->hdr_len > len)
		return -EBADMSG;
	if (csum && (o->csum_start < SLEEVE_ETH_MIN ||
		     (size_t)o->csum_start + o->csum_offset + 2 > len))
		return -EBADMSG;
	if (gso != VIRTIO_NET_HDR_GSO_NONE &&
	    (!csum || o->gso_size < SLEEVE_GSO_SIZE_MIN || o->gso_size > len))
		return -EBADMSG;
	return 0;
}

void sleeve_frag_encode(const struct sleeve_hdr *whole, uint16_t offset, uint16_t total,
			uint8_t out[SLEEVE_FRAG_HDR_LEN])
{
	struct sleeve_hdr h = *whole;
	h.type = SLEEVE_FRAGMENT;
	sleeve_hdr_encode(&h, out);
	put_be16(out + SLEEVE_HDR_LEN, offset);
	put_be16(out + SLEEVE_HDR_LEN + 2, total);
}

int sleeve_frag_decode(const uint8_t *buf, size_t len, struct sleeve_frag *f)
{
	if (len <= SLEEVE_FRAG_HDR_LEN || sleeve_hdr_decode(buf, len, &f->h) < 0 ||
	    f->h.type != SLEEVE_FRAGMENT)
		return -EBADMSG;
	f->offset = get_be16(buf + SLEEVE_HDR_LEN);
	f->total = get_be16(buf + SLEEVE_HDR_LEN + 2);
	size_t slice = len - SLEEVE_FRAG_HDR_LEN;
	if (f->offset % SLEEVE_FRAG_ALIGN || f->total > SLEEVE_REASM_MAX ||
	    slice > (size_t)f->total - f->offset || f->offset >= f->total)
		return -EBADMSG;
	return 0;
}

bool sleeve_frags_whole(const uint8_t (*hdrs)[SLEEVE_FRAG_HDR_LEN], size_t n, size_t slice,
			size_t last, struct sleeve_hdr *whole, size_t *total)
{
	struct sleeve_frag first, f;
	if (n < 1 || !last || (n > 1 && (!slice || slice % SLEEVE_FRAG_ALIGN)))
		return false;
	for (size_t k = 0; k < n; k++) {
		size_t len = k + 1 < n ? slice : last;
		if (sleeve_frag_decode(hdrs[k], SLEEVE_FRAG_HDR_LEN + len, k ? &f : &first) < 0)
			return false;
		if (k && (f.h.flags != first.h.flags || f.h.short_id != first.h.short_id ||
			  f.h.index != first.h.index || f.h.counter != first.h.counter ||
			  f.total != first.total))
			return false;
		if ((k ? f.offset : first.offset) != k * slice)
			return false;
	}
	if ((n - 1) * slice + last != first.total)
		return false;
	*whole = first.h;
	whole->type = SLEEVE_FRAMES;
	*total = first.total;
	return true;
}

void sleeve_reasm_init(struct sleeve_reasm *r, uint8_t *buf)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
}

/* Mask of the bits [lo, hi) of one 64-bit word (0 <= lo < hi <= 64). */
static inline uint64_t bits(size_t lo, size_t hi)
{
	uint64_t m = hi == 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1;
	return m & ~(((uint64_t)1 << lo) - 1);
}

/* Coverage bits [first, end) of the body, in SLEEVE_FRAG_ALIGN units (first < end): 0 all
 * clear, 1 all set, -1 mixed. With set, marks them all. */
static int have_range(struct sleeve_reasm *r, size_t first, size_t end, bool set)
{
	size_t n = 0;
	for (size_t i = first; i < end;) {
		size_t w = i / 64, hi = end - w * 64 > 64 ? 64 : end - w * 64;
		uint64_t m = bits(i % 64, hi);
		if (set)
			r->have[w] |= m;
		else
			n += (size_t)__builtin_popcountll(r->have[w] & m);
		i = w * 64 + hi;
	}
	return n == 0 ? 0 : n == end - first ? 1 : -1;
}

int sleeve_reasm_add(struct sleeve_reasm *r, const struct sleeve_frag *f, const uint8_t *slice,
		     size_t len, const struct mesh_replay *win, uint64_t now_ms)
{
	if (mesh_replay_far_ahead(win, f->h.counter))
		return -ERANGE;
	if (r->active && now_ms - r->started_ms >= SLEEVE_REASM_AGE_MS)
		r->active = false; /* never completed (or forged): gives way */
	if (r->active && f->h.counter != r->h.counter) {
		if (f->h.counter < r->h.counter)
			return -ESTALE;
		r->active = false; /* a newer datagram: the one in progress is lost */
	}
	if (!r->active) {
		r->active = true;
		r->started_ms = now_ms;
		r->h = f->h;
		r->h.type = SLEEVE_FRAMES;
		r->total = f->total;
		r->got = 0;
		memset(r->have, 0, sizeof(r->have));
	} else if (f->h.flags != r->h.flags || f->h.short_id != r->h.short_id ||
		   f->h.index != r->h.index || f->total != r->total) {
		return -EBADMSG;
	}
	/* the slice covers units [first, end): only the body's last slice may end mid-unit */
	size_t first = f->offset / SLEEVE_FRAG_ALIGN;
	size_t end = (f->offset + len + SLEEVE_FRAG_ALIGN - 1) / SLEEVE_FRAG_ALIGN;
	if ((f->offset + len) % SLEEVE_FRAG_ALIGN && f->offset + len != f->total)
		return -EBADMSG;
	int st = have_range(r, first, end, false);
	if (st == 1)
		return 0; /* repeated */
	if (st < 0)
		return -EBADMSG;
	have_range(r, first, end, true);
	memcpy(r->buf + SLEEVE_HDR_LEN + f->offset, slice, len);
	r->got += (uint32_t)len;
	if (r->got < r->total)
		return 0;
	sleeve_hdr_encode(&r->h, r->buf);
	r->active = false;
	return SLEEVE_HDR_LEN + r->total;
}
