/* tests/unit/test_sleeve_codec.c: sleeve datagram header and frame records (sleeve/codec.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sleeve/codec.h"

static const struct mesh_peer_name A = { { 0x02, 1, 2, 3, 4, 5 } };
static const struct mesh_peer_name B = { { 0x0a, 9, 8, 7, 6, 5 } };

Test(sleeve_codec, header_round_trip)
{
	struct sleeve_hdr h = { SLEEVE_FRAMES, SLEEVE_F_SEALED, 0xabc, 0xdeadbeef, 0x0102030405060708ull }, g;
	uint8_t b[SLEEVE_HDR_LEN];
	sleeve_hdr_encode(&h, b);
	cr_assert_eq(b[0], SLEEVE_FRAMES);
	cr_assert_eq(b[8], 0x01); /* counter is big endian on the wire */
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), 0);
	cr_assert_eq(g.type, h.type);
	cr_assert_eq(g.flags, h.flags);
	cr_assert_eq(g.short_id, h.short_id);
	cr_assert_eq(g.index, h.index);
	cr_assert_eq(g.counter, h.counter);
}

Test(sleeve_codec, header_rejects_short_unknown_type_and_flags)
{
	struct sleeve_hdr h = { SLEEVE_HEARTBEAT, 0, 1, 2, 3 }, g;
	uint8_t b[SLEEVE_HDR_LEN];
	sleeve_hdr_encode(&h, b);
	for (size_t n = 0; n < SLEEVE_HDR_LEN; n++)
		cr_assert_eq(sleeve_hdr_decode(b, n, &g), -EBADMSG, "length %zu", n);
	b[0] = 0;
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), -EBADMSG);
	b[0] = 5;
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), -EBADMSG);
	b[0] = SLEEVE_FRAGMENT;
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), 0);
	b[0] = SLEEVE_FRAMES;
	b[1] = 0x80;
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), -EBADMSG);
}

static void fill(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

Test(sleeve_codec, batch_round_trip)
{
	uint8_t buf[1500], f1[60], f2[1000], f3[14];
	struct sleeve_batch b;
	struct sleeve_frame_iter it;
	struct sleeve_frame fr;

	fill(f1, sizeof(f1), 1);
	fill(f2, sizeof(f2), 2);
	fill(f3, sizeof(f3), 3);
	sleeve_batch_init(&b, buf, sizeof(buf));
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f1, sizeof(f1)), 0);
	cr_assert_eq(sleeve_batch_add(&b, &B, &A, NULL, f2, sizeof(f2)), 0);
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f3, sizeof(f3)), 0);
	cr_assert_eq(b.frames, 3);
	cr_assert_eq(b.len, 3 * SLEEVE_REC_HDR_LEN + sizeof(f1) + sizeof(f2) + sizeof(f3));

	sleeve_frames_begin(&it, buf, b.len);
	cr_assert_eq(sleeve_frames_next(&it, &fr), 1);
	cr_assert(mesh_peer_name_eq(&fr.src, &A) && mesh_peer_name_eq(&fr.dst, &B));
	cr_assert_eq(fr.len, sizeof(f1));
	cr_assert_arr_eq(fr.data, f1, sizeof(f1));
	cr_assert_eq(sleeve_frames_next(&it, &fr), 1);
	cr_assert(mesh_peer_name_eq(&fr.src, &B));
	cr_assert_arr_eq(fr.data, f2, sizeof(f2));
	cr_assert_eq(sleeve_frames_next(&it, &fr), 1);
	cr_assert_eq(fr.len, 14);
	cr_assert_eq(sleeve_frames_next(&it, &fr), 0);
}

Test(sleeve_codec, batch_full_and_bad_sizes)
{
	uint8_t buf[100], f[200] = { 0 };
	struct sleeve_batch b;
	sleeve_batch_init(&b, buf, sizeof(buf));
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, 13), -EINVAL);  /* runt */
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, 77), -ENOSPC);  /* 24 + 77 > 100 */
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, 76), 0);        /* exactly fits */
	cr_assert_eq(b.len, 100);
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, 14), -ENOSPC);
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, 70000), -EINVAL);
}

