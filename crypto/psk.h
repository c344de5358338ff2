/* crypto/psk.h: the mesh password turned into a pre-shared key (DESIGN §4.3). */
#ifndef MESH_CRYPTO_PSK_H
#define MESH_CRYPTO_PSK_H

#include <stddef.h>
#include <stdint.h>

#define MESH_KEY_LEN 32
/* Shorter passwords are refused (issue 16, finding 9): any peer that sends a KEY gets a
 * verifier of the password to guess at offline. */
#define MESH_PASSWORD_MIN 16

/* Argon2id(password, salt BLAKE2b-128("mesh/psk/v2" 0x00 mesh_name)) → 32-byte PSK: the mesh
 * name (--mesh-name) makes each mesh's key, and so any guessing, its own. Slow on purpose
 * (done once at start). Returns 0, or -EINVAL for a password shorter than MESH_PASSWORD_MIN
 * (or longer than Argon2 takes) or an empty mesh name, -ENOMEM when Argon2 cannot get its
 * memory. */
int mesh_psk_derive(const char *password, size_t len, const char *mesh_name,
		    uint8_t psk[MESH_KEY_LEN]);

#endif
