/* crypto/session.h: per-connection key agreement (DESIGN §4.3).
 * X25519 (crypto_kx) between fresh ephemeral keys, then one key per channel and direction:
 *   key = BLAKE2b-256(key = psk, msg = kx_key ‖ client_pk ‖ server_pk ‖ label)
 * so no key is shared across channels (TCP, sleeve UDP, fastdp IPsec) or directions. */
#ifndef MESH_CRYPTO_SESSION_H
#define MESH_CRYPTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/psk.h"

#define MESH_PUBKEY_LEN 32
#define MESH_TAG_LEN 32

struct mesh_kx_keypair {
	uint8_t pk[MESH_PUBKEY_LEN];
	uint8_t sk[32];
};

/* One channel's keys as seen from one side. */
struct mesh_dir_keys {
	uint8_t tx[MESH_KEY_LEN];
	uint8_t rx[MESH_KEY_LEN];
};

struct mesh_session_keys {
	struct mesh_dir_keys tcp;
	struct mesh_dir_keys sleeve;
	struct mesh_dir_keys ipsec;
};

void mesh_kx_keypair_generate(struct mesh_kx_keypair *kp);

/* Derives all channel keys. `is_client` is true on the side that opened the TCP connection.
 * psk may be NULL (no password: the keys are still derived, with an all-zero psk).
 * Returns 0, or -EINVAL when the peer's public key is unacceptable (e.g. low order). */
int mesh_session_derive(const struct mesh_kx_keypair *self, const uint8_t peer_pk[MESH_PUBKEY_LEN],
			bool is_client, const uint8_t *psk, struct mesh_session_keys *out);

/* Key confirmation tag over the handshake transcript:
 *   BLAKE2b-256(key = psk or zeros, msg = label(from_client) ‖ transcript)
 * Each side sends its own tag and checks the other's, so a tag cannot be reflected. */
void mesh_confirm_tag(const uint8_t *psk, const uint8_t *transcript, size_t len, bool from_client,
		      uint8_t tag[MESH_TAG_LEN]);

/* Constant-time comparison of two tags: true when equal. */
bool mesh_tag_equal(const uint8_t a[MESH_TAG_LEN], const uint8_t b[MESH_TAG_LEN]);

/* Wipes key material. */
void mesh_wipe(void *p, size_t len);

#endif
