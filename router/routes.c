/* router/routes.c: the routes from the topology (see routes.h, DESIGN §6): the graph, our own
 * BFS (unicast next hops and hops), and the lookups on them. Pure: no I/O. The per-source lists
 * (broadcast children, the gossip relay's neighbours) are routes_lists.c's, what a computation
 * keeps for the next is routes_memo.c's.
 *
 * The BFS rule: levels in name order, a node's parent is the first node (in name order) of the
 * previous level that links to it, i.e. its lowest-named neighbour one hop closer to the root.
 * Indices into `names` are name order, and adjacency lists are sorted by index, so "first
 * neighbour at depth d-1" is a scan of a sorted list.
 *
 * Cost: the symmetric adjacency is built once per computation from the memo (each entry's
 * connections resolved once and reused while the entry does not change; each node's list
 * sorted) and kept for the lists; our own BFS is O(n + E). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/routes_impl.h"

static void *alloc0(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
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

static void sort_small(unsigned *a, size_t n)
{
	if (n > 16) {
		qsort(a, n, sizeof(*a), routes_cmp_unsigned);
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
	return bsearch(&v, a, n, sizeof(*a), routes_cmp_unsigned) != NULL;
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

void mesh_routes_free(struct mesh_routes *r)
{
	routes_memo_free(r->memo);
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
		routes_memo_free(memo);
		return 0;
	}
	if (n > INT_MAX / 2) {
		routes_memo_free(memo);
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
	if (!memo || !queue || !r->names || !r->next_hop || !r->hops || routes_memo_update(memo, t) < 0)
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
	routes_memo_free(memo);
	{
		struct mesh_peer_name self = r->self;
		mesh_routes_free(r);
		r->self = self;
	}
	return rc;
}

long routes_index_of(const struct mesh_routes *r, const struct mesh_peer_name *name)
{
	return find_name(r->names, r->n, name);
}

const struct mesh_peer_name *mesh_routes_next_hop(const struct mesh_routes *r,
						  const struct mesh_peer_name *dst)
{
	long i = routes_index_of(r, dst);
	if (i < 0 || r->next_hop[i] < 0)
		return NULL;
	return &r->names[r->next_hop[i]];
}

bool mesh_routes_is_relay(const struct mesh_routes *r, const struct mesh_peer_name *hop)
{
	long h = routes_index_of(r, hop);
	if (h < 0)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if ((long)i != h && r->next_hop[i] == h)
			return true;
	return false;
}

int mesh_routes_hops(const struct mesh_routes *r, const struct mesh_peer_name *dst)
{
	long i = routes_index_of(r, dst);
	if (i < 0 || r->hops[i] == UINT_MAX)
		return -1;
	return (int)r->hops[i];
}

