/* tests/unit/test_frame.c: control frames (gossip/frame.c), TLVs (gossip/tlv.c) and the HELLO
 * message (gossip/hello.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "gossip/frame.h"
#include "gossip/hello.h"
#include "gossip/tlv.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

static void chans(struct mesh_frame_chan *a, struct mesh_frame_chan *b, bool sealed)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->sealed = b->sealed = sealed;
	memset(a->tx_key, 1, 32);
	memset(a->rx_key, 2, 32);
	memset(b->tx_key, 2, 32);
	memset(b->rx_key, 1, 32);
}

Test(frame, round_trip_plain_and_sealed, .init = setup)
{
	for (int sealed = 0; sealed < 2; sealed++) {
		struct mesh_frame_chan a, b;
		uint8_t msg[300], wire[400], *got;
		size_t got_len;
		chans(&a, &b, sealed);
		for (size_t i = 0; i < sizeof(msg); i++)
			msg[i] = (uint8_t)i;
		for (int k = 0; k < 3; k++) { /* counters advance in step */
			ssize_t n = mesh_frame_seal(&a, msg, sizeof(msg), wire, sizeof(wire));
			cr_assert_eq((size_t)n, mesh_frame_size(&a, sizeof(msg)));
			cr_assert_eq(mesh_frame_peek(&b, wire, (size_t)n - 1), 0);
			cr_assert_eq(mesh_frame_peek(&b, wire, (size_t)n), n);
			cr_assert_eq(mesh_frame_open(&b, wire, (size_t)n, &got, &got_len), 0);
			cr_assert_eq(got_len, sizeof(msg));
			cr_assert_arr_eq(got, msg, sizeof(msg));
		}
	}
}

Test(frame, sealed_frame_replayed_or_tampered_fails, .init = setup)
{
	struct mesh_frame_chan a, b;
	uint8_t msg[10] = "heartbeat", wire[64], copy[64], *got;
	size_t got_len;
	chans(&a, &b, true);
	ssize_t n = mesh_frame_seal(&a, msg, sizeof(msg), wire, sizeof(wire));
	memcpy(copy, wire, (size_t)n);
	cr_assert_eq(mesh_frame_open(&b, wire, (size_t)n, &got, &got_len), 0);
	/* the same frame again: the receiver's counter moved on, so it no longer opens */
	cr_assert_eq(mesh_frame_open(&b, copy, (size_t)n, &got, &got_len), -EBADMSG);
	n = mesh_frame_seal(&a, msg, sizeof(msg), wire, sizeof(wire));
	wire[n - 1] ^= 0x40;
	cr_assert_eq(mesh_frame_open(&b, wire, (size_t)n, &got, &got_len), -EBADMSG);
}

Test(frame, lengths_checked)
{
	struct mesh_frame_chan a, b;
	uint8_t hdr[4];
	chans(&a, &b, true);
	put_be32(hdr, MESH_FRAME_MAX + 1);
	cr_assert_eq(mesh_frame_peek(&b, hdr, 4), -EMSGSIZE);
	put_be32(hdr, 16); /* a sealed body must hold the MAC and a type byte */
	cr_assert_eq(mesh_frame_peek(&b, hdr, 4), -EBADMSG);
	put_be32(hdr, 0);
	cr_assert_eq(mesh_frame_peek(&a, hdr, 4), -EBADMSG);
	cr_assert_eq(mesh_frame_peek(&a, hdr, 3), 0);
	uint8_t out[8];
	cr_assert_eq(mesh_frame_seal(&a, (const uint8_t *)"x", 1, out, sizeof(out)), -EMSGSIZE);
}

