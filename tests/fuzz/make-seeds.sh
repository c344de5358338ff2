#!/bin/sh
# tests/fuzz/make-seeds.sh: (re)writes the seed corpora under tests/fuzz/corpus/<harness>/ from
# the project's own encoders, so the seeds follow the wire formats of gossip/wire.h and
# sleeve/codec.h. Files named crash-* (inputs that once crashed a harness) are left alone.
#
#   tests/fuzz/make-seeds.sh [BUILD_DIR]
#
# BUILD_DIR holds the built libmesh*.a (default: the source tree); run `make libmeshcrypto.a
# libmeshgossip.a libmeshsleeve.a` there first.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
out="$top/tests/fuzz/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/make-seeds.c" <<'EOF'
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gossip/frame.h"
#include "gossip/hello.h"
#include "gossip/tlv.h"
#include "gossip/topology.h"
#include "gossip/wire.h"
#include "sleeve/codec.h"

static const char *outdir;

static void put(const char *harness, const char *name, const uint8_t *d, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void app(struct buf *b, const void *d, size_t n)
{
	memcpy(b->b + b->n, d, n);
	b->n += n;
}

static void app8(struct buf *b, uint8_t v) { app(b, &v, 1); }

static void app16(struct buf *b, uint16_t v)
{
	uint8_t x[2];
	put_be16(x, v);
	app(b, x, 2);
}

static void app32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	put_be32(x, v);
	app(b, x, 4);
}

/* --- sleeve_codec ------------------------------------------------------------------------- */
static void hdr(struct buf *b, uint8_t type, uint8_t flags, uint16_t sid, uint32_t idx, uint64_t ctr)
{
	struct sleeve_hdr h = { type, flags, sid, idx, ctr };
	b->n = 0;
	sleeve_hdr_encode(&h, b->b);
	b->n = SLEEVE_HDR_LEN;
}

static void eth(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	if (len >= 14) {
		f[12] = 0x08; /* IPv4 ethertype */
		f[13] = 0x00;
	}
}

static void sleeve_seeds(void)
{
	struct buf b;
	struct sleeve_batch batch;
	struct mesh_peer_name a = { { 0x0a, 0, 0, 0, 0, 1 } }, c = { { 0x0a, 0, 0, 0, 0, 2 } };
	struct mesh_peer_name zero = { { 0 } };
	uint8_t f1[60], f2[14], f3[100];
	eth(f1, sizeof(f1), 1);
	eth(f2, sizeof(f2), 2);
	eth(f3, sizeof(f3), 3);

	hdr(&b, SLEEVE_HEARTBEAT, 0, 0x123, 7, 1);
	app32(&b, 0x01020304); app32(&b, 0x05060708);
	put("sleeve_codec", "heartbeat", b.b, b.n);
	hdr(&b, SLEEVE_HEARTBEAT_ACK, 0, 0x123, 7, 2);
	app32(&b, 0x01020304); app32(&b, 0x05060708);
	put("sleeve_codec", "heartbeat-ack", b.b, b.n);

	hdr(&b, SLEEVE_FRAMES, 0, 0x001, 1001, 3);
	sleeve_batch_init(&batch, b.b + b.n, sizeof(b.b) - b.n);
	sleeve_batch_add(&batch, &a, &c, NULL, f1, sizeof(f1));
	put("sleeve_codec", "frames-one", b.b, b.n + batch.len);

	hdr(&b, SLEEVE_FRAMES, 0, 0xfff, 0xffffffff, 4);
	sleeve_batch_init(&batch, b.b + b.n, sizeof(b.b) - b.n);
	sleeve_batch_add(&batch, &a, &c, NULL, f2, sizeof(f2));
	sleeve_batch_add(&batch, &a, &zero, NULL, f1, sizeof(f1));
	sleeve_batch_add(&batch, &c, &a, NULL, f3, sizeof(f3));
	put("sleeve_codec", "frames-three", b.b, b.n + batch.len);
	put("sleeve_codec", "bad-truncated-record", b.b, b.n + batch.len - 9);
	b.b[b.n + batch.len] = 0xee;
	put("sleeve_codec", "bad-trailing-byte", b.b, b.n + batch.len + 1);
	b.b[SLEEVE_HDR_LEN] = 0x00;
	b.b[SLEEVE_HDR_LEN + 1] = 13; /* runt */
	put("sleeve_codec", "bad-runt", b.b, b.n + batch.len);

	hdr(&b, SLEEVE_FRAMES, SLEEVE_F_SEALED, 0x002, 1002, 5);
	for (int i = 0; i < 16 + 14 + 60; i++)
		app8(&b, (uint8_t)(i * 37 + 11));
	put("sleeve_codec", "frames-sealed", b.b, b.n);

	hdr(&b, SLEEVE_FRAMES, 0, 1, 1, 6);
	put("sleeve_codec", "frames-empty", b.b, b.n);
	{ /* fragments of a large datagram (codec.h): the whole body in one, and a middle slice */
		struct sleeve_hdr w = { SLEEVE_FRAMES, 0, 0x003, 1003, 9 };
		sleeve_frag_encode(&w, 0, 40, b.b);
		b.n = SLEEVE_FRAG_HDR_LEN;
		for (int i = 0; i < 40; i++)
			app8(&b, (uint8_t)(i * 13 + 5));
		put("sleeve_codec", "fragment-whole", b.b, b.n);
		sleeve_frag_encode(&w, 1448, 4000, b.b);
		b.n = SLEEVE_FRAG_HDR_LEN;
		for (int i = 0; i < 1448; i++)
			app8(&b, (uint8_t)(i * 7 + 1));
		put("sleeve_codec", "fragment-middle", b.b, b.n);
	}
	hdr(&b, 0, 0, 1, 1, 7);
	put("sleeve_codec", "bad-type", b.b, b.n);
	hdr(&b, SLEEVE_FRAMES, 0x80, 1, 1, 8);
	put("sleeve_codec", "bad-flags", b.b, b.n);
	put("sleeve_codec", "bad-short", b.b, 10);
}

