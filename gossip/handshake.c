/* gossip/handshake.c: the control connection handshake state machine (see handshake.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/seal.h"
#include "gossip/handshake.h"
#include "gossip/tlv.h"

__attribute__((format(printf, 3, 4)))
static int fail(struct mesh_hs *hs, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(hs->error, sizeof(hs->error), fmt, ap);
	va_end(ap);
	hs->state = MESH_HS_FAILED;
	return err;
}

static bool has_psk(const struct mesh_hs *hs)
{
	return hs->cfg.psk != NULL;
}

bool mesh_hs_sends_mesh_name(const struct mesh_hs_config *cfg)
{
	return cfg->psk || (cfg->mesh_name[0] && strcmp(cfg->mesh_name, MESH_DEFAULT_MESH_NAME));
}

void mesh_hs_init(struct mesh_hs *hs, const struct mesh_hs_config *cfg)
{
	memset(hs, 0, sizeof(*hs));
	hs->cfg = *cfg;
	if (cfg->psk) {
		memcpy(hs->psk, cfg->psk, MESH_KEY_LEN);
		hs->cfg.psk = hs->psk;
	}
	if (cfg->psk && cfg->psk_alt) {
		memcpy(hs->psk_alt, cfg->psk_alt, MESH_KEY_LEN);
		hs->cfg.psk_alt = hs->psk_alt;
	} else {
		hs->cfg.psk_alt = NULL;
	}
	hs->peer_psk = hs->cfg.psk;
	if (!hs->cfg.mesh_name[0])
		snprintf(hs->cfg.mesh_name, sizeof(hs->cfg.mesh_name), "%s", MESH_DEFAULT_MESH_NAME);
	hs->state = MESH_HS_WANT_VERSION;
	mesh_kx_keypair_generate(&hs->kx);

	uint8_t *p = hs->my_msgs;
	memcpy(p, MESH_MAGIC, MESH_MAGIC_LEN);
	p[4] = cfg->proto_min;
	p[5] = cfg->proto_max;
	p += MESH_VERSION_MSG_LEN;

	size_t nick = strnlen(cfg->hello.nickname, MESH_NICKNAME_MAX);
	size_t mesh = strnlen(hs->cfg.mesh_name, MESH_MESH_NAME_MAX);
	bool send_mesh = mesh_hs_sends_mesh_name(&hs->cfg);
	p[0] = (cfg->psk ? MESH_KEY_FLAG_PASSWORD : 0) | (send_mesh ? MESH_KEY_FLAG_MESH_NAME : 0);
	memcpy(p + 1, hs->kx.pk, MESH_PUBKEY_LEN);
	memcpy(p + 1 + MESH_PUBKEY_LEN, cfg->hello.name.b, MESH_PEER_NAME_LEN);
	p[1 + MESH_PUBKEY_LEN + MESH_PEER_NAME_LEN] = (uint8_t)nick;
	memcpy(p + MESH_KEY_MSG_MIN, cfg->hello.nickname, nick);
	hs->my_key_len = MESH_KEY_MSG_MIN + nick;
	if (send_mesh) {
		p[MESH_KEY_MSG_MIN + nick] = (uint8_t)mesh;
		memcpy(p + MESH_KEY_MSG_MIN + nick + 1, hs->cfg.mesh_name, mesh);
		hs->my_key_len += 1 + mesh;
	}

	memcpy(hs->out, hs->my_msgs, MESH_VERSION_MSG_LEN + hs->my_key_len);
	hs->out_len = MESH_VERSION_MSG_LEN + hs->my_key_len;
}

size_t mesh_hs_take_output(struct mesh_hs *hs, uint8_t *out, size_t cap)
{
	size_t n = hs->out_len < cap ? hs->out_len : cap;
	memcpy(out, hs->out, n);
	memmove(hs->out, hs->out + n, hs->out_len - n);
	hs->out_len -= n;
	return n;
}

void mesh_hs_wipe(struct mesh_hs *hs)
{
	mesh_wipe(&hs->kx, sizeof(hs->kx));
	mesh_wipe(&hs->keys, sizeof(hs->keys));
	mesh_wipe(hs->psk, sizeof(hs->psk));
	mesh_wipe(hs->psk_alt, sizeof(hs->psk_alt));
	mesh_wipe(&hs->chan, sizeof(hs->chan));
}

static int take_version(struct mesh_hs *hs, const uint8_t *d)
{
	memcpy(hs->peer_version, d, MESH_VERSION_MSG_LEN);
	if (memcmp(d, MESH_MAGIC, MESH_MAGIC_LEN) != 0)
		return fail(hs, -EPROTO, "not a mesh peer (bad magic)");
	uint8_t pmin = d[4], pmax = d[5];
	if (pmin > pmax)
		return fail(hs, -EPROTO, "peer sent an empty protocol version range %u..%u", pmin, pmax);
	uint8_t hi = pmax < hs->cfg.proto_max ? pmax : hs->cfg.proto_max;
	uint8_t lo = pmin > hs->cfg.proto_min ? pmin : hs->cfg.proto_min;
	if (hi < lo)
		return fail(hs, -EPROTONOSUPPORT,
			    "no common protocol version (peer speaks %u..%u, we speak %u..%u)",
			    pmin, pmax, hs->cfg.proto_min, hs->cfg.proto_max);
	hs->version = hi;
	hs->state = MESH_HS_WANT_KEY;
	return 0;
}

/* transcript = client VERSION ‖ server VERSION ‖ client KEY ‖ server KEY; keyed with the
 * sender's password (ours for our tag, the one that opened the peer's HELLO for theirs) */
