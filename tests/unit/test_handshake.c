/* tests/unit/test_handshake.c: the control handshake state machine (gossip/handshake.c),
 * two ends wired back to back in memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/psk.h"
#include "gossip/handshake.h"

static uint8_t psk_a[MESH_KEY_LEN], psk_b[MESH_KEY_LEN];

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	memset(psk_a, 0xa1, sizeof(psk_a));
	memset(psk_b, 0xb2, sizeof(psk_b));
}

TestSuite(handshake, .init = setup);

static void config(struct mesh_hs_config *c, bool client, const uint8_t *psk, uint8_t name0)
{
	memset(c, 0, sizeof(*c));
	c->is_client = client;
	c->psk = psk;
	c->proto_min = 1;
	c->proto_max = 1;
	memset(c->hello.name.b, name0, 6);
	snprintf(c->hello.nickname, sizeof(c->hello.nickname), "%s", client ? "client" : "server");
	c->hello.uid = client ? 111 : 222;
	c->hello.short_id = client ? 0x12 : 0x34;
	c->hello.conn_id = 42;
	c->hello.overlays = MESH_OVERLAY_SLEEVE;
	c->hello.sleeve_port = 6783;
	c->hello.sleeve_index = client ? 1001 : 2002;
}

struct pipe {
	uint8_t buf[8192];
	size_t len;
};

/* Moves a's output into p, then feeds p to b in chunks of `chunk` bytes. */
static int pump(struct mesh_hs *a, struct pipe *p, struct mesh_hs *b, size_t chunk)
{
	p->len += mesh_hs_take_output(a, p->buf + p->len, sizeof(p->buf) - p->len);
	int r = MESH_HS_AGAIN;
	size_t avail = 0;
	while (avail < p->len) {
		avail = avail + chunk < p->len ? avail + chunk : p->len;
		size_t used;
		r = mesh_hs_input(b, p->buf, avail, &used);
		memmove(p->buf, p->buf + used, p->len - used);
		p->len -= used;
		avail -= used;
		if (r != MESH_HS_AGAIN)
			return r;
	}
	return r;
}

/* Runs both ends to completion; returns client and server results. */
static void run(struct mesh_hs *c, struct mesh_hs *s, size_t chunk, int *rc, int *rs)
{
	struct pipe c2s = { .len = 0 }, s2c = { .len = 0 };
	*rc = *rs = MESH_HS_AGAIN;
	for (int round = 0; round < 10; round++) {
		if (*rs == MESH_HS_AGAIN)
			*rs = pump(c, &c2s, s, chunk);
		if (*rc == MESH_HS_AGAIN)
			*rc = pump(s, &s2c, c, chunk);
		if (*rc != MESH_HS_AGAIN && *rs != MESH_HS_AGAIN)
			break;
	}
}

static void check_established(struct mesh_hs *c, struct mesh_hs *s)
{
	cr_assert_eq(c->state, MESH_HS_ESTABLISHED);
	cr_assert_eq(s->state, MESH_HS_ESTABLISHED);
	cr_assert_str_eq(c->peer_hello.nickname, "server");
	cr_assert_str_eq(s->peer_hello.nickname, "client");
	cr_assert_eq(c->peer_hello.sleeve_index, 2002);
	cr_assert_eq(s->peer_hello.sleeve_index, 1001);
	cr_assert_eq(c->peer_hello.uid, 222);
	cr_assert_eq(c->version, 1);
	/* each side's tx key is the other's rx key, on every channel */
	cr_assert_arr_eq(c->keys.tcp.tx, s->keys.tcp.rx, 32);
	cr_assert_arr_eq(c->keys.tcp.rx, s->keys.tcp.tx, 32);
	cr_assert_arr_eq(c->keys.sleeve.tx, s->keys.sleeve.rx, 32);
	cr_assert_arr_eq(c->keys.sleeve.rx, s->keys.sleeve.tx, 32);
}