/* --- hello / frame ------------------------------------------------------------------------ */
static void hello_fill(struct mesh_hello *h)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 6; i++)
		h->name.b[i] = (uint8_t)(0x0a + i);
	snprintf(h->nickname, sizeof(h->nickname), "host-1");
	h->uid = 0x1122334455667788ull;
	h->short_id = 0x123;
	h->conn_id = 42;
	h->overlays = MESH_OVERLAY_SLEEVE | MESH_OVERLAY_FASTDP;
	h->sleeve_port = 6783;
	h->sleeve_index = 1001;
	for (int i = 0; i < MESH_TAG_LEN; i++)
		h->confirm[i] = (uint8_t)(0xc0 + i);
}

/* A HELLO written TLV by TLV; `skip` leaves a field out, `dup` repeats one, `extra` adds
 * unknown tags. */
static size_t hello_custom(uint8_t *out, size_t cap, int skip, int dup, int extra, int reorder)
{
	struct mesh_hello h;
	struct tlv_writer w;
	hello_fill(&h);
	out[0] = MESH_MSG_HELLO;
	tlv_writer_init(&w, out + 1, cap - 1);
	if (extra)
		tlv_put_str(&w, 0x20, "from-the-future");
	for (int k = 0; k < 9; k++) {
		int tag = reorder ? 9 - k : k + 1;
		for (int rep = 0; rep < (tag == dup ? 2 : 1); rep++) {
			if (tag == skip)
				continue;
			switch (tag) {
			case MESH_HELLO_NAME: tlv_put(&w, tag, h.name.b, 6); break;
			case MESH_HELLO_NICKNAME: tlv_put_str(&w, tag, h.nickname); break;
			case MESH_HELLO_UID: tlv_put_u64(&w, tag, h.uid); break;
			case MESH_HELLO_SHORT_ID: tlv_put_u16(&w, tag, h.short_id); break;
			case MESH_HELLO_CONN_ID: tlv_put_u64(&w, tag, h.conn_id); break;
			case MESH_HELLO_OVERLAYS: tlv_put_u8(&w, tag, h.overlays); break;
			case MESH_HELLO_SLEEVE_PORT: tlv_put_u16(&w, tag, h.sleeve_port); break;
			case MESH_HELLO_SLEEVE_INDEX: tlv_put_u32(&w, tag, h.sleeve_index); break;
			case MESH_HELLO_CONFIRM: tlv_put(&w, tag, h.confirm, MESH_TAG_LEN); break;
			}
		}
		if (extra && k == 4)
			tlv_put(&w, 0xc8, "", 0);
	}
	if (extra)
		tlv_put_u32(&w, 0x7f, 0xdeadbeef);
	return 1 + w.len;
}

