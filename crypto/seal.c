/* crypto/seal.c: secretbox sealing with counter nonces bound to a context (see seal.h). */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/seal.h"

void mesh_nonce_build(uint64_t counter, const void *ctx, size_t ctx_len, uint8_t nonce[MESH_NONCE_LEN])
{
	memset(nonce, 0, MESH_NONCE_LEN);
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(counter >> (8 * i));
	if (ctx_len > MESH_NONCE_CTX_MAX)
		ctx_len = MESH_NONCE_CTX_MAX;
	if (ctx_len)
		memcpy(nonce + 8, ctx, ctx_len);
}

int mesh_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN])
{
	return crypto_secretbox_easy(out, in, len, nonce, key) == 0 ? 0 : -EINVAL;
}

int mesh_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN])
{
	if (len < MESH_SEAL_OVERHEAD)
		return -EBADMSG;
	return crypto_secretbox_open_easy(out, in, len, nonce, key) == 0 ? 0 : -EBADMSG;
}
