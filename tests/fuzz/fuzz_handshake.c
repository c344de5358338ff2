/* tests/fuzz/fuzz_handshake.c: the control connection handshake (gossip/handshake.c).
 *
 * Input: a flags byte, then
 *   raw mode (flags bit 2 clear): what the peer sends, as chunks [len u8][len bytes]; each chunk
 *     is appended to what the handshake has not consumed yet and fed to mesh_hs_input, the way
 *     gossip/control.c feeds it from a socket;
 *   splice mode (flags bit 2 set): a real peer handshake runs against ours, and the input is a
 *     list of edits applied to what the real peer sends (VERSION, KEY, sealed HELLO) before our
 *     side sees it: [op u8][pos u16 BE][val u8] with op % 4 = 0 xor, 1 set, 2 truncate,
 *     3 insert val bytes taken from the input. Without edits the handshake must succeed
 *     whenever both sides agree on the password; and whenever our side accepts, the real peer
 *     must accept our HELLO too and both must then open each other's frames.
 * Flags: bit 0: our side is the client; bit 1: our side has a password; bit 3 (splice): the
 * peers disagree on the password (ours has one: the peer has another one, or none with bit 4;
 * ours has none: the peer has one);
 * bit 4: our side speaks protocol versions 1..2; bits 5-7: the chunk size in splice mode and
 * how much output is taken at a time.
 * libsodium's random generator is replaced by a deterministic one (reset for every input), so
 * that ephemeral keys, and so every run, depend on the input alone. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/handshake.h"
#include "tests/fuzz/fuzz.h"

/* --- a deterministic randombytes implementation (splitmix64) ------------------------------ */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "mesh-fuzz-deterministic";
}

static uint32_t rng_random(void)
{
	return (uint32_t)rng_next();
}

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < size; i += 8) {
		uint64_t v = rng_next();
		size_t n = size - i < 8 ? size - i : 8;
		memcpy(p + i, &v, n);
	}
}

static randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = rng_buf,
	.close = NULL,
};

static void crypto_once(void)
{
	static bool done;
	if (!done) {
		randombytes_set_implementation(&rng_impl);
		if (sodium_init() < 0)
			abort();
		done = true;
	}
	rng_state = 0x6d657368; /* "mesh" */
}

/* --- configurations ---------------------------------------------------------------------- */
static const uint8_t psk_a[MESH_KEY_LEN] = {
	0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
	0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
};
static const uint8_t psk_b[MESH_KEY_LEN] = {
	0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2,
	0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2, 0xb2,
};

static void config(struct mesh_hs_config *c, bool client, const uint8_t *psk, uint8_t name0,
		   const char *nick, uint8_t proto_max)
{
	memset(c, 0, sizeof(*c));
	c->is_client = client;
	c->psk = psk;
	c->proto_min = 1;
	c->proto_max = proto_max;
	memset(c->hello.name.b, name0, MESH_PEER_NAME_LEN);
	snprintf(c->hello.nickname, sizeof(c->hello.nickname), "%s", nick);
	c->hello.uid = 1000 + name0;
	c->hello.short_id = name0;
	c->hello.conn_id = 42;
	c->hello.overlays = MESH_OVERLAY_SLEEVE;
	c->hello.sleeve_port = 6783;
	c->hello.sleeve_index = 7000u + name0;
}