static void confirm_tag(const struct mesh_hs *hs, const uint8_t *psk, bool from_client,
			uint8_t tag[MESH_TAG_LEN])
{
	uint8_t t[2 * (MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MAX)];
	const uint8_t *cv, *sv, *ck, *sk;
	size_t ckl, skl, n = 0;
	if (hs->cfg.is_client) {
		cv = hs->my_msgs; ck = hs->my_msgs + MESH_VERSION_MSG_LEN; ckl = hs->my_key_len;
		sv = hs->peer_version; sk = hs->peer_key; skl = hs->peer_key_len;
	} else {
		sv = hs->my_msgs; sk = hs->my_msgs + MESH_VERSION_MSG_LEN; skl = hs->my_key_len;
		cv = hs->peer_version; ck = hs->peer_key; ckl = hs->peer_key_len;
	}
	memcpy(t + n, cv, MESH_VERSION_MSG_LEN); n += MESH_VERSION_MSG_LEN;
	memcpy(t + n, sv, MESH_VERSION_MSG_LEN); n += MESH_VERSION_MSG_LEN;
	memcpy(t + n, ck, ckl); n += ckl;
	memcpy(t + n, sk, skl); n += skl;
	mesh_confirm_tag(psk, t, n, from_client, tag);
}

static int send_hello(struct mesh_hs *hs)
{
	uint8_t msg[MESH_HELLO_MAX];
	struct mesh_hello h = hs->cfg.hello;
	confirm_tag(hs, hs->cfg.psk, hs->cfg.is_client, h.confirm);
	ssize_t n = mesh_hello_encode(&h, msg, sizeof(msg));
	if (n < 0)
		return fail(hs, -EPROTO, "our HELLO does not fit");
	ssize_t f = mesh_frame_seal(&hs->chan, msg, (size_t)n, hs->out + hs->out_len,
				    sizeof(hs->out) - hs->out_len);
	if (f < 0)
		return fail(hs, -EPROTO, "our HELLO frame does not fit");
	hs->out_len += (size_t)f;
	return 0;
}

/* Bytes the whole KEY message needs, as far as the bytes already there tell. */
static size_t key_msg_len(const uint8_t *d, size_t len)
{
	if (len < MESH_KEY_MSG_MIN)
		return MESH_KEY_MSG_MIN;
	size_t n = MESH_KEY_MSG_MIN + d[MESH_KEY_MSG_MIN - 1];
	if (!(d[0] & MESH_KEY_FLAG_MESH_NAME))
		return n;
	if (len < n + 1)
		return n + 1;
	return n + 1 + d[n];
}

