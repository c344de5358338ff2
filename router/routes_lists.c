/* router/routes_lists.c: the per-source lists of the routes (routes.h): our children in a
 * source's broadcast tree and the gossip relay's neighbours, computed from the graph
 * routes.c keeps. Pure: no I/O.
 *
 * Per-source lists (struct mesh_routes_lists, used twice: the broadcast children with one
 * parent, the gossip relay with MESH_ROUTES_RELAY_PARENTS): one compact array holding, source
 * after source in the order they were computed, our neighbours one hop further from that
 * source for which we are among their first `parents` neighbours one hop closer (name order),
 * then our neighbours one hop closer. Every entry is one of our neighbours, so the array holds
 * at most 2n * (our degree) entries. A source's lists are computed the first time they are
 * asked for, or with many others by mesh_routes_relay_prepare, and kept until the next
 * computation.
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
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/routes_impl.h"

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

/* l's index, made on first use (most routers never flood, so most never need bcast's): 0, or
 * -ENOMEM. */
static int lists_ready(const struct mesh_routes *r, struct mesh_routes_lists *l)
{
	if (l->idx)
		return 0;
	if (!(l->idx = calloc(r->n ? 3 * r->n : 1, sizeof(*l->idx))))
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
	long i = routes_index_of(r, src);
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
		long i = routes_index_of(r, &srcs[j]);
		if (i >= 0 && r->hops[i] != UINT_MAX && r->relay.idx[n + (size_t)i] == UINT_MAX)
			want[m++] = (unsigned)i;
	}
	if (m > 1)
		qsort(want, m, sizeof(*want), routes_cmp_unsigned);
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
