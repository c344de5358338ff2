/* gossip/ipam.c: the IPAM ownership ring, its merge and its gossip encoding (see ipam.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/ipam.h"
#include "mesh/bytes.h"

/* --- helpers ------------------------------------------------------------------------------- */

void mesh_ipam_addr_format(uint32_t addr, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

static bool prefix_ok(uint32_t start, unsigned prefix)
{
	if (prefix < 1 || prefix > 32)
		return false;
	uint64_t size = 1ull << (32 - prefix);
	return ((uint64_t)start & (size - 1)) == 0;
}

int mesh_ipam_cidr_parse(const char *s, uint32_t *start, uint8_t *prefix)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	const char *p = slash + 1;
	unsigned v = 0;
	if (!*p || strlen(p) > 2)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	uint32_t st = ntohl(a.s_addr);
	if (!prefix_ok(st, v))
		return -EINVAL;
	*start = st;
	*prefix = (uint8_t)v;
	return 0;
}

static void fmt_name(const struct mesh_peer_name *n, char out[MESH_PEER_NAME_STRLEN])
{
	mesh_peer_name_format(n, out);
}

static int name_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(a, b);
}

/* Sorts and deduplicates names into a fresh array. Returns the count, or -ENOMEM/-EINVAL. */
static ssize_t sorted_unique(const struct mesh_peer_name *names, size_t n, struct mesh_peer_name **out)
{
	if (n == 0 || n > MESH_IPAM_MAX_SEEDS * 4)
		return -EINVAL;
	struct mesh_peer_name *s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, names, n * sizeof(*s));
	qsort(s, n, sizeof(*s), name_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || !mesh_peer_name_eq(&s[k - 1], &s[i]))
			s[k++] = s[i];
	*out = s;
	return (ssize_t)k;
}

static void bump(uint32_t *v, uint32_t by)
{
	*v = *v > UINT32_MAX - by ? UINT32_MAX : *v + by;
}

/* --- the ring ------------------------------------------------------------------------------ */

int mesh_ipam_ring_init(struct mesh_ipam_ring *r, const struct mesh_peer_name *self, uint32_t start,
			uint8_t prefix)
{
	memset(r, 0, sizeof(*r));
	if (!prefix_ok(start, prefix))
		return -EINVAL;
	r->start = start;
	r->prefix = prefix;
	if (self)
		r->self = *self;
	return 0;
}

void mesh_ipam_ring_free(struct mesh_ipam_ring *r)
{
	free(r->e);
	r->e = NULL;
	r->n = r->cap = 0;
}

int mesh_ipam_ring_copy(struct mesh_ipam_ring *dst, const struct mesh_ipam_ring *src)
{
	*dst = *src;
	dst->e = NULL;
	dst->cap = src->n;
	if (src->n) {
		dst->e = malloc(src->n * sizeof(*dst->e));
		if (!dst->e) {
			dst->n = dst->cap = 0;
			return -ENOMEM;
		}
		memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
	}
	return 0;
}

uint64_t mesh_ipam_ring_size(const struct mesh_ipam_ring *r)
{
	return 1ull << (32 - r->prefix);
}

static uint64_t ring_end(const struct mesh_ipam_ring *r)
{
	return (uint64_t)r->start + mesh_ipam_ring_size(r);
}

uint64_t mesh_ipam_entry_end(const struct mesh_ipam_ring *r, size_t i)
{
	return i + 1 < r->n ? r->e[i + 1].token : ring_end(r);
}

static uint64_t entry_span(const struct mesh_ipam_ring *r, size_t i)
{
	return mesh_ipam_entry_end(r, i) - r->e[i].token;
}

ssize_t mesh_ipam_ring_find(const struct mesh_ipam_ring *r, uint32_t addr)
{
	if (r->n == 0 || addr < r->start || (uint64_t)addr >= ring_end(r))
		return -1;
	/* the last entry whose token is <= addr; e[0].token == start <= addr */
	size_t lo = 0, hi = r->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->e[mid].token <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return (ssize_t)lo;
}

bool mesh_ipam_ring_owns(const struct mesh_ipam_ring *r, uint32_t addr)
{
	ssize_t i = mesh_ipam_ring_find(r, addr);
	return i >= 0 && mesh_peer_name_eq(&r->e[i].owner, &r->self);
}

uint64_t mesh_ipam_ring_next_owned(const struct mesh_ipam_ring *r, uint64_t from)
{
	uint64_t end = (uint64_t)r->start + mesh_ipam_ring_size(r);
	for (size_t i = 0; i < r->n; i++) {
		uint64_t hi = mesh_ipam_entry_end(r, i);
		if (hi <= from || !mesh_peer_name_eq(&r->e[i].owner, &r->self))
			continue;
		return from > r->e[i].token ? from : r->e[i].token;
	}
	return end;
}

