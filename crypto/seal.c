/* crypto/seal.c: owns authenticated encryption of single messages (DESIGN §4.4, §7):
 * the counter+context nonce and crypto_secretbox_easy / open_easy. No I/O. */
#include "crypto/seal.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

_Static_assert(MESH_SEAL_OVERHEAD == crypto_secretbox_MACBYTES, "MAC size");
_Static_assert(MESH_NONCE_LEN == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(MESH_KEY_LEN == crypto_secretbox_KEYBYTES, "key size");
_Static_assert(8 + MESH_NONCE_CTX_MAX == MESH_NONCE_LEN, "nonce layout");

/* nonce = counter (8 bytes, little endian) ‖ ctx (min(ctx_len, 16) bytes) ‖ zeros.
 * A ctx longer than MESH_NONCE_CTX_MAX is a caller bug; only its first 16 bytes are used. */
void mesh_nonce_build(uint64_t counter, const void *ctx, size_t ctx_len, uint8_t nonce[MESH_NONCE_LEN])
{
	memset(nonce, 0, MESH_NONCE_LEN);
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(counter >> (8 * i));
	if (ctx_len > MESH_NONCE_CTX_MAX)
		ctx_len = MESH_NONCE_CTX_MAX;
	if (ctx != NULL && ctx_len > 0)
		memcpy(nonce + 8, ctx, ctx_len);
}

/* libsodium copes with any overlap of in and out (it memmoves first), not only out == in. */
int mesh_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN])
{
	if (len > crypto_secretbox_MESSAGEBYTES_MAX || len > SIZE_MAX - MESH_SEAL_OVERHEAD)
		return -EINVAL;
	if (crypto_secretbox_easy(out, in, len, nonce, key) != 0)
		return -EINVAL;
	return 0;
}

int mesh_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN])
{
	if (len < MESH_SEAL_OVERHEAD)
		return -EBADMSG;
	if (crypto_secretbox_open_easy(out, in, len, nonce, key) != 0)
		return -EBADMSG;
	return 0;
}
