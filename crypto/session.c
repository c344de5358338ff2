/* crypto/session.c: X25519 key agreement and per-channel, per-direction keys (see session.h). */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/session.h"

void mesh_kx_keypair_generate(struct mesh_kx_keypair *kp)
{
	crypto_kx_keypair(kp->pk, kp->sk);
}

/* key = BLAKE2b-256(key = psk, msg = kx_key ‖ client_pk ‖ server_pk ‖ label) */
static void derive(const uint8_t psk[MESH_KEY_LEN], const uint8_t kx_key[MESH_KEY_LEN],
		   const uint8_t cpk[MESH_PUBKEY_LEN], const uint8_t spk[MESH_PUBKEY_LEN],
		   const char *label, uint8_t out[MESH_KEY_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, psk, MESH_KEY_LEN, MESH_KEY_LEN);
	crypto_generichash_update(&st, kx_key, MESH_KEY_LEN);
	crypto_generichash_update(&st, cpk, MESH_PUBKEY_LEN);
	crypto_generichash_update(&st, spk, MESH_PUBKEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, MESH_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

int mesh_session_derive(const struct mesh_kx_keypair *self, const uint8_t peer_pk[MESH_PUBKEY_LEN],
			bool is_client, const uint8_t *psk, struct mesh_session_keys *out)
{
	static const uint8_t zero[MESH_KEY_LEN];
	uint8_t rx[MESH_KEY_LEN], tx[MESH_KEY_LEN];
	const uint8_t *k = psk ? psk : zero;
	const uint8_t *cpk = is_client ? self->pk : peer_pk;
	const uint8_t *spk = is_client ? peer_pk : self->pk;
	int r = is_client ? crypto_kx_client_session_keys(rx, tx, self->pk, self->sk, peer_pk)
			  : crypto_kx_server_session_keys(rx, tx, self->pk, self->sk, peer_pk);
	if (r != 0)
		return -EINVAL;
	/* client→server traffic uses the client's tx (= the server's rx) */
	const uint8_t *c2s = is_client ? tx : rx, *s2c = is_client ? rx : tx;
	struct { struct mesh_dir_keys *d; const char *c2s, *s2c; } ch[] = {
		{ &out->tcp, "mesh tcp c2s", "mesh tcp s2c" },
		{ &out->sleeve, "mesh sleeve c2s", "mesh sleeve s2c" },
		{ &out->ipsec, "mesh ipsec c2s", "mesh ipsec s2c" },
	};
	for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
		uint8_t a[MESH_KEY_LEN], b[MESH_KEY_LEN];
		derive(k, c2s, cpk, spk, ch[i].c2s, a);
		derive(k, s2c, cpk, spk, ch[i].s2c, b);
		memcpy(ch[i].d->tx, is_client ? a : b, MESH_KEY_LEN);
		memcpy(ch[i].d->rx, is_client ? b : a, MESH_KEY_LEN);
		sodium_memzero(a, sizeof(a));
		sodium_memzero(b, sizeof(b));
	}
	sodium_memzero(rx, sizeof(rx));
	sodium_memzero(tx, sizeof(tx));
	return 0;
}

void mesh_confirm_tag(const uint8_t *psk, const uint8_t *transcript, size_t len, bool from_client,
		      uint8_t tag[MESH_TAG_LEN])
{
	static const uint8_t zero[MESH_KEY_LEN];
	const char *label = from_client ? "mesh confirm client" : "mesh confirm server";
	crypto_generichash_state st;
	crypto_generichash_init(&st, psk ? psk : zero, MESH_KEY_LEN, MESH_TAG_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
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