int mesh_ipam_ring_check(const struct mesh_ipam_ring *r, char why[MESH_IPAM_WHY_LEN])
{
	char a[16], b[16];
	if (!prefix_ok(r->start, r->prefix)) {
		mesh_ipam_addr_format(r->start, a);
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring range %s/%u is not an aligned prefix", a,
			 r->prefix);
		return -EBADMSG;
	}
	if ((r->n == 0) != (r->seed == 0)) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring has %zu entries and seed %016llx: an empty ring has seed 0, a seeded one entries",
			 r->n, (unsigned long long)r->seed);
		return -EBADMSG;
	}
	if (r->n > MESH_IPAM_MAX_ENTRIES) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring has %zu entries, over %d", r->n,
			 MESH_IPAM_MAX_ENTRIES);
		return -EBADMSG;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct mesh_ipam_entry *e = &r->e[i];
		mesh_ipam_addr_format(e->token, a);
		if (i == 0 && e->token != r->start) {
			mesh_ipam_addr_format(r->start, b);
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM ring entry 0: first token %s is not the range start %s", a, b);
			return -EBADMSG;
		}
		if (i > 0 && e->token <= r->e[i - 1].token) {
			mesh_ipam_addr_format(r->e[i - 1].token, b);
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM ring entry %zu: token %s does not come after %s", i, a, b);
			return -EBADMSG;
		}
		if ((uint64_t)e->token >= ring_end(r)) {
			mesh_ipam_addr_format(r->start, b);
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM ring entry %zu: token %s is outside the range %s/%u", i, a, b,
				 r->prefix);
			return -EBADMSG;
		}
		if (mesh_peer_name_is_zero(&e->owner)) {
			snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring entry %zu (%s) has no owner", i, a);
			return -EBADMSG;
		}
		if (e->version == 0) {
			snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring entry %zu (%s) has version 0", i, a);
			return -EBADMSG;
		}
	}
	/* spans need the next token, which the loop above checked to be in order */
	for (size_t i = 0; i < r->n; i++) {
		if (r->e[i].free > entry_span(r, i)) {
			mesh_ipam_addr_format(r->e[i].token, a);
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM ring entry %zu (%s): %u free addresses in a span of %llu", i, a,
				 r->e[i].free, (unsigned long long)entry_span(r, i));
			return -EBADMSG;
		}
	}
	return 0;
}

static int reserve(struct mesh_ipam_ring *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 8;
	while (cap < n)
		cap *= 2;
	struct mesh_ipam_entry *e = realloc(r->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	r->e = e;
	r->cap = cap;
	return 0;
}

/* Inserts an entry at index i (0 < i <= n); room must have been reserved. */
static void insert_at(struct mesh_ipam_ring *r, size_t i, const struct mesh_ipam_entry *e)
{
	memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof(*e));
	r->e[i] = *e;
	r->n++;
}

uint64_t mesh_ipam_seed_id(uint32_t start, uint8_t prefix, const struct mesh_peer_name *names,
			   size_t n)
{
	static const char label[] = "mesh-ipam-seed/v1";
	uint64_t h = 0xcbf29ce484222325ull;
#define FNV(byte) (h = (h ^ (uint8_t)(byte)) * 0x100000001b3ull)
	for (size_t i = 0; i < sizeof(label) - 1; i++)
		FNV(label[i]);
	FNV(start >> 24);
	FNV(start >> 16);
	FNV(start >> 8);
	FNV(start);
	FNV(prefix);
	struct mesh_peer_name *s = NULL;
	ssize_t k = n ? sorted_unique(names, n, &s) : 0;
	if (k < 0) { /* out of memory: hash them unsorted, the caller's seeding will fail anyway */
		k = 0;
	}
	for (ssize_t i = 0; i < k; i++)
		for (int j = 0; j < MESH_PEER_NAME_LEN; j++)
			FNV(s[i].b[j]);
#undef FNV
	free(s);
	return h ? h : 1;
}

int mesh_ipam_ring_seed(struct mesh_ipam_ring *r, const struct mesh_peer_name *names, size_t n)
{
	struct mesh_peer_name *s = NULL;
	int ret;
	if (r->n)
		return -EEXIST;
	if (n == 0)
		return -EINVAL;
	ssize_t k = sorted_unique(names, n, &s);
	if (k < 0)
		return (int)k;
	uint64_t size = mesh_ipam_ring_size(r);
	if ((size_t)k > MESH_IPAM_MAX_SEEDS || (uint64_t)k > size || mesh_peer_name_is_zero(&s[0])) {
		ret = -EINVAL; /* sorted: a zero name would be first */
		goto errout;
	}
	ret = reserve(r, (size_t)k);
	if (ret < 0)
		goto errout;
	uint64_t share = size / (uint64_t)k;
	for (ssize_t i = 0; i < k; i++) {
		struct mesh_ipam_entry *e = &r->e[i];
		e->token = (uint32_t)(r->start + (uint64_t)i * share);
		e->owner = s[i];
		e->version = 1;
		uint64_t span = i == k - 1 ? size - (uint64_t)i * share : share;
		e->free = span > UINT32_MAX ? UINT32_MAX : (uint32_t)span;
	}
	r->n = (size_t)k;
	r->seed = mesh_ipam_seed_id(r->start, r->prefix, s, (size_t)k);
	free(s);
	return 0;
errout:
	free(s);
	return ret;
}