Test(sleeve_codec, truncated_records_rejected)
{
	uint8_t buf[256], f[64];
	struct sleeve_batch b;
	fill(f, sizeof(f), 9);
	sleeve_batch_init(&b, buf, sizeof(buf));
	sleeve_batch_add(&b, &A, &B, NULL, f, sizeof(f));
	/* every proper prefix is either empty (clean end) or malformed */
	for (size_t n = 1; n < b.len; n++) {
		struct sleeve_frame_iter it;
		struct sleeve_frame fr;
		sleeve_frames_begin(&it, buf, n);
		cr_assert_eq(sleeve_frames_next(&it, &fr), -EBADMSG, "prefix %zu", n);
	}
}

Test(sleeve_codec, oversized_length_and_runt_rejected)
{
	uint8_t buf[128] = { 0 };
	struct sleeve_frame_iter it;
	struct sleeve_frame fr;
	buf[0] = 0xff; buf[1] = 0xff; /* claims 65535 bytes, 128 present */
	sleeve_frames_begin(&it, buf, sizeof(buf));
	cr_assert_eq(sleeve_frames_next(&it, &fr), -EBADMSG);
	buf[0] = 0; buf[1] = 13;      /* runt frame */
	sleeve_frames_begin(&it, buf, sizeof(buf));
	cr_assert_eq(sleeve_frames_next(&it, &fr), -EBADMSG);
	buf[1] = 14 + 64;             /* one byte beyond */
	sleeve_frames_begin(&it, buf, SLEEVE_REC_HDR_LEN + 14 + 63);
	cr_assert_eq(sleeve_frames_next(&it, &fr), -EBADMSG);
}

Test(sleeve_codec, offload_state_travels_with_the_frame)
{
	uint8_t buf[256], f[64];
	struct sleeve_batch b;
	struct sleeve_frame_iter it;
	struct sleeve_frame fr;
	struct mesh_offload gso = { .flags = 1, .gso_type = 1, .hdr_len = 66, .gso_size = 1360,
				    .csum_start = 34, .csum_offset = 16 };
	fill(f, sizeof(f), 5);
	sleeve_batch_init(&b, buf, sizeof(buf));
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, &gso, f, sizeof(f)), 0);
	cr_assert_eq(sleeve_batch_add(&b, &A, &B, NULL, f, sizeof(f)), 0);
	sleeve_frames_begin(&it, buf, b.len);
	cr_assert_eq(sleeve_frames_next(&it, &fr), 1);
	cr_assert_eq(fr.off.flags, 1);
	cr_assert_eq(fr.off.gso_type, 1);
	cr_assert_eq(fr.off.hdr_len, 66);
	cr_assert_eq(fr.off.gso_size, 1360);
	cr_assert_eq(fr.off.csum_start, 34);
	cr_assert_eq(fr.off.csum_offset, 16);
	cr_assert(mesh_offload_is_gso(&fr.off));
	cr_assert_eq(sleeve_frames_next(&it, &fr), 1);
	cr_assert_not(mesh_offload_is_gso(&fr.off), "a plain frame has no offload state");
	cr_assert_eq(fr.off.flags, 0);
}

/* --- fragments of a large datagram and putting them back together ----------------------- */

static uint8_t whole[SLEEVE_HDR_LEN + 5000], rbuf[SLEEVE_HDR_LEN + SLEEVE_REASM_MAX];

/* Cuts a whole datagram (header h, body of `body` bytes) into slices of `slice` bytes; frag k
 * goes to out[k] (SLEEVE_FRAG_HDR_LEN + slice bytes), its length to lens[k]. Returns the count. */
