/* gossip/hello.h: the HELLO message each side sends first on a control connection
 * (DESIGN §4.5): who it is, how to reach its sleeve, and the key confirmation tag. */
#ifndef MESH_GOSSIP_HELLO_H
#define MESH_GOSSIP_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/session.h"
#include "gossip/wire.h"
#include "mesh/peer.h"

struct mesh_hello {
	struct mesh_peer_name name;
	char nickname[MESH_NICKNAME_MAX + 1];
	uint64_t uid;
	uint16_t short_id;
	uint64_t conn_id;
	uint8_t overlays;
	uint16_t sleeve_port;
	uint32_t sleeve_index;
	uint8_t confirm[MESH_TAG_LEN];
	uint16_t full;          /* optional, 0 when absent: MESH_HELLO_FULL */
	uint8_t range6[16];     /* optional MESH_HELLO_RANGE6: base, then */
	uint8_t range6_prefix;  /* its prefix length; 0 when absent */
	uint32_t features;      /* optional MESH_HELLO_FEATURES, enum mesh_feature; 0 when absent */
};

#define MESH_HELLO_MAX 256

/* Writes the whole HELLO message (type byte, then TLVs). Returns its length or -EMSGSIZE. */
ssize_t mesh_hello_encode(const struct mesh_hello *h, uint8_t *out, size_t cap);

/* Parses a HELLO message (type byte first). Returns 0, or -EBADMSG with *why saying what was
 * wrong (a static string). Unknown tags are skipped; every known field is required. */
int mesh_hello_decode(const uint8_t *msg, size_t len, struct mesh_hello *h, const char **why);

/* A nickname is 1..63 printable ASCII characters without spaces. */
bool mesh_nickname_valid(const char *s, size_t len);

#endif
