/* gossip/ipam.h: the IPAM ownership ring (DESIGN §5, channel `ipam`): which peer owns which part
 * of the mesh's one allocation range, its gossip encoding and its merge. Pure: no I/O, no clock
 * (times come in as arguments). Addresses are IPv4 in host byte order.
 *
 * The ring. The range [start, start + 2^(32-prefix)) is cut by tokens: entry i owns
 * [token_i, token_{i+1}) (the last one up to the end of the range). Entries are sorted by token,
 * the first token is always `start`, and tokens are never removed, so the token set only grows.
 * Each entry carries its owner, a version and the owner's count of free addresses in it
 * (advisory, for donor choice and `meshctl status ipam`).
 *
 * Who changes what. Only the owner of an entry changes it (hands it over, splits it by adding a
 * token inside it, reports its free count), always bumping its version; the one exception is
 * reclaim, where the heir chosen by mesh_ipam_reclaim_decide takes over the entries of a peer
 * gone for longer than --ipam-reclaim-after with a large version jump. Only the owner allocates
 * in its entries, so two peers never hand out the same address, even across partitions.
 *
 * Merge is per token: the entry with the higher version wins; equal versions with different
 * contents (only after an inconsistency) are ordered by lower owner name, then higher free count.
 * That is a join, so merging is commutative, associative and idempotent and all rings converge.
 * On top of the join, a merge that would take space away from us (an address we own that the
 * merged ring gives to someone else) is refused whole with -EPERM unless the has_alloc callback
 * says we have no allocation there (then it is accepted: our space was reclaimed while we were
 * away, or a repair). Rings with different ranges (-EDOM) or seeded differently (-EXDEV) never
 * merge.
 *
 * Seeding. The first division is deterministic from the sorted, deduplicated list of seed peer
 * names: each gets one contiguous share in name order (the last the remainder), every entry at
 * version 1. Every peer given the same names computes the same ring, so `seed=NAMES` needs no
 * communication; `consensus=N` seeds among all known peers once at least N are known (peers that
 * know the same set compute the same ring). The seed id is FNV-1a-64 over
 * "mesh-ipam-seed/v1", start (4, BE), prefix (1) and the sorted names; an empty ring has seed 0
 * and adopts the first ring it hears.
 *
 * Wire format of the `ipam` gossip channel (all integers big endian); the first byte is a type:
 *   RING (1):          type(1) start(4) prefix(1: 1..32) seed(8) count(u16: 0..MESH_IPAM_MAX_ENTRIES)
 *                      then count × entry: token(4) owner(6) version(u32, >= 1) free(u32)
 *                      count 0 ⇔ seed 0 (an empty ring); otherwise tokens strictly increase, the
 *                      first is start, all are inside the range, owners are non-zero and free is
 *                      at most the entry's span.
 *   SPACE_REQUEST (2): type(1) start(4) prefix(1) seed(8) requester(6) wanted(u32, >= 1)
 *                      unicast to the donor picked by mesh_ipam_pick_donor; the donor answers by
 *                      gossiping its ring after mesh_ipam_ring_transfer.
 * Messages are sent whole (the full ring, at most 18 × 8192 + 16 bytes); a malformed message is
 * refused whole with -EBADMSG and a message saying what, where and why.
 *
 * For the router (the rules that keep addresses unique across crashes and partitions):
 *   - persist (router/ipam_store.h) after every change of the ring or of the allocations and
 *     BEFORE the ring leaves this peer or an address is returned to mesh-cni, so a restarted
 *     peer never believes it still owns space it gave away;
 *   - every peer sends its ring on every new connection, even an empty one (16 bytes);
 *   - consensus=N: N is the number of initial peers. Call mesh_ipam_init_maybe_seed only once a
 *     ring (maybe empty) was heard from every connected peer, so that a mesh that is already
 *     seeded is joined rather than seeded anew (that would give -EXDEV everywhere). Peers that
 *     reach N with different sets of known peers seed differently and refuse each other (-EXDEV),
 *     loudly; with N = the initial peers, whoever knows N peers knows all of them;
 *   - before allocating, check mesh_ipam_may_allocate; on -EXDEV/-EDOM/-EPERM log the message
 *     and keep the ring as it is (the connection may stay up: other channels are fine). */
#ifndef MESH_GOSSIP_IPAM_H
#define MESH_GOSSIP_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesh/peer.h"

#define MESH_IPAM_MSG_RING 1
#define MESH_IPAM_MSG_SPACE_REQUEST 2