static void hello_seeds(void)
{
	uint8_t m[512];
	struct mesh_hello h;
	size_t n;

	hello_fill(&h);
	n = (size_t)mesh_hello_encode(&h, m, sizeof(m));
	put("hello", "valid", m, n);
	put("hello", "bad-truncated", m, n - 5);
	m[0] = MESH_MSG_HEARTBEAT;
	put("hello", "bad-type", m, n);

	snprintf(h.nickname, sizeof(h.nickname), "%s",
		 "n123456789012345678901234567890123456789012345678901234567890_2");
	n = (size_t)mesh_hello_encode(&h, m, sizeof(m));
	put("hello", "valid-nick-63", m, n);

	h.full = 16; /* the server's HELLO when it refuses for its connection limit */
	n = (size_t)mesh_hello_encode(&h, m, sizeof(m));
	put("hello", "valid-full", m, n);
	m[n - 1] = 0;
	m[n - 2] = 0;
	put("hello", "bad-full-zero", m, n);
	h.full = 0;
	static const uint8_t r6[16] = { 0xfd, 0x6d, 0x65, 0x73, 0x68, 0x00 };
	memcpy(h.range6, r6, 16);
	h.range6_prefix = 48;
	n = (size_t)mesh_hello_encode(&h, m, sizeof(m));
	put("hello", "valid-range6", m, n);
	m[n - 2] = 1; /* a host bit */
	put("hello", "bad-range6-host-bits", m, n);
	h.range6_prefix = 0;

	put("hello", "valid-unknown-tags", m, hello_custom(m, sizeof(m), 0, 0, 1, 0));
	put("hello", "valid-reordered", m, hello_custom(m, sizeof(m), 0, 0, 0, 1));
	put("hello", "bad-no-confirm", m, hello_custom(m, sizeof(m), MESH_HELLO_CONFIRM, 0, 0, 0));
	put("hello", "bad-dup-name", m, hello_custom(m, sizeof(m), 0, MESH_HELLO_NAME, 0, 0));

	/* field values out of range: patch the encoding of a valid HELLO */
	hello_fill(&h);
	n = (size_t)mesh_hello_encode(&h, m, sizeof(m));
	/* layout: type | name(3+6) | nick(3+6) | uid(3+8) | short(3+2) | conn(3+8) | ov(3+1)
	 *        | port(3+2) | index(3+4) | confirm(3+32) */
	size_t nick_val = 1 + 9 + 3, short_val = 1 + 9 + 9 + 11 + 3, port_val = short_val + 2 + 11 + 4 + 3;
	uint8_t c[512];
	memcpy(c, m, n); c[nick_val + 2] = ' ';
	put("hello", "bad-nick-space", c, n);
	memcpy(c, m, n); c[short_val] = 0x10; c[short_val + 1] = 0x00;
	put("hello", "bad-short-id", c, n);
	memcpy(c, m, n); c[port_val] = 0; c[port_val + 1] = 0;
	put("hello", "bad-port-zero", c, n);
	memcpy(c, m, n); c[1 + 1] = 0; c[1 + 2] = 7; /* name length 7 */
	put("hello", "bad-name-len", c, n);
	memcpy(c, m, n); c[n - 33] = 31; /* confirm tag TLV of 31 bytes */
	put("hello", "bad-confirm-len", c, n - 1);
}

