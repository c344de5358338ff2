/* tests/fuzz/fuzz_frame.c: control frames and TLVs (gossip/frame.c, gossip/tlv.c).
 *
 * Input: a mode byte, then bytes as they arrive on an established control connection.
 *   mode bit 0: the channel is sealed (fixed key, see below), else plain
 *   mode bit 1: also take the bytes as one message, seal it, open it again (must round-trip)
 *               and check that a flipped bit or a replay makes it fail to open
 *   mode bits 2-3: the receive counter the channel starts at
 * The stream is cut into frames with mesh_frame_peek and opened in place with mesh_frame_open
 * like gossip/control.c does; every opened message's TLVs are walked with tlv_next, read with
 * the typed getters and written back with the TLV writer, which must give the same bytes. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/frame.h"
#include "gossip/hello.h"
#include "gossip/tlv.h"
#include "tests/fuzz/fuzz.h"

/* The fixed key of the sealed channel; tests/fuzz/make-seeds.sh seals its seeds with it. */
static const uint8_t fuzz_key[MESH_KEY_LEN] = {
	'm', 'e', 's', 'h', '-', 'f', 'u', 'z', 'z', '-', 'f', 'r', 'a', 'm', 'e', '-',
	'k', 'e', 'y', 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

static void crypto_once(void)
{
	static bool done;
	if (!done) {
		if (sodium_init() < 0)
			abort();
		done = true;
	}
}

static void chan_init(struct mesh_frame_chan *c, bool sealed, uint64_t ctr)
{
	memset(c, 0, sizeof(*c));
	c->sealed = sealed;
	memcpy(c->tx_key, fuzz_key, MESH_KEY_LEN);
	memcpy(c->rx_key, fuzz_key, MESH_KEY_LEN);
	c->tx_ctr = c->rx_ctr = ctr;
}

/* One opened message: type byte, then TLVs. */
static void walk_msg(const uint8_t *msg, size_t len)
{
	struct tlv_reader r;
	struct tlv t;
	int ret;
	const uint8_t *end = msg + len;

	FUZZ_CHECK(len >= 1);
	size_t tlv_len = len - 1;
	uint8_t *re = malloc(tlv_len ? tlv_len : 1);
	if (!re)
		return;
	struct tlv_writer w;
	tlv_writer_init(&w, re, tlv_len);

	tlv_reader_init(&r, msg + 1, tlv_len);
	while ((ret = tlv_next(&r, &t)) == 1) {
		FUZZ_CHECK(t.val >= msg + 1 + MESH_TLV_HDR_LEN && t.val + t.len <= end);
		FUZZ_CHECK(t.tag == t.val[-3] && t.len == get_be16(t.val - 2));
		FUZZ_CHECK(r.p == t.val + t.len && r.p + r.left == end);

		uint8_t v8;
		uint16_t v16;
		uint32_t v32;
		uint64_t v64;
		int g8 = tlv_get_u8(&t, &v8), g16 = tlv_get_u16(&t, &v16);
		int g32 = tlv_get_u32(&t, &v32), g64 = tlv_get_u64(&t, &v64);
		FUZZ_CHECK(g8 == (t.len == 1 ? 0 : -EBADMSG));
		FUZZ_CHECK(g16 == (t.len == 2 ? 0 : -EBADMSG));
		FUZZ_CHECK(g32 == (t.len == 4 ? 0 : -EBADMSG));
		FUZZ_CHECK(g64 == (t.len == 8 ? 0 : -EBADMSG));

		/* write it back, through the typed writer where there is one */
		size_t before = w.len;
		if (g8 == 0)
			tlv_put_u8(&w, t.tag, v8);
		else if (g16 == 0)
			tlv_put_u16(&w, t.tag, v16);
		else if (g32 == 0)
			tlv_put_u32(&w, t.tag, v32);
		else if (g64 == 0)
			tlv_put_u64(&w, t.tag, v64);
		else
			tlv_put(&w, t.tag, t.val, t.len);
		FUZZ_CHECK(!w.overflow && w.len == before + MESH_TLV_HDR_LEN + t.len);
	}
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG);
	FUZZ_CHECK(ret != 0 || r.left == 0);
	size_t walked = tlv_len - r.left;
	FUZZ_CHECK(w.len == walked);
	FUZZ_CHECK(walked == 0 || memcmp(re, msg + 1, walked) == 0);

	/* a writer one byte short of the last TLV overflows and stays put */
	if (walked > 0) {
		struct tlv_writer sw;
		tlv_writer_init(&sw, re, walked - 1);
		tlv_reader_init(&r, msg + 1, walked);
		while (tlv_next(&r, &t) == 1)
			tlv_put(&sw, t.tag, t.val, t.len);
		FUZZ_CHECK(sw.overflow && sw.len < walked);
	}
	free(re);

	if (msg[0] == MESH_MSG_HELLO) {
		struct mesh_hello h;
		const char *why = NULL;
		if (mesh_hello_decode(msg, len, &h, &why) < 0)
			FUZZ_CHECK(why != NULL);
	}
}