static int take_key(struct mesh_hs *hs, const uint8_t *d, size_t len)
{
	uint8_t flags = d[0];
	size_t nick = d[MESH_KEY_MSG_MIN - 1];

	memcpy(hs->peer_key, d, len);
	hs->peer_key_len = len;
	memcpy(hs->peer_name.b, d + 1 + MESH_PUBKEY_LEN, MESH_PEER_NAME_LEN);
	if (!mesh_nickname_valid((const char *)d + MESH_KEY_MSG_MIN, nick))
		return fail(hs, -EPROTO, "peer sent an invalid nickname");
	memcpy(hs->peer_nickname, d + MESH_KEY_MSG_MIN, nick);
	hs->peer_nickname[nick] = '\0';
	if (flags & ~(MESH_KEY_FLAG_PASSWORD | MESH_KEY_FLAG_MESH_NAME))
		return fail(hs, -EPROTO, "peer sent unknown key flags 0x%02x", flags);
	hs->peer_has_password = flags & MESH_KEY_FLAG_PASSWORD;
	if (flags & MESH_KEY_FLAG_MESH_NAME) {
		const char *mesh = (const char *)d + MESH_KEY_MSG_MIN + nick + 1;
		size_t mesh_len = d[MESH_KEY_MSG_MIN + nick];
		if (!mesh_nickname_valid(mesh, mesh_len))
			return fail(hs, -EPROTO, "peer sent an invalid mesh name");
		memcpy(hs->peer_mesh_name, mesh, mesh_len);
		hs->peer_mesh_name[mesh_len] = '\0';
	} else if (hs->peer_has_password) {
		/* every meshd that knows mesh names sends its own with a password */
		return fail(hs, -EACCES, "peer sent no mesh name: a meshd from before --mesh-name, "
			    "whose key from the password is not salted with it (upgrade it)");
	} else {
		snprintf(hs->peer_mesh_name, sizeof(hs->peer_mesh_name), "%s",
			 MESH_DEFAULT_MESH_NAME);
	}
	/* the name salts the password's key: compared first, so that a mismatch is not reported
	 * as a wrong password */
	if (strcmp(hs->peer_mesh_name, hs->cfg.mesh_name))
		return fail(hs, -EACCES, "peer is in mesh \"%s\", this host in mesh \"%s\" "
			    "(--mesh-name differs)", hs->peer_mesh_name, hs->cfg.mesh_name);

	/* Our own name here proves nothing (a reflector echoes our KEY back): whether we reached
	 * ourselves is decided once the HELLO authenticated (take_hello). */
	if (hs->peer_has_password && !has_psk(hs))
		return fail(hs, -EACCES, "password required by peer (this side has none)");
	if (!hs->peer_has_password && has_psk(hs))
		return fail(hs, -EACCES, "peer has no password (this side has one)");

	if (mesh_session_derive(&hs->kx, d + 1, hs->cfg.is_client, hs->cfg.psk, &hs->keys) < 0)
		return fail(hs, -EPROTO, "peer sent an unusable public key");
	hs->chan.sealed = has_psk(hs);
	memcpy(hs->chan.tx_key, hs->keys.tcp.tx, MESH_KEY_LEN);
	memcpy(hs->chan.rx_key, hs->keys.tcp.rx, MESH_KEY_LEN);
	hs->state = MESH_HS_WANT_HELLO;
	return send_hello(hs);
}

/* The peer's HELLO did not open under our password's keys: derive the receiving keys from our
 * other password and try again. What we send stays under our own password. A failed open
 * leaves the frame and the channel's counter as they were (the tag is checked first). */
static int open_with_alt(struct mesh_hs *hs, uint8_t *frame, size_t flen, uint8_t **msg,
			 size_t *mlen)
{
	struct mesh_session_keys alt;
	if (mesh_session_derive(&hs->kx, hs->peer_key + 1, hs->cfg.is_client, hs->cfg.psk_alt,
				&alt) < 0)
		return -EPROTO;
	uint8_t rx_cur[MESH_KEY_LEN];
	memcpy(rx_cur, hs->chan.rx_key, MESH_KEY_LEN);
	memcpy(hs->chan.rx_key, alt.tcp.rx, MESH_KEY_LEN);
	int ret = mesh_frame_open(&hs->chan, frame, flen, msg, mlen);
	if (ret < 0) {
		memcpy(hs->chan.rx_key, rx_cur, MESH_KEY_LEN);
	} else {
		/* every channel's receiving direction is keyed like the TCP one */
		memcpy(hs->keys.tcp.rx, alt.tcp.rx, MESH_KEY_LEN);
		memcpy(hs->keys.sleeve.rx, alt.sleeve.rx, MESH_KEY_LEN);
		memcpy(hs->keys.ipsec.rx, alt.ipsec.rx, MESH_KEY_LEN);
		hs->peer_psk = hs->cfg.psk_alt;
	}
	mesh_wipe(&alt, sizeof(alt));
	mesh_wipe(rx_cur, sizeof(rx_cur));
	return ret;
}

