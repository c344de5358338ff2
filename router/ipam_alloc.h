/* router/ipam_alloc.h: per-container address allocation inside the space this peer owns in the
 * IPAM ring (gossip/ipam.h). Pure: no I/O, no clock. Addresses are IPv4 in host byte order.
 *
 * An allocation is keyed by (container id, subnet): one address per id per subnet. The subnet
 * is the default one (--ipalloc-default-subnet, given at init; pass prefix 0 to mean it) or any
 * other prefix that overlaps the range. Addresses are handed out lowest first, only in entries
 * of the ring that we own, never the network or broadcast address of the subnet asked for nor of
 * the default subnet, and never twice (an address belongs to one (id, subnet) at most).
 *
 * An allocation's id is a container id, or "network/container id" for a container of a CNI
 * network (mesh-cni names its network, so that one network's GC leaves another's addresses
 * alone). Container ids and network names follow the CNI spec: characters of [A-Za-z0-9_.-],
 * not starting with '.' or '-'; the whole id has 1..MESH_IPAM_ID_MAX characters.
 *
 * When allocation fails with -ENOSPC our space is exhausted (within that subnet): ask the peer
 * from mesh_ipam_pick_donor for space (MESH_IPAM_MSG_SPACE_REQUEST); the donor answers with
 * mesh_ipam_alloc_pick_donation + mesh_ipam_ring_transfer and gossips its ring. After every
 * change of allocations or of the ring, mesh_ipam_alloc_report_free updates the free counts we
 * gossip. */
#ifndef MESH_ROUTER_IPAM_ALLOC_H
#define MESH_ROUTER_IPAM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gossip/ipam.h"

#define MESH_IPAM_ID_MAX 255
#define MESH_IPAM_ALLOC_MAX 65536

struct mesh_ipam_allocation {
	char id[MESH_IPAM_ID_MAX + 1];
	uint32_t ip;
	uint32_t subnet;                /* the subnet the address was asked in */
	uint8_t prefix;
};

struct mesh_ipam_alloc {
	uint32_t subnet;                /* the default subnet */
	uint8_t prefix;
	size_t n, cap;
	struct mesh_ipam_allocation *a; /* owned; sorted by ip */
};

/* subnet/prefix: the default subnet (aligned, prefix 1..32). 0 or -EINVAL. */
int mesh_ipam_alloc_init(struct mesh_ipam_alloc *a, uint32_t subnet, uint8_t prefix);
void mesh_ipam_alloc_free(struct mesh_ipam_alloc *a);

/* 0, or -EINVAL with why (what is wrong, at which character). */
int mesh_ipam_id_check(const char *id, char why[MESH_IPAM_WHY_LEN]);

/* The address of (id, subnet) (prefix 0: the default subnet). 0 or -ENOENT. */
int mesh_ipam_alloc_lookup(const struct mesh_ipam_alloc *a, const char *id, uint32_t subnet,
			   uint8_t prefix, uint32_t *ip);
/* Allocates for (id, subnet), or gives back the address it already has (an idempotent ADD).
 * Returns 1 (new), 0 (existing), -EINVAL (bad id or subnet; why), -EDOM (the subnet does not
 * overlap the range), -ENOSPC (no free address of ours in that subnet: ask for a donation;
 * also when the ring is not seeded yet), -E2BIG (MESH_IPAM_ALLOC_MAX allocations), -ENOMEM. */
int mesh_ipam_alloc_allocate(struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
			     const char *id, uint32_t subnet, uint8_t prefix, uint32_t *ip,
			     char why[MESH_IPAM_WHY_LEN]);
/* Records a given address for (id, subnet) (restore from the store, or a static request):
 * the address must be in that subnet, not reserved, free, and (when r is given) in our space.
 * Returns 1 (recorded), 0 (already exactly so), -EINVAL (why), -EEXIST (taken by another id,
 * or the id has another address in that subnet), -EPERM (not our space), -E2BIG, -ENOMEM. */
int mesh_ipam_alloc_claim(struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r, const char *id,
			  uint32_t subnet, uint8_t prefix, uint32_t ip, char why[MESH_IPAM_WHY_LEN]);
/* Releases every address of id (CNI DEL). Returns how many (0 when none: DEL is idempotent). */
size_t mesh_ipam_alloc_release(struct mesh_ipam_alloc *a, const char *id);
/* CNI GC of one network: releases every allocation of `network` (ids "network/..."; NULL: the
 * ids without a network) whose container id is not in keep. Returns how many. */
size_t mesh_ipam_alloc_release_except(struct mesh_ipam_alloc *a, const char *network,
				      const char *const *keep, size_t nkeep);

/* Allocations in [lo, hi). */
size_t mesh_ipam_alloc_count_in(const struct mesh_ipam_alloc *a, uint32_t lo, uint64_t hi);
/* The merge callback (mesh_ipam_has_alloc_fn); ctx is the struct mesh_ipam_alloc. */
bool mesh_ipam_alloc_has_in(void *ctx, uint32_t lo, uint64_t hi);
/* Addresses of [lo, hi) neither allocated nor reserved (default subnet's network/broadcast). */
uint64_t mesh_ipam_alloc_free_in(const struct mesh_ipam_alloc *a, uint32_t lo, uint64_t hi);
/* Free addresses in all our entries. */
uint64_t mesh_ipam_alloc_free_total(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r);
/* Sets the free count of each of our entries from the allocations (bumping versions of those
 * that changed). Returns the number of entries changed (gossip the ring when > 0) or -EOVERFLOW. */
int mesh_ipam_alloc_report_free(const struct mesh_ipam_alloc *a, struct mesh_ipam_ring *r);
/* Allocations in space the ring says is not ours (after a merge accepted a repair): returns
 * their count; the first up to cap are copied to out (out may be NULL). */
size_t mesh_ipam_alloc_not_owned(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
				 struct mesh_ipam_allocation *out, size_t cap);

/* As donor: picks [lo, hi) to give: the upper half (at least one address) of the largest run of
 * our space without allocations (ties: the lowest run). 0, or -ENOSPC when we have no address
 * without allocation. Then mesh_ipam_ring_transfer(r, lo, hi, requester). */
int mesh_ipam_alloc_pick_donation(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
				  uint32_t *lo, uint64_t *hi);

/* The donor's answer to a SPACE_REQUEST: checks that it is for our range and seed and from
 * another peer, picks the donation, hands it over (mesh_ipam_ring_transfer) and updates our
 * free counts. Then persist and gossip the ring. Returns the number of addresses given, or
 * -EDOM/-EXDEV (another range or seed), -EINVAL (from us), -ENOSPC (nothing to give), or the
 * errors of mesh_ipam_ring_transfer; why says which. */
int64_t mesh_ipam_alloc_donate(const struct mesh_ipam_alloc *a, struct mesh_ipam_ring *r,
			       const struct mesh_ipam_request *q, char why[MESH_IPAM_WHY_LEN]);

#endif
