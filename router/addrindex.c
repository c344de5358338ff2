/* router/addrindex.c: address (either family) and port → pointer, open addressing under a keyed hash
 * (see addrindex.h). */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "router/addrindex.h"

#define INITIAL_CAP 64

_Static_assert(sizeof(((struct mesh_addrindex *)0)->key) == crypto_shorthash_KEYBYTES,
	       "hash key size");

static size_t home(const struct mesh_addrindex *x, const struct mesh_addr *a)
{
	uint8_t in[19], out[crypto_shorthash_BYTES];
	uint64_t v;
	in[0] = a->family;
	memcpy(in + 1, a->a, 16);
	memcpy(in + 17, &a->port, 2);
	crypto_shorthash(out, in, sizeof(in), x->key);
	memcpy(&v, out, sizeof(v));
	return (size_t)v & (x->cap - 1);
}

int mesh_addrindex_init(struct mesh_addrindex *x)
{
	memset(x, 0, sizeof(*x));
	x->slots = calloc(INITIAL_CAP, sizeof(*x->slots));
	if (!x->slots)
		return -ENOMEM;
	x->cap = INITIAL_CAP;
	randombytes_buf(x->key, sizeof(x->key));
	return 0;
}

void mesh_addrindex_free(struct mesh_addrindex *x)
{
	free(x->slots);
	x->slots = NULL;
	x->cap = x->count = 0;
}

static struct mesh_addrindex_slot *slot(const struct mesh_addrindex *x, const struct mesh_addr *a)
{
	size_t mask = x->cap - 1;
	for (size_t i = home(x, a);; i = (i + 1) & mask) {
		struct mesh_addrindex_slot *s = &x->slots[i];
		if (!s->v || mesh_addr_eq(&s->a, a))
			return s;
	}
}

void *mesh_addrindex_get(const struct mesh_addrindex *x, const struct mesh_addr *a)
{
	return x->cap ? slot(x, a)->v : NULL;
}

static int grow(struct mesh_addrindex *x)
{
	struct mesh_addrindex bigger = *x;
	bigger.cap = x->cap * 2;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < x->cap; i++)
		if (x->slots[i].v)
			*slot(&bigger, &x->slots[i].a) = x->slots[i];
	free(x->slots);
	x->slots = bigger.slots;
	x->cap = bigger.cap;
	return 0;
}

int mesh_addrindex_put(struct mesh_addrindex *x, const struct mesh_addr *a, void *v)
{
	if (!v || !x->cap)
		return -EINVAL;
	if (slot(x, a)->v)
		return -EEXIST;
	if ((x->count + 1) * 4 > x->cap * 3 && grow(x) < 0)
		return -ENOMEM;
	struct mesh_addrindex_slot *s = slot(x, a);
	s->a = *a;
	s->v = v;
	x->count++;
	return 0;
}

void mesh_addrindex_del(struct mesh_addrindex *x, const struct mesh_addr *a)
{
	if (!x->cap)
		return;
	struct mesh_addrindex_slot *s = slot(x, a);
	if (!s->v)
		return;
	size_t mask = x->cap - 1, i = (size_t)(s - x->slots), j = i;
	s->v = NULL;
	x->count--;
	for (;;) { /* backward shift: keep every probe chain whole */
		j = (j + 1) & mask;
		if (!x->slots[j].v)
			break;
		size_t h = home(x, &x->slots[j].a);
		bool in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!in_range) {
			x->slots[i] = x->slots[j];
			x->slots[j].v = NULL;
			i = j;
		}
	}
}
