/* fastdp/flow_table.c: the record of installed datapath flows and their revalidation (see
 * flow_table.h): open addressing with linear probing and backward-shift deletion. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fastdp/flow_table.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static size_t slot_of(const struct mesh_flow_table *t, uint32_t in_port, const uint8_t src[6],
		      const uint8_t dst[6])
{
	uint64_t h = fnv(0xcbf29ce484222325ull, &in_port, sizeof(in_port));
	h = fnv(h, src, 6);
	h = fnv(h, dst, 6);
	return (size_t)h & (t->cap - 1);
}

static bool same(const struct mesh_flow_rec *r, uint32_t in_port, const uint8_t src[6],
		 const uint8_t dst[6])
{
	return r->used && r->in_port == in_port && !memcmp(r->miss.eth_src, src, 6) &&
	       !memcmp(r->miss.eth_dst, dst, 6);
}

int mesh_flow_table_init(struct mesh_flow_table *t, size_t cap)
{
	size_t c = 16;
	while (c < cap)
		c <<= 1;
	memset(t, 0, sizeof(*t));
	t->slots = calloc(c, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = c;
	return 0;
}

void mesh_flow_table_free(struct mesh_flow_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void mesh_flow_table_clear(struct mesh_flow_table *t)
{
	memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->count = 0;
	t->overflow = false;
}

static struct mesh_flow_rec *find(struct mesh_flow_table *t, uint32_t in_port,
				  const uint8_t src[6], const uint8_t dst[6])
{
	for (size_t i = slot_of(t, in_port, src, dst);; i = (i + 1) & (t->cap - 1)) {
		struct mesh_flow_rec *r = &t->slots[i];
		if (!r->used || same(r, in_port, src, dst))
			return r;
	}
}

void mesh_flow_table_put(struct mesh_flow_table *t, uint32_t in_port, const struct mesh_odp_miss *m,
			 uint64_t decision)
{
	struct mesh_flow_rec *r = find(t, in_port, m->eth_src, m->eth_dst);
	if (!r->used) {
		if ((t->count + 1) * 4 > t->cap * 3) {
			t->overflow = true;
			return;
		}
		t->count++;
	}
	r->used = true;
	r->in_port = in_port;
	r->miss = *m;
	r->decision = decision;
}

/* Empties slot i and moves later entries of its probe run back into the hole. */
static void remove_at(struct mesh_flow_table *t, size_t i)
{
	size_t mask = t->cap - 1;
	t->slots[i].used = false;
	t->count--;
	for (size_t j = (i + 1) & mask; t->slots[j].used; j = (j + 1) & mask) {
		struct mesh_flow_rec *r = &t->slots[j];
		size_t home = slot_of(t, r->in_port, r->miss.eth_src, r->miss.eth_dst);
		/* r may fill the hole when its home is not in (i, j] (cyclically) */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		t->slots[i] = *r;
		r->used = false;
		i = j;
	}
}

bool mesh_flow_table_del(struct mesh_flow_table *t, uint32_t in_port, const uint8_t src[6],
			 const uint8_t dst[6])
{
	struct mesh_flow_rec *r = find(t, in_port, src, dst);
	if (!r->used)
		return false;
	remove_at(t, (size_t)(r - t->slots));
	return true;
}

uint64_t mesh_odp_decision_hash(const struct mesh_odp_decision *d)
{
	uint8_t b = d->to_bridge;
	size_t n = d->n < MESH_ODP_MAX_TARGETS ? d->n : MESH_ODP_MAX_TARGETS;
	uint64_t h = fnv(0xcbf29ce484222325ull, &b, 1);
	h = fnv(h, &n, sizeof(n));
	return fnv(h, d->peer_ips, n * sizeof(d->peer_ips[0]));
}

size_t mesh_flow_table_revalidate(struct mesh_flow_table *t,
				  void (*decide)(void *arg, const struct mesh_odp_miss *m,
						 struct mesh_odp_decision *d),
				  void *decide_arg,
				  void (*stale)(void *arg, const struct mesh_flow_rec *r), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < t->cap;) {
		struct mesh_flow_rec *r = &t->slots[i];
		struct mesh_odp_decision d;
		if (!r->used) {
			i++;
			continue;
		}
		memset(&d, 0, sizeof(d));
		decide(decide_arg, &r->miss, &d);
		if (mesh_odp_decision_hash(&d) == r->decision) {
			i++;
			continue;
		}
		stale(arg, r);
		remove_at(t, i);
		n++;
		/* slot i may now hold an entry moved back from later: look at it again (an entry
		 * moved back across the end of the array to a smaller index was already seen or
		 * is seen again: deciding twice is harmless) */
	}
	return n;
}
