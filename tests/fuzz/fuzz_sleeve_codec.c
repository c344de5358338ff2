/* tests/fuzz/fuzz_sleeve_codec.c: the sleeve datagram codec (sleeve/codec.c).
 *
 * Input: one UDP datagram as it arrives on the sleeve port. The 16-byte header is decoded (and,
 * when valid, re-encoded: it must give the same bytes back); the rest is walked as a FRAMES
 * payload with sleeve_frames_next; each frame's offload state, when sleeve_offload_check takes
 * it, must point inside the frame. Every frame found is re-encoded into a sleeve_batch; the
 * batch must equal the bytes the iterator walked over, and decoding the batch again must give
 * the same frames. A second batch with too little room checks -ENOSPC. A FRAGMENT datagram is
 * also decoded as one and fed, with its slice and again cut in two, to a reassembly: it must
 * stay within the body and give back exactly the slice's bytes; one far ahead of the replay
 * window must be refused without touching the reassembly. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sleeve/codec.h"
#include "tests/fuzz/fuzz.h"

/* Walks payload, re-encoding every frame into a batch of exactly `len` bytes; returns the
 * number of well-formed frames, *walked the bytes they took. */
static unsigned walk(const uint8_t *payload, size_t len, struct sleeve_batch *b, size_t *walked,
		     int *last)
{
	struct sleeve_frame_iter it;
	struct sleeve_frame f;
	unsigned n = 0;
	int r;

	sleeve_frames_begin(&it, payload, len);
	while ((r = sleeve_frames_next(&it, &f)) == 1) {
		FUZZ_CHECK(f.len >= SLEEVE_ETH_MIN && f.len <= 0xffff);
		FUZZ_CHECK(f.data >= payload + SLEEVE_REC_HDR_LEN);
		FUZZ_CHECK(f.data + f.len <= payload + len);
		FUZZ_CHECK(it.p == f.data + f.len);
		FUZZ_CHECK(it.left == (size_t)(payload + len - it.p));
		/* an offload state taken for the TAP points inside the frame */
		int oc = sleeve_offload_check(&f.off, f.len);
		FUZZ_CHECK(oc == 0 || oc == -EBADMSG);
		if (oc == 0) {
			FUZZ_CHECK(f.off.hdr_len <= f.len);
			FUZZ_CHECK(!(f.off.flags & 1) ||
				   (size_t)f.off.csum_start + f.off.csum_offset + 2 <= f.len);
			FUZZ_CHECK(!f.off.gso_type ||
				   (f.off.gso_size >= SLEEVE_GSO_SIZE_MIN && f.off.gso_size <= f.len));
		}
		/* The batch has as much room as the payload, so every record fits. */
		FUZZ_CHECK(sleeve_batch_add(b, &f.src, &f.dst, &f.off, f.data, f.len) == 0);
		n++;
	}
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	*walked = len - it.left;
	*last = r;
	return n;
}