Test(handshake, plain_completes)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 4096, &rc, &rs);
	cr_assert_eq(rc, MESH_HS_DONE, "client: %s", c.error);
	cr_assert_eq(rs, MESH_HS_DONE, "server: %s", s.error);
	check_established(&c, &s);
	cr_assert_not(c.chan.sealed);
}

Test(handshake, encrypted_completes_byte_by_byte)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, psk_a, 0x02);
	config(&sc, false, psk_a, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 1, &rc, &rs);
	cr_assert_eq(rc, MESH_HS_DONE, "client: %s", c.error);
	cr_assert_eq(rs, MESH_HS_DONE, "server: %s", s.error);
	check_established(&c, &s);
	cr_assert(c.chan.sealed && s.chan.sealed);
	cr_assert_str_eq(s.peer_nickname, "client");
}

Test(handshake, trailing_bytes_are_left_for_the_stream)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	uint8_t buf[4096];
	size_t used;
	config(&cc, true, psk_a, 0x02);
	config(&sc, false, psk_a, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	/* server learns the client's VERSION+KEY, answers VERSION+KEY+HELLO */
	size_t n = mesh_hs_take_output(&c, buf, sizeof(buf));
	cr_assert_eq(mesh_hs_input(&s, buf, n, &used), MESH_HS_AGAIN);
	cr_assert_eq(used, n);
	n = mesh_hs_take_output(&s, buf, sizeof(buf));
	memcpy(buf + n, "TAIL", 4);
	cr_assert_eq(mesh_hs_input(&c, buf, n + 4, &used), MESH_HS_DONE, "%s", c.error);
	cr_assert_eq(used, n);
}

static void expect_failure(const uint8_t *pc, const uint8_t *ps, int err, const char *cmsg,
			   const char *smsg)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, pc, 0x02);
	config(&sc, false, ps, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 7, &rc, &rs);
	cr_assert_eq(rc, err, "client got %d (%s)", rc, c.error);
	cr_assert_eq(rs, err, "server got %d (%s)", rs, s.error);
	cr_assert(strstr(c.error, cmsg), "client said: %s", c.error);
	cr_assert(strstr(s.error, smsg), "server said: %s", s.error);
	cr_assert_eq(c.state, MESH_HS_FAILED);
	/* the peer is named even though it was refused */
	cr_assert_str_eq(c.peer_nickname, "server");
	cr_assert_str_eq(s.peer_nickname, "client");
}

Test(handshake, password_on_client_only)
{
	expect_failure(psk_a, NULL, -EACCES, "peer has no password", "password required by peer");
}

Test(handshake, password_on_server_only)
{
	expect_failure(NULL, psk_a, -EACCES, "password required by peer", "peer has no password");
}

Test(handshake, wrong_password)
{
	expect_failure(psk_a, psk_b, -EACCES, "authentication failed", "authentication failed");
}

Test(handshake, version_mismatch)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	cc.proto_min = cc.proto_max = 2;
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 64, &rc, &rs);
	cr_assert_eq(rc, -EPROTONOSUPPORT);
	cr_assert_eq(rs, -EPROTONOSUPPORT);
	cr_assert(strstr(s.error, "no common protocol version (peer speaks 2..2, we speak 1..1)"),
		  "%s", s.error);
}

Test(handshake, overlapping_versions_pick_highest_common)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	uint8_t buf[512];
	size_t used;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	cc.proto_min = 1; cc.proto_max = 5;
	sc.proto_min = 1; sc.proto_max = 3;
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	size_t n = mesh_hs_take_output(&c, buf, MESH_VERSION_MSG_LEN);
	cr_assert_eq(mesh_hs_input(&s, buf, n, &used), MESH_HS_AGAIN);
	cr_assert_eq(s.version, 3);
}

/* A client (password cpsk, name bytes cname) against a server (spsk, sname), run to the end
 * in 64-byte chunks: both must end with `want`. */