static int take_hello(struct mesh_hs *hs, uint8_t *frame, size_t flen)
{
	uint8_t *msg;
	size_t mlen;
	const char *why;
	uint8_t want[MESH_TAG_LEN];

	if (mesh_frame_open(&hs->chan, frame, flen, &msg, &mlen) < 0) {
		/* sealed with our other password? (the peer changed first, or not yet) */
		if (!hs->cfg.psk_alt || open_with_alt(hs, frame, flen, &msg, &mlen) < 0)
			return fail(hs, -EACCES, "authentication failed (wrong password?%s)",
				    hs->cfg.psk_alt ? " neither of this host's two opened it" : "");
	}
	if (mesh_hello_decode(msg, mlen, &hs->peer_hello, &why) < 0)
		return fail(hs, -EPROTO, "%s", why);
	if (!mesh_peer_name_eq(&hs->peer_hello.name, &hs->peer_name))
		return fail(hs, -EPROTO, "HELLO names another peer than the key exchange did");
	confirm_tag(hs, hs->peer_psk, !hs->cfg.is_client, want);
	if (!mesh_tag_equal(want, hs->peer_hello.confirm))
		return fail(hs, -EACCES, "key confirmation failed (wrong password?)");
	if (mesh_peer_name_eq(&hs->peer_hello.name, &hs->cfg.hello.name))
		return fail(hs, -ELOOP, "connected to ourselves");
	hs->state = MESH_HS_ESTABLISHED;
	return 0;
}

int mesh_hs_input(struct mesh_hs *hs, const uint8_t *data, size_t len, size_t *consumed)
{
	size_t used = 0;
	int ret = 0;

	*consumed = 0;
	while (ret == 0) {
		const uint8_t *d = data + used;
		size_t left = len - used;
		switch (hs->state) {
		case MESH_HS_WANT_VERSION:
			if (left < MESH_VERSION_MSG_LEN)
				goto out;
			ret = take_version(hs, d);
			used += MESH_VERSION_MSG_LEN;
			break;
		case MESH_HS_WANT_KEY: {
			if (left >= MESH_KEY_MSG_MIN && d[MESH_KEY_MSG_MIN - 1] > MESH_NICKNAME_MAX)
				return fail(hs, -EPROTO, "peer's nickname is longer than %d bytes",
					    MESH_NICKNAME_MAX);
			size_t at = MESH_KEY_MSG_MIN + (left >= MESH_KEY_MSG_MIN ? d[MESH_KEY_MSG_MIN - 1] : 0);
			if (left > at && (d[0] & MESH_KEY_FLAG_MESH_NAME) && d[at] > MESH_MESH_NAME_MAX)
				return fail(hs, -EPROTO, "peer's mesh name is longer than %d bytes",
					    MESH_MESH_NAME_MAX);
			size_t need = key_msg_len(d, left);
			if (left < need)
				goto out;
			ret = take_key(hs, d, need);
			used += need;
			break;
		}
		case MESH_HS_WANT_HELLO: {
			ssize_t f = mesh_frame_peek(&hs->chan, d, left);
			if (f < 0 || (f == 0 && left >= MESH_FRAME_HDR_LEN &&
				      get_be32(d) + MESH_FRAME_HDR_LEN > MESH_HS_HELLO_FRAME_MAX) ||
			    f > MESH_HS_HELLO_FRAME_MAX)
				return fail(hs, -EPROTO, "peer's HELLO frame has a bad length");
			if (f == 0)
				goto out;
			uint8_t frame[MESH_HS_HELLO_FRAME_MAX];
			memcpy(frame, d, (size_t)f);
			ret = take_hello(hs, frame, (size_t)f);
			used += (size_t)f;
			break;
		}
		case MESH_HS_ESTABLISHED:
			*consumed = used;
			return MESH_HS_DONE;
		case MESH_HS_FAILED:
			return -EPROTO;
		}
	}
out:
	*consumed = used;
	return ret < 0 ? ret : MESH_HS_AGAIN;
}