int mesh_ipam_init_parse(const char *s, struct mesh_ipam_init *out, char why[MESH_IPAM_WHY_LEN])
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "consensus=", 10) == 0) {
		const char *p = s + 10;
		unsigned long v = 0;
		if (!*p) {
			snprintf(why, MESH_IPAM_WHY_LEN, "--ipalloc-init consensus=: no peer count");
			return -EINVAL;
		}
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || v > MESH_IPAM_MAX_SEEDS) {
				snprintf(why, MESH_IPAM_WHY_LEN,
					 "--ipalloc-init %.40s: the peer count must be a number 1..%d", s,
					 MESH_IPAM_MAX_SEEDS);
				return -EINVAL;
			}
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v < 1 || v > MESH_IPAM_MAX_SEEDS) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "--ipalloc-init %.40s: the peer count must be 1..%d", s, MESH_IPAM_MAX_SEEDS);
			return -EINVAL;
		}
		out->quorum = (unsigned)v;
		return 0;
	}
	if (strncmp(s, "seed=", 5) == 0) {
		const char *p = s + 5;
		size_t idx = 0;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			char name[MESH_PEER_NAME_STRLEN];
			if (idx >= MESH_IPAM_MAX_SEEDS) {
				snprintf(why, MESH_IPAM_WHY_LEN, "--ipalloc-init seed=: more than %d names",
					 MESH_IPAM_MAX_SEEDS);
				return -EINVAL;
			}
			if (len != MESH_PEER_NAME_STRLEN - 1) {
				snprintf(why, MESH_IPAM_WHY_LEN,
					 "--ipalloc-init seed=: name %zu (\"%.*s\") is not a peer name like 02:00:00:00:00:01",
					 idx + 1, (int)(len > 24 ? 24 : len), p);
				return -EINVAL;
			}
			memcpy(name, p, len);
			name[len] = '\0';
			if (mesh_peer_name_parse(name, &out->seeds[idx]) < 0 ||
			    mesh_peer_name_is_zero(&out->seeds[idx])) {
				snprintf(why, MESH_IPAM_WHY_LEN,
					 "--ipalloc-init seed=: name %zu (\"%s\") is not a non-zero peer name",
					 idx + 1, name);
				return -EINVAL;
			}
			idx++;
			if (!comma)
				break;
			p = comma + 1;
		}
		out->nseeds = idx;
		return 0;
	}
	snprintf(why, MESH_IPAM_WHY_LEN,
		 "--ipalloc-init \"%.40s\": expected consensus=N or seed=NAME,NAME,...", s);
	return -EINVAL;
}

int mesh_ipam_init_maybe_seed(struct mesh_ipam_ring *r, const struct mesh_ipam_init *init,
			      const struct mesh_peer_name *known, size_t nknown)
{
	if (r->n)
		return 0;
	int ret;
	if (init->nseeds)
		ret = mesh_ipam_ring_seed(r, init->seeds, init->nseeds);
	else if (init->quorum && nknown >= init->quorum)
		ret = mesh_ipam_ring_seed(r, known, nknown);
	else
		return 0;
	return ret < 0 ? ret : 1;
}

/* Splits so that a token sits at addr (inside the ring); the new entry copies the entry it
 * splits, one version higher (so that it outranks anything the former owner of that space may
 * have said about the same token). Room must have been reserved. Returns its index, or -errno. */
static ssize_t split_at(struct mesh_ipam_ring *r, uint32_t addr)
{
	ssize_t i = mesh_ipam_ring_find(r, addr);
	if (i < 0)
		return -EINVAL;
	if (r->e[i].token == addr)
		return i;
	struct mesh_ipam_entry ne = r->e[i];
	ne.token = addr;
	bump(&ne.version, 1);
	insert_at(r, (size_t)i + 1, &ne);
	return i + 1;
}

/* An entry whose span shrank may report more free addresses than it has: cap them, and bump the
 * version when that changed it, so the change wins everywhere. */
static void cap_free(struct mesh_ipam_ring *r, size_t i)
{
	uint64_t span = entry_span(r, i);
	if (r->e[i].free > span) {
		r->e[i].free = (uint32_t)span;
		bump(&r->e[i].version, 1);
	}
}