static size_t cut(const struct sleeve_hdr *h, size_t body, size_t slice, uint8_t out[][1600],
		  size_t *lens)
{
	size_t n = 0;
	for (size_t off = 0; off < body; off += slice, n++) {
		size_t len = body - off < slice ? body - off : slice;
		sleeve_frag_encode(h, (uint16_t)off, (uint16_t)body, out[n]);
		memcpy(out[n] + SLEEVE_FRAG_HDR_LEN, whole + SLEEVE_HDR_LEN + off, len);
		lens[n] = SLEEVE_FRAG_HDR_LEN + len;
	}
	return n;
}

/* A fragment into r on a connection with replay window win, at now_ms. */
static int add_at(struct sleeve_reasm *r, const uint8_t *frag, size_t len,
		  const struct mesh_replay *win, uint64_t now_ms)
{
	struct sleeve_frag f;
	cr_assert_eq(sleeve_frag_decode(frag, len, &f), 0);
	return sleeve_reasm_add(r, &f, frag + SLEEVE_FRAG_HDR_LEN, len - SLEEVE_FRAG_HDR_LEN, win,
				now_ms);
}

/* ... on a connection that accepted nothing yet, at time 0 */
static const struct mesh_replay fresh;
static int add(struct sleeve_reasm *r, const uint8_t *frag, size_t len)
{
	return add_at(r, frag, len, &fresh, 0);
}

static uint8_t frags[8][1600];

Test(sleeve_codec, fragments_in_any_order_give_the_whole_back)
{
	struct sleeve_hdr h = { SLEEVE_FRAMES, SLEEVE_F_SEALED, 7, 0x11223344, 99 };
	size_t body = 4001, lens[8];
	sleeve_hdr_encode(&h, whole);
	fill(whole + SLEEVE_HDR_LEN, body, 3);
	size_t n = cut(&h, body, 1448, frags, lens);
	cr_assert_eq(n, 3);
	struct sleeve_frag f;
	cr_assert_eq(sleeve_frag_decode(frags[1], lens[1], &f), 0);
	cr_assert_eq(f.h.type, SLEEVE_FRAGMENT);
	cr_assert_eq(f.h.counter, 99);
	cr_assert_eq(f.offset, 1448);
	cr_assert_eq(f.total, body);

	static const int orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 } };
	struct sleeve_reasm r;
	sleeve_reasm_init(&r, rbuf);
	for (size_t o = 0; o < 3; o++) {
		cr_assert_eq(add(&r, frags[orders[o][0]], lens[orders[o][0]]), 0);
		/* a repeated fragment changes nothing */
		cr_assert_eq(add(&r, frags[orders[o][0]], lens[orders[o][0]]), 0);
		cr_assert_eq(add(&r, frags[orders[o][1]], lens[orders[o][1]]), 0);
		int got = add(&r, frags[orders[o][2]], lens[orders[o][2]]);
		cr_assert_eq(got, (int)(SLEEVE_HDR_LEN + body), "order %zu", o);
		cr_assert_eq(memcmp(rbuf, whole, SLEEVE_HDR_LEN + body), 0, "order %zu", o);
		cr_assert_eq(rbuf[0], SLEEVE_FRAMES);
		cr_assert(!r.active);
	}
}

Test(sleeve_codec, newer_datagram_replaces_older_and_older_is_stale)
{
	struct sleeve_hdr h1 = { SLEEVE_FRAMES, 0, 7, 1, 10 }, h2 = h1;
	h2.counter = 11;
	size_t body = 3000, l1[8], l2[8];
	uint8_t f2[8][1600];
	sleeve_hdr_encode(&h1, whole);
	fill(whole + SLEEVE_HDR_LEN, body, 9);
	cut(&h1, body, 1000, frags, l1);
	cut(&h2, body, 1000, f2, l2);
	struct sleeve_reasm r;
	sleeve_reasm_init(&r, rbuf);
	cr_assert_eq(add(&r, frags[0], l1[0]), 0);
	cr_assert_eq(add(&r, f2[0], l2[0]), 0);     /* 11 starts: 10 is lost */
	cr_assert_eq(add(&r, frags[1], l1[1]), -ESTALE);
	cr_assert_eq(add(&r, f2[1], l2[1]), 0);
	cr_assert_eq(add(&r, f2[2], l2[2]), (int)(SLEEVE_HDR_LEN + body));
	struct sleeve_hdr g;
	cr_assert_eq(sleeve_hdr_decode(rbuf, SLEEVE_HDR_LEN, &g), 0);
	cr_assert_eq(g.counter, 11);
	cr_assert_eq(g.type, SLEEVE_FRAMES);
}

