/* router/routes.c: unicast next hops, broadcast trees and the gossip relay's neighbours (one
 * hop further from / closer to a source) from the topology (see routes.h, DESIGN §6). Pure:
 * no I/O.
 *
 * Per-source lists (struct mesh_routes_lists, used twice: the broadcast children with one
 * parent, the gossip relay with MESH_ROUTES_RELAY_PARENTS): one compact array holding, source
 * after source in the order they were first asked for, our neighbours one hop further from
 * that source for which we are among their first `parents` neighbours one hop closer (name
 * order), then our neighbours one hop closer. Every entry is one of our neighbours, so the
 * array holds at most 2n * (our degree) entries. A source's lists are computed the first time
 * they are asked for, from the graph kept in the routes: a topology change costs one graph and
 * one BFS, not n BFS walks.
 *
 * The BFS rule: levels in name order, a node's parent is the first node (in name order) of the
 * previous level that links to it, i.e. its lowest-named neighbour one hop closer to the root.
 * Indices into `names` are name order, and adjacency lists are sorted by index, so "first
 * neighbour at depth d-1" is a scan of a sorted list.
 *
 * Cost: the symmetric adjacency is built once per computation from the memo (below: each
 * entry's connections resolved once and reused while the entry does not change; each node's
 * list sorted) and kept; our own BFS is O(n + E); a source's lists, computed when first asked
 * for (or, for the relay, many sources at once by mesh_routes_relay_prepare: 64 per
 * bit-parallel BFS, by source or by ball, below), need the distance from the source of us,
 * our neighbours and theirs. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/routes.h"

struct graph {
	size_t *off;     /* n + 1 */
	unsigned *adj;   /* symmetric neighbours of i: adj[off[i] .. off[i+1]), ascending */
};

