/* router/mactable.c: MAC → peer table with linear probing under a keyed hash and
 * backward-shift deletion, and its bounds: the count of entries per owner (a peer, or a port
 * of our bridge) in a second small table (see mactable.h). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/clock.h"
#include "router/mactable.h"

#define INITIAL_CAP 256
#define OWNERS_MIN_CAP 64
#define PORT_OWNER (1ull << 63) /* owner keys of our bridge's ports; a peer's is its name */

_Static_assert(sizeof(((struct mesh_mactable *)0)->key) == crypto_shorthash_KEYBYTES,
	       "hash key size");

static uint64_t hash(const struct mesh_mactable *t, const void *p, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(out, p, len, t->key);
	memcpy(&v, out, sizeof(v));
	return v;
}

static size_t hash_mac(const struct mesh_mactable *t, const uint8_t m[6])
{
	return (size_t)hash(t, m, 6);
}

int mesh_mactable_init(struct mesh_mactable *t)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(INITIAL_CAP, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = INITIAL_CAP;
	randombytes_buf(t->key, sizeof(t->key));
	return 0;
}

void mesh_mactable_free(struct mesh_mactable *t)
{
	free(t->slots);
	free(t->owners);
	t->slots = NULL;
	t->owners = NULL;
	t->cap = t->count = t->owners_cap = t->owners_used = 0;
}

void mesh_mactable_set_limits(struct mesh_mactable *t, const struct mesh_mac_limits *l,
			      const struct mesh_peer_name *self, uint64_t now_ms)
{
	t->limits = *l;
	t->has_self = self != NULL;
	if (self)
		t->self = *self;
	mesh_ratelimit_init(&t->learn_rl, l->learn_rate_per_s, l->learn_burst, now_ms);
}

/* --- owners: how many entries each peer and each port of ours holds ----------------------- */

static uint64_t owner_of(const struct mesh_mactable *t, const struct mesh_peer_name *peer,
			 uint32_t port)
{
	if (t->has_self && mesh_peer_name_eq(peer, &t->self))
		return PORT_OWNER | port;
	uint64_t k = 0;
	memcpy(&k, peer->b, MESH_PEER_NAME_LEN);
	return k;
}

static struct mesh_mac_owner *owner_slot(const struct mesh_mactable *t, uint64_t key)
{
	size_t mask = t->owners_cap - 1;
	for (size_t i = (size_t)hash(t, &key, sizeof(key)) & mask;; i = (i + 1) & mask)
		if (!t->owners[i].used || t->owners[i].key == key)
			return &t->owners[i];
}

static uint32_t owner_count(const struct mesh_mactable *t, uint64_t key)
{
	if (!t->owners_cap)
		return 0;
	const struct mesh_mac_owner *o = owner_slot(t, key);
	return o->used ? o->n : 0;
}

/* Owners whose count fell to 0 keep their slot until the table is rebuilt here. */
static int owners_rebuild(struct mesh_mactable *t)
{
	size_t live = 0;
	for (size_t i = 0; i < t->owners_cap; i++)
		live += t->owners[i].used && t->owners[i].n;
	size_t cap = OWNERS_MIN_CAP;
	while (cap < 4 * (live + 1))
		cap *= 2;
	struct mesh_mactable bigger = *t;
	bigger.owners = calloc(cap, sizeof(*bigger.owners));
	if (!bigger.owners)
		return -ENOMEM;
	bigger.owners_cap = cap;
	bigger.owners_used = 0;
	for (size_t i = 0; i < t->owners_cap; i++)
		if (t->owners[i].used && t->owners[i].n) {
			*owner_slot(&bigger, t->owners[i].key) = t->owners[i];
			bigger.owners_used++;
		}
	free(t->owners);
	t->owners = bigger.owners;
	t->owners_cap = bigger.owners_cap;
	t->owners_used = bigger.owners_used;
	return 0;
}

static int owner_add(struct mesh_mactable *t, uint64_t key)
{
	if ((t->owners_used + 1) * 4 > t->owners_cap * 3 && owners_rebuild(t) < 0)
		return -ENOMEM;
	struct mesh_mac_owner *o = owner_slot(t, key);
	if (!o->used) {
		o->used = true;
		o->key = key;
		o->n = 0;
		t->owners_used++;
	}
	o->n++;
	return 0;
}

static void owner_sub(struct mesh_mactable *t, uint64_t key)
{
	if (!t->owners_cap)
		return;
	struct mesh_mac_owner *o = owner_slot(t, key);
	if (o->used && o->n)
		o->n--;
}

