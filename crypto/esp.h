/* crypto/esp.h: one direction's kernel IPsec security association for the encrypted fast path
 * (DESIGN §4.3, §7): the ESP SPI and the AES-GCM key (RFC 4106: 32-byte key + 4-byte salt)
 * derived from that direction's "mesh ipsec" channel key. Both ends of a connection derive
 * the same SA from the same key (our tx key is the peer's rx key), so nothing about it goes
 * over the wire. No I/O. */
#ifndef MESH_CRYPTO_ESP_H
#define MESH_CRYPTO_ESP_H

#include <stdint.h>

#include "crypto/psk.h"

#define MESH_ESP_KEY_LEN 36   /* AES-256 key then the 4-byte salt, as rfc4106(gcm(aes)) takes */
#define MESH_ESP_ICV_BITS 128
#define MESH_ESP_SPI_MIN 256  /* SPIs 1-255 are reserved (RFC 4303) */
/* What ESP adds to a VXLAN packet in transport mode: header (SPI, sequence number), the
 * 8-byte IV, padding to 4 bytes (at most 3), pad length and next header, the 16-byte ICV. */
#define MESH_ESP_OVERHEAD (8 + 8 + 3 + 2 + 16)

struct mesh_esp_sa {
	uint32_t spi;         /* host order, >= MESH_ESP_SPI_MIN */
	uint8_t key[MESH_ESP_KEY_LEN];
};

/* spi = the first 4 bytes (big endian) of BLAKE2b-128(key = dir_key, "mesh esp spi"), plus
 * 256 when that falls in the reserved range;
 * key = BLAKE2b-288(key = dir_key, "mesh esp rfc4106(gcm(aes))"). */
void mesh_esp_derive(const uint8_t dir_key[MESH_KEY_LEN], struct mesh_esp_sa *out);

#endif
