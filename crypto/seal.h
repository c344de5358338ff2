/* crypto/seal.h: authenticated encryption of one message with a counter nonce (DESIGN §4.4,
 * §7). crypto_secretbox_easy (XSalsa20-Poly1305); the 24-byte nonce is the 64-bit counter
 * (little endian) followed by up to 16 bytes of context (e.g. a datagram header), zero padded,
 * so tampering with the context makes the message fail to open. */
#ifndef MESH_CRYPTO_SEAL_H
#define MESH_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/psk.h"

#define MESH_SEAL_OVERHEAD 16 /* crypto_secretbox_MACBYTES */
#define MESH_NONCE_LEN 24
#define MESH_NONCE_CTX_MAX 16

void mesh_nonce_build(uint64_t counter, const void *ctx, size_t ctx_len, uint8_t nonce[MESH_NONCE_LEN]);

/* Seals len bytes of `in` into `out` (len + MESH_SEAL_OVERHEAD bytes). out == in is allowed
 * (in-place; the buffer must then hold len + MESH_SEAL_OVERHEAD bytes). Returns 0 or -EINVAL. */
int mesh_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN]);

/* Opens `in` (len bytes including the MAC) into `out` (len - MESH_SEAL_OVERHEAD bytes);
 * out == in is allowed. Returns 0, or -EBADMSG when the message is too short, was tampered
 * with or sealed under another key or nonce. */
int mesh_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[MESH_NONCE_LEN],
	      const uint8_t key[MESH_KEY_LEN]);

#endif