/* --- invariants -------------------------------------------------------------------------- */
static void check(const struct mesh_hs *hs, int r, size_t fed, size_t used)
{
	FUZZ_CHECK(used <= fed);
	/* lengths the handshake keeps stay within their buffers (an overlong KEY message must be
	 * refused before it is copied into peer_key) */
	FUZZ_CHECK(hs->peer_key_len <= sizeof(hs->peer_key));
	FUZZ_CHECK(hs->out_len <= sizeof(hs->out));
	FUZZ_CHECK(hs->my_key_len >= MESH_KEY_MSG_MIN && hs->my_key_len <= MESH_KEY_MSG_MAX);
	FUZZ_CHECK(strnlen(hs->error, sizeof(hs->error)) < sizeof(hs->error));
	if (r < 0) {
		FUZZ_CHECK(hs->state == MESH_HS_FAILED);
		FUZZ_CHECK(hs->error[0] != '\0');
		FUZZ_CHECK(r == -EPROTONOSUPPORT || r == -EACCES || r == -ELOOP || r == -EPROTO);
	} else if (r == MESH_HS_DONE) {
		FUZZ_CHECK(hs->state == MESH_HS_ESTABLISHED);
		FUZZ_CHECK(mesh_peer_name_eq(&hs->peer_hello.name, &hs->peer_name));
		FUZZ_CHECK(!mesh_peer_name_eq(&hs->peer_name, &hs->cfg.hello.name));
		FUZZ_CHECK(hs->chan.sealed == (hs->cfg.psk != NULL));
		FUZZ_CHECK(hs->peer_has_password == (hs->cfg.psk != NULL));
	} else {
		FUZZ_CHECK(r == MESH_HS_AGAIN);
		FUZZ_CHECK(hs->state == MESH_HS_WANT_VERSION || hs->state == MESH_HS_WANT_KEY ||
			   hs->state == MESH_HS_WANT_HELLO);
	}
	if (hs->state != MESH_HS_WANT_VERSION && hs->state != MESH_HS_FAILED) {
		FUZZ_CHECK(hs->version >= hs->cfg.proto_min && hs->version <= hs->cfg.proto_max);
		FUZZ_CHECK(hs->version >= hs->peer_version[4] && hs->version <= hs->peer_version[5]);
	}
	if (hs->state == MESH_HS_WANT_HELLO || hs->state == MESH_HS_ESTABLISHED) {
		size_t n = strnlen(hs->peer_nickname, sizeof(hs->peer_nickname));
		FUZZ_CHECK(n < sizeof(hs->peer_nickname) && mesh_nickname_valid(hs->peer_nickname, n));
		size_t m = strnlen(hs->peer_mesh_name, sizeof(hs->peer_mesh_name));
		FUZZ_CHECK(m < sizeof(hs->peer_mesh_name) && mesh_nickname_valid(hs->peer_mesh_name, m));
		FUZZ_CHECK(!strcmp(hs->peer_mesh_name, hs->cfg.mesh_name));
		FUZZ_CHECK(hs->peer_key_len == MESH_KEY_MSG_MIN + n + 1 + m ||
			   (!hs->peer_has_password && hs->peer_key_len == MESH_KEY_MSG_MIN + n));
	}
}

/* Feeds len new bytes: appends them to the unconsumed bytes in pend (capacity cap), runs the
 * handshake, keeps what it did not consume. Returns its result. */
static int feed(struct mesh_hs *hs, uint8_t *pend, size_t *plen, size_t cap, const uint8_t *d,
		size_t len)
{
	FUZZ_CHECK(*plen + len <= cap);
	if (len)
		memcpy(pend + *plen, d, len);
	*plen += len;
	size_t used = 0;
	int r = mesh_hs_input(hs, pend, *plen, &used);
	check(hs, r, *plen, used);
	memmove(pend, pend + used, *plen - used);
	*plen -= used;
	return r;
}

/* Moves everything queued by hs into sink (in pieces of `step` bytes). */
static size_t drain(struct mesh_hs *hs, uint8_t *sink, size_t *sink_len, size_t cap, size_t step)
{
	size_t total = 0;
	for (;;) {
		size_t queued = hs->out_len;
		size_t want = step < cap - *sink_len ? step : cap - *sink_len;
		size_t n = mesh_hs_take_output(hs, sink + *sink_len, want);
		FUZZ_CHECK(n <= want && n == (queued < want ? queued : want));
		FUZZ_CHECK(hs->out_len == queued - n);
		*sink_len += n;
		total += n;
		if (n == 0)
			return total;
	}
}

/* After DONE, the bytes that followed HELLO are the framed stream: cut and open them. */
static void framed_rest(struct mesh_hs *hs, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t f = mesh_frame_peek(&hs->chan, buf, len);
		if (f <= 0)
			return;
		FUZZ_CHECK((size_t)f <= len);
		uint8_t *msg;
		size_t mlen;
		if (mesh_frame_open(&hs->chan, buf, (size_t)f, &msg, &mlen) < 0)
			return;
		FUZZ_CHECK(mlen >= 1 && msg + mlen <= buf + f);
		buf += f;
		len -= (size_t)f;
	}
}