static void *alloc0(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

/* Index of name in the sorted names, or -1. */
static long find_name(const struct mesh_peer_name *names, size_t n, const struct mesh_peer_name *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mesh_peer_name_cmp(&names[mid], name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* --- what one computation keeps for the next ---------------------------------------------
 *
 * At scale a computation was mostly cache misses: it loaded every entry's connection list,
 * each its own allocation, though a turn changes a few entries. The memo keeps, per entry
 * (by index in the topology), its established connections resolved to entry indices, and the
 * name order; the next computation over the same topology (t->id) re-reads an entry only if
 * its name, uid, version, connection count or list changed (all five hashed into a stamp), or
 * if entries were added and it lists a name it did not know. Entries are appended and keep
 * their index until one is forgotten: then (an entry's name changed) everything is read again.
 * The names are sorted again only when entries were added or forgotten.
 * Topology entries change through topology.c, which gives each change a new version; code
 * that edits an entry by hand must change one of the five. */
struct memo_entry {
	struct mesh_peer_name name;
	bool unknown;           /* lists an established connection to a name not in t */
	unsigned off, len;      /* its resolved connections: list[off .. off + len) */
	uint64_t stamp;
};

struct mesh_routes_memo {
	uint64_t topo_id;
	size_t n;
	struct memo_entry *e;   /* n, by entry index */
	unsigned *order;        /* n: name order -> entry index */
	unsigned *rank;         /* n: entry index -> name order */
	unsigned *list;         /* resolved connections (entry indices), len of them */
	size_t len;
};

static void memo_free(struct mesh_routes_memo *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->order);
	free(m->rank);
	free(m->list);
	free(m);
}

static uint64_t stamp_of(const struct mesh_topo_peer *p)
{
	uint64_t h = mesh_peer_name_u64(&p->name) ^ 0x9e3779b97f4a7c15ull;
	uint64_t parts[4] = { p->uid, p->version, p->nconns, (uint64_t)(uintptr_t)p->conns };
	for (int k = 0; k < 4; k++) {
		h ^= parts[k];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return h;
}

static int cmp_rank_name(const void *a, const void *b, void *names)
{
	const struct mesh_topo_peer *p = names;
	return mesh_peer_name_cmp(&p[*(const unsigned *)a].name, &p[*(const unsigned *)b].name);
}

/* Brings m up to date with t: each entry's resolved list (re-read only where the stamp
 * changed) and the name order. *m is replaced (the old arrays freed) on success. */
static int memo_update(struct mesh_routes_memo *m, const struct mesh_topology *t)
{
	size_t n = t->n;
	bool same = t->id && m->topo_id == t->id && n >= m->n;
	for (size_t i = 0; same && i < m->n; i++)
		same = mesh_peer_name_eq(&m->e[i].name, &t->peers[i].name);
	bool grew = same && n > m->n, resort = !same || grew;
	struct memo_entry *e = malloc(n * sizeof(*e));
	unsigned *order = NULL, *rank = NULL;
	size_t len = 0, cap = m->len + 64;
	unsigned *list = malloc(cap * sizeof(*list));
	if (!e || !list)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct mesh_topo_peer *p = &t->peers[i];
		const struct memo_entry *old = same && i < m->n ? &m->e[i] : NULL;
		e[i] = (struct memo_entry){ .name = p->name, .off = (unsigned)len,
					    .stamp = stamp_of(p) };
		bool keep = old && old->stamp == e[i].stamp && !(grew && old->unknown);
		size_t need = keep ? old->len : p->nconns;
		if (len + need > cap) {
			size_t c = (len + need) * 2;
			unsigned *l = realloc(list, c * sizeof(*l));
			if (!l)
				goto fail;
			list = l;
			cap = c;
		}
		if (keep) {
			memcpy(list + len, m->list + old->off, old->len * sizeof(*list));
			len += old->len;
			e[i].unknown = old->unknown;
		} else {
			for (unsigned c = 0; c < p->nconns; c++) {
				if (!(p->conns[c].flags & MESH_TOPO_CONN_ESTABLISHED))
					continue;
				const struct mesh_topo_peer *q = mesh_topo_find(t, &p->conns[c].peer);
				if (!q)
					e[i].unknown = true;
				else if (q != p)
					list[len++] = (unsigned)(q - t->peers);
			}
		}
		e[i].len = (unsigned)(len - e[i].off);
	}
	if (resort) {
		order = malloc(n * sizeof(*order));
		rank = malloc(n * sizeof(*rank));
		if (!order || !rank)
			goto fail;
		for (size_t i = 0; i < n; i++)
			order[i] = (unsigned)i;
		qsort_r(order, n, sizeof(*order), cmp_rank_name, t->peers);
		for (size_t i = 0; i < n; i++)
			rank[order[i]] = (unsigned)i;
		free(m->order);
		free(m->rank);
		m->order = order;
		m->rank = rank;
	}
	free(m->e);
	free(m->list);
	m->e = e;
	m->list = list;
	m->len = len;
	m->n = n;
	m->topo_id = t->id;
	return 0;
fail:
	free(e);
	free(list);
	free(order);
	free(rank);
	return -ENOMEM;
}

static void sort_small(unsigned *a, size_t n)
{
	if (n > 16) {
		qsort(a, n, sizeof(*a), cmp_unsigned);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static bool sorted_contains(const unsigned *a, size_t n, unsigned v)
{
	return bsearch(&v, a, n, sizeof(*a), cmp_unsigned) != NULL;
}

/* Builds the symmetric established adjacency over name order (same relation as
 * mesh_topo_linked) from the memo's resolved lists. */
static int build_graph(struct graph *g, const struct mesh_routes_memo *m)
{
	size_t n = m->n;
	int rc = -ENOMEM;
	size_t *doff = alloc0(n + 1, sizeof(*doff));
	size_t *dlen = alloc0(n, sizeof(*dlen));
	unsigned *dout = alloc0(m->len, sizeof(*dout));
	g->off = alloc0(n + 1, sizeof(*g->off));
	g->adj = alloc0(m->len, sizeof(*g->adj));
	if (!doff || !dlen || !dout || !g->off || !g->adj)
		goto out;

	/* directed: i lists j as established; sorted and deduplicated per node */
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		const struct memo_entry *e = &m->e[m->order[i]];
		unsigned *l = dout + pos;
		for (unsigned k = 0; k < e->len; k++)
			l[k] = m->rank[m->list[e->off + k]];
		sort_small(l, e->len);
		size_t k = 0;
		for (size_t x = 0; x < e->len; x++)
			if (k == 0 || l[k - 1] != l[x])
				l[k++] = l[x];
		doff[i] = pos;
		dlen[i] = k;
		pos += k;
	}

	/* symmetric: keep i -> j only when j -> i too */
	pos = 0;
	for (size_t i = 0; i < n; i++) {
		g->off[i] = pos;
		for (size_t x = 0; x < dlen[i]; x++) {
			unsigned j = dout[doff[i] + x];
			if (sorted_contains(dout + doff[j], dlen[j], (unsigned)i))
				g->adj[pos++] = j;
		}
	}
	g->off[n] = pos;
	rc = 0;
out:
	free(doff);
	free(dlen);
	free(dout);
	return rc;
}

static void free_graph(struct graph *g)
{
	free(g->off);
	free(g->adj);
}

/* First neighbour of v (in name order) at depth d in dist. */
static unsigned first_at(const struct graph *g, const unsigned *dist, unsigned v, unsigned d)
{
	for (size_t k = g->off[v]; k < g->off[v + 1]; k++)
		if (dist[g->adj[k]] == d)
			return g->adj[k];
	return UINT_MAX;
}

/* Our own tree: hops and next hops. dist must be all UINT_MAX; q has room for n. */
static void unicast(struct mesh_routes *r, const struct graph *g, unsigned me, unsigned *q)
{
	unsigned *dist = r->hops;
	size_t qn = 0;
	dist[me] = 0;
	q[qn++] = me;
	for (size_t qi = 0; qi < qn; qi++) {
		unsigned u = q[qi];
		for (size_t k = g->off[u]; k < g->off[u + 1]; k++) {
			unsigned v = g->adj[k];
			if (dist[v] == UINT_MAX) {
				dist[v] = dist[u] + 1;
				q[qn++] = v;
			}
		}
	}
	/* queue order is by depth, so a parent's next hop is known before its children's */
	for (size_t qi = 1; qi < qn; qi++) {
		unsigned v = q[qi];
		unsigned parent = first_at(g, dist, v, dist[v] - 1);
		r->next_hop[v] = parent == me ? (int)v : r->next_hop[parent];
	}
}

struct childbuf {
	int *a;
	size_t len, cap;
};

static int push_child(struct childbuf *b, int v)
{
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		int *a = realloc(b->a, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		b->a = a;
		b->cap = cap;
	}
	b->a[b->len++] = v;
	return 0;
}

/* --- per-source lists, many at once ---------------------------------------------------------
 *
 * A source's lists need the distance from it of us (L, from our own BFS), of our neighbours
 * (L - 1, L or L + 1) and of their neighbours (is it L?). Two ways to get them, both a
 * level-synchronous BFS from up to 64 roots at once, a bit per root in a 64-bit word per node
 * (the roots that reached it), so that a level costs the edges of the nodes its frontier holds
 * once for all the roots, and a node is in the frontier at most once per level:
 * - by source (bfs_sources): the roots are the sources, each bit stops spreading at its own L
 *   (every node as close to the source as we are is then known; our neighbours it has not
 *   reached are exactly those at L + 1);
 * - by ball (bfs_ball): the roots are our neighbours and theirs, B of them, and the graph is
 *   undirected, so a node s reached by root x at level d is at distance d from x: recording
 *   at s which roots came at L_s - 1, L_s and L_s + 1 (L_s our distance from s) answers every
 *   source at once.
 * mesh_routes_relay_prepare takes whichever has fewer roots: a sparse mesh's ball is small (at
 * most C + C(C - 1) roots) and a message that changed many entries asks for many sources; a
 * few sources, or a dense mesh (whose ball is everyone), go by source. */

/* The BFS state; rec[k][v]: bits that reached v at its reference level - 1 + k. */
struct bitbfs {
	size_t n;
	uint64_t *seen, *cur, *next, *rec[3];
	unsigned *act, *nact;
	size_t na;
};

static void bitbfs_free(struct bitbfs *b)
{
	free(b->seen);
	free(b->cur);
	free(b->next);
	for (int k = 0; k < 3; k++)
		free(b->rec[k]);
	free(b->act);
	free(b->nact);
}

/* recs: how many rec arrays of n words each (ball: 3 per chunk of 64 roots, one after the
 * other in rec[k]). */
static int bitbfs_init(struct bitbfs *b, size_t n, size_t recs)
{
	*b = (struct bitbfs){ .n = n };
	b->seen = calloc(n, sizeof(uint64_t));
	b->cur = calloc(n, sizeof(uint64_t));
	b->next = calloc(n, sizeof(uint64_t));
	for (int k = 0; k < 3; k++)
		b->rec[k] = calloc(n * recs, sizeof(uint64_t));
	b->act = malloc(n * sizeof(unsigned));
	b->nact = malloc(n * sizeof(unsigned));
	if (!b->seen || !b->cur || !b->next || !b->rec[0] || !b->rec[1] || !b->rec[2] || !b->act ||
	    !b->nact) {
		bitbfs_free(b);
		return -ENOMEM;
	}
	return 0;
}

static void bitbfs_root(struct bitbfs *b, unsigned v, uint64_t bit)
{
	if (!b->cur[v])
		b->act[b->na++] = v;
	b->cur[v] |= bit;
	b->seen[v] |= bit;
}

/* Expands level d into level d + 1 for the bits in live. Records what reaches a node: with
 * ref (by ball), at rec[k] + base where d + 1 = ref[v] - 1 + k; without (by source), the bits
 * of eq[k] (the sources whose L - 1 + k is d + 1) at rec[k]. */
static void bitbfs_level(struct bitbfs *b, const struct graph *g, unsigned d, uint64_t live,
			 const unsigned *ref, size_t base, const uint64_t eq[2])
{
	size_t nn = 0;
	for (size_t a = 0; a < b->na; a++) {
		unsigned u = b->act[a];
		uint64_t f = b->cur[u] & live;
		b->cur[u] = 0;
		for (size_t k = g->off[u]; f && k < g->off[u + 1]; k++) {
			unsigned v = g->adj[k];
			uint64_t add = f & ~b->seen[v];
			if (!add)
				continue;
			if (!b->next[v])
				b->nact[nn++] = v;
			b->next[v] |= add;
			b->seen[v] |= add;
			if (ref) {
				unsigned x = d + 2 - ref[v]; /* wraps when far: no record */
				if (x < 3)
					b->rec[x][base + v] |= add;
			} else {
				b->rec[0][v] |= add & eq[0];
				b->rec[1][v] |= add & eq[1];
			}
		}
	}
	uint64_t *t = b->cur;
	b->cur = b->next;
	b->next = t;
	unsigned *ta = b->act;
	b->act = b->nact;
	b->nact = ta;
	b->na = nn;
}

/* Where a source's distances come from once a BFS has run: by source, its bit; by ball,
 * its node and a root's bit per chunk. */
struct dist_view {
	const struct bitbfs *b;
	const int *slot;      /* by ball: node -> root number, -1 outside the ball */
	unsigned s, bit;      /* the source; by source: its bit */
};

/* Whether node x (one of ours or a neighbour's neighbour) is at L - 1 + k from the source. */
static bool at(const struct dist_view *w, unsigned x, int k)
{
	if (!w->slot) {
		if (k == 2) /* bits stopped at L: unseen next to us is L + 1 */
			return !(w->b->seen[x] & (1ull << w->bit));
		return (w->b->rec[k][x] >> w->bit) & 1;
	}
	int r = w->slot[x];
	if (r < 0)
		return false;
	return (w->b->rec[k][(size_t)(r / 64) * w->b->n + w->s] >> (r % 64)) & 1;
}

/* Appends source s's lists to l from its distances (see routes.h). */
static int lists_from(struct mesh_routes *r, struct mesh_routes_lists *l, const struct dist_view *w)
{
	const size_t *off = r->adj_off;
	const unsigned *adj = r->adj;
	size_t n = r->n, start = l->len;
	unsigned me = r->me, s = w->s, closer = 0;
	struct childbuf b = { .a = l->a, .len = l->len, .cap = l->cap };
	int rc = 0;
	for (size_t k = off[me]; k < off[me + 1] && rc == 0; k++) {
		unsigned v = adj[k], rank = 0;
		if (!at(w, v, 2))
			continue;
		for (size_t j = off[v]; j < off[v + 1] && adj[j] != me; j++)
			rank += at(w, adj[j], 1);
		if (rank < l->parents)
			rc = push_child(&b, (int)v);
	}
	size_t nfurther = b.len - start;
	for (size_t k = off[me]; k < off[me + 1] && rc == 0 && r->hops[s]; k++)
		if (at(w, adj[k], 0) && (rc = push_child(&b, (int)adj[k])) == 0)
			closer++;
	l->a = b.a;
	l->cap = b.cap;
	if (rc < 0)
		return rc;
	l->idx[n + s] = (unsigned)start;
	l->idx[s] = (unsigned)nfurther;
	l->idx[2 * n + s] = closer;
	l->len = b.len;
	return 0;
}

/* The lists of up to 64 sources (distinct, reachable, not computed yet), by source. */
static int bfs_sources(struct mesh_routes *r, struct mesh_routes_lists *l, const unsigned *src,
		       unsigned m)
{
	struct graph g = { .off = r->adj_off, .adj = r->adj };
	struct bitbfs b;
	if (bitbfs_init(&b, r->n, 1) < 0)
		return -ENOMEM;
	unsigned depth = 0;
	for (unsigned i = 0; i < m; i++) {
		unsigned L = r->hops[src[i]];
		bitbfs_root(&b, src[i], 1ull << i);
		b.rec[0][src[i]] |= L == 1 ? 1ull << i : 0;
		b.rec[1][src[i]] |= L == 0 ? 1ull << i : 0;
		depth = L > depth ? L : depth;
	}
	for (unsigned d = 0; d < depth && b.na; d++) {
		uint64_t live = 0, eq[2] = { 0, 0 };
		for (unsigned i = 0; i < m; i++) {
			unsigned L = r->hops[src[i]];
			live |= d < L ? 1ull << i : 0;
			eq[0] |= L == d + 2 ? 1ull << i : 0;
			eq[1] |= L == d + 1 ? 1ull << i : 0;
		}
		bitbfs_level(&b, &g, d, live, NULL, 0, eq);
	}
	int rc = 0;
	for (unsigned i = 0; i < m && rc == 0; i++) {
		struct dist_view w = { .b = &b, .s = src[i], .bit = i };
		rc = lists_from(r, l, &w);
	}
	bitbfs_free(&b);
	return rc;
}

/* Our neighbours and theirs (us left out: our distances are r->hops): their count, their
 * numbers in slot (-1 for the rest), themselves in roots. */
static size_t ball_of(const struct mesh_routes *r, int *slot, unsigned *roots)
{
	size_t nb = 0;
	for (size_t i = 0; i < r->n; i++)
		slot[i] = -1;
	slot[r->me] = -2;
	for (size_t k = r->adj_off[r->me]; k < r->adj_off[r->me + 1]; k++) {
		unsigned v = r->adj[k];
		for (size_t j = r->adj_off[v]; j <= r->adj_off[v + 1]; j++) {
			unsigned x = j < r->adj_off[v + 1] ? r->adj[j] : v;
			if (slot[x] == -1) {
				slot[x] = (int)nb;
				roots[nb++] = x;
			}
		}
	}
	slot[r->me] = -1;
	return nb;
}

/* The lists of the sources in src (distinct, reachable, not computed yet), by ball (the
 * roots in chunks of 64), deepest level needed: the farthest source's L + 1. */
static int bfs_ball(struct mesh_routes *r, const int *slot, const unsigned *roots, size_t nroots,
		    const unsigned *src, size_t m)
{
	struct graph g = { .off = r->adj_off, .adj = r->adj };
	size_t chunks = (nroots + 63) / 64;
	unsigned depth = 0;
	for (size_t i = 0; i < m; i++)
		depth = r->hops[src[i]] > depth ? r->hops[src[i]] : depth;
	struct bitbfs b;
	if (bitbfs_init(&b, r->n, chunks) < 0)
		return -ENOMEM;
	for (size_t c = 0; c < chunks; c++) {
		if (c) {
			memset(b.seen, 0, r->n * sizeof(*b.seen));
			memset(b.cur, 0, r->n * sizeof(*b.cur));
			b.na = 0;
		}
		for (size_t x = c * 64; x < nroots && x < (c + 1) * 64; x++) {
			uint64_t bit = 1ull << (x % 64);
			bitbfs_root(&b, roots[x], bit);
			if (r->hops[roots[x]] == 1) /* at 0 from itself: L - 1 for a neighbour of ours */
				b.rec[0][c * r->n + roots[x]] |= bit;
		}
		for (unsigned d = 0; d <= depth && b.na; d++)
			bitbfs_level(&b, &g, d, ~0ull, r->hops, c * r->n, NULL);
	}
	int rc = 0;
	for (size_t i = 0; i < m && rc == 0; i++) {
		struct dist_view w = { .b = &b, .slot = slot, .s = src[i] };
		rc = lists_from(r, &r->relay, &w);
	}
	bitbfs_free(&b);
	return rc;
}

void mesh_routes_free(struct mesh_routes *r)
{
	memo_free(r->memo);
	free(r->names);
	free(r->next_hop);
	free(r->hops);
	free(r->bcast.a);
	free(r->bcast.idx);
	free(r->relay.a);
	free(r->relay.idx);
	free(r->adj_off);
	free(r->adj);
	memset(r, 0, sizeof(*r));
}

int mesh_routes_compute(struct mesh_routes *r, const struct mesh_topology *t)
{
	struct mesh_routes_memo *memo = r->memo;
	r->memo = NULL;
	mesh_routes_free(r);
	r->self = t->n ? t->peers[0].name : t->self;
	size_t n = t->n;
	if (n == 0) {
		memo_free(memo);
		return 0;
	}
	if (n > INT_MAX / 2) {
		memo_free(memo);
		return -ENOMEM;
	}

	int rc = -ENOMEM;
	struct graph g = { 0 };
	if (!memo)
		memo = calloc(1, sizeof(*memo));
	unsigned *queue = alloc0(n, sizeof(*queue));
	r->names = alloc0(n, sizeof(*r->names));
	r->next_hop = alloc0(n, sizeof(*r->next_hop));
	r->hops = alloc0(n, sizeof(*r->hops));
	r->bcast = (struct mesh_routes_lists){ .parents = 1 };
	r->relay = (struct mesh_routes_lists){ .parents = MESH_ROUTES_RELAY_PARENTS };
	if (!memo || !queue || !r->names || !r->next_hop || !r->hops || memo_update(memo, t) < 0)
		goto fail;

	for (size_t i = 0; i < n; i++) {
		r->names[i] = memo->e[memo->order[i]].name;
		r->next_hop[i] = -1;
		r->hops[i] = UINT_MAX;
	}
	unsigned me = memo->rank[0];
	if ((rc = build_graph(&g, memo)) < 0)
		goto fail;

	unicast(r, &g, me, queue);
	r->me = me;
	r->adj_off = g.off;
	r->adj = g.adj;
	r->n = n;
	r->memo = memo;
	free(queue);
	return 0;

fail:
	free_graph(&g);
	free(queue);
	memo_free(memo);
	{
		struct mesh_peer_name self = r->self;
		mesh_routes_free(r);
		r->self = self;
	}
	return rc;
}

static long lookup(const struct mesh_routes *r, const struct mesh_peer_name *name)
{
	return find_name(r->names, r->n, name);
}

const struct mesh_peer_name *mesh_routes_next_hop(const struct mesh_routes *r,
						  const struct mesh_peer_name *dst)
{
	long i = lookup(r, dst);
	if (i < 0 || r->next_hop[i] < 0)
		return NULL;
	return &r->names[r->next_hop[i]];
}

bool mesh_routes_is_relay(const struct mesh_routes *r, const struct mesh_peer_name *hop)
{
	long h = lookup(r, hop);
	if (h < 0)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if ((long)i != h && r->next_hop[i] == h)
			return true;
	return false;
}

int mesh_routes_hops(const struct mesh_routes *r, const struct mesh_peer_name *dst)
{
	long i = lookup(r, dst);
	if (i < 0 || r->hops[i] == UINT_MAX)
		return -1;
	return (int)r->hops[i];
}

/* l's index, made on first use (most routers never flood, so most never need bcast's): 0, or
 * -ENOMEM. */
static int lists_ready(const struct mesh_routes *r, struct mesh_routes_lists *l)
{
	if (l->idx)
		return 0;
	if (!(l->idx = alloc0(3 * r->n, sizeof(*l->idx))))
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		l->idx[r->n + i] = UINT_MAX;
	return 0;
}

/* src's lists in l, computed on first use; src's index, or -1 (unknown, not reachable, or
 * out of memory: asked again next time). */
static long lists_of(struct mesh_routes *r, struct mesh_routes_lists *l,
		     const struct mesh_peer_name *src)
{
	long i = lookup(r, src);
	if (i < 0 || r->hops[i] == UINT_MAX || lists_ready(r, l) < 0)
		return -1;
	if (l->idx[r->n + (size_t)i] == UINT_MAX) {
		unsigned s = (unsigned)i;
		if (bfs_sources(r, l, &s, 1) < 0)
			return -1;
	}
	return i;
}

void mesh_routes_relay_prepare(struct mesh_routes *r, const struct mesh_peer_name *srcs, size_t k)
{
	size_t n = r->n;
	if (!n || !k || lists_ready(r, &r->relay) < 0)
		return;
	unsigned *want = malloc(k * sizeof(*want));
	size_t m = 0;
	for (size_t j = 0; want && j < k; j++) {
		long i = lookup(r, &srcs[j]);
		if (i >= 0 && r->hops[i] != UINT_MAX && r->relay.idx[n + (size_t)i] == UINT_MAX)
			want[m++] = (unsigned)i;
	}
	if (m > 1)
		qsort(want, m, sizeof(*want), cmp_unsigned);
	size_t u = 0;
	for (size_t j = 0; j < m; j++) /* each once */
		if (u == 0 || want[u - 1] != want[j])
			want[u++] = want[j];
	/* whichever BFS has fewer roots; what fails is computed one by one when asked for */
	int *slot = u > 1 ? malloc(n * sizeof(*slot)) : NULL;
	unsigned *roots = u > 1 ? malloc(n * sizeof(*roots)) : NULL;
	size_t nroots = slot && roots ? ball_of(r, slot, roots) : SIZE_MAX;
	if (nroots < u)
		bfs_ball(r, slot, roots, nroots, want, u);
	else
		for (size_t j = 0; j < u; j += 64)
			bfs_sources(r, &r->relay, want + j, (unsigned)(u - j < 64 ? u - j : 64));
	free(slot);
	free(roots);
	free(want);
}

/* src's further list in l: fills out (up to cap) and returns its length. */
static size_t further(struct mesh_routes *r, struct mesh_routes_lists *l,
		      const struct mesh_peer_name *src, const struct mesh_peer_name **out, size_t cap)
{
	long i = lists_of(r, l, src);
	if (i < 0)
		return 0;
	size_t cnt = l->idx[i];
	const int *c = l->a + l->idx[r->n + (size_t)i];
	for (size_t k = 0; k < cnt && k < cap; k++)
		out[k] = &r->names[c[k]];
	return cnt;
}

size_t mesh_routes_bcast_children(struct mesh_routes *r, const struct mesh_peer_name *src,
				  const struct mesh_peer_name **out, size_t cap)
{
	return further(r, &r->bcast, src, out, cap);
}

size_t mesh_routes_relay_further(struct mesh_routes *r, const struct mesh_peer_name *src,
				 const struct mesh_peer_name **out, size_t cap)
{
	return further(r, &r->relay, src, out, cap);
}

bool mesh_routes_relay_closer(struct mesh_routes *r, const struct mesh_peer_name *src,
			      const struct mesh_peer_name *nb)
{
	long i = lists_of(r, &r->relay, src);
	if (i < 0)
		return false;
	const int *c = r->relay.a + r->relay.idx[r->n + (size_t)i] + r->relay.idx[i];
	for (unsigned k = 0; k < r->relay.idx[2 * r->n + (size_t)i]; k++)
		if (mesh_peer_name_eq(&r->names[c[k]], nb))
			return true;
	return false;
}