/* Cuts the received stream into frames and opens them, as the connection does. */
static void stream(struct mesh_frame_chan *c, uint8_t *buf, size_t len)
{
	size_t ovh = c->sealed ? 16 : 0;
	while (len > 0) {
		ssize_t f = mesh_frame_peek(c, buf, len);
		if (f == 0) {
			/* more bytes needed: the header is incomplete or announces more than is here */
			FUZZ_CHECK(len < MESH_FRAME_HDR_LEN ||
				   get_be32(buf) > len - MESH_FRAME_HDR_LEN);
			return;
		}
		if (f < 0) {
			FUZZ_CHECK(len >= MESH_FRAME_HDR_LEN);
			uint32_t body = get_be32(buf);
			if (f == -EMSGSIZE)
				FUZZ_CHECK(body > MESH_FRAME_MAX);
			else
				FUZZ_CHECK(f == -EBADMSG && body < 1 + ovh);
			return;
		}
		FUZZ_CHECK((size_t)f <= len && (size_t)f >= MESH_FRAME_HDR_LEN + 1 + ovh);
		FUZZ_CHECK((size_t)f == MESH_FRAME_HDR_LEN + get_be32(buf));

		uint8_t *msg = NULL;
		size_t mlen = 0;
		uint64_t ctr = c->rx_ctr;
		if (mesh_frame_open(c, buf, (size_t)f, &msg, &mlen) < 0) {
			/* only a sealed frame can fail, and then the connection closes */
			FUZZ_CHECK(c->sealed && c->rx_ctr == ctr);
			return;
		}
		FUZZ_CHECK(msg == buf + MESH_FRAME_HDR_LEN && mlen == (size_t)f - MESH_FRAME_HDR_LEN - ovh);
		FUZZ_CHECK(c->rx_ctr == ctr + (c->sealed ? 1 : 0));
		walk_msg(msg, mlen);
		buf += f;
		len -= (size_t)f;
	}
}

/* Seals msg, opens it again; a tampered or replayed copy must not open. */
static void round_trip(bool sealed, uint64_t ctr, const uint8_t *msg, size_t len, uint8_t flip)
{
	struct mesh_frame_chan tx, rx;
	chan_init(&tx, sealed, ctr);
	chan_init(&rx, sealed, ctr);
	size_t fsize = mesh_frame_size(&tx, len);
	uint8_t *frame = malloc(fsize);
	uint8_t *copy = malloc(fsize);
	if (!frame || !copy)
		goto out;

	/* one byte too small: refused without writing */
	FUZZ_CHECK(mesh_frame_seal(&tx, msg, len, frame, fsize - 1) == -EMSGSIZE);
	FUZZ_CHECK(tx.tx_ctr == ctr);

	ssize_t n = mesh_frame_seal(&tx, msg, len, frame, fsize);
	if (len == 0) {
		FUZZ_CHECK(n == -EMSGSIZE);
		goto out;
	}
	FUZZ_CHECK(n > 0 && (size_t)n == fsize);
	FUZZ_CHECK(tx.tx_ctr == ctr + (sealed ? 1 : 0));
	memcpy(copy, frame, fsize);
	FUZZ_CHECK(mesh_frame_peek(&rx, frame, fsize - 1) == 0);
	FUZZ_CHECK(mesh_frame_peek(&rx, frame, fsize) == (ssize_t)fsize);

	uint8_t *got;
	size_t got_len;
	FUZZ_CHECK(mesh_frame_open(&rx, frame, fsize, &got, &got_len) == 0);
	FUZZ_CHECK(got_len == len && memcmp(got, msg, len) == 0);
	walk_msg(got, got_len);

	if (sealed) {
		/* the same frame again: the counter moved on, so it does not open */
		memcpy(frame, copy, fsize);
		FUZZ_CHECK(mesh_frame_open(&rx, frame, fsize, &got, &got_len) == -EBADMSG);
		FUZZ_CHECK(rx.rx_ctr == ctr + 1);

		/* one flipped bit anywhere in the body: does not open */
		struct mesh_frame_chan rx2;
		chan_init(&rx2, true, ctr);
		memcpy(frame, copy, fsize);
		size_t body = fsize - MESH_FRAME_HDR_LEN;
		frame[MESH_FRAME_HDR_LEN + (size_t)flip * 131 % body] ^= (uint8_t)(1u << (flip & 7));
		FUZZ_CHECK(mesh_frame_open(&rx2, frame, fsize, &got, &got_len) == -EBADMSG);
		FUZZ_CHECK(rx2.rx_ctr == ctr);
	}
out:
	free(frame);
	free(copy);
}

FUZZ_ENTRY(frame)(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	crypto_once();
	uint8_t mode = data[0];
	bool sealed = mode & 1;
	uint64_t ctr = (mode >> 2) & 3;
	const uint8_t *rest = data + 1;
	size_t len = size - 1;

	struct mesh_frame_chan c;
	chan_init(&c, sealed, ctr);
	uint8_t *buf = fuzz_dup(rest, len);
	if (!buf)
		return 0;
	stream(&c, buf, len);
	free(buf);

	if ((mode & 2) && len <= MESH_FRAME_MAX - 16)
		round_trip(sealed, ctr, rest, len, len ? rest[len - 1] : 0);
	return 0;
}