/* --- raw mode ---------------------------------------------------------------------------- */
static void raw(uint8_t flags, struct fuzz_input *in)
{
	struct mesh_hs_config cfg;
	bool client = flags & 1;
	config(&cfg, client, (flags & 2) ? psk_a : NULL, 0x0f, "fuzzed", (flags & 16) ? 2 : 1);
	struct mesh_hs *hs = malloc(sizeof(*hs));
	size_t cap = in->left + 1;
	uint8_t *pend = malloc(cap);
	size_t sink_cap = sizeof(hs->out) * 2;
	uint8_t *sink = malloc(sink_cap);
	if (!hs || !pend || !sink)
		goto out;
	mesh_hs_init(hs, &cfg);
	check(hs, MESH_HS_AGAIN, 0, 0);

	/* our VERSION and KEY are queued at once */
	size_t sink_len = 0;
	size_t step = 1 + (flags >> 5) * 9;
	drain(hs, sink, &sink_len, sink_cap, step);
	FUZZ_CHECK(sink_len == MESH_VERSION_MSG_LEN + hs->my_key_len);
	FUZZ_CHECK(memcmp(sink, MESH_MAGIC, MESH_MAGIC_LEN) == 0);
	FUZZ_CHECK(sink[4] == cfg.proto_min && sink[5] == cfg.proto_max);
	FUZZ_CHECK(sink[6] == ((cfg.psk ? MESH_KEY_FLAG_PASSWORD : 0) |
			       (mesh_hs_sends_mesh_name(&cfg) ? MESH_KEY_FLAG_MESH_NAME : 0)));

	size_t plen = 0;
	int r = MESH_HS_AGAIN;
	while (in->left > 0 && r == MESH_HS_AGAIN) {
		const uint8_t *chunk;
		size_t n = fuzz_bytes(in, fuzz_u8(in), &chunk);
		r = feed(hs, pend, &plen, cap, chunk, n);
		sink_len = 0;
		drain(hs, sink, &sink_len, sink_cap, step);
	}
	if (r < 0) {
		/* a failed handshake stays failed */
		size_t used = 1;
		FUZZ_CHECK(mesh_hs_input(hs, pend, plen, &used) == -EPROTO && used == 0);
	} else if (r == MESH_HS_DONE) {
		/* the rest of the input is the framed stream that follows */
		const uint8_t *tail;
		size_t n = fuzz_bytes(in, in->left, &tail);
		FUZZ_CHECK(plen + n <= cap);
		memcpy(pend + plen, tail, n);
		framed_rest(hs, pend, plen + n);
	}
	mesh_hs_wipe(hs);
out:
	free(hs);
	free(pend);
	free(sink);
}