/* 0 when owner may hold one more entry (and the table one more, for a new one); else the
 * MESH_MAC_REFUSED_* that says which bound, counted. */
static int check_room(struct mesh_mactable *t, uint64_t owner, bool new_entry)
{
	if (new_entry && t->limits.global && t->count >= t->limits.global) {
		t->refused.full++;
		return MESH_MAC_REFUSED_FULL;
	}
	bool port = owner & PORT_OWNER;
	size_t cap = port ? t->limits.per_port : t->limits.per_peer;
	if (cap && owner_count(t, owner) >= cap) {
		if (port)
			t->refused.port++;
		else
			t->refused.peer++;
		return port ? MESH_MAC_REFUSED_PORT : MESH_MAC_REFUSED_PEER;
	}
	return 0;
}

/* Moves an entry's count to another owner, if it has room. 0 or a MESH_MAC_REFUSED_*. */
static int change_owner(struct mesh_mactable *t, struct mesh_mac_entry *e, uint64_t owner)
{
	if (owner == e->owner)
		return 0;
	int ret = check_room(t, owner, false);
	if (ret)
		return ret;
	if (owner_add(t, owner) < 0)
		return -ENOMEM;
	owner_sub(t, e->owner);
	e->owner = owner;
	return 0;
}

/* --- the table ------------------------------------------------------------------------------ */

static struct mesh_mac_entry *find(const struct mesh_mactable *t, const uint8_t mac[6], bool *found)
{
	size_t mask = t->cap - 1;
	for (size_t i = hash_mac(t, mac) & mask;; i = (i + 1) & mask) {
		struct mesh_mac_entry *e = &t->slots[i];
		if (!e->used) {
			*found = false;
			return e;
		}
		if (!memcmp(e->mac, mac, 6)) {
			*found = true;
			return e;
		}
	}
}

static int grow(struct mesh_mactable *t)
{
	struct mesh_mactable bigger = *t;
	bool found;
	bigger.slots = calloc(t->cap * 2, sizeof(*t->slots));
	bigger.cap = t->cap * 2;
	bigger.count = 0;
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used) {
			*find(&bigger, t->slots[i].mac, &found) = t->slots[i];
			bigger.count++;
		}
	free(t->slots);
	t->slots = bigger.slots;
	t->cap = bigger.cap;
	t->count = bigger.count;
	return 0;
}

static int insert(struct mesh_mactable *t, const uint8_t mac[6], const struct mesh_peer_name *peer,
		  uint32_t port, uint64_t version, uint64_t now_ms)
{
	bool found;
	struct mesh_mac_entry *e;
	uint64_t owner = owner_of(t, peer, port);
	if ((t->count + 1) * 4 > t->cap * 3) { /* keep load under 3/4 */
		if (grow(t) < 0)
			return -ENOMEM;
	}
	if (owner_add(t, owner) < 0)
		return -ENOMEM;
	e = find(t, mac, &found);
	memcpy(e->mac, mac, 6);
	e->used = true;
	e->peer = *peer;
	e->port = (owner & PORT_OWNER) ? port : 0;
	e->owner = owner;
	e->seen_ms = now_ms;
	e->version = version;
	t->count++;
	return MESH_MAC_NEW;
}

int mesh_mactable_learn_port(struct mesh_mactable *t, const uint8_t mac[6],
			     const struct mesh_peer_name *peer, uint32_t port, uint64_t now_ms,
			     uint64_t version)
{
	bool found;
	int ret;
	struct mesh_mac_entry *e = find(t, mac, &found);
	if (!found) {
		ret = check_room(t, owner_of(t, peer, port), true);
		if (ret)
			return ret;
		if (t->limits.learn_rate_per_s && !mesh_ratelimit_take(&t->learn_rl, now_ms)) {
			t->refused.rate++;
			return MESH_MAC_REFUSED_RATE;
		}
		return insert(t, mac, peer, port, version, now_ms);
	}
	bool same = mesh_peer_name_eq(&e->peer, peer);
	if (same && !port)
		port = e->port; /* a frame read from our TAP does not tell the port: keep it */
	ret = change_owner(t, e, owner_of(t, peer, port));
	if (ret)
		return ret;
	e->port = (e->owner & PORT_OWNER) ? port : 0;
	e->seen_ms = now_ms;
	if (same)
		return MESH_MAC_REFRESHED;
	e->peer = *peer;
	e->version = version > e->version ? version : e->version + 1;
	return MESH_MAC_MOVED;
}

