/* router/mactable.h: where each MAC address lives (DESIGN §5): MAC → peer, learned from
 * frames (and, later, from gossip), aged out after 10 min without traffic. Pure: open
 * addressing table, time passed in, no I/O; it allocates only when it grows.
 * Each entry carries a version: the wall-clock ms at which its current location was learned
 * (by the router that learned it). Gossip merges by version, so a moved MAC follows the
 * newer announcement; a version more than a day ahead of our clock is never taken, nor is a
 * location at us from anyone else (we learn our own MACs from our bridge).
 * An entry whose peer is all-zero is a tombstone: the MAC left (its container is gone). It is
 * gossiped and kept until it ages out, so that an older announcement cannot bring the MAC
 * back; lookups do not return it.
 *
 * Bounds (issue 16, finding 3), once mesh_mactable_set_limits gave them: at most `global`
 * entries; at most `per_peer` at any one peer and `per_port` at any one port of our bridge
 * (the entries at us, by the port the bridge saw them on; 0 when unknown, e.g. a frame read
 * from our TAP); a tombstone keeps counting where its MAC was, so a container that churns
 * MACs is held by its port's cap until its tombstones age out. New MACs learned from frames
 * (mesh_mactable_learn) take a token of a learning rate limit; gossip merges do not (they are
 * bounded by the caps). What was refused is counted in `refused`. The hash is SipHash
 * (libsodium's crypto_shorthash) under a random key per table, so nobody can choose MACs that
 * collide. */
#ifndef MESH_ROUTER_MACTABLE_H
#define MESH_ROUTER_MACTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/peer.h"
#include "router/ratelimit.h"

#define MESH_MAC_MAX_AGE_MS (10u * 60u * 1000u)

/* meshd's limits (documented in meshd(8), LIMITS AND TRUST) */
#define MESH_MAC_LIMIT_GLOBAL 8192
#define MESH_MAC_LIMIT_PER_PEER 1024
#define MESH_MAC_LIMIT_PER_PORT 32
#define MESH_MAC_LEARN_RATE_PER_S 100
#define MESH_MAC_LEARN_BURST 500

struct mesh_mac_limits {
	size_t global, per_peer, per_port; /* 0: no cap */
	uint32_t learn_rate_per_s, learn_burst; /* rate 0: no rate limit */
};

struct mesh_mac_refused {
	uint64_t full, peer, port, rate;
};

struct mesh_mac_entry {
	uint8_t mac[6];
	bool used;
	struct mesh_peer_name peer;
	uint32_t port;      /* at us: the bridge port's ifindex (0: not known) */
	uint64_t owner;     /* whose cap the entry counts in (mactable.c) */
	uint64_t seen_ms;   /* monotonic, local: for ageing */
	uint64_t version;   /* wall clock ms when this location was learned */
};

struct mesh_mac_owner {
	uint64_t key;
	uint32_t n;
	bool used;
};

struct mesh_mactable {
	struct mesh_mac_entry *slots;
	size_t cap, count;
	uint8_t key[16];                 /* the hash's (crypto_shorthash_KEYBYTES) */
	struct mesh_mac_owner *owners;   /* entries per peer or port */
	size_t owners_cap, owners_used;
	struct mesh_mac_limits limits;
	struct mesh_peer_name self;      /* entries at self count per port */
	bool has_self;
	struct mesh_ratelimit learn_rl;
	struct mesh_mac_refused refused;
};

enum mesh_mac_learn {
	MESH_MAC_REFRESHED = 0,
	MESH_MAC_NEW = 1,
	MESH_MAC_MOVED = 2,
	MESH_MAC_STALE = 3,     /* merge only: older than what we have, or at us: ignored */
	MESH_MAC_REFUSED = 4,   /* merge only: a version far ahead of the clock, ignored */
	MESH_MAC_REFUSED_FULL = 5, /* the table holds its `global` entries */
	MESH_MAC_REFUSED_PEER = 6, /* that peer holds its `per_peer` */
	MESH_MAC_REFUSED_PORT = 7, /* that port of our bridge holds its `per_port` */
	MESH_MAC_REFUSED_RATE = 8, /* learning faster than the rate limit */
};