int mesh_ipam_ring_transfer(struct mesh_ipam_ring *r, uint32_t lo, uint64_t hi,
			    const struct mesh_peer_name *to)
{
	if (!r->n || hi <= lo || lo < r->start || hi > ring_end(r) || mesh_peer_name_is_zero(to) ||
	    mesh_peer_name_eq(to, &r->self))
		return -EINVAL;
	/* all of [lo, hi) ours, and every version we will bump below its maximum? */
	ssize_t first = mesh_ipam_ring_find(r, lo);
	for (size_t i = (size_t)first; i < r->n && r->e[i].token < hi; i++) {
		if (!mesh_peer_name_eq(&r->e[i].owner, &r->self))
			return -EPERM;
		if (r->e[i].version >= UINT32_MAX - 2)
			return -EOVERFLOW;
	}
	size_t need = r->e[first].token != lo;
	if (hi < ring_end(r))
		need += r->e[mesh_ipam_ring_find(r, (uint32_t)hi)].token != hi;
	if (r->n + need > MESH_IPAM_MAX_ENTRIES)
		return -ENOSPC;
	if (reserve(r, r->n + need) < 0)
		return -ENOMEM;
	/* split at hi first, so that the index found for lo stays valid */
	ssize_t h = hi < ring_end(r) ? split_at(r, (uint32_t)hi) : -1;
	size_t before = r->n;
	ssize_t l = split_at(r, lo);
	if (h >= 0 && r->n > before)
		h++; /* the token at lo went in before it */
	if (l < 0 || (hi < ring_end(r) && h < 0))
		return -EINVAL; /* cannot happen: lo and hi were checked to be inside the ring */
	for (size_t i = (size_t)l; i < r->n && r->e[i].token < hi; i++) {
		r->e[i].owner = *to;
		bump(&r->e[i].version, 1);
		uint64_t span = entry_span(r, i);
		r->e[i].free = span > UINT32_MAX ? UINT32_MAX : (uint32_t)span;
	}
	if (l > 0 && mesh_peer_name_eq(&r->e[l - 1].owner, &r->self))
		cap_free(r, (size_t)l - 1);
	if (h >= 0 && mesh_peer_name_eq(&r->e[h].owner, &r->self))
		cap_free(r, (size_t)h);
	return 0;
}

int mesh_ipam_ring_set_free(struct mesh_ipam_ring *r, size_t i, uint32_t free)
{
	if (i >= r->n || !mesh_peer_name_eq(&r->e[i].owner, &r->self) || free > entry_span(r, i))
		return -EINVAL;
	if (r->e[i].free == free)
		return 0;
	if (r->e[i].version == UINT32_MAX)
		return -EOVERFLOW;
	r->e[i].free = free;
	bump(&r->e[i].version, 1);
	return 1;
}

int64_t mesh_ipam_ring_reclaim(struct mesh_ipam_ring *r, const struct mesh_peer_name *victim)
{
	if (mesh_peer_name_is_zero(victim) || mesh_peer_name_eq(victim, &r->self))
		return -EINVAL;
	int64_t taken = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!mesh_peer_name_eq(&r->e[i].owner, victim))
			continue;
		r->e[i].owner = r->self;
		bump(&r->e[i].version, MESH_IPAM_RECLAIM_VERSION_JUMP);
		taken += (int64_t)entry_span(r, i);
	}
	return taken;
}

/* --- merge --------------------------------------------------------------------------------- */

/* The join order of two entries for one token: >0 when a wins. */
static int entry_order(const struct mesh_ipam_entry *a, const struct mesh_ipam_entry *b)
{
	if (a->version != b->version)
		return a->version > b->version ? 1 : -1;
	int c = mesh_peer_name_cmp(&a->owner, &b->owner);
	if (c)
		return c < 0 ? 1 : -1; /* lower owner name wins */
	if (a->free != b->free)
		return a->free > b->free ? 1 : -1;
	return 0;
}

static bool entry_same(const struct mesh_ipam_entry *a, const struct mesh_ipam_entry *b)
{
	return a->token == b->token && a->version == b->version && a->free == b->free &&
	       mesh_peer_name_eq(&a->owner, &b->owner);
}