static void expect_both(const uint8_t *cpsk, uint8_t cname, const uint8_t *spsk, uint8_t sname,
			int want)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, cpsk, cname);
	config(&sc, false, spsk, sname);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 64, &rc, &rs);
	cr_assert_eq(rc, want, "client: %d (%s)", rc, c.error);
	cr_assert_eq(rs, want, "server: %d (%s)", rs, s.error);
}

Test(handshake, self_connection)
{
	expect_both(NULL, 0x02, NULL, 0x02, -ELOOP);
}

Test(handshake, self_connection_with_a_password)
{
	expect_both(psk_a, 0x02, psk_a, 0x02, -ELOOP);
}

/* Feeds an end its own output, as a reflector (anything that echoes TCP) would; returns the
 * result once it stops. */
static int reflect(struct mesh_hs *h)
{
	struct pipe p = { .len = 0 };
	int r = MESH_HS_AGAIN;
	for (int round = 0; round < 4 && r == MESH_HS_AGAIN; round++)
		r = pump(h, &p, h, 64);
	return r;
}

Test(handshake, a_reflected_key_is_not_ourselves)
{
	/* our own KEY echoed back names us, in clear: that alone must not say "connected to
	 * ourselves" (which stops a configured peer from being retried for good), with or
	 * without a password, as client or server: the echoed HELLO never authenticates */
	const uint8_t *psks[] = { NULL, psk_a };
	for (int i = 0; i < 2; i++)
		for (int client = 0; client < 2; client++) {
			struct mesh_hs_config cfg;
			struct mesh_hs h;
			config(&cfg, client, psks[i], 0x02);
			mesh_hs_init(&h, &cfg);
			int r = reflect(&h);
			cr_assert_eq(r, -EACCES, "psk %d client %d: %d (%s)", i, client, r, h.error);
			cr_assert_neq(h.state, MESH_HS_ESTABLISHED);
		}
}

Test(handshake, a_stranger_using_our_name_is_not_ourselves)
{
	/* someone at a peer's address who says it is us (KEY in clear) but does not know the
	 * password: a failed authentication (retried later), not "connected to ourselves" */
	expect_both(psk_b, 0x02, psk_a, 0x02, -EACCES);
}

Test(handshake, bad_magic)
{
	struct mesh_hs_config sc;
	struct mesh_hs s;
	size_t used;
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&s, &sc);
	cr_assert_eq(mesh_hs_input(&s, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, &used), -EPROTO);
	cr_assert(strstr(s.error, "bad magic"));
}

Test(handshake, oversized_hello_frame_refused)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	uint8_t buf[4096];
	size_t used;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	size_t n = mesh_hs_take_output(&c, buf, sizeof(buf));
	/* claim a 1 MiB HELLO frame after the client's KEY */
	buf[n] = 0; buf[n + 1] = 0x10; buf[n + 2] = 0; buf[n + 3] = 0;
	cr_assert_eq(mesh_hs_input(&s, buf, n + 4, &used), -EPROTO);
	cr_assert(strstr(s.error, "HELLO frame"), "%s", s.error);
}

Test(handshake, tampered_hello_is_authentication_failure)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	uint8_t buf[4096];
	size_t used;
	config(&cc, true, psk_a, 0x02);
	config(&sc, false, psk_a, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	size_t n = mesh_hs_take_output(&c, buf, sizeof(buf));
	cr_assert_eq(mesh_hs_input(&s, buf, n, &used), MESH_HS_AGAIN);
	n = mesh_hs_take_output(&s, buf, sizeof(buf));
	buf[n - 1] ^= 1;  /* last byte of the sealed HELLO */
	cr_assert_eq(mesh_hs_input(&c, buf, n, &used), -EACCES);
	cr_assert(strstr(c.error, "authentication failed"));
}