/* --- splice mode ------------------------------------------------------------------------- */
static void splice(uint8_t flags, struct fuzz_input *in)
{
	bool client = flags & 1;
	const uint8_t *our_psk = (flags & 2) ? psk_a : NULL;
	const uint8_t *peer_psk = our_psk;
	if (flags & 8)
		peer_psk = our_psk ? ((flags & 16) ? NULL : psk_b) : psk_a;
	struct mesh_hs_config fc, pc;
	config(&fc, client, our_psk, 0x0f, "fuzzed", (flags & 16) ? 2 : 1);
	config(&pc, !client, peer_psk, 0x0a, "real-peer", 1);

	struct mesh_hs *f = malloc(sizeof(*f)), *p = malloc(sizeof(*p));
	/* inserted bytes come from the input, so the stream never grows by more than that */
	size_t scap = 2 * sizeof(f->out) + in->left + 16;
	uint8_t *p2f = malloc(scap), *f2p = malloc(scap);
	uint8_t *fpend = malloc(scap), *ppend = malloc(scap);
	if (!f || !p || !p2f || !f2p || !fpend || !ppend)
		goto out;
	mesh_hs_init(f, &fc);
	mesh_hs_init(p, &pc);

	/* Both send VERSION and KEY at once; the peer answers ours with its HELLO. */
	size_t p2f_len = 0, f2p_len = 0, fplen = 0, pplen = 0;
	drain(p, p2f, &p2f_len, scap, scap);
	drain(f, f2p, &f2p_len, scap, scap);
	int rp = feed(p, ppend, &pplen, scap, f2p, f2p_len);
	FUZZ_CHECK(rp == MESH_HS_AGAIN || (peer_psk != our_psk && rp == -EACCES));
	f2p_len = 0;
	drain(p, p2f, &p2f_len, scap, scap);
	size_t clean_len = p2f_len;

	/* Edit what the peer sent. */
	bool edited = false;
	while (in->left >= 4) {
		uint8_t op = fuzz_u8(in);
		uint16_t pos = fuzz_u16(in);
		uint8_t val = fuzz_u8(in);
		size_t at = p2f_len ? pos % p2f_len : 0;
		edited = true;
		switch (op & 3) {
		case 0:
			if (p2f_len)
				p2f[at] ^= val;
			break;
		case 1:
			if (p2f_len)
				p2f[at] = val;
			break;
		case 2:
			p2f_len = pos % (p2f_len + 1);
			break;
		case 3: {
			const uint8_t *ins;
			size_t n = fuzz_bytes(in, val, &ins);
			at = pos % (p2f_len + 1);
			FUZZ_CHECK(p2f_len + n <= scap);
			memmove(p2f + at + n, p2f + at, p2f_len - at);
			memcpy(p2f + at, ins, n);
			p2f_len += n;
			break;
		}
		}
	}

	/* Our side reads it in chunks. */
	static const size_t chunks[8] = { 0, 1, 2, 3, 5, 7, 16, 40 };
	size_t chunk = chunks[flags >> 5];
	if (chunk == 0)
		chunk = p2f_len ? p2f_len : 1;
	int rf = MESH_HS_AGAIN;
	size_t off = 0;
	while (off < p2f_len && rf == MESH_HS_AGAIN) {
		size_t n = p2f_len - off < chunk ? p2f_len - off : chunk;
		rf = feed(f, fpend, &fplen, scap, p2f + off, n);
		off += n;
	}
	if (!edited && peer_psk == our_psk)
		FUZZ_CHECK(rf == MESH_HS_DONE && fplen == 0 && off == clean_len);
	if (!edited && peer_psk != our_psk)
		FUZZ_CHECK(rf == -EACCES);
	if (rf != MESH_HS_DONE)
		goto wipe;

	/* We accepted: the real peer must accept our HELLO, and the channels must match. */
	drain(f, f2p, &f2p_len, scap, scap);
	rp = feed(p, ppend, &pplen, scap, f2p, f2p_len);
	FUZZ_CHECK(rp == MESH_HS_DONE && pplen == 0);
	FUZZ_CHECK(mesh_peer_name_eq(&f->peer_name, &pc.hello.name));
	FUZZ_CHECK(strcmp(f->peer_nickname, pc.hello.nickname) == 0);
	FUZZ_CHECK(mesh_peer_name_eq(&p->peer_hello.name, &fc.hello.name));
	FUZZ_CHECK(f->version == p->version);

	/* whatever followed HELLO in the edited stream is the framed stream */
	FUZZ_CHECK(fplen + (p2f_len - off) <= scap);
	memcpy(fpend + fplen, p2f + off, p2f_len - off);
	framed_rest(f, fpend, fplen + (p2f_len - off));

	/* ... and frames go through both ways (for a sealed channel: the keys agree) */
	static const uint8_t ping[] = { MESH_MSG_HEARTBEAT, 1, 0, 1, 0x55 };
	uint8_t wire[64], *msg;
	size_t mlen;
	FUZZ_CHECK(p->chan.tx_ctr == f->chan.rx_ctr && f->chan.tx_ctr == p->chan.rx_ctr);
	ssize_t n = mesh_frame_seal(&p->chan, ping, sizeof(ping), wire, sizeof(wire));
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(mesh_frame_peek(&f->chan, wire, (size_t)n) == n);
	FUZZ_CHECK(mesh_frame_open(&f->chan, wire, (size_t)n, &msg, &mlen) == 0);
	FUZZ_CHECK(mlen == sizeof(ping) && memcmp(msg, ping, mlen) == 0);
	n = mesh_frame_seal(&f->chan, ping, sizeof(ping), wire, sizeof(wire));
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(mesh_frame_open(&p->chan, wire, (size_t)n, &msg, &mlen) == 0);
	FUZZ_CHECK(mlen == sizeof(ping) && memcmp(msg, ping, mlen) == 0);
wipe:
	mesh_hs_wipe(f);
	mesh_hs_wipe(p);
out:
	free(f);
	free(p);
	free(p2f);
	free(f2p);
	free(fpend);
	free(ppend);
}

FUZZ_ENTRY(handshake)(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (size < 1)
		return 0;
	crypto_once();
	fuzz_input_init(&in, data, size);
	uint8_t flags = fuzz_u8(&in);
	if (flags & 4)
		splice(flags, &in);
	else
		raw(flags, &in);
	return 0;
}