int mesh_ipam_ring_merge(struct mesh_ipam_ring *r, const struct mesh_ipam_ring *in,
			 mesh_ipam_has_alloc_fn has_alloc, void *ctx, bool *changed,
			 char why[MESH_IPAM_WHY_LEN])
{
	struct mesh_ipam_ring m = { 0 };
	char a[16], b[16], n1[MESH_PEER_NAME_STRLEN], n2[MESH_PEER_NAME_STRLEN];
	int ret;

	*changed = false;
	if (in->start != r->start || in->prefix != r->prefix) {
		mesh_ipam_addr_format(r->start, a);
		mesh_ipam_addr_format(in->start, b);
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring for range %s/%u cannot merge into ours for %s/%u: --ipalloc-range differs",
			 b, in->prefix, a, r->prefix);
		return -EDOM;
	}
	ret = mesh_ipam_ring_check(in, why);
	if (ret < 0)
		return ret;
	if (in->n == 0)
		return 0;
	if (r->n && in->seed != r->seed) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring seeded differently: ours has seed %016llx, the incoming one %016llx (peers started with different --ipalloc-init?); not merged",
			 (unsigned long long)r->seed, (unsigned long long)in->seed);
		return -EXDEV;
	}

	/* the join, token by token */
	m.start = r->start;
	m.prefix = r->prefix;
	m.self = r->self;
	m.seed = in->seed;
	if (reserve(&m, r->n + in->n) < 0)
		return -ENOMEM;
	size_t i = 0, j = 0;
	bool reasserted = false;
	while (i < r->n || j < in->n) {
		const struct mesh_ipam_entry *x = i < r->n ? &r->e[i] : NULL;
		const struct mesh_ipam_entry *y = j < in->n ? &in->e[j] : NULL;
		if (x && (!y || x->token < y->token)) {
			m.e[m.n++] = *x;
			i++;
			continue;
		}
		/* y is next: what r holds for its address (none while r is empty) */
		const struct mesh_ipam_entry *cover = x && x->token == y->token ? x
						      : i ? &r->e[i - 1] : NULL;
		if (cover && (uint64_t)y->version > (uint64_t)cover->version +
							     MESH_IPAM_VERSION_AHEAD_MAX) {
			mesh_ipam_addr_format(y->token, a);
			fmt_name(&y->owner, n1);
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM ring entry %s (owner %s) has version %u, more than %u ahead of ours (v%u): forged?; not merged",
				 a, n1, y->version, MESH_IPAM_VERSION_AHEAD_MAX, cover->version);
			ret = -ERANGE;
			goto errout;
		}
		bool ours = cover && mesh_peer_name_eq(&cover->owner, &r->self) &&
			    mesh_peer_name_eq(&y->owner, &r->self);
		if (!x || y->token < x->token) {
			if (!ours) /* a token inside our own space that we never made: not taken */
				m.e[m.n++] = *y;
			j++;
			continue;
		}
		if (ours && !entry_same(x, y) && y->version >= x->version) {
			/* someone raised our own entry: ours jumps past it */
			struct mesh_ipam_entry mine = *x;
			mine.version = y->version;
			bump(&mine.version, 1);
			m.e[m.n++] = mine;
			reasserted = true;
		} else {
			m.e[m.n++] = entry_order(x, y) >= 0 ? *x : *y;
		}
		i++;
		j++;
	}
	if (m.n > MESH_IPAM_MAX_ENTRIES) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring merge would give %zu entries, over %d; not merged", m.n,
			 MESH_IPAM_MAX_ENTRIES);
		ret = -EBADMSG;
		goto errout;
	}
	ret = mesh_ipam_ring_check(&m, why);
	if (ret < 0) {
		char inner[MESH_IPAM_WHY_LEN];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring merge gives an inconsistent ring: %.150s",
			 inner);
		goto errout;
	}

	/* space we owned that the merged ring gives to someone else: walk both rings' boundaries */
	if (r->n) {
		size_t p = 0, q = 0;
		uint64_t at = r->start, end = ring_end(r);
		while (at < end) {
			while (mesh_ipam_entry_end(r, p) <= at)
				p++;
			while (mesh_ipam_entry_end(&m, q) <= at)
				q++;
			uint64_t next = mesh_ipam_entry_end(r, p);
			if (mesh_ipam_entry_end(&m, q) < next)
				next = mesh_ipam_entry_end(&m, q);
			if (mesh_peer_name_eq(&r->e[p].owner, &r->self) &&
			    !mesh_peer_name_eq(&m.e[q].owner, &r->self) &&
			    (!has_alloc || has_alloc(ctx, (uint32_t)at, next))) {
				mesh_ipam_addr_format((uint32_t)at, a);
				mesh_ipam_addr_format((uint32_t)(next - 1), b);
				fmt_name(&r->self, n1);
				fmt_name(&m.e[q].owner, n2);
				snprintf(why, MESH_IPAM_WHY_LEN,
					 "IPAM ring update gives %s..%s, owned by us (%s) with addresses in use, to %s (v%u); not merged",
					 a, b, n1, n2, m.e[q].version);
				ret = -EPERM;
				goto errout;
			}
			at = next;
		}
	}

	bool diff = reasserted || m.n != r->n || r->seed != m.seed;
	for (size_t k = 0; !diff && k < m.n; k++)
		diff = !entry_same(&m.e[k], &r->e[k]);
	if (diff) {
		free(r->e);
		r->e = m.e;
		r->n = m.n;
		r->cap = m.cap;
		r->seed = m.seed;
		*changed = true;
	} else {
		mesh_ipam_ring_free(&m);
	}
	return 0;
errout:
	mesh_ipam_ring_free(&m);
	return ret;
}

int mesh_ipam_ring_merge_msg(struct mesh_ipam_ring *r, const uint8_t *buf, size_t len,
			     mesh_ipam_has_alloc_fn has_alloc, void *ctx, bool *changed,
			     char why[MESH_IPAM_WHY_LEN])
{
	struct mesh_ipam_ring in;
	*changed = false;
	int ret = mesh_ipam_ring_decode(buf, len, &in, why);
	if (ret < 0)
		return ret;
	ret = mesh_ipam_ring_merge(r, &in, has_alloc, ctx, changed, why);
	mesh_ipam_ring_free(&in);
	return ret;
}

