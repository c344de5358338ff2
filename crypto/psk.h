/* crypto/psk.h: the mesh password turned into a pre-shared key (DESIGN §4.3). */
#ifndef MESH_CRYPTO_PSK_H
#define MESH_CRYPTO_PSK_H

#include <stddef.h>
#include <stdint.h>

#define MESH_KEY_LEN 32

/* Argon2id(password, salt "mesh/psk/v1") → 32-byte PSK. Slow on purpose (done once at start).
 * Returns 0, or -EINVAL for an empty password, -ENOMEM when Argon2 cannot get its memory. */
int mesh_psk_derive(const char *password, size_t len, uint8_t psk[MESH_KEY_LEN]);

#endif