/* A window that accepted the counters 0..top. */
static void window_upto(struct mesh_replay *w, uint64_t top)
{
	mesh_replay_init(w);
	for (uint64_t c = 0; c <= top; c++)
		cr_assert_eq(mesh_replay_accept(w, c), MESH_REPLAY_OK);
}

/* Adds the n fragments of one datagram at now_ms; the last must complete it. */
static void add_all(struct sleeve_reasm *r, uint8_t (*fr)[1600], const size_t *lens, size_t n,
		    size_t body, const struct mesh_replay *win, uint64_t now_ms)
{
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(add_at(r, fr[k], lens[k], win, now_ms),
			     k + 1 < n ? 0 : (int)(SLEEVE_HDR_LEN + body), "fragment %zu", k);
}

#define FORGE_BODY 3000

/* A connection whose datagrams up to 50 authenticated: *win; the fragments of its next
 * datagram (counter 51, body of FORGE_BODY bytes, also at `whole`) in frags (lengths l1,
 * count returned), and those of a forged one with counter `forged` in f2 (lengths l2). */
static size_t legit_and_forged(struct mesh_replay *win, uint64_t forged, uint8_t seed, size_t *l1,
			       uint8_t (*f2)[1600], size_t *l2)
{
	struct sleeve_hdr legit = { SLEEVE_FRAMES, SLEEVE_F_SEALED, 7, 1, 51 }, bad = legit;
	bad.counter = forged;
	window_upto(win, 50);
	sleeve_hdr_encode(&legit, whole);
	fill(whole + SLEEVE_HDR_LEN, FORGE_BODY, seed);
	cut(&bad, FORGE_BODY, 1000, f2, l2);
	return cut(&legit, FORGE_BODY, 1000, frags, l1);
}

Test(sleeve_codec, forged_fragment_far_ahead_never_holds_the_reassembly)
{
	/* the peer's datagrams up to 50 authenticated; a forged fragment comes with a counter no
	 * sender reaches (it passes the replay check: only what authenticates moves the window) */
	struct mesh_replay win;
	size_t body = FORGE_BODY, l1[8], l2[8];
	uint8_t f2[8][1600];
	size_t n = legit_and_forged(&win, UINT64_MAX - 1, 5, l1, f2, l2);
	cr_assert_eq(mesh_replay_check(&win, UINT64_MAX - 1), MESH_REPLAY_OK);
	struct sleeve_reasm r;
	sleeve_reasm_init(&r, rbuf);
	cr_assert_eq(add_at(&r, f2[0], l2[0], &win, 1000), -ERANGE);
	cr_assert(!r.active);
	/* the connection's own datagrams still come through, at once */
	add_all(&r, frags, l1, n, body, &win, 1000);
	cr_assert_eq(memcmp(rbuf, whole, SLEEVE_HDR_LEN + body), 0);
	/* just beyond the window: refused too; at its edge: taken */
	cr_assert(!mesh_replay_far_ahead(&win, 50 + MESH_REPLAY_BITS));
	cr_assert(mesh_replay_far_ahead(&win, 51 + MESH_REPLAY_BITS));
	/* a connection that accepted nothing yet: its sender starts at 0 */
	cr_assert(mesh_replay_far_ahead(&fresh, MESH_REPLAY_BITS + 1));
	cr_assert(!mesh_replay_far_ahead(&fresh, MESH_REPLAY_BITS));
}