#define MESH_IPAM_MAX_ENTRIES 8192
#define MESH_IPAM_MAX_SEEDS 1024
#define MESH_IPAM_RING_HDR_LEN 16
#define MESH_IPAM_ENTRY_LEN 18
#define MESH_IPAM_REQUEST_LEN 24
#define MESH_IPAM_RING_MAX_LEN (MESH_IPAM_RING_HDR_LEN + MESH_IPAM_MAX_ENTRIES * MESH_IPAM_ENTRY_LEN)
/* Reclaim bumps the victim's entries by this much, so that changes the victim made unseen
 * (before it stopped allocating, see mesh_ipam_may_allocate) never outrank the heir's. */
#define MESH_IPAM_RECLAIM_VERSION_JUMP (1u << 20)
/* An incoming entry whose version is further ahead than this of the version our ring holds for
 * its address is refused (issue 16 finding 5): honest owners bump an entry by one per change
 * (a reclaim by MESH_IPAM_RECLAIM_VERSION_JUMP), so only a forger gets there, and a version
 * taken at UINT32_MAX would pin the entry for good (its owner could never change it again). */
#define MESH_IPAM_VERSION_AHEAD_MAX (1u << 24)
/* Room for every error message of this module (what, where, why, with addresses and names). */
#define MESH_IPAM_WHY_LEN 200

struct mesh_ipam_entry {
	uint32_t token;                 /* first address of the entry */
	struct mesh_peer_name owner;
	uint32_t version;
	uint32_t free;                  /* free addresses in the entry, as the owner last said */
};

struct mesh_ipam_ring {
	uint32_t start;                 /* first address of the range, aligned to prefix */
	uint8_t prefix;                 /* 1..32 */
	uint64_t seed;                  /* 0 while empty */
	struct mesh_peer_name self;     /* the local peer (zero in a decoded message) */
	size_t n, cap;
	struct mesh_ipam_entry *e;      /* owned; sorted by token */
};

/* --- the ring ------------------------------------------------------------------------------ */

/* An empty ring for start/prefix (start must be aligned, prefix 1..32). 0 or -EINVAL. */
int mesh_ipam_ring_init(struct mesh_ipam_ring *r, const struct mesh_peer_name *self, uint32_t start,
			uint8_t prefix);
void mesh_ipam_ring_free(struct mesh_ipam_ring *r);
/* Deep copy (dst uninitialised). 0 or -ENOMEM. */
int mesh_ipam_ring_copy(struct mesh_ipam_ring *dst, const struct mesh_ipam_ring *src);
/* Number of addresses in the range (1 .. 2^31). */
uint64_t mesh_ipam_ring_size(const struct mesh_ipam_ring *r);
/* One past the last address of entry i (as u64: the range may end at 2^32). */
uint64_t mesh_ipam_entry_end(const struct mesh_ipam_ring *r, size_t i);
/* The entry that contains addr, or -1 when the ring is empty or addr is outside the range. */
ssize_t mesh_ipam_ring_find(const struct mesh_ipam_ring *r, uint32_t addr);
/* True when the ring is seeded and the owner of addr is us. */
bool mesh_ipam_ring_owns(const struct mesh_ipam_ring *r, uint32_t addr);
/* The first address at or after `from` that r->self owns; start + size of the range when none. */
uint64_t mesh_ipam_ring_next_owned(const struct mesh_ipam_ring *r, uint64_t from);
/* Checks the invariants listed in the wire format. 0 or -EBADMSG with why. */
int mesh_ipam_ring_check(const struct mesh_ipam_ring *r, char why[MESH_IPAM_WHY_LEN]);

/* The seed id of a list of names (any order, duplicates ignored); never 0. */
uint64_t mesh_ipam_seed_id(uint32_t start, uint8_t prefix, const struct mesh_peer_name *names,
			   size_t n);
/* Divides the empty ring among the names (any order, duplicates ignored). 0, -EEXIST (already
 * seeded), -EINVAL (no names, a zero name, more names than MESH_IPAM_MAX_SEEDS or addresses), or
 * -ENOMEM. */
int mesh_ipam_ring_seed(struct mesh_ipam_ring *r, const struct mesh_peer_name *names, size_t n);

