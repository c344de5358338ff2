/* crypto/psk.c: owns the password → pre-shared key derivation (DESIGN §4.3):
 * Argon2id over the password, salted with the mesh name (see psk.h). No I/O. */
#include "crypto/psk.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

/* Argon2id cost parameters.
 * The PSK is derived once at start, so a captured handshake cannot be brute-forced at the
 * speed of a bare hash. Argon2's memory cost is allocated for the duration of the call and
 * counts fully towards the daemon's peak RSS, which must stay under 20 MB (DESIGN): 8 MiB
 * leaves well over half the budget for libevent, the TAP/socket buffers and the tables.
 * To keep the attacker's cost up with that small a memory cost we take 4 passes instead
 * of the interactive default's 2; this still takes only some tens of milliseconds.
 * Changing either value changes every PSK and so breaks interoperability between versions:
 * bump the salt version ("mesh/psk/v3") if they ever change. */
#define MESH_PSK_OPSLIMIT 4ULL
#define MESH_PSK_MEMLIMIT ((size_t)8 * 1024 * 1024)

static const char psk_salt_str[] = "mesh/psk/v2";

_Static_assert(crypto_pwhash_SALTBYTES >= crypto_generichash_BYTES_MIN, "salt too short");
_Static_assert(MESH_KEY_LEN >= crypto_pwhash_BYTES_MIN, "key too short for Argon2");
_Static_assert(MESH_PSK_OPSLIMIT >= crypto_pwhash_OPSLIMIT_MIN, "opslimit below minimum");
_Static_assert(MESH_PSK_MEMLIMIT >= crypto_pwhash_MEMLIMIT_MIN, "memlimit below minimum");

int mesh_psk_derive(const char *password, size_t len, const char *mesh_name,
		    uint8_t psk[MESH_KEY_LEN])
{
	uint8_t salt[crypto_pwhash_SALTBYTES];
	crypto_generichash_state st;

	if (len < MESH_PASSWORD_MIN || password == NULL || psk == NULL || !mesh_name ||
	    !*mesh_name)
		return -EINVAL;
	if (len > crypto_pwhash_PASSWD_MAX)
		return -EINVAL;

	/* the version string with its NUL, then the name */
	crypto_generichash_init(&st, NULL, 0, sizeof(salt));
	crypto_generichash_update(&st, (const uint8_t *)psk_salt_str, sizeof(psk_salt_str));
	crypto_generichash_update(&st, (const uint8_t *)mesh_name, strlen(mesh_name));
	crypto_generichash_final(&st, salt, sizeof(salt));

	if (crypto_pwhash(psk, MESH_KEY_LEN, password, len, salt, MESH_PSK_OPSLIMIT,
			  MESH_PSK_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(psk, MESH_KEY_LEN);
		return -ENOMEM;
	}
	return 0;
}
