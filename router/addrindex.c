/* router/addrindex.c: IPv4 address and port → pointer, open addressing under a keyed hash
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

static size_t home(const struct mesh_addrindex *x, uint32_t ip, uint16_t port)
{
	uint8_t in[6], out[crypto_shorthash_BYTES];
	uint64_t v;
	memcpy(in, &ip, 4);
	memcpy(in + 4, &port, 2);
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

static struct mesh_addrindex_slot *slot(const struct mesh_addrindex *x, uint32_t ip, uint16_t port)
{
	size_t mask = x->cap - 1;
	for (size_t i = home(x, ip, port);; i = (i + 1) & mask) {
		struct mesh_addrindex_slot *s = &x->slots[i];
		if (!s->v || (s->ip == ip && s->port == port))
			return s;
	}
}

void *mesh_addrindex_get(const struct mesh_addrindex *x, uint32_t ip, uint16_t port)
{
	return x->cap ? slot(x, ip, port)->v : NULL;
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
			*slot(&bigger, x->slots[i].ip, x->slots[i].port) = x->slots[i];
	free(x->slots);
	x->slots = bigger.slots;
	x->cap = bigger.cap;
	return 0;
}

int mesh_addrindex_put(struct mesh_addrindex *x, uint32_t ip, uint16_t port, void *v)
{
	if (!v || !x->cap)
		return -EINVAL;
	if (slot(x, ip, port)->v)
		return -EEXIST;
	if ((x->count + 1) * 4 > x->cap * 3 && grow(x) < 0)
		return -ENOMEM;
	struct mesh_addrindex_slot *s = slot(x, ip, port);
	s->ip = ip;
	s->port = port;
	s->v = v;
	x->count++;
	return 0;
}

void mesh_addrindex_del(struct mesh_addrindex *x, uint32_t ip, uint16_t port)
{
	if (!x->cap)
		return;
	struct mesh_addrindex_slot *s = slot(x, ip, port);
	if (!s->v)
		return;
	size_t mask = x->cap - 1, i = (size_t)(s - x->slots), j = i;
	s->v = NULL;
	x->count--;
	for (;;) { /* backward shift: keep every probe chain whole */
		j = (j + 1) & mask;
		if (!x->slots[j].v)
			break;
		size_t h = home(x, x->slots[j].ip, x->slots[j].port);
		bool in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!in_range) {
			x->slots[i] = x->slots[j];
			x->slots[j].v = NULL;
			i = j;
		}
	}
}
