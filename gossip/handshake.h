/* gossip/handshake.h: the control connection handshake of DESIGN §4 as a pure state machine:
 * bytes in, bytes out, no sockets and no clock, so both ends can be driven from a unit test.
 *
 *   hs_init: queues VERSION and KEY for sending.
 *   hs_input: feed received bytes; it consumes what it can use, queues HELLO once the peer's
 *   KEY is known, and returns MESH_HS_DONE once the peer's HELLO checked out. Bytes after the
 *   HELLO frame are not consumed: they belong to the framed stream that follows.
 * On failure it returns a negative errno and hs->error says why in plain words:
 *   -EPROTONOSUPPORT  no common protocol version
 *   -EACCES           password mismatch: one side only has one, or the peer sealed with one
 *                     this side does not hold (neither psk nor psk_alt); or the
 *                     mesh names differ (hs->error names both)
 *   -ELOOP            connected to ourselves (only once the HELLO authenticated: a name in
 *                     KEY is in clear, so a reflector echoing our KEY gets -EACCES)
 *   -EPROTO           anything else malformed
 * What KEY says (peer_name, peer_nickname) is for logs only until MESH_HS_DONE: no decision
 * about the peer may rest on it. */
#ifndef MESH_GOSSIP_HANDSHAKE_H
#define MESH_GOSSIP_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/session.h"
#include "gossip/frame.h"
#include "gossip/hello.h"
#include "gossip/wire.h"

#define MESH_HS_AGAIN 0
#define MESH_HS_DONE 1

/* Largest HELLO frame a peer may send during the handshake. */
#define MESH_HS_HELLO_FRAME_MAX 1024

enum mesh_hs_state {
	MESH_HS_WANT_VERSION,
	MESH_HS_WANT_KEY,
	MESH_HS_WANT_HELLO,
	MESH_HS_ESTABLISHED,
	MESH_HS_FAILED,
};

struct mesh_hs_config {
	bool is_client;             /* we opened the TCP connection */
	const uint8_t *psk;         /* NULL: no password; else what we seal with */
	const uint8_t *psk_alt;     /* NULL, or a second password's key we also accept (while a
	                             * mesh changes its password: each direction's keys come from
	                             * the sender's password, which the receiver finds among its
	                             * two) */
	uint8_t proto_min, proto_max;
	struct mesh_hello hello;    /* ours; the confirm tag is filled in by the handshake */
	char mesh_name[MESH_MESH_NAME_MAX + 1]; /* "": MESH_DEFAULT_MESH_NAME */
};

struct mesh_hs {
	struct mesh_hs_config cfg;
	uint8_t psk[MESH_KEY_LEN];
	uint8_t psk_alt[MESH_KEY_LEN];
	const uint8_t *peer_psk;    /* which of ours opened the peer's HELLO (psk or psk_alt) */
	enum mesh_hs_state state;
	uint8_t version;            /* negotiated */

	struct mesh_kx_keypair kx;
	uint8_t my_msgs[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MAX];
	size_t my_key_len;
	uint8_t peer_version[MESH_VERSION_MSG_LEN];
	uint8_t peer_key[MESH_KEY_MSG_MAX];
	size_t peer_key_len;

	/* What the peer said in the clear (KEY): known before authentication, for logs only. */
	struct mesh_peer_name peer_name;
	char peer_nickname[MESH_NICKNAME_MAX + 1];
	char peer_mesh_name[MESH_MESH_NAME_MAX + 1];
	bool peer_has_password;

	struct mesh_session_keys keys;
	struct mesh_frame_chan chan; /* TCP channel state, handed to the connection when done */
	struct mesh_hello peer_hello;

	uint8_t out[MESH_VERSION_MSG_LEN + MESH_KEY_MSG_MAX + MESH_HS_HELLO_FRAME_MAX];
	size_t out_len;
	char error[192];
};

void mesh_hs_init(struct mesh_hs *hs, const struct mesh_hs_config *cfg);
/* Whether our KEY carries the mesh name: always with a password (the name salts its key), and
 * without one when the name is not the default. A KEY without a name means the default one
 * when it has no password (so a mesh without a password and with the default name talks to
 * meshd versions from before mesh names), and is refused when it has one. */
bool mesh_hs_sends_mesh_name(const struct mesh_hs_config *cfg);
int mesh_hs_input(struct mesh_hs *hs, const uint8_t *data, size_t len, size_t *consumed);
/* Copies up to cap queued output bytes to out and removes them; returns the count. */
size_t mesh_hs_take_output(struct mesh_hs *hs, uint8_t *out, size_t cap);
/* Wipes keys held by the handshake (call after taking hs->keys / hs->chan). */
void mesh_hs_wipe(struct mesh_hs *hs);

#endif