static const uint8_t fuzz_key[32] = {
	'm', 'e', 's', 'h', '-', 'f', 'u', 'z', 'z', '-', 'f', 'r', 'a', 'm', 'e', '-',
	'k', 'e', 'y', 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

static void chan(struct mesh_frame_chan *c, bool sealed, uint64_t ctr)
{
	memset(c, 0, sizeof(*c));
	c->sealed = sealed;
	memcpy(c->tx_key, fuzz_key, 32);
	memcpy(c->rx_key, fuzz_key, 32);
	c->tx_ctr = c->rx_ctr = ctr;
}

static void frame_add(struct buf *b, struct mesh_frame_chan *c, const uint8_t *msg, size_t n)
{
	ssize_t f = mesh_frame_seal(c, msg, n, b->b + b->n, sizeof(b->b) - b->n);
	if (f < 0)
		abort();
	b->n += (size_t)f;
}

static void frame_seeds(void)
{
	struct mesh_frame_chan c;
	struct mesh_hello h;
	struct buf b;
	uint8_t hello[512], gossip[128], hb[8];
	struct tlv_writer w;

	hello_fill(&h);
	size_t hn = (size_t)mesh_hello_encode(&h, hello, sizeof(hello));
	gossip[0] = MESH_MSG_GOSSIP;
	tlv_writer_init(&w, gossip + 1, sizeof(gossip) - 1);
	tlv_put_u8(&w, 1, 7);
	tlv_put_u16(&w, 2, 0x1234);
	tlv_put_u32(&w, 3, 0xdeadbeef);
	tlv_put_u64(&w, 4, 0x0102030405060708ull);
	tlv_put_str(&w, 5, "some peer gossip");
	tlv_put(&w, 6, "", 0);
	size_t gn = 1 + w.len;
	hb[0] = MESH_MSG_HEARTBEAT;
	size_t hbn = 1;

	for (int sealed = 0; sealed < 2; sealed++) {
		const char *pre = sealed ? "sealed" : "plain";
		char name[64];
		for (int ctr = 0; ctr < 4; ctr += 2) {
			chan(&c, sealed, (uint64_t)ctr);
			b.n = 0;
			app8(&b, (uint8_t)(sealed | (ctr << 2)));
			frame_add(&b, &c, hello, hn);
			frame_add(&b, &c, gossip, gn);
			frame_add(&b, &c, hb, hbn);
			snprintf(name, sizeof(name), "%s-ctr%d-stream", pre, ctr);
			put("frame", name, b.b, b.n);
			if (ctr)
				continue;
			snprintf(name, sizeof(name), "%s-partial", pre);
			put("frame", name, b.b, b.n - 3);
			/* the gossip message's last TLV announces more than is there */
			b.n = 0;
			app8(&b, (uint8_t)sealed);
			uint8_t bad[128];
			memcpy(bad, gossip, gn);
			bad[gn - 2] = 0x40;
			chan(&c, sealed, 0);
			frame_add(&b, &c, bad, gn);
			snprintf(name, sizeof(name), "%s-bad-tlv", pre);
			put("frame", name, b.b, b.n);
		}
		/* round trip mode: the bytes are a message the harness seals itself */
		b.n = 0;
		app8(&b, (uint8_t)(sealed | 2));
		app(&b, gossip, gn);
		snprintf(name, sizeof(name), "%s-roundtrip-gossip", pre);
		put("frame", name, b.b, b.n);
	}
	/* header edge cases */
	b.n = 0; app8(&b, 0); app32(&b, MESH_FRAME_MAX + 1); app8(&b, 1);
	put("frame", "bad-too-long", b.b, b.n);
	b.n = 0; app8(&b, 0); app32(&b, 0);
	put("frame", "bad-empty-body", b.b, b.n);
	b.n = 0; app8(&b, 1); app32(&b, 10); app(&b, "0123456789", 10);
	put("frame", "bad-sealed-short-body", b.b, b.n);
	chan(&c, true, 0);
	b.n = 0; app8(&b, 1); frame_add(&b, &c, hello, hn);
	b.b[20] ^= 0x04;
	put("frame", "bad-sealed-tampered", b.b, b.n);
}

/* --- handshake ---------------------------------------------------------------------------- */
/* raw mode: chunks [len u8][bytes] of what a peer sends */
static void chunked(struct buf *out, const uint8_t *d, size_t n, size_t chunk)
{
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		app8(out, (uint8_t)k);
		app(out, d + off, k);
	}
}