Test(handshake, tampered_key_message_fails_confirmation)
{
	/* Without a password nothing is sealed, but the transcript tag still catches a changed
	 * KEY message (here: the nickname byte), so a middlebox cannot rewrite it unnoticed. */
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	uint8_t buf[4096];
	size_t used;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	size_t n = mesh_hs_take_output(&c, buf, sizeof(buf));
	buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN] = 'C'; /* "client" → "Client" */
	cr_assert_eq(mesh_hs_input(&s, buf, n, &used), MESH_HS_AGAIN);
	n = mesh_hs_take_output(&s, buf, sizeof(buf));
	/* the server's tag covers "Client", the client's transcript says "client" */
	cr_assert_eq(mesh_hs_input(&c, buf, n, &used), -EACCES);
	cr_assert(strstr(c.error, "key confirmation failed"), "%s", c.error);
}

Test(handshake, key_message_with_overlong_nickname_refused)
{
	/* found by fuzz_handshake: a nickname length byte over 63 once overran the KEY buffer */
	struct mesh_hs_config sc;
	struct mesh_hs s;
	uint8_t buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN + 255];
	size_t used;
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&s, &sc);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "MESH\x01\x01", MESH_VERSION_MSG_LEN);
	buf[MESH_VERSION_MSG_LEN] = 0;                         /* flags */
	buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN - 1] = 255; /* nickname length */
	cr_assert_eq(mesh_hs_input(&s, buf, sizeof(buf), &used), -EPROTO);
	cr_assert(strstr(s.error, "nickname is longer than 63"), "%s", s.error);
}

/* --- mesh names (issue 16, finding 9) ------------------------------------------------------ */

Test(handshake, mesh_name_mismatch_fails_on_both_sides_saying_so)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, psk_a, 0x02);
	config(&sc, false, psk_a, 0x06);
	snprintf(cc.mesh_name, sizeof(cc.mesh_name), "blue");
	snprintf(sc.mesh_name, sizeof(sc.mesh_name), "green");
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 64, &rc, &rs);
	cr_assert_eq(rc, -EACCES);
	cr_assert_eq(rs, -EACCES);
	cr_assert(strstr(c.error, "peer is in mesh \"green\", this host in mesh \"blue\""), "%s", c.error);
	cr_assert(strstr(s.error, "peer is in mesh \"blue\", this host in mesh \"green\""), "%s", s.error);
	mesh_hs_wipe(&c);
	mesh_hs_wipe(&s);
}

Test(handshake, same_mesh_name_completes_and_empty_means_the_default)
{
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	snprintf(cc.mesh_name, sizeof(cc.mesh_name), "%s", MESH_DEFAULT_MESH_NAME);
	mesh_hs_init(&c, &cc); /* sc.mesh_name is empty: the default */
	mesh_hs_init(&s, &sc);
	run(&c, &s, 1, &rc, &rs);
	cr_assert_eq(rc, MESH_HS_DONE, "%s", c.error);
	cr_assert_eq(rs, MESH_HS_DONE, "%s", s.error);
	cr_assert_str_eq(s.peer_mesh_name, "mesh");
	mesh_hs_wipe(&c);
	mesh_hs_wipe(&s);
}

Test(handshake, mesh_name_mismatch_without_a_password)
{
	/* only the side with a name other than the default sends it: the other's KEY without a
	 * name stands for the default, and both still see that they differ */
	struct mesh_hs_config cc, sc;
	struct mesh_hs c, s;
	int rc, rs;
	config(&cc, true, NULL, 0x02);
	config(&sc, false, NULL, 0x06);
	snprintf(cc.mesh_name, sizeof(cc.mesh_name), "blue");
	mesh_hs_init(&c, &cc);
	mesh_hs_init(&s, &sc);
	run(&c, &s, 64, &rc, &rs);
	cr_assert_eq(rc, -EACCES);
	cr_assert_eq(rs, -EACCES);
	cr_assert(strstr(c.error, "peer is in mesh \"mesh\", this host in mesh \"blue\""), "%s", c.error);
	cr_assert(strstr(s.error, "peer is in mesh \"blue\", this host in mesh \"mesh\""), "%s", s.error);
}

