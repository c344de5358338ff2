/* gossip/topology.h: the mesh's view of who is connected to whom (DESIGN §5), and its gossip
 * encoding. Pure: no I/O, no clock (times come in as arguments).
 *
 * Each peer owns its own entry and is the only one who changes it; everyone else merges what
 * they hear: higher version wins, equal version → higher uid. A router's first version is its
 * start time in ms, so a restarted router (new uid) always outranks its former incarnation;
 * a version more than a day ahead of the receiver's clock is never taken.
 *
 * Wire format of a topology update (all integers big endian):
 *   count u16, then `count` entries:
 *     name(6) nick_len(u8) nickname(nick_len: 1..63 printable) uid(u64) version(u64)
 *     short_id(u16, < 4096) nconns(u16) then nconns × conn:
 *       peer(6) ipv4(4) port(u16) flags(u8: bit0 outbound, bit1 established, bit2 ipv6)
 *       [ipv6(16): only with bit2, and then ipv4 is zero]
 *   An IPv4 connection is 13 bytes, exactly as before bit2 existed, so an old router reads a
 *   mesh reached over IPv4 as it always did (it refuses an update naming an IPv6 connection:
 *   unknown flag bit).
 * A malformed update is refused whole (nothing merged). */
#ifndef MESH_GOSSIP_TOPOLOGY_H
#define MESH_GOSSIP_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesh/addr.h"
#include "mesh/peer.h"

#define MESH_TOPO_MAX_PEERS 8192
#define MESH_TOPO_MAX_CONNS 1024
#define MESH_TOPO_CONN_OUTBOUND 0x01
#define MESH_TOPO_CONN_ESTABLISHED 0x02
#define MESH_TOPO_CONN_IPV6 0x04        /* the address is ip6, not ip */

struct mesh_topo_conn {
	struct mesh_peer_name peer;
	uint32_t ip;       /* IPv4, network byte order: where that peer's control port was reached
			    * (0 with MESH_TOPO_CONN_IPV6) */
	uint8_t ip6[16];   /* with MESH_TOPO_CONN_IPV6: the IPv6 address instead */
	uint16_t port;     /* host byte order */
	uint8_t flags;
};

struct mesh_topo_peer {
	struct mesh_peer_name name;
	char nickname[64];
	uint64_t uid;
	uint64_t version;
	uint16_t short_id;
	unsigned nconns;
	struct mesh_topo_conn *conns;   /* owned */
	/* local bookkeeping, never gossiped */
	uint64_t unreachable_since_ms;  /* 0 while reachable from us */
};

struct mesh_topo_index;

struct mesh_topology {
	struct mesh_peer_name self;     /* entry 0 is always us */
	size_t n, cap;
	struct mesh_topo_peer *peers;   /* owned; entry 0 is us, the rest in no particular order */
	struct mesh_topo_index *index;  /* name -> entry, topology.c's own (NULL: walk instead) */
	uint64_t id;                    /* no other topology of this process has it (0: one not
					 * made by mesh_topo_init): what a cache of it is keyed on */
};

/* Creates the topology with our own entry (no connections yet). 0 or -ENOMEM. */
int mesh_topo_init(struct mesh_topology *t, const struct mesh_peer_name *self, const char *nickname,
		   uint64_t uid, uint64_t version, uint16_t short_id);
void mesh_topo_free(struct mesh_topology *t);

/* The entry of that name, or NULL: O(1) through the index, which follows entries appended to
 * peers (by a merge, or by hand in a test) on its own. */
struct mesh_topo_peer *mesh_topo_find(const struct mesh_topology *t, const struct mesh_peer_name *name);
struct mesh_topo_peer *mesh_topo_self(const struct mesh_topology *t);

/* Replaces our own connection list (copied) and bumps our version. 0 or -ENOMEM. */
int mesh_topo_set_self_conns(struct mesh_topology *t, const struct mesh_topo_conn *conns, unsigned n);
/* Sets our short id (after a collision) and bumps our version. */
void mesh_topo_set_self_short_id(struct mesh_topology *t, uint16_t short_id);
/* Whether a peer with a lower name than ours holds our short id (DESIGN §3: we re-pick). */
bool mesh_topo_short_id_clash(const struct mesh_topology *t);
/* A short id (< 4096) no entry but ours holds, the first free one from start on (wrapping),
 * or -1 when every one is held (a mesh of more than 4096 peers: short ids only label a
 * sleeve datagram's sender, so a clash there is harmless and re-picking would never end). */
int mesh_topo_free_short_id(const struct mesh_topology *t, uint16_t start);

/* The entries named in `names` (each once, in name order; names not in the topology left
 * out), or with names NULL every entry in topology order, into sel (room for t->n): their
 * count, or -ENOMEM. O(nnames log nnames), whatever the size of the topology. */