FUZZ_ENTRY(sleeve_codec)(const uint8_t *data, size_t size)
{
	struct sleeve_hdr h;
	int hr = sleeve_hdr_decode(data, size, &h);
	FUZZ_CHECK(hr == 0 || hr == -EBADMSG);
	if (size < SLEEVE_HDR_LEN) {
		FUZZ_CHECK(hr == -EBADMSG);
		return 0;
	}
	if (hr == 0) {
		uint8_t again[SLEEVE_HDR_LEN];
		FUZZ_CHECK(h.type >= SLEEVE_FRAMES && h.type <= SLEEVE_FRAGMENT);
		FUZZ_CHECK((h.flags & ~SLEEVE_F_SEALED) == 0);
		sleeve_hdr_encode(&h, again);
		FUZZ_CHECK(memcmp(again, data, SLEEVE_HDR_LEN) == 0);
	}

	/* The payload, whatever the header said (a sealed one would be opened first in the real
	 * data path; the iterator must cope with anything). */
	const uint8_t *payload = data + SLEEVE_HDR_LEN;
	size_t plen = size - SLEEVE_HDR_LEN;
	uint8_t *buf = malloc(plen ? plen : 1);
	if (!buf)
		return 0;
	struct sleeve_batch b;
	size_t walked;
	int last;
	sleeve_batch_init(&b, buf, plen);
	unsigned n = walk(payload, plen, &b, &walked, &last);

	/* Round trip: the re-encoded records are exactly the bytes walked over. */
	FUZZ_CHECK(b.frames == n);
	FUZZ_CHECK(b.len == walked);
	FUZZ_CHECK(walked == 0 || memcmp(buf, payload, walked) == 0);
	if (last == 0)
		FUZZ_CHECK(walked == plen);

	/* ... and decode to the same frames again, cleanly this time. */
	if (b.len) {
		uint8_t *copy = malloc(b.len);
		if (copy) {
			struct sleeve_batch b2;
			size_t walked2;
			int last2;
			sleeve_batch_init(&b2, copy, b.len);
			FUZZ_CHECK(walk(buf, b.len, &b2, &walked2, &last2) == n);
			FUZZ_CHECK(last2 == 0 && walked2 == b.len && b2.len == b.len);
			FUZZ_CHECK(memcmp(copy, buf, b.len) == 0);
			free(copy);
		}
	}

	/* A batch with room for about half: records go in until one does not fit, which must be
	 * refused with -ENOSPC, never written past the end. */
	if (n > 0) {
		size_t cap = walked / 2;
		uint8_t *half = malloc(cap ? cap : 1);
		if (half) {
			struct sleeve_batch hb;
			struct sleeve_frame_iter it;
			struct sleeve_frame f;
			sleeve_batch_init(&hb, half, cap);
			sleeve_frames_begin(&it, payload, walked);
			while (sleeve_frames_next(&it, &f) == 1) {
				size_t before = hb.len;
				bool fits = SLEEVE_REC_HDR_LEN + f.len <= cap - hb.len;
				int r = sleeve_batch_add(&hb, &f.src, &f.dst, &f.off, f.data, f.len);
				if (fits) {
					/* the record written is the record read */
					FUZZ_CHECK(r == 0);
					FUZZ_CHECK(hb.len == before + SLEEVE_REC_HDR_LEN + f.len);
					FUZZ_CHECK(memcmp(half + before, f.data - SLEEVE_REC_HDR_LEN,
							  SLEEVE_REC_HDR_LEN + f.len) == 0);
				} else {
					FUZZ_CHECK(r == -ENOSPC);
					FUZZ_CHECK(hb.len == before);
				}
			}
			FUZZ_CHECK(hb.len <= cap && hb.frames < n);
			free(half);
		}
	}

	/* Runt and oversized frames are refused. */
	if (plen >= 2 * MESH_PEER_NAME_LEN) {
		struct mesh_peer_name src, dst;
		struct sleeve_batch rb;
		memcpy(src.b, payload, MESH_PEER_NAME_LEN);
		memcpy(dst.b, payload + MESH_PEER_NAME_LEN, MESH_PEER_NAME_LEN);
		sleeve_batch_init(&rb, buf, plen);
		size_t runt = plen < SLEEVE_ETH_MIN ? plen : SLEEVE_ETH_MIN - 1;
		FUZZ_CHECK(sleeve_batch_add(&rb, &src, &dst, NULL, payload, runt) == -EINVAL);
		/* never read: the length is refused first */
		FUZZ_CHECK(sleeve_batch_add(&rb, &src, &dst, NULL, payload, 0x10000) == -EINVAL);
		FUZZ_CHECK(rb.len == 0 && rb.frames == 0);
	}

	/* As a fragment: decoded, and put into a reassembly on its own (complete when it is the
	 * whole body) and then after a first half of itself (the rest overlaps or completes). */
	struct sleeve_frag fr;
	if (sleeve_frag_decode(data, size, &fr) == 0) {
		size_t slen = size - SLEEVE_FRAG_HDR_LEN;
		FUZZ_CHECK(fr.offset % SLEEVE_FRAG_ALIGN == 0 && fr.offset < fr.total);
		FUZZ_CHECK(slen > 0 && fr.offset + slen <= fr.total);
		uint8_t *rb = malloc(SLEEVE_HDR_LEN + SLEEVE_REASM_MAX);
		if (rb) {
			static struct sleeve_reasm r;
			struct mesh_replay win, fresh;
			sleeve_reasm_init(&r, rb);
			mesh_replay_init(&fresh);
			/* far ahead of a window that accepted nothing: refused, nothing taken */
			if (fr.h.counter > MESH_REPLAY_BITS) {
				FUZZ_CHECK(sleeve_reasm_add(&r, &fr, data + SLEEVE_FRAG_HDR_LEN, slen,
							    &fresh, 0) == -ERANGE);
				FUZZ_CHECK(!r.active);
			}
			/* a window just behind it */
			mesh_replay_init(&win);
			if (fr.h.counter > 0)
				mesh_replay_accept(&win, fr.h.counter - 1);
			int got = sleeve_reasm_add(&r, &fr, data + SLEEVE_FRAG_HDR_LEN, slen, &win, 0);
			bool whole = fr.offset == 0 && slen == fr.total;
			if (whole) {
				FUZZ_CHECK(got == (int)(SLEEVE_HDR_LEN + fr.total));
				FUZZ_CHECK(rb[0] == SLEEVE_FRAMES);
				FUZZ_CHECK(memcmp(rb + SLEEVE_HDR_LEN, data + SLEEVE_FRAG_HDR_LEN, slen) == 0);
			} else {
				FUZZ_CHECK(got == 0 || got == -EBADMSG);
				if (got == 0) /* the same again: repeated */
					FUZZ_CHECK(sleeve_reasm_add(&r, &fr, data + SLEEVE_FRAG_HDR_LEN, slen,
								    &win, 0) == 0);
			}
			free(rb);
		}
	}

	/* As the headers of fragments read together (after 4 bytes giving the slice size and the
	 * last slice's): taken for a whole datagram only when a reassembly fed the same
	 * fragments completes exactly with the last one, with the same body length. */
	if (size >= 4 + SLEEVE_FRAG_HDR_LEN) {
		size_t slice = (size_t)((data[0] << 8 | data[1]) & ~7);
		size_t last_len = (size_t)(data[2] << 8 | data[3]);
		size_t nh = (size - 4) / SLEEVE_FRAG_HDR_LEN, total;
		const uint8_t(*hd)[SLEEVE_FRAG_HDR_LEN] = (const uint8_t(*)[SLEEVE_FRAG_HDR_LEN])(data + 4);
		struct sleeve_hdr wh;
		if (nh > 64)
			nh = 64;
		uint8_t *rb = malloc(SLEEVE_HDR_LEN + SLEEVE_REASM_MAX);
		if (rb && sleeve_frags_whole(hd, nh, slice, last_len, &wh, &total)) {
			static const uint8_t zero[SLEEVE_REASM_MAX];
			static struct sleeve_reasm r;
			struct mesh_replay win;
			FUZZ_CHECK(wh.type == SLEEVE_FRAMES && total <= SLEEVE_REASM_MAX);
			sleeve_reasm_init(&r, rb);
			mesh_replay_init(&win);
			if (wh.counter > 0)
				mesh_replay_accept(&win, wh.counter - 1);
			for (size_t k = 0; k < nh; k++) {
				size_t len = k + 1 < nh ? slice : last_len;
				FUZZ_CHECK(sleeve_frag_decode(hd[k], SLEEVE_FRAG_HDR_LEN + len, &fr) == 0);
				int got = sleeve_reasm_add(&r, &fr, zero, len, &win, 0);
				FUZZ_CHECK(k + 1 < nh ? got == 0 : got == (int)(SLEEVE_HDR_LEN + total));
			}
		}
		free(rb);
	}

	free(buf);
	return 0;
}