Test(tlv, write_read_and_truncation)
{
	uint8_t buf[64];
	struct tlv_writer w;
	struct tlv_reader r;
	struct tlv t;
	uint16_t v16;
	uint64_t v64;
	tlv_writer_init(&w, buf, sizeof(buf));
	tlv_put_u16(&w, 1, 0xbeef);
	tlv_put_u64(&w, 2, 0x1122334455667788ull);
	tlv_put_str(&w, 3, "abc");
	cr_assert_not(w.overflow);
	tlv_reader_init(&r, buf, w.len);
	cr_assert_eq(tlv_next(&r, &t), 1);
	cr_assert_eq(tlv_get_u16(&t, &v16), 0);
	cr_assert_eq(v16, 0xbeef);
	cr_assert_eq(tlv_get_u64(&t, &v64), -EBADMSG); /* wrong width */
	cr_assert_eq(tlv_next(&r, &t), 1);
	cr_assert_eq(tlv_get_u64(&t, &v64), 0);
	cr_assert_eq(v64, 0x1122334455667788ull);
	cr_assert_eq(tlv_next(&r, &t), 1);
	cr_assert_eq(t.len, 3);
	cr_assert_eq(tlv_next(&r, &t), 0);
	for (size_t n = 1; n < w.len; n++) {
		int ret;
		tlv_reader_init(&r, buf, n);
		while ((ret = tlv_next(&r, &t)) > 0)
			;
		/* cut inside a TLV → error; cut on a boundary → clean end */
		bool boundary = n == 5 || n == 16;
		cr_assert_eq(ret, boundary ? 0 : -EBADMSG, "cut at %zu", n);
	}
	/* overflow is sticky */
	tlv_writer_init(&w, buf, 10);
	tlv_put_u64(&w, 1, 0);
	tlv_put_u8(&w, 2, 0);
	cr_assert(w.overflow);
}

static struct mesh_hello sample_hello(void)
{
	struct mesh_hello h;
	memset(&h, 0, sizeof(h));
	memcpy(h.name.b, "\x02\x11\x22\x33\x44\x55", 6);
	strcpy(h.nickname, "host-1");
	h.uid = 77;
	h.short_id = 0xfff;
	h.conn_id = 99;
	h.overlays = MESH_OVERLAY_SLEEVE;
	h.sleeve_port = 6783;
	h.sleeve_index = 123456;
	memset(h.confirm, 0xcc, sizeof(h.confirm));
	return h;
}

Test(hello, round_trip)
{
	struct mesh_hello h = sample_hello(), g;
	uint8_t buf[MESH_HELLO_MAX];
	const char *why = NULL;
	ssize_t n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), 0, "%s", why);
	cr_assert_eq(memcmp(&h, &g, sizeof(h)), 0);
}

Test(hello, missing_duplicate_and_bad_fields)
{
	struct mesh_hello h = sample_hello(), g;
	uint8_t buf[MESH_HELLO_MAX + 64];
	const char *why = NULL;
	ssize_t n = mesh_hello_encode(&h, buf, sizeof(buf));

	/* drop the last field (confirm tag) */
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n - (3 + 32), &g, &why), -EBADMSG);
	cr_assert_str_eq(why, "HELLO lacks a required field");
	/* truncated mid-field */
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n - 1, &g, &why), -EBADMSG);
	cr_assert_str_eq(why, "HELLO is truncated");
	/* a repeated field */
	struct tlv_writer w;
	tlv_writer_init(&w, buf + n, 64);
	tlv_put_u64(&w, MESH_HELLO_UID, 1);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n + w.len, &g, &why), -EBADMSG);
	cr_assert_str_eq(why, "HELLO repeats a field");
	/* an unknown field is skipped */
	tlv_writer_init(&w, buf + n, 64);
	tlv_put_u32(&w, 200, 1);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n + w.len, &g, &why), 0, "%s", why);
	/* short id over 12 bits, non-printable nickname, wrong message type */
	h.short_id = 0x1000;
	n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), -EBADMSG);
	h = sample_hello();
	strcpy(h.nickname, "bad\x01name");
	n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), -EBADMSG);
	buf[0] = MESH_MSG_HEARTBEAT;
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), -EBADMSG);
}