Test(sleeve_codec, forged_fragment_within_the_window_ages_out)
{
	/* forged with a counter the window allows: it holds the reassembly only for
	 * SLEEVE_REASM_AGE_MS, then the connection's datagrams are put together again */
	struct mesh_replay win;
	size_t body = FORGE_BODY, l1[8], l2[8];
	uint8_t f2[8][1600];
	size_t n = legit_and_forged(&win, 50 + MESH_REPLAY_BITS, 6, l1, f2, l2);
	struct sleeve_reasm r;
	sleeve_reasm_init(&r, rbuf);
	uint64_t t0 = 5000;
	cr_assert_eq(add_at(&r, f2[0], l2[0], &win, t0), 0);
	cr_assert_eq(add_at(&r, frags[0], l1[0], &win, t0 + 1), -ESTALE);
	cr_assert_eq(add_at(&r, frags[0], l1[0], &win, t0 + SLEEVE_REASM_AGE_MS - 1), -ESTALE);
	/* aged: the next datagram starts afresh and completes */
	add_all(&r, frags, l1, n, body, &win, t0 + SLEEVE_REASM_AGE_MS);
	cr_assert_eq(memcmp(rbuf, whole, SLEEVE_HDR_LEN + body), 0);
	/* and the forged one's late fragments start nothing that lasts */
	cr_assert_eq(add_at(&r, f2[1], l2[1], &win, t0 + 200), 0);
	struct sleeve_hdr next = { SLEEVE_FRAMES, SLEEVE_F_SEALED, 7, 1, 52 };
	sleeve_hdr_encode(&next, whole);
	n = cut(&next, body, 1000, frags, l1);
	add_all(&r, frags, l1, n, body, &win, t0 + 200 + SLEEVE_REASM_AGE_MS);
}

Test(sleeve_codec, contradicting_fragments_are_refused)
{
	struct sleeve_hdr h = { SLEEVE_FRAMES, 0, 7, 1, 10 };
	size_t body = 3000, lens[8];
	sleeve_hdr_encode(&h, whole);
	cut(&h, body, 1000, frags, lens);
	struct sleeve_reasm r;
	sleeve_reasm_init(&r, rbuf);
	cr_assert_eq(add(&r, frags[0], lens[0]), 0);
	/* same counter, another total */
	uint8_t bad[1600];
	memcpy(bad, frags[1], lens[1]);
	bad[SLEEVE_HDR_LEN + 3] ^= 1;
	cr_assert_eq(add(&r, bad, lens[1]), -EBADMSG);
	/* same counter, another index */
	memcpy(bad, frags[1], lens[1]);
	bad[7] ^= 1;
	cr_assert_eq(add(&r, bad, lens[1]), -EBADMSG);
	/* a slice overlapping half of one already in */
	struct sleeve_frag f;
	cr_assert_eq(sleeve_frag_decode(frags[1], lens[1], &f), 0);
	f.offset = 504;
	cr_assert_eq(sleeve_reasm_add(&r, &f, frags[1] + SLEEVE_FRAG_HDR_LEN, 1000, &fresh, 0), -EBADMSG);
	/* a slice ending off the alignment, not at the end of the body */
	f.offset = 1000;
	cr_assert_eq(sleeve_reasm_add(&r, &f, frags[1] + SLEEVE_FRAG_HDR_LEN, 999, &fresh, 0), -EBADMSG);
	/* the real ones still complete it */
	cr_assert_eq(add(&r, frags[1], lens[1]), 0);
	cr_assert_eq(add(&r, frags[2], lens[2]), (int)(SLEEVE_HDR_LEN + body));
}