/* --- status, donation, reclaim ------------------------------------------------------------- */

size_t mesh_ipam_ring_owners(const struct mesh_ipam_ring *r, struct mesh_ipam_owner_stat *out,
			     size_t cap)
{
	/* entries are few (<= MESH_IPAM_MAX_ENTRIES): gather distinct owners in name order by
	 * repeated selection of the next larger name */
	size_t count = 0;
	const struct mesh_peer_name *prev = NULL;
	for (;;) {
		const struct mesh_peer_name *next = NULL;
		for (size_t i = 0; i < r->n; i++) {
			const struct mesh_peer_name *o = &r->e[i].owner;
			if (prev && mesh_peer_name_cmp(o, prev) <= 0)
				continue;
			if (!next || mesh_peer_name_cmp(o, next) < 0)
				next = o;
		}
		if (!next)
			break;
		if (count < cap) {
			struct mesh_ipam_owner_stat *s = &out[count];
			memset(s, 0, sizeof(*s));
			s->owner = *next;
			for (size_t i = 0; i < r->n; i++) {
				if (!mesh_peer_name_eq(&r->e[i].owner, next))
					continue;
				uint64_t span = entry_span(r, i);
				s->owned += span;
				s->free += r->e[i].free < span ? r->e[i].free : span;
				s->ranges++;
			}
		}
		count++;
		prev = next;
	}
	return count;
}

static uint64_t owner_free(const struct mesh_ipam_ring *r, const struct mesh_peer_name *p)
{
	uint64_t f = 0;
	for (size_t i = 0; i < r->n; i++)
		if (mesh_peer_name_eq(&r->e[i].owner, p)) {
			uint64_t span = entry_span(r, i);
			f += r->e[i].free < span ? r->e[i].free : span;
		}
	return f;
}

int mesh_ipam_pick_donor(const struct mesh_ipam_ring *r, const struct mesh_peer_name *reachable,
			 size_t nreachable, struct mesh_peer_name *donor)
{
	uint64_t best = 0;
	const struct mesh_peer_name *who = NULL;
	for (size_t k = 0; k < nreachable; k++) {
		const struct mesh_peer_name *p = &reachable[k];
		if (mesh_peer_name_eq(p, &r->self) || mesh_peer_name_is_zero(p))
			continue;
		uint64_t f = owner_free(r, p);
		if (f == 0)
			continue;
		if (!who || f > best || (f == best && mesh_peer_name_cmp(p, who) < 0)) {
			best = f;
			who = p;
		}
	}
	if (!who)
		return -ENOSPC;
	*donor = *who;
	return 0;
}

/* The peers' entries in name order (a name's first entry first), to find a peer in O(log n):
 * at thousands of peers a walk of the list per lookup made housekeeping O(n^2). */
struct seen_ref {
	struct mesh_peer_name name;
	size_t i; /* index in peers */
};