Test(handshake, default_mesh_without_a_password_keeps_the_old_key)
{
	/* so that a mesh without a password upgrades host by host from a meshd before mesh names */
	struct mesh_hs_config sc;
	struct mesh_hs s;
	config(&sc, false, NULL, 0x06);
	mesh_hs_init(&s, &sc);
	cr_assert_eq(s.my_key_len, MESH_KEY_MSG_MIN + strlen("server"));
	cr_assert_eq(s.my_msgs[MESH_VERSION_MSG_LEN], 0, "flags");
	config(&sc, false, psk_a, 0x06);
	mesh_hs_init(&s, &sc);
	cr_assert_eq(s.my_key_len, MESH_KEY_MSG_MIN + strlen("server") + 1 + strlen("mesh"),
		     "with a password the name is always sent");
	mesh_hs_wipe(&s);
}

Test(handshake, key_with_a_password_but_no_mesh_name_or_an_overlong_one_refused)
{
	struct mesh_hs_config sc;
	struct mesh_hs s;
	uint8_t buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN + 1 + 255];
	size_t used;
	config(&sc, false, psk_a, 0x06);
	mesh_hs_init(&s, &sc);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "MESH\x01\x01", MESH_VERSION_MSG_LEN);
	buf[MESH_VERSION_MSG_LEN] = MESH_KEY_FLAG_PASSWORD; /* an older meshd: no mesh name */
	buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN - 1] = 1; /* nickname "a" */
	cr_assert_eq(mesh_hs_input(&s, buf, MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN + 1, &used),
		     -EACCES);
	cr_assert(strstr(s.error, "no mesh name: a meshd from before --mesh-name"), "%s", s.error);
	mesh_hs_init(&s, &sc);
	buf[MESH_VERSION_MSG_LEN] = MESH_KEY_FLAG_PASSWORD | MESH_KEY_FLAG_MESH_NAME;
	buf[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MIN + 1] = 255; /* mesh name length */
	cr_assert_eq(mesh_hs_input(&s, buf, sizeof(buf), &used), -EPROTO);
	cr_assert(strstr(s.error, "mesh name is longer than 63"), "%s", s.error);
	mesh_hs_wipe(&s);
}

/* --- a password change: each end holds its password (psk) and maybe one more (psk_alt) ------ */

/* Runs client (psk cp, alt ca) against server (psk sp, alt sa); returns both results. */
static void run_rotation(const uint8_t *cp, const uint8_t *ca, const uint8_t *sp, const uint8_t *sa,
			 struct mesh_hs *c, struct mesh_hs *s, int *rc, int *rs)
{
	struct mesh_hs_config cc, sc;
	config(&cc, true, cp, 0x02);
	cc.psk_alt = ca;
	config(&sc, false, sp, 0x06);
	sc.psk_alt = sa;
	mesh_hs_init(c, &cc);
	mesh_hs_init(s, &sc);
	run(c, s, 5, rc, rs);
}

static void expect_rotation_ok(const uint8_t *cp, const uint8_t *ca, const uint8_t *sp,
			       const uint8_t *sa)
{
	struct mesh_hs c, s;
	int rc, rs;
	run_rotation(cp, ca, sp, sa, &c, &s, &rc, &rs);
	cr_assert_eq(rc, MESH_HS_DONE, "client: %s", c.error);
	cr_assert_eq(rs, MESH_HS_DONE, "server: %s", s.error);
	check_established(&c, &s);
	cr_assert_arr_eq(c.keys.ipsec.tx, s.keys.ipsec.rx, 32);
	cr_assert_arr_eq(c.keys.ipsec.rx, s.keys.ipsec.tx, 32);
	/* the channel handed to the connection goes on with the same keys both ways */
	cr_assert_arr_eq(c.chan.tx_key, s.chan.rx_key, 32);
	cr_assert_arr_eq(c.chan.rx_key, s.chan.tx_key, 32);
	cr_assert(c.chan.sealed && s.chan.sealed);
}