ssize_t mesh_topo_select(const struct mesh_topology *t, const struct mesh_peer_name *names,
			 size_t nnames, const struct mesh_topo_peer **sel);
/* Encodes the entries mesh_topo_select picks into out. Returns the length, -EMSGSIZE when
 * out is too small, or -ENOMEM. */
ssize_t mesh_topo_encode(const struct mesh_topology *t, const struct mesh_peer_name *names,
			 size_t nnames, uint8_t *out, size_t cap);
/* Encodes the count entries of sel (as mesh_topo_select gives them) into out, in that order.
 * Returns the length, or -EMSGSIZE when out is too small. */
ssize_t mesh_topo_encode_selected(const struct mesh_topo_peer *const *sel, size_t count,
				 uint8_t *out, size_t cap);
/* Bytes mesh_topo_encode needs for all entries. */
size_t mesh_topo_encoded_size(const struct mesh_topology *t);
/* Bytes one entry takes in an encoded update. */
size_t mesh_topo_entry_encoded_size(const struct mesh_topo_peer *p);

/* The merge order: whether (version va, uid ua) outranks (vb, ub), strictly (higher version
 * wins, equal version -> higher uid). */
static inline bool mesh_topo_newer(uint64_t va, uint64_t ua, uint64_t vb, uint64_t ub)
{
	return va > vb || (va == vb && ua > ub);
}

/* Merges an update, received at now_wall_ms (wall clock). The names of entries that changed
 * (new, newer, replaced incarnation) are written to changed (up to changed_cap; *nchanged
 * gets the full count). An entry for our own name never overwrites ours (each peer owns its
 * entry): if it is newer than ours (an old incarnation of us is still remembered out there)
 * our version jumps above it and we count as changed, so the next gossip corrects the others.
 * An entry whose version is more than MESH_VERSION_AHEAD_MAX_MS ahead of now_wall_ms is
 * ignored, ours included (we never jump to it): such a version would pin the entry for good.
 * Returns 0; or the number of entries so ignored (> 0, *why says why; the rest merged);
 * -EBADMSG (malformed, *why says what; nothing merged); or -ENOMEM. */
int mesh_topo_merge(struct mesh_topology *t, const uint8_t *buf, size_t len, uint64_t now_wall_ms,
		    struct mesh_peer_name *changed, size_t changed_cap, size_t *nchanged,
		    const char **why);

/* Drops peers that are neither reachable from us (via established symmetric connections) nor
 * named in any reachable peer's connections, once they have been so for grace_ms. Returns the
 * number forgotten. Also maintains unreachable_since_ms. */
size_t mesh_topo_forget_unreachable(struct mesh_topology *t, uint64_t now_ms, uint64_t grace_ms);

/* The topology digest (channel MESH_CHANNEL_TOPO_DIGEST): what the periodic round sends in
 * place of the full state, so that a mesh that agrees exchanges a few bytes, not n entries.
 * Wire format (big endian): flags(u8: MESH_TOPO_DIGEST_REPLY, other bits zero) count(u16: our
 * entries) digest(u64: mesh_topo_digest_of). A peer whose digest differs from ours gets our
 * full state; unless its digest was a reply, it also gets our digest as a reply, so that it
 * sends us its full state. */
#define MESH_TOPO_DIGEST_LEN 11
#define MESH_TOPO_DIGEST_REPLY 0x01

struct mesh_topo_digest {
	uint8_t flags;
	uint16_t count;
	uint64_t digest;
};

/* Our digest: the entry count and an order-independent hash of every entry's name, uid and
 * version (what decides a merge), with the given flags. */
void mesh_topo_digest_make(const struct mesh_topology *t, uint8_t flags, struct mesh_topo_digest *d);
/* Whether d describes the same entries as t (flags aside). */
bool mesh_topo_digest_matches(const struct mesh_topology *t, const struct mesh_topo_digest *d);
/* MESH_TOPO_DIGEST_LEN, or -EMSGSIZE. */
ssize_t mesh_topo_digest_encode(const struct mesh_topo_digest *d, uint8_t *out, size_t cap);
/* 0, or -EBADMSG with *why (wrong length, unknown flags). */
int mesh_topo_digest_decode(const uint8_t *p, size_t len, struct mesh_topo_digest *d,
			    const char **why);

/* True when a lists b as established AND b lists a as established. */
bool mesh_topo_linked(const struct mesh_topology *t, const struct mesh_topo_peer *a,
		      const struct mesh_topo_peer *b);

/* The connection's address (either family) with its port. */
void mesh_topo_conn_addr(const struct mesh_topo_conn *c, struct mesh_addr *out);
/* Sets the connection's address and port and its MESH_TOPO_CONN_IPV6 flag. */
void mesh_topo_conn_set_addr(struct mesh_topo_conn *c, const struct mesh_addr *a);

#endif