/* --ipalloc-init: "consensus=N" (1..MESH_IPAM_MAX_SEEDS) or "seed=NAME,NAME,..." */
struct mesh_ipam_init {
	unsigned quorum;                /* consensus=N; 0 with seed= */
	size_t nseeds;
	struct mesh_peer_name seeds[MESH_IPAM_MAX_SEEDS];
};
/* 0 or -EINVAL with why (what was wrong and where). */
int mesh_ipam_init_parse(const char *s, struct mesh_ipam_init *out, char why[MESH_IPAM_WHY_LEN]);
/* What an unseeded ring does when the known (reachable) peers, us included, are known:
 * seed= seeds at once; consensus=N seeds among all known peers once there are at least N.
 * Returns 1 when it seeded the ring, 0 when it waits (or the ring is already seeded), <0 errors
 * of mesh_ipam_ring_seed. An empty ring also adopts the first ring merged into it. */
int mesh_ipam_init_maybe_seed(struct mesh_ipam_ring *r, const struct mesh_ipam_init *init,
			      const struct mesh_peer_name *known, size_t nknown);

/* Hands [lo, hi) (all owned by us) to peer `to`, adding tokens at lo and hi when needed; every
 * changed entry gets a new version. The given entries' free counts become their spans (the new
 * owner reports the truth later), ours are lowered to at most their new spans. 0, -EINVAL (empty
 * range, outside the ring, to is us or zero), -EPERM (not all ours), -ENOSPC (MESH_IPAM_MAX_ENTRIES),
 * -EOVERFLOW (a version at its maximum) or -ENOMEM. */
int mesh_ipam_ring_transfer(struct mesh_ipam_ring *r, uint32_t lo, uint64_t hi,
			    const struct mesh_peer_name *to);
/* Our free count for entry i (owned by us); bumps the version when it changes. Returns 1 when
 * changed, 0 when not, -EINVAL (not ours, or free above the span), -EOVERFLOW. */
int mesh_ipam_ring_set_free(struct mesh_ipam_ring *r, size_t i, uint32_t free);
/* Takes every entry of victim for us (owner = us, version + MESH_IPAM_RECLAIM_VERSION_JUMP,
 * saturating). Returns the number of addresses taken over (0 when the victim owns nothing), or
 * -EINVAL (victim is us or zero). Call it only as the heir chosen by mesh_ipam_reclaim_decide. */
int64_t mesh_ipam_ring_reclaim(struct mesh_ipam_ring *r, const struct mesh_peer_name *victim);

/* Asked by merge: do we hold any allocation in [lo, hi)? NULL means "assume yes". */
typedef bool (*mesh_ipam_has_alloc_fn)(void *ctx, uint32_t lo, uint64_t hi);
/* Merges `in` (a decoded ring) into r, see the top of this file. *changed tells whether r
 * changed. Two rules against a peer that forges versions (issue 16 finding 5), once r is
 * seeded: an incoming entry more than MESH_IPAM_VERSION_AHEAD_MAX versions ahead of what r
 * holds for its address refuses the message (-ERANGE); and we own our own entries: an incoming
 * entry that keeps us the owner of space we own is never taken (nobody else changes our
 * entries); when its version is not below ours, ours jumps past it (like the topology's own
 * entry), so the next gossip puts ours back everywhere, and *changed is set.
 * On error r is unchanged: -EDOM (other range), -EXDEV (seeded differently; why names
 * both seed ids), -EPERM (would take away space where we have allocations; why names the
 * addresses, the old and new owner), -ERANGE (a version too far ahead; why names the entry and
 * both versions), -EBADMSG (in breaks an invariant), -ENOMEM. */
int mesh_ipam_ring_merge(struct mesh_ipam_ring *r, const struct mesh_ipam_ring *in,
			 mesh_ipam_has_alloc_fn has_alloc, void *ctx, bool *changed,
			 char why[MESH_IPAM_WHY_LEN]);

/* Decodes a RING message and merges it (mesh_ipam_ring_decode + mesh_ipam_ring_merge): what the
 * router calls for every IPAM gossip message of type MESH_IPAM_MSG_RING. Same returns. */
int mesh_ipam_ring_merge_msg(struct mesh_ipam_ring *r, const uint8_t *buf, size_t len,
			     mesh_ipam_has_alloc_fn has_alloc, void *ctx, bool *changed,
			     char why[MESH_IPAM_WHY_LEN]);

/* --- status, donation, reclaim ------------------------------------------------------------- */

struct mesh_ipam_owner_stat {
	struct mesh_peer_name owner;
	uint64_t owned;                 /* addresses */
	uint64_t free;                  /* as reported, each entry capped at its span */
	size_t ranges;                  /* entries */
};
/* One line per owner, in name order; returns how many owners there are (writes up to cap). */
size_t mesh_ipam_ring_owners(const struct mesh_ipam_ring *r, struct mesh_ipam_owner_stat *out,
			     size_t cap);