Test(sleeve_codec, fragment_decode_rejects_bad_headers)
{
	struct sleeve_hdr h = { SLEEVE_FRAMES, 0, 7, 1, 10 };
	uint8_t b[SLEEVE_FRAG_HDR_LEN + 16];
	struct sleeve_frag f;
	memset(b, 0, sizeof(b));
	sleeve_frag_encode(&h, 8, 24, b);
	cr_assert_eq(sleeve_frag_decode(b, sizeof(b), &f), 0);
	cr_assert_eq(sleeve_frag_decode(b, SLEEVE_FRAG_HDR_LEN, &f), -EBADMSG); /* empty slice */
	sleeve_frag_encode(&h, 9, 24, b);                                        /* unaligned */
	cr_assert_eq(sleeve_frag_decode(b, sizeof(b), &f), -EBADMSG);
	sleeve_frag_encode(&h, 16, 24, b);                                       /* past the end */
	cr_assert_eq(sleeve_frag_decode(b, sizeof(b), &f), -EBADMSG);
	sleeve_frag_encode(&h, 0, 0, b);                                         /* empty body */
	cr_assert_eq(sleeve_frag_decode(b, sizeof(b), &f), -EBADMSG);
	sleeve_hdr_encode(&h, b);                                                /* not a fragment */
	cr_assert_eq(sleeve_frag_decode(b, sizeof(b), &f), -EBADMSG);
}

/* The headers of the fragments cut() made. */
static size_t cut_headers(const struct sleeve_hdr *h, size_t body, size_t slice,
			  uint8_t (*hdrs)[SLEEVE_FRAG_HDR_LEN])
{
	size_t lens[8], n = cut(h, body, slice, frags, lens);
	for (size_t k = 0; k < n; k++)
		memcpy(hdrs[k], frags[k], SLEEVE_FRAG_HDR_LEN);
	return n;
}

#define HDRS(a) ((const uint8_t(*)[SLEEVE_FRAG_HDR_LEN])(a))

Test(sleeve_codec, fragments_read_together_are_recognized_as_the_whole)
{
	struct sleeve_hdr w = { .type = SLEEVE_FRAMES, .flags = SLEEVE_F_SEALED, .short_id = 7,
				.index = 42, .counter = 1000 }, got;
	uint8_t hdrs[8][SLEEVE_FRAG_HDR_LEN], mixed[8][SLEEVE_FRAG_HDR_LEN];
	size_t total = 4000, slice = 1432, n = cut_headers(&w, total, slice, hdrs), t;
	size_t last = total - 2 * slice;
	cr_assert_eq(n, 3);
	cr_assert(sleeve_frags_whole(HDRS(hdrs), n, slice, last, &got, &t));
	cr_assert_eq(t, total);
	cr_assert_eq(got.type, SLEEVE_FRAMES);
	cr_assert_eq(got.counter, 1000);
	cr_assert_eq(got.index, 42);
	cr_assert_eq(got.short_id, 7);
	cr_assert_eq(got.flags, SLEEVE_F_SEALED);

	cr_assert_not(sleeve_frags_whole(HDRS(hdrs), n - 1, slice, slice, &got, &t),
		      "the last one missing");
	cr_assert_not(sleeve_frags_whole(HDRS(hdrs[1]), n - 1, slice, last, &got, &t),
		      "the first one missing");
	cr_assert_not(sleeve_frags_whole(HDRS(hdrs), n, slice, last - 8, &got, &t),
		      "a short last slice");
	cr_assert_not(sleeve_frags_whole(HDRS(hdrs), n, slice - 8, last, &got, &t),
		      "another slice size");

	struct sleeve_hdr other = w;
	other.counter = 1001;
	memcpy(mixed, hdrs, sizeof(mixed));
	sleeve_frag_encode(&other, (uint16_t)slice, (uint16_t)total, mixed[1]);
	cr_assert_not(sleeve_frags_whole(HDRS(mixed), n, slice, last, &got, &t),
		      "a fragment of another datagram");
	memcpy(mixed, hdrs, sizeof(mixed));
	memcpy(mixed[1], hdrs[2], SLEEVE_FRAG_HDR_LEN);
	memcpy(mixed[2], hdrs[1], SLEEVE_FRAG_HDR_LEN);
	cr_assert_not(sleeve_frags_whole(HDRS(mixed), n, slice, last, &got, &t), "out of order");
	memcpy(mixed, hdrs, sizeof(mixed));
	mixed[2][0] = SLEEVE_FRAMES;
	cr_assert_not(sleeve_frags_whole(HDRS(mixed), n, slice, last, &got, &t), "not a fragment");

	/* one fragment holding the whole body is the whole, too */
	n = cut_headers(&w, 500, 1432, hdrs);
	cr_assert(sleeve_frags_whole(HDRS(hdrs), n, 1432, 500, &got, &t));
	cr_assert_eq(t, 500);
}