Test(handshake, a_second_password_is_accepted_while_the_mesh_changes)
{
	/* step 1: every host accepts the new password b besides its own a */
	expect_rotation_ok(psk_a, psk_b, psk_a, NULL);
	expect_rotation_ok(psk_a, NULL, psk_a, psk_b);
	/* step 2: some hosts already seal with b, the others still with a; both hold both */
	expect_rotation_ok(psk_b, psk_a, psk_a, psk_b);
	expect_rotation_ok(psk_a, psk_b, psk_b, psk_a);
	/* step 3: a host that dropped a, against one that still accepts it */
	expect_rotation_ok(psk_b, NULL, psk_b, psk_a);
	expect_rotation_ok(psk_b, psk_a, psk_b, NULL);
}

Test(handshake, keys_of_each_direction_come_from_the_senders_password)
{
	struct mesh_hs c, s;
	struct mesh_session_keys under_a, under_b;
	int rc, rs;
	/* the client seals with b, the server with a */
	run_rotation(psk_b, psk_a, psk_a, psk_b, &c, &s, &rc, &rs);
	cr_assert_eq(rc, MESH_HS_DONE, "client: %s", c.error);
	cr_assert_eq(rs, MESH_HS_DONE, "server: %s", s.error);
	cr_assert(c.peer_psk == c.cfg.psk_alt, "the client opened the server's HELLO with a");
	cr_assert(s.peer_psk == s.cfg.psk_alt, "the server opened the client's HELLO with b");
	/* the client's sending keys are those of b, its receiving keys those of a */
	cr_assert_eq(mesh_session_derive(&c.kx, c.peer_key + 1, true, psk_b, &under_b), 0);
	cr_assert_eq(mesh_session_derive(&c.kx, c.peer_key + 1, true, psk_a, &under_a), 0);
	cr_assert_arr_eq(c.keys.tcp.tx, under_b.tcp.tx, 32);
	cr_assert_arr_eq(c.keys.sleeve.tx, under_b.sleeve.tx, 32);
	cr_assert_arr_eq(c.keys.ipsec.tx, under_b.ipsec.tx, 32);
	cr_assert_arr_eq(c.keys.tcp.rx, under_a.tcp.rx, 32);
	cr_assert_arr_eq(c.keys.sleeve.rx, under_a.sleeve.rx, 32);
	cr_assert_arr_eq(c.keys.ipsec.rx, under_a.ipsec.rx, 32);
	cr_assert_arr_neq(under_a.tcp.rx, under_b.tcp.rx, 32);
}

Test(handshake, a_peer_sealing_with_a_password_this_side_lacks_is_refused)
{
	struct mesh_hs c, s;
	int rc, rs;
	/* the client went ahead to b alone (step 2 before step 1 was done everywhere) */
	run_rotation(psk_b, psk_a, psk_a, NULL, &c, &s, &rc, &rs);
	cr_assert_eq(rs, -EACCES, "server got %d (%s)", rs, s.error);
	cr_assert(strstr(s.error, "authentication failed"), "server said: %s", s.error);
	/* with two passwords, the refusal says neither opened it */
	uint8_t psk_c[MESH_KEY_LEN];
	memset(psk_c, 0xc3, sizeof(psk_c));
	run_rotation(psk_c, NULL, psk_a, psk_b, &c, &s, &rc, &rs);
	cr_assert_eq(rs, -EACCES, "server got %d (%s)", rs, s.error);
	cr_assert(strstr(s.error, "neither of this host's two"), "server said: %s", s.error);
}
