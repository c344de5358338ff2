/* router/mactable.c: MAC → peer table with linear probing and backward-shift deletion
 * (see mactable.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/clock.h"
#include "router/mactable.h"

#define INITIAL_CAP 256

static size_t hash_mac(const uint8_t m[6])
{
	uint64_t v = 0;
	memcpy(&v, m, 6);
	v ^= v >> 29;
	v *= 0xbf58476d1ce4e5b9ull;
	v ^= v >> 32;
	return (size_t)v;
}

int mesh_mactable_init(struct mesh_mactable *t)
{
	t->slots = calloc(INITIAL_CAP, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = INITIAL_CAP;
	t->count = 0;
	return 0;
}

void mesh_mactable_free(struct mesh_mactable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->count = 0;
}

static struct mesh_mac_entry *find(const struct mesh_mactable *t, const uint8_t mac[6], bool *found)
{
	size_t mask = t->cap - 1;
	for (size_t i = hash_mac(mac) & mask;; i = (i + 1) & mask) {
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
	struct mesh_mactable bigger = { calloc(t->cap * 2, sizeof(*t->slots)), t->cap * 2, 0 };
	bool found;
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used) {
			*find(&bigger, t->slots[i].mac, &found) = t->slots[i];
			bigger.count++;
		}
	free(t->slots);
	*t = bigger;
	return 0;
}

static int insert(struct mesh_mactable *t, const uint8_t mac[6], const struct mesh_peer_name *peer,
		  uint64_t version, uint64_t now_ms)
{
	bool found;
	struct mesh_mac_entry *e;
	if ((t->count + 1) * 4 > t->cap * 3) { /* keep load under 3/4 */
		if (grow(t) < 0)
			return -ENOMEM;
	}
	e = find(t, mac, &found);
	memcpy(e->mac, mac, 6);
	e->used = true;
	e->peer = *peer;
	e->seen_ms = now_ms;
	e->version = version;
	t->count++;
	return MESH_MAC_NEW;
}

int mesh_mactable_learn(struct mesh_mactable *t, const uint8_t mac[6],
			const struct mesh_peer_name *peer, uint64_t now_ms, uint64_t version)
{
	bool found;
	struct mesh_mac_entry *e = find(t, mac, &found);
	if (!found)
		return insert(t, mac, peer, version, now_ms);
	e->seen_ms = now_ms;
	if (mesh_peer_name_eq(&e->peer, peer))
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
	if (!found)
		return insert(t, mac, peer, version, now_ms);
	if (version < e->version)
		return MESH_MAC_STALE;
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
	t->slots[i].used = false;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j].used)
			break;
		size_t home = hash_mac(t->slots[j].mac) & mask;
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