/* --- offload state from peers (virtio-net headers for our TAP) ----------------------------- */

#define CSUM 1 /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define VALID 2 /* VIRTIO_NET_HDR_F_DATA_VALID */
#define TCP4 1
#define TCP6 4
#define UDP_L4 5
#define ECN 0x80

Test(sleeve_codec, offload_states_a_kernel_makes_are_taken)
{
	/* a plain frame, a checksum to complete (UDP, TCP), TCP super-frames (v4, v6, with ECN),
	 * a UDP GSO frame, a checksum the sender's kernel checked already */
	static const struct mesh_offload ok[] = {
		{ 0, 0, 0, 0, 0, 0 },
		{ CSUM, 0, 0, 0, 34, 6 },
		{ CSUM, 0, 0, 0, 34, 16 },
		{ CSUM, TCP4, 66, 1448, 34, 16 },
		{ CSUM, TCP6, 86, 1428, 54, 16 },
		{ CSUM, TCP4 | ECN, 66, 1448, 34, 16 },
		{ CSUM, UDP_L4, 42, 1472, 34, 6 },
		{ VALID, 0, 0, 0, 0, 0 },
		{ CSUM, TCP4, 66, SLEEVE_GSO_SIZE_MIN, 34, 16 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(sleeve_offload_check(&ok[i], 64000), 0, "state %zu", i);
	/* the checksum field may end the frame exactly */
	struct mesh_offload edge = { CSUM, 0, 0, 0, 34, 6 };
	cr_assert_eq(sleeve_offload_check(&edge, 42), 0);
	cr_assert_eq(sleeve_offload_check(&edge, 41), -EBADMSG);
}

Test(sleeve_codec, offload_states_no_kernel_makes_are_refused)
{
	static const struct mesh_offload bad[] = {
		{ 4, 0, 0, 0, 0, 0 },                      /* unknown flag (RSC_INFO) */
		{ 0x80, 0, 0, 0, 0, 0 },                   /* unknown flag */
		{ CSUM, 2, 66, 1448, 34, 16 },             /* unknown gso_type */
		{ CSUM, 3, 42, 1472, 34, 6 },              /* UFO: never sent by a peer */
		{ CSUM, 6, 66, 1448, 34, 16 },             /* unknown gso_type */
		{ CSUM, UDP_L4 | ECN, 42, 1472, 34, 6 },   /* ECN is TCP's */
		{ 0, ECN, 0, 0, 0, 0 },                    /* ECN without TCP */
		{ 0, 0, 1001, 0, 0, 0 },                   /* hdr_len beyond the frame */
		{ CSUM, 0, 0, 0, 990, 16 },                /* checksum field beyond the frame */
		{ CSUM, 0, 0, 0, 0xffff, 0xffff },         /* ... and the sum does not wrap */
		{ CSUM, 0, 0, 0, 10, 6 },                  /* checksum inside the Ethernet header */
		{ 0, TCP4, 66, 1448, 34, 16 },             /* GSO without a partial checksum */
		{ CSUM, TCP4, 66, 0, 34, 16 },             /* GSO of zero-byte segments */
		{ CSUM, TCP4, 66, 1, 34, 16 },             /* ... of one-byte segments */
		{ CSUM, TCP6, 86, SLEEVE_GSO_SIZE_MIN - 1, 54, 16 },
		{ CSUM, TCP4, 66, 1448, 34, 16 },          /* segments larger than the frame */
	};
	size_t len = 1000;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sleeve_offload_check(&bad[i], len), -EBADMSG, "state %zu", i);
}
