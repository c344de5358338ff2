/* router/ipam_store.h: the IPAM state in the state dir (DESIGN §8): our ring and our allocations in
 * one file, `<state-dir>/ipam` (MESH_IPAM_STORE_FILE), written atomically (temp file, fsync,
 * rename, fsync of the dir: router/statefile.c), so a crash leaves the old or the new state, never
 * a mix, and ring and allocations always agree.
 *
 * File format, version 1 (all integers big endian):
 *   magic "MESHIPAM"(8) format(u16 = 1) self(6: the peer name that wrote it)
 *   subnet(4) prefix(1)         the default subnet when written (informational)
 *   ring_len(u32) ring(ring_len: a RING message of gossip/ipam.h, the whole ring)
 *   count(u32, <= MESH_IPAM_ALLOC_MAX) then count × allocation:
 *     ip(4) subnet(4) prefix(u8, 1..32) id_len(u8, >= 1) id(id_len)
 *   checksum(u64): FNV-1a-64 of every byte before it
 * Allocations are in address order. Decoding is hostile-input safe: a damaged, truncated or
 * foreign file is refused whole with a message saying what and where; the caller then reports
 * it, sets it aside (mesh_set_aside) and starts with an empty state.
 *
 * Save after every change of the ring or the allocations, before the ring is gossiped and before
 * an address is returned to mesh-cni (see gossip/ipam.h): a crash must never leave a state that
 * owns space already given away, or lacks an address already handed out. */
#ifndef MESH_ROUTER_IPAM_STORE_H
#define MESH_ROUTER_IPAM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gossip/ipam.h"
#include "router/ipam_alloc.h"

#define MESH_IPAM_STORE_FILE "ipam"
#define MESH_IPAM_STORE_MAGIC "MESHIPAM"
#define MESH_IPAM_STORE_FORMAT 1
#define MESH_IPAM_STORE_HDR_LEN (8 + 2 + 6 + 4 + 1 + 4)
#define MESH_IPAM_STORE_MAX_LEN \
	(MESH_IPAM_STORE_HDR_LEN + MESH_IPAM_RING_MAX_LEN + 4 + \
	 (size_t)MESH_IPAM_ALLOC_MAX * (10 + MESH_IPAM_ID_MAX) + 8)

/* Encodes ring + allocations into a malloc'ed buffer (*out, free() it). Returns the length,
 * or -ENOMEM / -EMSGSIZE. */
ssize_t mesh_ipam_store_encode(const struct mesh_ipam_ring *r, const struct mesh_ipam_alloc *a,
			       uint8_t **out);
/* Decodes into r (initialised by the caller with mesh_ipam_ring_init for the configured range
 * and our name, and empty) and a (initialised with the configured default subnet, and empty).
 * 0, or on error r and a are left empty and: -EBADMSG (damaged; why says what and where),
 * -ESTALE (written by another peer name), -EDOM (another --ipalloc-range), -ENOMEM. */
int mesh_ipam_store_decode(const uint8_t *buf, size_t len, struct mesh_ipam_ring *r,
			   struct mesh_ipam_alloc *a, char why[MESH_IPAM_WHY_LEN]);

/* The peer name that wrote a state file (its header, when magic, format and checksum hold), so a
 * host whose peer-name file was lost keeps its name and with it its space. 0 or -EBADMSG. */
int mesh_ipam_store_writer(const uint8_t *buf, size_t len, struct mesh_peer_name *self,
			   char why[MESH_IPAM_WHY_LEN]);
/* Writes the state to path atomically (mode 0600). 0 or -errno. */
int mesh_ipam_store_save(const char *path, const struct mesh_ipam_ring *r,
			 const struct mesh_ipam_alloc *a);
/* Reads path into r and a as mesh_ipam_store_decode does. 0, -ENOENT (no state yet: start
 * fresh), -EFBIG (larger than MESH_IPAM_STORE_MAX_LEN), another -errno of reading, or the
 * decode errors (why is set for those and for I/O errors). */
int mesh_ipam_store_load(const char *path, struct mesh_ipam_ring *r, struct mesh_ipam_alloc *a,
			 char why[MESH_IPAM_WHY_LEN]);

#endif
