/* crypto/esp.c: derives a direction's ESP security association from its channel key (see
 * esp.h). The SPI is not secret, but deriving it from the key gives both ends the same value
 * with nothing exchanged, and a new one for every connection (every handshake makes new keys),
 * so an SA left over from an earlier connection is never confused with the current one. */
#include "crypto/esp.h"

#include <sodium.h>
#include <string.h>

_Static_assert(MESH_ESP_KEY_LEN >= crypto_generichash_BYTES_MIN &&
		       MESH_ESP_KEY_LEN <= crypto_generichash_BYTES_MAX,
	       "ESP key material is one BLAKE2b output");

static void blake2b(uint8_t *out, size_t outlen, const uint8_t key[MESH_KEY_LEN],
		    const char *label)
{
	crypto_generichash(out, outlen, (const uint8_t *)label, strlen(label), key, MESH_KEY_LEN);
}

void mesh_esp_derive(const uint8_t dir_key[MESH_KEY_LEN], struct mesh_esp_sa *out)
{
	uint8_t spi[crypto_generichash_BYTES_MIN];

	blake2b(spi, sizeof(spi), dir_key, "mesh esp spi");
	out->spi = (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 | (uint32_t)spi[2] << 8 | spi[3];
	if (out->spi < MESH_ESP_SPI_MIN)
		out->spi += MESH_ESP_SPI_MIN;
	blake2b(out->key, sizeof(out->key), dir_key, "mesh esp rfc4106(gcm(aes))");
	sodium_memzero(spi, sizeof(spi));
}
