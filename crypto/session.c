/* crypto/session.c: owns per-connection key agreement (DESIGN §4.3): X25519 via crypto_kx,
 * the per-channel, per-direction key derivation with BLAKE2b, the key-confirmation tag and
 * wiping of key material. No I/O. */
#include "crypto/session.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

_Static_assert(MESH_PUBKEY_LEN == crypto_kx_PUBLICKEYBYTES, "public key size");
_Static_assert(sizeof(((struct mesh_kx_keypair *)0)->sk) == crypto_kx_SECRETKEYBYTES,
	       "secret key size");
_Static_assert(MESH_KEY_LEN == crypto_kx_SESSIONKEYBYTES, "session key size");
_Static_assert(MESH_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
		       MESH_KEY_LEN <= crypto_generichash_KEYBYTES_MAX,
	       "psk usable as BLAKE2b key");
_Static_assert(MESH_KEY_LEN >= crypto_generichash_BYTES_MIN &&
		       MESH_TAG_LEN <= crypto_generichash_BYTES_MAX,
	       "BLAKE2b output sizes");

static const uint8_t zero_psk[MESH_KEY_LEN];

/* Randomness comes from randombytes_buf(), which initialises itself on first use; the daemon
 * should still call sodium_init() once at start so that libsodium picks its fastest code. */
void mesh_kx_keypair_generate(struct mesh_kx_keypair *kp)
{
	crypto_kx_keypair(kp->pk, kp->sk);
}

/* key = BLAKE2b-256(key = psk, msg = kx_key ‖ client_pk ‖ server_pk ‖ label).
 * The three leading fields are fixed length, so the label is unambiguous. */
static void derive_one(const uint8_t *psk, const uint8_t kx_key[MESH_KEY_LEN],
		       const uint8_t client_pk[MESH_PUBKEY_LEN],
		       const uint8_t server_pk[MESH_PUBKEY_LEN], const char *label,
		       uint8_t out[MESH_KEY_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, psk, MESH_KEY_LEN, MESH_KEY_LEN);
	crypto_generichash_update(&st, kx_key, MESH_KEY_LEN);
	crypto_generichash_update(&st, client_pk, MESH_PUBKEY_LEN);
	crypto_generichash_update(&st, server_pk, MESH_PUBKEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, MESH_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* Fills one channel's keys: c2s is the client's tx and the server's rx, s2c the reverse. */
static void derive_channel(const uint8_t *psk, const uint8_t c2s[MESH_KEY_LEN],
			   const uint8_t s2c[MESH_KEY_LEN], const uint8_t *client_pk,
			   const uint8_t *server_pk, bool is_client, const char *label_c2s,
			   const char *label_s2c, struct mesh_dir_keys *out)
{
	uint8_t *k_c2s = is_client ? out->tx : out->rx;
	uint8_t *k_s2c = is_client ? out->rx : out->tx;

	derive_one(psk, c2s, client_pk, server_pk, label_c2s, k_c2s);
	derive_one(psk, s2c, client_pk, server_pk, label_s2c, k_s2c);
}

int mesh_session_derive(const struct mesh_kx_keypair *self, const uint8_t peer_pk[MESH_PUBKEY_LEN],
			bool is_client, const uint8_t *psk, struct mesh_session_keys *out)
{
	/* kx_rx/kx_tx as crypto_kx returns them for this side */
	uint8_t kx_rx[crypto_kx_SESSIONKEYBYTES], kx_tx[crypto_kx_SESSIONKEYBYTES];
	const uint8_t *client_pk, *server_pk, *c2s, *s2c;
	int rc;

	if (psk == NULL)
		psk = zero_psk;

	if (is_client) {
		rc = crypto_kx_client_session_keys(kx_rx, kx_tx, self->pk, self->sk, peer_pk);
		client_pk = self->pk;
		server_pk = peer_pk;
		c2s = kx_tx;
		s2c = kx_rx;
	} else {
		rc = crypto_kx_server_session_keys(kx_rx, kx_tx, self->pk, self->sk, peer_pk);
		client_pk = peer_pk;
		server_pk = self->pk;
		c2s = kx_rx;
		s2c = kx_tx;
	}
	if (rc != 0) {
		sodium_memzero(kx_rx, sizeof(kx_rx));
		sodium_memzero(kx_tx, sizeof(kx_tx));
		sodium_memzero(out, sizeof(*out));
		return -EINVAL;
	}

	derive_channel(psk, c2s, s2c, client_pk, server_pk, is_client, "mesh tcp c2s",
		       "mesh tcp s2c", &out->tcp);
	derive_channel(psk, c2s, s2c, client_pk, server_pk, is_client, "mesh sleeve c2s",
		       "mesh sleeve s2c", &out->sleeve);
	derive_channel(psk, c2s, s2c, client_pk, server_pk, is_client, "mesh ipsec c2s",
		       "mesh ipsec s2c", &out->ipsec);

	sodium_memzero(kx_rx, sizeof(kx_rx));
	sodium_memzero(kx_tx, sizeof(kx_tx));
	return 0;
}

void mesh_confirm_tag(const uint8_t *psk, const uint8_t *transcript, size_t len, bool from_client,
		      uint8_t tag[MESH_TAG_LEN])
{
	static const char label_client[] = "mesh confirm client";
	static const char label_server[] = "mesh confirm server";
	const char *label = from_client ? label_client : label_server;
	crypto_generichash_state st;

	if (psk == NULL)
		psk = zero_psk;
	crypto_generichash_init(&st, psk, MESH_KEY_LEN, MESH_TAG_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	if (len > 0)
		crypto_generichash_update(&st, transcript, len);
	crypto_generichash_final(&st, tag, MESH_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
}

bool mesh_tag_equal(const uint8_t a[MESH_TAG_LEN], const uint8_t b[MESH_TAG_LEN])
{
	return sodium_memcmp(a, b, MESH_TAG_LEN) == 0;
}

void mesh_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