static void handshake_seeds(void)
{
	struct buf peer, b;
	uint8_t sk[32], pk[32];
	for (int i = 0; i < 32; i++)
		sk[i] = (uint8_t)(i * 3 + 1);
	crypto_scalarmult_base(pk, sk);

	for (int variant = 0; variant < 8; variant++) {
		peer.n = 0;
		app(&peer, MESH_MAGIC, MESH_MAGIC_LEN);
		app8(&peer, 1);
		app8(&peer, variant == 2 ? 3 : 1); /* 2: peer speaks 1..3 */
		app8(&peer, (variant == 1 ? MESH_KEY_FLAG_PASSWORD : 0) | MESH_KEY_FLAG_MESH_NAME);
		if (variant == 6) /* a low-order point: the key exchange must refuse it */
			app(&peer, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);
		else
			app(&peer, pk, 32);
		app(&peer, "\x0a\x0b\x0c\x0d\x0e\x01", 6);
		app8(&peer, 5);
		app(&peer, variant == 3 ? "bad n" : "peer1", 5);
		app8(&peer, 4); /* mesh name: ours ("mesh"), or another one (7) */
		app(&peer, variant == 7 ? "blue" : "mesh", 4);
		/* a HELLO frame the handshake will refuse (its confirm tag is made up) */
		struct mesh_hello h;
		struct mesh_frame_chan c;
		uint8_t m[512];
		hello_fill(&h);
		memcpy(h.name.b, "\x0a\x0b\x0c\x0d\x0e\x01", 6);
		size_t hn = (size_t)mesh_hello_encode(&h, m, sizeof(m));
		chan(&c, variant == 1, 0);
		frame_add(&peer, &c, m, hn);

		b.n = 0;
		static const uint8_t flags[8] = { 0x00, 0x22, 0x41, 0x00, 0x90, 0x01, 0x00, 0x00 };
		static const char *const names[8] = {
			"raw-server-plain", "raw-server-psk", "raw-client-v13",
			"raw-bad-nickname", "raw-v12-plain", "raw-client-bytewise", "raw-low-order-key",
			"raw-other-mesh",
		};
		app8(&b, flags[variant]);
		chunked(&b, peer.b, peer.n, variant == 5 ? 1 : variant == 4 ? 255 : 17);
		put("handshake", names[variant], b.b, b.n);
	}
	/* bad VERSION messages */
	b.n = 0; app8(&b, 0); app8(&b, 6); app(&b, "MESZ\x01\x01", 6);
	put("handshake", "raw-bad-magic", b.b, b.n);
	b.n = 0; app8(&b, 0); app8(&b, 6); app(&b, "MESH\x02\x01", 6);
	put("handshake", "raw-bad-range", b.b, b.n);
	b.n = 0; app8(&b, 0); app8(&b, 6); app(&b, "MESH\x05\x09", 6);
	put("handshake", "raw-no-common-version", b.b, b.n);

	/* splice mode: flags, then edits [op][pos u16][val] */
	static const struct { uint8_t flags; const char *name; const char *edits; size_t n; } sp[] = {
		{ 0x04, "splice-server-plain", "", 0 },
		{ 0x05, "splice-client-plain", "", 0 },
		{ 0x06, "splice-server-psk", "", 0 },
		{ 0x27, "splice-client-psk-bytewise", "", 0 },
		{ 0xf6, "splice-psk-chunks-40", "", 0 },
		{ 0x0e, "splice-psk-mismatch", "", 0 },
		{ 0x1e, "splice-psk-vs-none", "", 0 },
		{ 0x0c, "splice-none-vs-psk", "", 0 },
		{ 0x14, "splice-v12-plain", "", 0 },
		{ 0x04, "splice-flip-key-flag", "\x00\x00\x06\x01", 4 },
		{ 0x04, "splice-set-nick-len", "\x01\x00\x2d\x03", 4 },
		{ 0x06, "splice-truncate-hello", "\x02\x00\x40\x00", 4 },
		{ 0x04, "splice-flip-hello", "\x00\x00\x50\x20", 4 },
		/* 164 bytes: VERSION 6, KEY 40 + "real-peer" + 1 + "mesh", HELLO frame 4 + 100; then
		 * one frame */
		{ 0x04, "splice-trailing-frame", "\x03\x00\xa4\x08\x00\x00\x00\x04\x02\x01\x00\x00", 12 },
	};
	for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++) {
		b.n = 0;
		app8(&b, sp[i].flags);
		app(&b, sp[i].edits, sp[i].n);
		put("handshake", sp[i].name, b.b, b.n);
	}
}

