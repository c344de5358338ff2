/* include/mesh/peer.h: the peer identity types every module shares (DESIGN §3).
 * A peer name is a 48-bit MAC-style id, written like a MAC address. */
#ifndef MESH_PEER_H
#define MESH_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MESH_PEER_NAME_LEN 6
/* "aa:bb:cc:dd:ee:ff" plus the NUL */
#define MESH_PEER_NAME_STRLEN 18

struct mesh_peer_name {
	uint8_t b[MESH_PEER_NAME_LEN];
};

static inline bool mesh_peer_name_eq(const struct mesh_peer_name *a, const struct mesh_peer_name *b)
{
	return memcmp(a->b, b->b, MESH_PEER_NAME_LEN) == 0;
}

/* The name as a 48-bit number (its bytes big endian). */
static inline uint64_t mesh_peer_name_u64(const struct mesh_peer_name *a)
{
	return (uint64_t)a->b[0] << 40 | (uint64_t)a->b[1] << 32 | (uint64_t)a->b[2] << 24 |
	       (uint64_t)a->b[3] << 16 | (uint64_t)a->b[4] << 8 | a->b[5];
}

/* Byte order, as memcmp (<0, 0, >0), without a call: sorting names is hot at scale. */
static inline int mesh_peer_name_cmp(const struct mesh_peer_name *a, const struct mesh_peer_name *b)
{
	uint64_t x = mesh_peer_name_u64(a), y = mesh_peer_name_u64(b);
	return (x > y) - (x < y);
}

static inline bool mesh_peer_name_is_zero(const struct mesh_peer_name *a)
{
	static const struct mesh_peer_name zero;
	return mesh_peer_name_eq(a, &zero);
}

static inline void mesh_peer_name_format(const struct mesh_peer_name *n, char out[MESH_PEER_NAME_STRLEN])
{
	snprintf(out, MESH_PEER_NAME_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 n->b[0], n->b[1], n->b[2], n->b[3], n->b[4], n->b[5]);
}

/* Parses "aa:bb:cc:dd:ee:ff" (hex, either case), nothing before or after. Returns 0 or -1. */
static inline int mesh_peer_name_parse(const char *s, struct mesh_peer_name *out)
{
	struct mesh_peer_name n;
	for (int i = 0; i < MESH_PEER_NAME_LEN; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = *s++;
			v <<= 4;
			if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
			else return -1;
		}
		n.b[i] = (uint8_t)v;
		if (i < MESH_PEER_NAME_LEN - 1 && *s++ != ':')
			return -1;
	}
	if (*s != '\0')
		return -1;
	*out = n;
	return 0;
}

#endif