static int seen_ref_cmp(const void *a, const void *b)
{
	const struct seen_ref *x = a, *y = b;
	int c = mesh_peer_name_cmp(&x->name, &y->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* NULL when out of memory (or npeers is 0: then *ok stays true). */
static struct seen_ref *seen_index(const struct mesh_ipam_peer_seen *peers, size_t npeers, bool *ok)
{
	*ok = true;
	if (!npeers)
		return NULL;
	struct seen_ref *idx = malloc(npeers * sizeof(*idx));
	if (!idx) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < npeers; i++)
		idx[i] = (struct seen_ref){ .name = peers[i].name, .i = i };
	qsort(idx, npeers, sizeof(*idx), seen_ref_cmp);
	return idx;
}

/* The first entry of peers named name, or NULL. */
static const struct mesh_ipam_peer_seen *seen_find(const struct mesh_ipam_peer_seen *peers,
						   const struct seen_ref *idx, size_t npeers,
						   const struct mesh_peer_name *name)
{
	size_t lo = 0, hi = npeers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mesh_peer_name_cmp(&idx[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < npeers && mesh_peer_name_eq(&idx[lo].name, name) ? &peers[idx[lo].i] : NULL;
}

/* mesh_ipam_have_majority with the index made; false when out of memory. */
static bool have_majority(const struct mesh_ipam_ring *r, const struct mesh_ipam_peer_seen *peers,
			  const struct seen_ref *idx, size_t npeers)
{
	/* members: us, every known peer (deduplicated: a name's first entry), every owner not
	 * among them */
	size_t members = 1, up = 1;
	for (size_t k = 0; k < npeers; k++) {
		const struct mesh_peer_name *p = &idx[k].name;
		if ((k > 0 && mesh_peer_name_eq(&idx[k - 1].name, p)) ||
		    mesh_peer_name_eq(p, &r->self) || mesh_peer_name_is_zero(p))
			continue;
		members++;
		if (peers[idx[k].i].reachable)
			up++;
	}
	/* distinct owners that are neither us nor known: sort a copy of the owners */
	struct mesh_peer_name *owners = r->n ? malloc(r->n * sizeof(*owners)) : NULL;
	if (r->n && !owners)
		return false; /* out of memory: never decide to reclaim on a guess */
	for (size_t i = 0; i < r->n; i++)
		owners[i] = r->e[i].owner;
	if (r->n)
		qsort(owners, r->n, sizeof(*owners), name_cmp);
	for (size_t i = 0; i < r->n; i++) {
		const struct mesh_peer_name *o = &owners[i];
		if ((i > 0 && mesh_peer_name_eq(&owners[i - 1], o)) || mesh_peer_name_eq(o, &r->self) ||
		    seen_find(peers, idx, npeers, o))
			continue;
		members++;
	}
	free(owners);
	return up * 2 > members;
}

bool mesh_ipam_have_majority(const struct mesh_ipam_ring *r, const struct mesh_ipam_peer_seen *peers,
			     size_t npeers)
{
	bool ok;
	struct seen_ref *idx = seen_index(peers, npeers, &ok);
	bool yes = ok && have_majority(r, peers, idx, npeers);
	free(idx);
	return yes;
}

int mesh_ipam_reclaim_decide(const struct mesh_ipam_ring *r, const struct mesh_ipam_peer_seen *peers,
			     size_t npeers, uint64_t now_ms, uint64_t started_ms,
			     uint64_t reclaim_after_ms, struct mesh_peer_name *victim,
			     struct mesh_peer_name *heir)
{
	bool ok;
	if (r->n == 0)
		return 0;
	struct seen_ref *idx = seen_index(peers, npeers, &ok);
	if (!ok || !have_majority(r, peers, idx, npeers)) {
		free(idx);
		return 0;
	}
	const struct mesh_peer_name *v = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct mesh_peer_name *o = &r->e[i].owner;
		if (mesh_peer_name_eq(o, &r->self))
			continue;
		const struct mesh_ipam_peer_seen *s = seen_find(peers, idx, npeers, o);
		if (s && s->reachable)
			continue;
		uint64_t since = s && s->last_seen_ms > started_ms ? s->last_seen_ms : started_ms;
		bool removed = s && s->removed;
		if (!removed && (reclaim_after_ms == 0 || now_ms < since ||
				 now_ms - since < reclaim_after_ms))
			continue;
		if (!v || mesh_peer_name_cmp(o, v) < 0)
			v = o;
	}
	free(idx);
	if (!v)
		return 0;
	const struct mesh_peer_name *h = &r->self;
	for (size_t i = 0; i < npeers; i++)
		if (peers[i].reachable && !mesh_peer_name_is_zero(&peers[i].name) &&
		    !mesh_peer_name_eq(&peers[i].name, v) && mesh_peer_name_cmp(&peers[i].name, h) < 0)
			h = &peers[i].name;
	*victim = *v;
	*heir = *h;
	return 1;
}

bool mesh_ipam_may_allocate(uint64_t minority_since_ms, uint64_t now_ms, uint64_t reclaim_after_ms)
{
	if (minority_since_ms == 0 || reclaim_after_ms == 0)
		return true;
	return now_ms < minority_since_ms || now_ms - minority_since_ms < reclaim_after_ms / 2;
}

/* --- wire ---------------------------------------------------------------------------------- */

int mesh_ipam_msg_type(const uint8_t *buf, size_t len)
{
	return len ? buf[0] : -EBADMSG;
}

size_t mesh_ipam_ring_encoded_size(const struct mesh_ipam_ring *r)
{
	return MESH_IPAM_RING_HDR_LEN + r->n * MESH_IPAM_ENTRY_LEN;
}

ssize_t mesh_ipam_ring_encode(const struct mesh_ipam_ring *r, uint8_t *out, size_t cap)
{
	size_t len = mesh_ipam_ring_encoded_size(r);
	if (r->n > MESH_IPAM_MAX_ENTRIES || cap < len)
		return -EMSGSIZE;
	out[0] = MESH_IPAM_MSG_RING;
	put_be32(out + 1, r->start);
	out[5] = r->prefix;
	put_be64(out + 6, r->seed);
	put_be16(out + 14, (uint16_t)r->n);
	uint8_t *p = out + MESH_IPAM_RING_HDR_LEN;
	for (size_t i = 0; i < r->n; i++, p += MESH_IPAM_ENTRY_LEN) {
		put_be32(p, r->e[i].token);
		memcpy(p + 4, r->e[i].owner.b, MESH_PEER_NAME_LEN);
		put_be32(p + 10, r->e[i].version);
		put_be32(p + 14, r->e[i].free);
	}
	return (ssize_t)len;
}

int mesh_ipam_ring_decode(const uint8_t *buf, size_t len, struct mesh_ipam_ring *out,
			  char why[MESH_IPAM_WHY_LEN])
{
	int ret;
	memset(out, 0, sizeof(*out));
	if (len < MESH_IPAM_RING_HDR_LEN) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring message of %zu bytes is shorter than its %d-byte header", len,
			 MESH_IPAM_RING_HDR_LEN);
		return -EBADMSG;
	}
	if (buf[0] != MESH_IPAM_MSG_RING) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM message type %u at byte 0 is not a ring (%d)",
			 buf[0], MESH_IPAM_MSG_RING);
		return -EBADMSG;
	}
	uint32_t start = get_be32(buf + 1);
	uint8_t prefix = buf[5];
	if (!prefix_ok(start, prefix)) {
		char a[16];
		mesh_ipam_addr_format(start, a);
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring message bytes 1..5: range %s/%u is not an aligned prefix of 1..32 bits",
			 a, prefix);
		return -EBADMSG;
	}
	size_t n = get_be16(buf + 14);
	if (n > MESH_IPAM_MAX_ENTRIES) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM ring message bytes 14..15: count %zu is over %d",
			 n, MESH_IPAM_MAX_ENTRIES);
		return -EBADMSG;
	}
	if (len != MESH_IPAM_RING_HDR_LEN + n * MESH_IPAM_ENTRY_LEN) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM ring message is %zu bytes, its count of %zu entries needs %zu", len, n,
			 MESH_IPAM_RING_HDR_LEN + n * MESH_IPAM_ENTRY_LEN);
		return -EBADMSG;
	}
	mesh_ipam_ring_init(out, NULL, start, prefix);
	out->seed = get_be64(buf + 6);
	if (n && reserve(out, n) < 0)
		return -ENOMEM;
	const uint8_t *p = buf + MESH_IPAM_RING_HDR_LEN;
	for (size_t i = 0; i < n; i++, p += MESH_IPAM_ENTRY_LEN) {
		struct mesh_ipam_entry *e = &out->e[i];
		e->token = get_be32(p);
		memcpy(e->owner.b, p + 4, MESH_PEER_NAME_LEN);
		e->version = get_be32(p + 10);
		e->free = get_be32(p + 14);
	}
	out->n = n;
	ret = mesh_ipam_ring_check(out, why);
	if (ret < 0)
		goto errout;
	return 0;