Test(hello, full_is_optional_and_checked)
{
	struct mesh_hello h = sample_hello(), g;
	uint8_t buf[MESH_HELLO_MAX + 64];
	const char *why = NULL;
	/* absent: not on the wire (an older peer's HELLO is the same), decoded as 0 */
	ssize_t n0 = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0, &g, &why), 0, "%s", why);
	cr_assert_eq(g.full, 0);
	/* present: 5 more bytes (tag, u16 length, u16), round trip */
	h.full = 16;
	ssize_t n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(n, n0 + MESH_TLV_HDR_LEN + 2);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), 0, "%s", why);
	cr_assert_eq(g.full, 16);
	/* a limit of 0, or not 2 bytes, is refused */
	struct tlv_writer w;
	tlv_writer_init(&w, buf + n0, 64);
	tlv_put_u16(&w, MESH_HELLO_FULL, 0);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0 + w.len, &g, &why), -EBADMSG);
	cr_assert_str_eq(why, "HELLO full is not a connection limit (u16, not 0)");
	tlv_writer_init(&w, buf + n0, 64);
	tlv_put_u32(&w, MESH_HELLO_FULL, 16);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0 + w.len, &g, &why), -EBADMSG);
}

Test(hello, range6_is_optional_and_checked)
{
	struct mesh_hello h = sample_hello(), g;
	uint8_t buf[MESH_HELLO_MAX + 64];
	const char *why = NULL;
	ssize_t n0 = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0, &g, &why), 0, "%s", why);
	cr_assert_eq(g.range6_prefix, 0, "absent: off");
	/* fd6d:6573:6800::/48 */
	static const uint8_t base[16] = { 0xfd, 0x6d, 0x65, 0x73, 0x68, 0x00 };
	memcpy(h.range6, base, 16);
	h.range6_prefix = 48;
	ssize_t n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(n, n0 + MESH_TLV_HDR_LEN + 17);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), 0, "%s", why);
	cr_assert_eq(g.range6_prefix, 48);
	cr_assert_arr_eq(g.range6, base, 16);
	/* refused: a prefix outside 8..96, host bits set, a wrong length */
	static const struct { uint8_t prefix, last; size_t len; } bad[] = {
		{ 7, 0, 17 }, { 97, 0, 17 }, { 0, 0, 17 }, { 48, 1, 17 }, { 48, 0, 16 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t v[17];
		memcpy(v, base, 16);
		v[15] = bad[i].last;
		v[16] = bad[i].prefix;
		struct tlv_writer w;
		tlv_writer_init(&w, buf + n0, 64);
		tlv_put(&w, MESH_HELLO_RANGE6, v, bad[i].len);
		cr_assert_eq(mesh_hello_decode(buf, (size_t)n0 + w.len, &g, &why), -EBADMSG, "case %zu", i);
		cr_assert(strstr(why, "IPv6 range"), "%s", why);
	}
}

Test(hello, features_are_optional_and_unknown_bits_kept)
{
	struct mesh_hello h = sample_hello(), g;
	uint8_t buf[MESH_HELLO_MAX + 64];
	const char *why = NULL;
	/* absent (a meshd from before features): not on the wire, decoded as 0 */
	ssize_t n0 = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0, &g, &why), 0, "%s", why);
	cr_assert_eq(g.features, 0);
	/* ours, and a bit no version knows yet: carried as they are (the receiver tests the bits
	 * it knows) */
	h.features = MESH_FEATURES_OURS | 0x80000000u;
	ssize_t n = mesh_hello_encode(&h, buf, sizeof(buf));
	cr_assert_eq(n, n0 + MESH_TLV_HDR_LEN + 4);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n, &g, &why), 0, "%s", why);
	cr_assert_eq(g.features, MESH_FEATURES_OURS | 0x80000000u);
	cr_assert(g.features & MESH_FEATURE_TOPO_SUMMARY);
	/* not 4 bytes: refused */
	struct tlv_writer w;
	tlv_writer_init(&w, buf + n0, 64);
	tlv_put_u16(&w, MESH_HELLO_FEATURES, 1);
	cr_assert_eq(mesh_hello_decode(buf, (size_t)n0 + w.len, &g, &why), -EBADMSG);
	cr_assert_str_eq(why, "HELLO features is not 4 bytes");
}
