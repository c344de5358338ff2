/* crypto/psk.c: the mesh password → pre-shared key (Argon2id), see psk.h.
 * Cost: opslimit 4, memlimit 8 MiB. meshd must keep its peak RSS under 20 MB (the sleeve
 * benchmark's limit), so Argon2's memory is kept small and paid for with more passes; the
 * PSK is derived once at start, and a captured handshake still costs an attacker one
 * Argon2id evaluation per guessed password. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/psk.h"

#define PSK_SALT "mesh/psk/v1"
#define PSK_OPSLIMIT 4
#define PSK_MEMLIMIT (8u << 20)

int mesh_psk_derive(const char *password, size_t len, uint8_t psk[MESH_KEY_LEN])
{
	uint8_t salt[crypto_pwhash_SALTBYTES] = { 0 };

	if (len == 0)
		return -EINVAL;
	memcpy(salt, PSK_SALT, sizeof(PSK_SALT) - 1);
	if (crypto_pwhash(psk, MESH_KEY_LEN, password, len, salt, PSK_OPSLIMIT, PSK_MEMLIMIT,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}