/* --- config ------------------------------------------------------------------------------- */
static void config_seed(const char *name, uint8_t sel, const char *const *args)
{
	struct buf b;
	b.n = 0;
	app8(&b, sel);
	for (int i = 0; args[i]; i++) {
		if (i)
			app8(&b, 0);
		app(&b, args[i], strlen(args[i]));
	}
	put("config", name, b.b, b.n);
}

static void config_seeds(void)
{
	config_seed("ok-peers", 0, (const char *const[]){ "--port", "6790", "--nickname", "h1",
		"10.0.0.1", "192.168.1.2:7000", NULL });
	config_seed("ok-allow-from", 0, (const char *const[]){ "--allow-from",
		"198.18.0.0/24,2001:2:0:6d::/64", "--allow-from", "192.0.2.7", "10.0.0.1", NULL });
	config_seed("bad-allow-from-host-bits", 0, (const char *const[]){ "--allow-from",
		"198.18.0.1/24", NULL });
	config_seed("ok-all-flags", 0, (const char *const[]){ "--name", "0a:1b:2c:3d:4e:5f",
		"--nickname=host-1", "--port=6783", "--bridge", "weave", "--state-dir", "/tmp/s",
		"--api-socket", "/run/m.sock", "--password-file", "/etc/pw", "--mtu", "1400",
		"--log-level=debug", "--keep-bridge", "198.18.0.1", NULL });
	config_seed("ok-password-flag", 4, (const char *const[]){ "--password", "s3cret-s3cret-s3cret",
		"--password=again-again-again", "1.2.3.4", NULL });
	config_seed("ok-env-password", 5, (const char *const[]){ "hunter2-hunter2-hunter2", NULL });
	config_seed("ok-mesh-name", 0, (const char *const[]){ "--mesh-name", "prod-eu", NULL });
	config_seed("bad-short-password", 4, (const char *const[]){ "--password", "s3cret", NULL });
	config_seed("bad-mesh-name", 0, (const char *const[]){ "--mesh-name", "a b", NULL });
	config_seed("ok-help", 0, (const char *const[]){ "--help", "--version", NULL });
	config_seed("bad-env-empty", 1, (const char *const[]){ "--log-level", "warn", NULL });
	config_seed("bad-both-passwords", 0, (const char *const[]){ "--password", "a",
		"--password-file", "/p", NULL });
	config_seed("bad-values", 0, (const char *const[]){ "--mtu", "100", NULL });
	config_seed("bad-flag-value", 0, (const char *const[]){ "--keep-bridge=yes", NULL });
	config_seed("bad-short-flag", 0, (const char *const[]){ "-p", "1", NULL });
	config_seed("bad-unknown-flag", 0, (const char *const[]){ "--frobnicate", "1", NULL });
	config_seed("bad-nickname", 0, (const char *const[]){ "--nickname", "two words", NULL });
	config_seed("bad-name", 0, (const char *const[]){ "--name", "0a:1b:2c:3d:4e:5", NULL });
	config_seed("bad-bridge", 0, (const char *const[]){ "--bridge", "a/b", NULL });
	config_seed("bad-port", 0, (const char *const[]){ "1.2.3.4:0", NULL });
	config_seed("bad-missing-value", 0, (const char *const[]){ "--state-dir", NULL });
	config_seed("ok-ipam", 0, (const char *const[]){ "--ipalloc-range", "10.40.0.0/16",
		"--ipalloc-default-subnet=10.32.0.0/12", "--ipalloc-init",
		"seed=0a:00:00:00:00:01,0a:00:00:00:00:02", "--ipam-reclaim-after", "90s", NULL });
	config_seed("bad-ipam-subnet", 0, (const char *const[]){ "--ipalloc-range", "10.40.0.0/16",
		"--ipalloc-default-subnet", "10.48.0.0/12", NULL });
	config_seed("ok-ipam-range6", 0, (const char *const[]){ "--ipalloc-range", "10.40.0.0/16",
		"--ipalloc-range6", "fd6d:6573:6800::/96", NULL });
	config_seed("ok-ipam-range6-off", 0, (const char *const[]){ "--ipalloc-range6=off", NULL });
	config_seed("bad-ipam-range6-small", 0, (const char *const[]){ "--ipalloc-range6",
		"fd00::/112", NULL });
	config_seed("bad-ipam-range6-host-bits", 0, (const char *const[]){ "--ipalloc-range6",
		"fd00::1/64", NULL });
	config_seed("bad-ipam-init", 0, (const char *const[]){ "--ipalloc-init", "consensus=0", NULL });
	config_seed("bad-long-flag", 0, (const char *const[]){
		"--this-flag-is-much-longer-than-thirty-two-bytes=1", NULL });
	const char *many[72];
	for (int i = 0; i < 70; i++)
		many[i] = "10.1.2.3";
	many[70] = NULL;
	config_seed("bad-too-many-peers", 0, many);
}