/* The donor to ask when our space runs out: the reachable peer (not us) with the most reported
 * free space, ties to the lower name. 0 with *donor, or -ENOSPC when no reachable peer reports
 * free space. */
int mesh_ipam_pick_donor(const struct mesh_ipam_ring *r, const struct mesh_peer_name *reachable,
			 size_t nreachable, struct mesh_peer_name *donor);

/* What the router knows of a peer, for reclaim. */
struct mesh_ipam_peer_seen {
	struct mesh_peer_name name;
	bool reachable;
	uint64_t last_seen_ms;          /* last time it was reachable from us; 0 = never */
	bool removed;                   /* its host is known to be gone for good (its Kubernetes
					 * Node object was deleted): no waiting */
};
/* Decides whether a peer's space is to be reclaimed now: an owner in the ring, not us, not
 * reachable and not seen for reclaim_after_ms (a peer never seen counts from our start,
 * started_ms), while the reachable peers (us included) are a strict majority of everyone that owns
 * space or is known. The heir is the lowest-named reachable peer (us included), so every member
 * of the majority names the same heir; only the heir calls mesh_ipam_ring_reclaim. Of several
 * victims the lowest-named goes first. A peer marked removed is reclaimed as soon as it is not
 * reachable, whatever reclaim_after_ms. Returns 1 with *victim and *heir, 0 when nothing is to
 * be done (reclaim_after_ms 0 = never, but for removed peers). */
int mesh_ipam_reclaim_decide(const struct mesh_ipam_ring *r, const struct mesh_ipam_peer_seen *peers,
			     size_t npeers, uint64_t now_ms, uint64_t started_ms,
			     uint64_t reclaim_after_ms, struct mesh_peer_name *victim,
			     struct mesh_peer_name *heir);
/* True when the reachable peers (us included) are a strict majority as above. */
bool mesh_ipam_have_majority(const struct mesh_ipam_ring *r, const struct mesh_ipam_peer_seen *peers,
			     size_t npeers);
/* Fencing: a peer that has been outside any majority since minority_since_ms (0 = it is in one)
 * stops allocating new addresses after reclaim_after_ms / 2, well before the majority may
 * reclaim its space. Existing allocations stay. */
bool mesh_ipam_may_allocate(uint64_t minority_since_ms, uint64_t now_ms, uint64_t reclaim_after_ms);

/* --- wire ---------------------------------------------------------------------------------- */

/* The message type (first byte), or -EBADMSG for an empty buffer. */
int mesh_ipam_msg_type(const uint8_t *buf, size_t len);
size_t mesh_ipam_ring_encoded_size(const struct mesh_ipam_ring *r);
/* RING message. Returns the length or -EMSGSIZE. */
ssize_t mesh_ipam_ring_encode(const struct mesh_ipam_ring *r, uint8_t *out, size_t cap);
/* Decodes a RING message into a new ring `out` (self zero; free it with mesh_ipam_ring_free).
 * 0, -EBADMSG with why, or -ENOMEM. */
int mesh_ipam_ring_decode(const uint8_t *buf, size_t len, struct mesh_ipam_ring *out,
			  char why[MESH_IPAM_WHY_LEN]);

struct mesh_ipam_request {
	uint32_t start;
	uint8_t prefix;
	uint64_t seed;
	struct mesh_peer_name requester;
	uint32_t wanted;                /* addresses wanted, >= 1 */
};
ssize_t mesh_ipam_request_encode(const struct mesh_ipam_request *q, uint8_t *out, size_t cap);
/* 0 or -EBADMSG with why. */
int mesh_ipam_request_decode(const uint8_t *buf, size_t len, struct mesh_ipam_request *out,
			     char why[MESH_IPAM_WHY_LEN]);

/* A space request is served only for the peer that sent it (issue 16, finding 2: anyone could
 * otherwise give away another's space): 0, or -EPERM with why when q's requester is not
 * sender (the connection's authenticated peer). */
int mesh_ipam_request_check_sender(const struct mesh_ipam_request *q,
				   const struct mesh_peer_name *sender, char why[MESH_IPAM_WHY_LEN]);

/* "10.40.0.0/16" (aligned, prefix 1..32) → start/prefix. 0 or -EINVAL. */
int mesh_ipam_cidr_parse(const char *s, uint32_t *start, uint8_t *prefix);
/* addr in dotted quad into out (16 bytes). */
void mesh_ipam_addr_format(uint32_t addr, char out[16]);

#endif
