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
	b[0] = 4;
	cr_assert_eq(sleeve_hdr_decode(b, sizeof(b), &g), -EBADMSG);
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