/* --- topology ----------------------------------------------------------------------------- */
/* The harness merges into a topology of us (02:5e:1f:00:00:01, uid 0x1111, version 1001) and
 * peers 02:00:00:00:00:01..03 (version 10, uid 1). */
static struct mesh_topo_peer topo_peer(uint8_t last, uint64_t version, uint64_t uid, struct mesh_topo_conn *c,
				       unsigned n)
{
	struct mesh_topo_peer p;
	memset(&p, 0, sizeof(p));
	p.name = (struct mesh_peer_name){ { 0x02, 0x00, 0x00, 0x00, 0x00, last } };
	snprintf(p.nickname, sizeof(p.nickname), "peer-%u", last);
	p.version = version;
	p.uid = uid;
	p.short_id = last;
	p.conns = c;
	p.nconns = n;
	return p;
}

static size_t topo_encode(struct mesh_topo_peer *e, size_t n, uint8_t *out, size_t cap)
{
	struct mesh_topology t;
	memset(&t, 0, sizeof(t));
	t.peers = e;
	t.n = t.cap = n;
	ssize_t r = mesh_topo_encode(&t, NULL, 0, out, cap);
	if (r < 0)
		abort();
	return (size_t)r;
}

static void topology_seeds(void)
{
	static const struct mesh_peer_name self = { { 0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01 } };
	struct mesh_topo_conn c[4];
	for (int i = 0; i < 4; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].peer = (struct mesh_peer_name){ { 0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(i + 1) } };
		c[i].ip = htonl(0x0a000001u + (uint32_t)i);
		c[i].port = 6783;
		c[i].flags = (uint8_t)(i & 3);
	}
	c[3].peer = self;
	c[3].flags = MESH_TOPO_CONN_ESTABLISHED;
	uint8_t m[8192], x[8192];
	size_t n;
	struct mesh_topo_peer e[48];

	m[0] = 0; m[1] = 0;
	put("topology", "valid-empty", m, 2);
	e[0] = topo_peer(9, 1, 1, c, 4);
	n = topo_encode(e, 1, m, sizeof(m));
	put("topology", "valid-one-new", m, n);
	/* newer 1, equal version and higher uid 2, older 3, new 4 */
	e[0] = topo_peer(1, 11, 1, c + 3, 1);
	e[1] = topo_peer(2, 10, 2, c, 3);
	e[2] = topo_peer(3, 9, 7, NULL, 0);
	e[3] = topo_peer(4, 1, 1, c + 2, 2);
	n = topo_encode(e, 4, m, sizeof(m));
	put("topology", "valid-mixed", m, n);
	memcpy(x, m, n); x[n] = 0;
	put("topology", "bad-trailing-byte", x, n + 1);
	put("topology", "bad-truncated", m, n - 7);
	memcpy(x, m, n); x[1] = 5;
	put("topology", "bad-count", x, n);
	memcpy(x, m, n); x[0] = 0x04; x[1] = 0x01;
	put("topology", "bad-count-over-max", x, n);
	/* entry 0: name(6) len(1) "peer-1"(6) uid(8) version(8) short(2) nconns(2) conn(13) */
	memcpy(x, m, n); x[2 + 6] = 0;
	put("topology", "bad-nick-empty", x, n);
	memcpy(x, m, n); x[2 + 7 + 4] = ' ';
	put("topology", "bad-nick-space", x, n);
	memcpy(x, m, n); x[2 + 7 + 6 + 16] = 0x10;
	put("topology", "bad-short-id", x, n);
	memcpy(x, m, n); x[2 + 7 + 6 + 18] = 0x04; x[2 + 7 + 6 + 19] = 0x01;
	put("topology", "bad-nconns-over-max", x, n);
	memcpy(x, m, n); x[2 + 7 + 6 + 20 + 12] = 0x0a;
	put("topology", "bad-conn-flags", x, n);
	/* a connection reached over IPv6 (flag bit 2, IPv4 field zero, 16 bytes after the flags),
	 * beside an IPv4 one */
	struct mesh_topo_conn c6[2] = { c[0], c[1] };
	struct mesh_addr a6;
	mesh_addr_parse("[2001:2:0:6d::2]:6783", 6783, &a6, NULL);
	mesh_topo_conn_set_addr(&c6[0], &a6);
	e[0] = topo_peer(7, 1, 1, c6, 2);
	n = topo_encode(e, 1, m, sizeof(m));
	put("topology", "valid-ipv6-conn", m, n);
	memcpy(x, m, n); x[2 + 7 + 6 + 20 + 6] = 1;
	put("topology", "bad-ipv6-nonzero-ipv4", x, n);
	put("topology", "bad-ipv6-truncated", m, 2 + 7 + 6 + 20 + 13 + 8);
	e[1] = e[0];
	e[1].version = 12;
	n = topo_encode(e, 2, m, sizeof(m));
	put("topology", "bad-dup-name", m, n);

	/* our own name: an old incarnation with a higher version, and our own entry echoed */
	e[0] = topo_peer(0, 5000, 0x2222, c, 2);
	e[0].name = self;
	e[1] = topo_peer(5, 1, 1, NULL, 0);
	n = topo_encode(e, 2, m, sizeof(m));
	put("topology", "valid-self-old-incarnation", m, n);
	e[0].version = 1001;
	e[0].uid = 0x1111;
	snprintf(e[0].nickname, sizeof(e[0].nickname), "fuzz-self");
	n = topo_encode(e, 1, m, sizeof(m));
	put("topology", "valid-self-echo", m, n);

	/* many entries, a 63-byte nickname, the 12-bit edge, every flag combination */
	for (int i = 0; i < 48; i++) {
		e[i] = topo_peer((uint8_t)(0x40 + i), (uint64_t)i * 1000, (uint64_t)i, c + (i % 4), (unsigned)(4 - i % 4));
		e[i].short_id = (uint16_t)(0xfff - i);
	}
	snprintf(e[7].nickname, sizeof(e[7].nickname), "%s",
		 "n123456789012345678901234567890123456789012345678901234567890_2");
	e[8].version = UINT64_MAX;
	n = topo_encode(e, 48, m, sizeof(m));
	put("topology", "valid-many", m, n);
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: make-seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	sleeve_seeds();
	hello_seeds();
	frame_seeds();
	handshake_seeds();
	config_seeds();
	topology_seeds();
	return 0;
}
EOF

cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -std=gnu11 -D_GNU_SOURCE -I"$top/include" -I"$top" -o "$tmp/make-seeds" "$tmp/make-seeds.c" \
	"$build/libmeshsleeve.a" "$build/libmeshgossip.a" "$build/libmeshcrypto.a" \
	$(pkg-config --cflags --libs libsodium)
mkdir -p "$out"
# the seeds this script owns are rewritten; crash-* and other hand-made files stay
find "$out" -type f \( -name 'valid*' -o -name 'bad-*' -o -name 'ok-*' -o -name 'raw-*' \
	-o -name 'splice-*' -o -name 'plain-*' -o -name 'sealed-*' -o -name 'frames-*' \
	-o -name 'heartbeat*' \) -delete
"$tmp/make-seeds" "$out"
echo "seeds written to $out:"
for d in "$out"/*/; do
	printf '  %s: %s files\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