errout:
	mesh_ipam_ring_free(out);
	return ret;
}

ssize_t mesh_ipam_request_encode(const struct mesh_ipam_request *q, uint8_t *out, size_t cap)
{
	if (cap < MESH_IPAM_REQUEST_LEN)
		return -EMSGSIZE;
	if (!prefix_ok(q->start, q->prefix) || q->wanted == 0 || mesh_peer_name_is_zero(&q->requester))
		return -EINVAL;
	out[0] = MESH_IPAM_MSG_SPACE_REQUEST;
	put_be32(out + 1, q->start);
	out[5] = q->prefix;
	put_be64(out + 6, q->seed);
	memcpy(out + 14, q->requester.b, MESH_PEER_NAME_LEN);
	put_be32(out + 20, q->wanted);
	return MESH_IPAM_REQUEST_LEN;
}

int mesh_ipam_request_decode(const uint8_t *buf, size_t len, struct mesh_ipam_request *out,
			     char why[MESH_IPAM_WHY_LEN])
{
	if (len != MESH_IPAM_REQUEST_LEN) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM space request is %zu bytes, not %d", len,
			 MESH_IPAM_REQUEST_LEN);
		return -EBADMSG;
	}
	if (buf[0] != MESH_IPAM_MSG_SPACE_REQUEST) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM message type %u at byte 0 is not a space request (%d)", buf[0],
			 MESH_IPAM_MSG_SPACE_REQUEST);
		return -EBADMSG;
	}
	struct mesh_ipam_request q;
	q.start = get_be32(buf + 1);
	q.prefix = buf[5];
	q.seed = get_be64(buf + 6);
	memcpy(q.requester.b, buf + 14, MESH_PEER_NAME_LEN);
	q.wanted = get_be32(buf + 20);
	if (!prefix_ok(q.start, q.prefix)) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM space request bytes 1..5: the range is not an aligned prefix of 1..32 bits");
		return -EBADMSG;
	}
	if (mesh_peer_name_is_zero(&q.requester)) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM space request bytes 14..19: no requester");
		return -EBADMSG;
	}
	if (q.wanted == 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM space request bytes 20..23: wants 0 addresses");
		return -EBADMSG;
	}
	*out = q;
	return 0;
}

int mesh_ipam_request_check_sender(const struct mesh_ipam_request *q,
				   const struct mesh_peer_name *sender, char why[MESH_IPAM_WHY_LEN])
{
	if (mesh_peer_name_eq(&q->requester, sender))
		return 0;
	char want[MESH_PEER_NAME_STRLEN], got[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&q->requester, want);
	mesh_peer_name_format(sender, got);
	snprintf(why, MESH_IPAM_WHY_LEN, "IPAM space request bytes 14..19: it asks space for %s, "
		 "but came from %s (a peer asks for itself only)", want, got);
	return -EPERM;
}