int mesh_mactable_merge(struct mesh_mactable *t, const uint8_t mac[6],
			const struct mesh_peer_name *peer, uint64_t version, uint64_t now_ms,
			uint64_t wall_ms, const struct mesh_peer_name *self)
{
	bool found;
	if (mesh_version_too_far_ahead(version, wall_ms))
		return MESH_MAC_REFUSED;
	struct mesh_mac_entry *e = find(t, mac, &found);
	if (self && mesh_peer_name_eq(peer, self)) {
		/* at us: only we say so (our own announcement echoed back refreshes nothing new) */
		if (found && version == e->version && mesh_peer_name_eq(&e->peer, self))
			return MESH_MAC_REFRESHED;
		return MESH_MAC_STALE;
	}
	if (!found) {
		int ret = check_room(t, owner_of(t, peer, 0), true);
		return ret ? ret : insert(t, mac, peer, 0, version, now_ms);
	}
	if (version < e->version)
		return MESH_MAC_STALE;
	if (version > e->version && !mesh_peer_name_eq(&e->peer, peer) &&
	    !mesh_peer_name_is_zero(peer)) {
		/* a move: the new peer must have room (a tombstone stays where its MAC was) */
		int ret = change_owner(t, e, owner_of(t, peer, 0));
		if (ret)
			return ret;
		e->port = 0;
	}
	e->seen_ms = now_ms;
	if (version == e->version)
		return MESH_MAC_REFRESHED;
	e->version = version;
	if (mesh_peer_name_eq(&e->peer, peer))
		return MESH_MAC_REFRESHED;
	e->peer = *peer;
	return MESH_MAC_MOVED;
}

const struct mesh_mac_entry *mesh_mactable_lookup(const struct mesh_mactable *t, const uint8_t mac[6])
{
	bool found;
	const struct mesh_mac_entry *e = find(t, mac, &found);
	return found && !mesh_mac_entry_gone(e) ? e : NULL;
}

uint64_t mesh_mactable_gone(struct mesh_mactable *t, const uint8_t mac[6], uint64_t now_ms,
			    uint64_t version)
{
	bool found;
	struct mesh_mac_entry *e = find(t, mac, &found);
	if (!found || mesh_mac_entry_gone(e))
		return 0;
	memset(&e->peer, 0, sizeof(e->peer));
	e->version = version > e->version ? version : e->version + 1;
	e->seen_ms = now_ms;
	return e->version;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_at(struct mesh_mactable *t, size_t i)
{
	size_t mask = t->cap - 1;
	size_t j = i;
	owner_sub(t, t->slots[i].owner);
	t->slots[i].used = false;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j].used)
			break;
		size_t home = hash_mac(t, t->slots[j].mac) & mask;
		/* move j back to i if its home is not in the cyclic range (i, j] */
		bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_range) {
			t->slots[i] = t->slots[j];
			t->slots[j].used = false;
			i = j;
		}
	}
	t->count--;
}

static size_t remove_if(struct mesh_mactable *t, bool (*pred)(const struct mesh_mac_entry *, const void *),
			const void *arg)
{
	size_t removed = 0;
	/* A removal may shift a later entry into slot i: look at i again before moving on. */
	for (size_t i = 0; i < t->cap;) {
		if (t->slots[i].used && pred(&t->slots[i], arg)) {
			remove_at(t, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

struct age_arg {
	uint64_t now, max_age;
	const struct mesh_peer_name *keep;
};

static bool too_old(const struct mesh_mac_entry *e, const void *arg)
{
	const struct age_arg *a = arg;
	if (a->keep && mesh_peer_name_eq(&e->peer, a->keep))
		return false;
	return a->now >= e->seen_ms && a->now - e->seen_ms > a->max_age;
}

static bool at_peer(const struct mesh_mac_entry *e, const void *arg)
{
	return mesh_peer_name_eq(&e->peer, arg);
}

size_t mesh_mactable_expire(struct mesh_mactable *t, uint64_t now_ms, uint64_t max_age_ms,
			    const struct mesh_peer_name *keep)
{
	struct age_arg a = { now_ms, max_age_ms, keep };
	return remove_if(t, too_old, &a);
}

size_t mesh_mactable_forget_peer(struct mesh_mactable *t, const struct mesh_peer_name *peer)
{
	return remove_if(t, at_peer, peer);
}