static inline bool mesh_mac_refused(int res)
{
	return res >= MESH_MAC_REFUSED;
}

/* An empty table without limits, its hash key drawn at random. */
int mesh_mactable_init(struct mesh_mactable *t);
void mesh_mactable_free(struct mesh_mactable *t);
/* Sets the bounds (see above) and our own name; now_ms starts the learning rate limit. */
void mesh_mactable_set_limits(struct mesh_mactable *t, const struct mesh_mac_limits *l,
			      const struct mesh_peer_name *self, uint64_t now_ms);
/* Records that mac was seen at peer (in a frame), on port of our bridge when peer is us (0:
 * not known; a known port is kept over an unknown one). A new entry gets `version`, a moved
 * one `version` or, when the location it leaves (or its tombstone) is not older, one past
 * that: a move must outrank what the others have. Returns an enum mesh_mac_learn (a
 * MESH_MAC_REFUSED_* one over a bound: nothing changed) or -ENOMEM. */
int mesh_mactable_learn_port(struct mesh_mactable *t, const uint8_t mac[6],
			     const struct mesh_peer_name *peer, uint32_t port, uint64_t now_ms,
			     uint64_t version);
static inline int mesh_mactable_learn(struct mesh_mactable *t, const uint8_t mac[6],
				      const struct mesh_peer_name *peer, uint64_t now_ms,
				      uint64_t version)
{
	return mesh_mactable_learn_port(t, mac, peer, 0, now_ms, version);
}
/* Merges an announcement heard at now_ms (monotonic) and wall_ms (wall clock): taken when
 * new, or when its version is newer than ours (MOVED or REFRESHED); the same version
 * refreshes; an older one is STALE and ignored. A location at `self` (our name, may be NULL)
 * is ours to announce, never taken from others (STALE; the same entry echoed back
 * REFRESHED); a version more than MESH_VERSION_AHEAD_MAX_MS ahead of wall_ms is REFUSED
 * (it would pin the MAC there for good); over a bound, a MESH_MAC_REFUSED_*. -ENOMEM. */
int mesh_mactable_merge(struct mesh_mactable *t, const uint8_t mac[6],
			const struct mesh_peer_name *peer, uint64_t version, uint64_t now_ms,
			uint64_t wall_ms, const struct mesh_peer_name *self);
/* The MAC's location, or NULL when unknown or gone (a tombstone). */
const struct mesh_mac_entry *mesh_mactable_lookup(const struct mesh_mactable *t, const uint8_t mac[6]);
/* Marks a known MAC as gone (a tombstone) with a version newer than the one it has; returns
 * that version, or 0 when the MAC is unknown or already gone. */
uint64_t mesh_mactable_gone(struct mesh_mactable *t, const uint8_t mac[6], uint64_t now_ms,
			    uint64_t version);
/* Removes entries not seen for max_age_ms, except those at peer `keep` (our own MACs, which
 * leave when the bridge forgets them); returns how many. */
size_t mesh_mactable_expire(struct mesh_mactable *t, uint64_t now_ms, uint64_t max_age_ms,
			    const struct mesh_peer_name *keep);
/* Removes every entry at peer; returns how many. */
size_t mesh_mactable_forget_peer(struct mesh_mactable *t, const struct mesh_peer_name *peer);

static inline bool mesh_mac_entry_gone(const struct mesh_mac_entry *e)
{
	return mesh_peer_name_is_zero(&e->peer);
}

static inline bool mesh_mac_is_multicast(const uint8_t mac[6])
{
	return mac[0] & 1; /* includes broadcast */
}

#endif
