/* gossip/macs.h: the MAC-location gossip channel (DESIGN §5): which peer each container MAC
 * lives at, with the version (wall-clock ms) at which that location was learned.
 *
 * Wire format (big endian): count u16 (1..MESH_MACS_MAX_PER_MSG), then count entries of
 *   mac(6) peer(6) version(u64)
 * An all-zero peer says the MAC is gone (its container was removed) as of that version.
 * A malformed message is refused whole. Pure: no I/O. */
#ifndef MESH_GOSSIP_MACS_H
#define MESH_GOSSIP_MACS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesh/peer.h"

#define MESH_MACS_ENTRY_LEN 20
#define MESH_MACS_MAX_PER_MSG 4096

struct mesh_mac_update {
	uint8_t mac[6];
	struct mesh_peer_name peer;
	uint64_t version;
};

/* Encodes n (1..MESH_MACS_MAX_PER_MSG) entries. Returns the length or -EMSGSIZE / -EINVAL. */
ssize_t mesh_macs_encode(const struct mesh_mac_update *u, size_t n, uint8_t *out, size_t cap);
/* Decodes into out (room for MESH_MACS_MAX_PER_MSG). Returns the count, or -EBADMSG with *why. */
ssize_t mesh_macs_decode(const uint8_t *buf, size_t len, struct mesh_mac_update *out,
			 const char **why);

#endif
