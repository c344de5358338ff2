/* tests/unit/test_routes.c: unicast next hops and broadcast trees (router/routes.c): exact
 * answers on small hand-built topologies, and flooding/forwarding simulated over random graphs
 * with every router computing its own routes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/routes.h"

/* ---- hand-built topologies ------------------------------------------------------------ */

/* Peer 'X' is named 02:00:00:00:00:'X', so name order is letter order. */
static struct mesh_peer_name nm(char c)
{
	struct mesh_peer_name n = { { 2, 0, 0, 0, 0, (uint8_t)c } };
	return n;
}

static void add_conn(struct mesh_topo_peer *p, const struct mesh_peer_name *to, uint8_t flags)
{
	struct mesh_topo_conn *c = realloc(p->conns, (p->nconns + 1) * sizeof(*c));
	cr_assert_not_null(c);
	p->conns = c;
	memset(&c[p->nconns], 0, sizeof(c[0]));
	c[p->nconns].peer = *to;
	c[p->nconns].flags = flags;
	p->nconns++;
}

/* Appends a peer with no connections; returns it. */
static struct mesh_topo_peer *add_peer(struct mesh_topology *t, const struct mesh_peer_name *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap * 2;
		struct mesh_topo_peer *p = realloc(t->peers, cap * sizeof(*p));
		cr_assert_not_null(p);
		t->peers = p;
		t->cap = cap;
	}
	struct mesh_topo_peer *p = &t->peers[t->n++];
	memset(p, 0, sizeof(*p));
	p->name = *name;
	p->version = 1;
	return p;
}

static struct mesh_topo_peer *peer(struct mesh_topology *t, char c)
{
	struct mesh_peer_name n = nm(c);
	struct mesh_topo_peer *p = mesh_topo_find(t, &n);
	cr_assert_not_null(p, "no peer %c", c);
	return p;
}

/* peers: letters, the first is us (entry 0), the rest appended in the order given.
 * links: space separated: "AB" established both ways, "A>B" only A lists B as established,
 * "A~B" both list each other but not established, "A?X" A lists an unknown X (established). */
static void build(struct mesh_topology *t, const char *peers, const char *links)
{
	struct mesh_peer_name self = nm(peers[0]);
	cr_assert_eq(mesh_topo_init(t, &self, "self", 1, 1, 1), 0);
	for (const char *c = peers + 1; *c; c++) {
		struct mesh_peer_name n = nm(*c);
		add_peer(t, &n);
	}
	for (const char *l = links; *l;) {
		if (*l == ' ') {
			l++;
			continue;
		}
		char a = l[0], op = l[1], b;
		if (op == '>' || op == '~' || op == '?') {
			b = l[2];
			l += 3;
		} else {
			b = op;
			op = '-';
			l += 2;
		}
		struct mesh_peer_name na = nm(a), nb = nm(b);
		switch (op) {
		case '-':
			add_conn(peer(t, a), &nb, MESH_TOPO_CONN_ESTABLISHED | MESH_TOPO_CONN_OUTBOUND);
			add_conn(peer(t, b), &na, MESH_TOPO_CONN_ESTABLISHED);
			break;
		case '>':
		case '?':
			add_conn(peer(t, a), &nb, MESH_TOPO_CONN_ESTABLISHED);
			break;
		case '~':
			add_conn(peer(t, a), &nb, MESH_TOPO_CONN_OUTBOUND);
			add_conn(peer(t, b), &na, 0);
			break;
		}
	}
}

static void routes_of(struct mesh_routes *r, const char *peers, const char *links)
{
	struct mesh_topology t;
	build(&t, peers, links);
	memset(r, 0, sizeof(*r));
	cr_assert_eq(mesh_routes_compute(r, &t), 0);
	mesh_topo_free(&t);
}

/* dst reached via nh in hops; nh 0 means unreachable (or dst is us, with hops 0). */
static void route(const struct mesh_routes *r, char dst, char nh, int hops)
{
	struct mesh_peer_name d = nm(dst);
	const struct mesh_peer_name *got = mesh_routes_next_hop(r, &d);
	if (nh) {
		cr_assert_not_null(got, "no next hop for %c", dst);
		cr_assert_eq(got->b[5], (uint8_t)nh, "next hop for %c: got %c, want %c", dst, got->b[5], nh);
	} else {
		cr_assert_null(got, "next hop for %c: got %c, want none", dst, got ? got->b[5] : '?');
	}
	cr_assert_eq(mesh_routes_hops(r, &d), hops, "hops to %c: got %d, want %d", dst,
		     mesh_routes_hops(r, &d), hops);
}

/* Our children in src's tree are exactly `want` (letters in name order). */
static void kids(struct mesh_routes *r, char src, const char *want)
{
	struct mesh_peer_name s = nm(src);
	const struct mesh_peer_name *out[32];
	size_t n = mesh_routes_bcast_children(r, &s, out, 32);
	char got[33];
	for (size_t i = 0; i < n && i < 32; i++)
		got[i] = (char)out[i]->b[5];
	got[n < 32 ? n : 32] = '\0';
	cr_assert_str_eq(got, want, "children for source %c: got \"%s\", want \"%s\"", src, got, want);
}

Test(routes, line_seen_from_the_end)
{
	struct mesh_routes r;
	routes_of(&r, "ADCB", "AB BC CD");
	cr_assert_eq(r.n, 4);
	route(&r, 'A', 0, 0);
	route(&r, 'B', 'B', 1);
	route(&r, 'C', 'B', 2);
	route(&r, 'D', 'B', 3);
	kids(&r, 'A', "B");
	kids(&r, 'B', "");
	kids(&r, 'C', "");
	kids(&r, 'D', "");
	mesh_routes_free(&r);
}

Test(routes, relays_are_neighbours_with_children_in_our_tree)
{
	struct mesh_routes r;
	struct mesh_peer_name b = nm('B'), c = nm('C'), d = nm('D'), z = nm('Z');
	routes_of(&r, "ADCB", "AB BC CD");
	cr_assert(mesh_routes_is_relay(&r, &b), "C and D are reached through B");
	cr_assert(!mesh_routes_is_relay(&r, &c), "not a neighbour of ours");
	cr_assert(!mesh_routes_is_relay(&r, &d));
	cr_assert(!mesh_routes_is_relay(&r, &z), "unknown");
	mesh_routes_free(&r);
	routes_of(&r, "ABCD", "AB AC AD BC CD");
	cr_assert(!mesh_routes_is_relay(&r, &b), "full mesh: every neighbour is a leaf");
	cr_assert(!mesh_routes_is_relay(&r, &c));
	cr_assert(!mesh_routes_is_relay(&r, &d));
	mesh_routes_free(&r);
}

Test(routes, line_seen_from_the_middle)
{
	struct mesh_routes r;
	routes_of(&r, "BDAC", "AB BC CD");
	route(&r, 'A', 'A', 1);
	route(&r, 'B', 0, 0);
	route(&r, 'C', 'C', 1);
	route(&r, 'D', 'C', 2);
	kids(&r, 'A', "C");
	kids(&r, 'B', "AC");
	kids(&r, 'C', "A");
	kids(&r, 'D', "A");
	mesh_routes_free(&r);
}

/* Ring A-D-B-E-C-A: odd, so no ties; the letters are scrambled around the ring. */
Test(routes, ring_of_five)
{
	struct mesh_routes r;
	routes_of(&r, "AEDCB", "AD DB BE EC CA");
	route(&r, 'B', 'D', 2);
	route(&r, 'C', 'C', 1);
	route(&r, 'D', 'D', 1);
	route(&r, 'E', 'C', 2);
	kids(&r, 'A', "CD");
	kids(&r, 'B', "");   /* B: D, E at 1; A (parent D), C (parent E) at 2 */
	kids(&r, 'C', "D");  /* C: A, E; then D (parent A), B (parent E) */
	kids(&r, 'D', "C");  /* D: A, B; then C (parent A), E (parent B) */
	kids(&r, 'E', "");   /* E: B, C; then D (parent B), A (parent C) */
	mesh_routes_free(&r);

	routes_of(&r, "BAECD", "AD DB BE EC CA");
	route(&r, 'A', 'D', 2);
	route(&r, 'C', 'E', 2);
	route(&r, 'D', 'D', 1);
	route(&r, 'E', 'E', 1);
	kids(&r, 'A', "");
	kids(&r, 'B', "DE");
	kids(&r, 'C', "");   /* C's tree: D hangs off A, B off E; nothing below B */
	kids(&r, 'D', "E");  /* D's tree: E hangs off B */
	kids(&r, 'E', "D");
	mesh_routes_free(&r);
}

/* Ring A-E-C-F-B-D-A: the far side is reached two equal ways; name order decides. */
Test(routes, ring_of_six_ties_broken_by_name)
{
	struct mesh_routes r;
	routes_of(&r, "AFEDCB", "AE EC CF FB BD DA");
	route(&r, 'B', 'D', 2);
	route(&r, 'C', 'E', 2);
	route(&r, 'D', 'D', 1);
	route(&r, 'E', 'E', 1);
	/* level 2 from A is B, C; both link to F; B comes first, so F goes the D side */
	route(&r, 'F', 'D', 3);
	kids(&r, 'A', "DE");
	kids(&r, 'F', "");
	kids(&r, 'C', "D");  /* C: E, F; A (parent E), B (parent F); D: parents A, B → A */
	mesh_routes_free(&r);

	/* seen from C: level 2 is A, B; D links to both, A first, so D goes the E side */
	routes_of(&r, "CABDEF", "AE EC CF FB BD DA");
	route(&r, 'A', 'E', 2);
	route(&r, 'B', 'F', 2);
	route(&r, 'D', 'E', 3);
	route(&r, 'E', 'E', 1);
	route(&r, 'F', 'F', 1);
	kids(&r, 'C', "EF");
	kids(&r, 'A', "");   /* A: D, E; B (parent D), C (parent E); F: parents B, C → B */
	kids(&r, 'D', "");   /* D: A, B; E (parent A), F (parent B); C: parents E, F → E */
	kids(&r, 'E', "F");  /* E: A, C; D (parent A), F (parent C); B: parents D, F → D */
	kids(&r, 'B', "");   /* B: D, F; A (parent D), C (parent F); E: parents A, C → A */
	kids(&r, 'F', "E");  /* F: B, C; D (parent B), E (parent C); A: parents D, E → D */
	mesh_routes_free(&r);

	/* seen from D: A's tree is D, E (level 1), B (D), C (E), F (B) */
	routes_of(&r, "DFACEB", "AE EC CF FB BD DA");
	kids(&r, 'A', "B");
	kids(&r, 'E', "B");  /* E: A, C; D (parent A), F (parent C); B: parents D, F → D */
	kids(&r, 'F', "A");  /* F: B, C; D (parent B), E (parent C); A: parents D, E → D */
	route(&r, 'C', 'A', 3);  /* level 2 from D: E, F; C links to both, E first */
	mesh_routes_free(&r);
}

Test(routes, star_from_hub_and_leaf)
{
	struct mesh_routes r;
	routes_of(&r, "CEADB", "CA CB CD CE");
	for (const char *l = "ABDE"; *l; l++)
		route(&r, *l, *l, 1);
	route(&r, 'C', 0, 0);
	kids(&r, 'C', "ABDE");
	kids(&r, 'A', "BDE");
	kids(&r, 'B', "ADE");
	kids(&r, 'D', "ABE");
	kids(&r, 'E', "ABD");
	mesh_routes_free(&r);

	routes_of(&r, "DCBEA", "CA CB CD CE");
	route(&r, 'A', 'C', 2);
	route(&r, 'B', 'C', 2);
	route(&r, 'C', 'C', 1);
	route(&r, 'D', 0, 0);
	route(&r, 'E', 'C', 2);
	kids(&r, 'D', "C");
	for (const char *l = "ABCE"; *l; l++)
		kids(&r, *l, "");
	mesh_routes_free(&r);
}

Test(routes, full_mesh_of_four)
{
	struct mesh_routes r;
	routes_of(&r, "CADB", "AB AC AD BC BD CD");
	route(&r, 'A', 'A', 1);
	route(&r, 'B', 'B', 1);
	route(&r, 'D', 'D', 1);
	kids(&r, 'C', "ABD");
	kids(&r, 'A', "");
	kids(&r, 'B', "");
	kids(&r, 'D', "");
	mesh_routes_free(&r);
}

Test(routes, partitioned)
{
	struct mesh_routes r;
	/* islands {A, B, C} (line B-A-C) and {D, E, F} (triangle) */
	routes_of(&r, "BFADCE", "AB AC DE EF DF");
	route(&r, 'A', 'A', 1);
	route(&r, 'C', 'A', 2);
	route(&r, 'D', 0, -1);
	route(&r, 'E', 0, -1);
	route(&r, 'F', 0, -1);
	kids(&r, 'B', "A");
	kids(&r, 'C', "");
	kids(&r, 'D', "");
	kids(&r, 'E', "");
	kids(&r, 'F', "");
	mesh_routes_free(&r);

	routes_of(&r, "EABCDF", "AB AC DE EF DF");
	route(&r, 'A', 0, -1);
	route(&r, 'B', 0, -1);
	route(&r, 'D', 'D', 1);
	route(&r, 'F', 'F', 1);
	kids(&r, 'E', "DF");
	kids(&r, 'A', "");
	kids(&r, 'D', "");
	mesh_routes_free(&r);
}

Test(routes, one_sided_and_unestablished_links_do_not_count)
{
	struct mesh_routes r;
	/* A lists B, B does not list A: B is reached through C */
	routes_of(&r, "ABC", "A>B AC CB");
	route(&r, 'B', 'C', 2);
	route(&r, 'C', 'C', 1);
	kids(&r, 'A', "C");
	kids(&r, 'B', "");
	mesh_routes_free(&r);

	/* the other way round, seen from the side that does not list */
	routes_of(&r, "BAC", "A>B AC CB");
	route(&r, 'A', 'C', 2);
	kids(&r, 'A', "");
	kids(&r, 'B', "C");
	mesh_routes_free(&r);

	/* B lists A, A does not list B, and nothing else: unreachable both ways */
	routes_of(&r, "AB", "B>A");
	route(&r, 'B', 0, -1);
	kids(&r, 'A', "");
	kids(&r, 'B', "");
	mesh_routes_free(&r);

	/* listed both ways but not established; links to an unknown peer; a self link */
	routes_of(&r, "ABC", "A~B A?X A>A AC");
	route(&r, 'B', 0, -1);
	route(&r, 'C', 'C', 1);
	cr_assert_eq(r.n, 3);
	mesh_routes_free(&r);

	/* one side established, the other only listed */
	struct mesh_topology t;
	build(&t, "AB", "");
	struct mesh_peer_name a = nm('A'), b = nm('B');
	add_conn(peer(&t, 'A'), &b, MESH_TOPO_CONN_ESTABLISHED);
	add_conn(peer(&t, 'B'), &a, MESH_TOPO_CONN_OUTBOUND);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(mesh_routes_compute(&r, &t), 0);
	route(&r, 'B', 0, -1);
	/* now established on B's side too (duplicate entries are harmless) */
	add_conn(peer(&t, 'B'), &a, MESH_TOPO_CONN_ESTABLISHED);
	add_conn(peer(&t, 'B'), &a, MESH_TOPO_CONN_ESTABLISHED);
	cr_assert_eq(mesh_routes_compute(&r, &t), 0);
	route(&r, 'B', 'B', 1);
	kids(&r, 'A', "B");
	kids(&r, 'B', "");
	mesh_routes_free(&r);
	mesh_topo_free(&t);
}

Test(routes, self_only_unknown_and_recompute)
{
	struct mesh_routes r;
	routes_of(&r, "A", "A?B");
	cr_assert_eq(r.n, 1);
	struct mesh_peer_name a = nm('A');
	cr_assert(mesh_peer_name_eq(&r.self, &a));
	route(&r, 'A', 0, 0);
	route(&r, 'B', 0, -1);
	kids(&r, 'A', "");
	kids(&r, 'B', "");

	/* recompute into the same struct: old contents replaced (ASan checks nothing leaks) */
	struct mesh_topology t;
	build(&t, "BAC", "AB BC");
	cr_assert_eq(mesh_routes_compute(&r, &t), 0);
	cr_assert(mesh_peer_name_eq(&r.self, &t.peers[0].name));
	route(&r, 'A', 'A', 1);
	route(&r, 'C', 'C', 1);
	route(&r, 'D', 0, -1);
	kids(&r, 'Z', "");
	/* out is filled up to cap, the count is the full count */
	struct mesh_peer_name b = nm('B');
	const struct mesh_peer_name *out[1] = { NULL };
	cr_assert_eq(mesh_routes_bcast_children(&r, &b, out, 1), 2);
	cr_assert_eq(out[0]->b[5], 'A');
	cr_assert_eq(mesh_routes_bcast_children(&r, &b, NULL, 0), 2);
	mesh_topo_free(&t);

	/* an empty topology (n == 0) */
	struct mesh_topology empty = { .self = nm('Q') };
	cr_assert_eq(mesh_routes_compute(&r, &empty), 0);
	cr_assert_eq(r.n, 0);
	route(&r, 'Q', 0, -1);
	kids(&r, 'Q', "");
	mesh_routes_free(&r);
	mesh_routes_free(&r);   /* freeing twice is fine */
}

/* ---- random graphs, simulated ----------------------------------------------------------- */

#define RMAX 30

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

struct world {
	unsigned n;
	struct mesh_peer_name names[RMAX];
	/* 0 nothing, 1 symmetric established, 2 i lists j (one-sided), 3 listed, not established */
	uint8_t link[RMAX][RMAX];
	int dist[RMAX][RMAX];          /* reference all-pairs BFS over the symmetric links */
	struct mesh_routes r[RMAX];    /* as computed by each node */
};

static unsigned node_of(const struct world *w, const struct mesh_peer_name *name)
{
	for (unsigned i = 0; i < w->n; i++)
		if (mesh_peer_name_eq(&w->names[i], name))
			return i;
	cr_assert_fail("unknown name in routes");
	return 0;
}

static void random_world(struct world *w, bool connected)
{
	memset(w, 0, sizeof(*w));
	w->n = 2 + rnd() % (RMAX - 1);
	for (unsigned i = 0; i < w->n; i++) {
	again:
		for (int k = 0; k < MESH_PEER_NAME_LEN; k++)
			w->names[i].b[k] = (uint8_t)rnd();
		w->names[i].b[0] &= 0x03;   /* share prefixes now and then */
		for (unsigned j = 0; j < i; j++)
			if (mesh_peer_name_eq(&w->names[i], &w->names[j]))
				goto again;
	}
	unsigned density = 5 + rnd() % 40;   /* percent */
	for (unsigned i = 0; i < w->n; i++)
		for (unsigned j = i + 1; j < w->n; j++) {
			unsigned x = rnd() % 100;
			if (x < density)
				w->link[i][j] = w->link[j][i] = 1;
			else if (x < density + 4)
				w->link[i][j] = 2;   /* only i lists j */
			else if (x < density + 6)
				w->link[i][j] = w->link[j][i] = 3;
		}
	if (connected)
		for (unsigned i = 1; i < w->n; i++) {
			unsigned j = rnd() % i;
			w->link[i][j] = w->link[j][i] = 1;
		}
	for (unsigned s = 0; s < w->n; s++) {
		unsigned q[RMAX], qn = 0;
		for (unsigned i = 0; i < w->n; i++)
			w->dist[s][i] = -1;
		w->dist[s][s] = 0;
		q[qn++] = s;
		for (unsigned qi = 0; qi < qn; qi++)
			for (unsigned v = 0; v < w->n; v++)
				if (w->link[q[qi]][v] == 1 && w->dist[s][v] < 0) {
					w->dist[s][v] = w->dist[s][q[qi]] + 1;
					q[qn++] = v;
				}
	}
}

/* The topology as node v holds it: v first, the others in a shuffled order. */
static void world_topology(const struct world *w, unsigned v, struct mesh_topology *t)
{
	unsigned order[RMAX], k = 0;
	for (unsigned i = 0; i < w->n; i++)
		if (i != v)
			order[k++] = i;
	for (unsigned i = k; i > 1; i--) {
		unsigned j = rnd() % i, tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	cr_assert_eq(mesh_topo_init(t, &w->names[v], "v", 1, 1, 1), 0);
	for (unsigned i = 0; i < k; i++)
		add_peer(t, &w->names[order[i]]);
	for (unsigned i = 0; i < w->n; i++) {
		struct mesh_topo_peer *p = mesh_topo_find(t, &w->names[i]);
		for (unsigned j = 0; j < w->n; j++) {
			if (w->link[i][j] == 1 || w->link[i][j] == 2)
				add_conn(p, &w->names[j], MESH_TOPO_CONN_ESTABLISHED);
			else if (w->link[i][j] == 3)
				add_conn(p, &w->names[j], 0);
		}
	}
}

static void check_world(struct world *w)
{
	for (unsigned v = 0; v < w->n; v++) {
		struct mesh_topology t;
		world_topology(w, v, &t);
		memset(&w->r[v], 0, sizeof(w->r[v]));
		cr_assert_eq(mesh_routes_compute(&w->r[v], &t), 0);
		/* the entry order of the others must not matter */
		struct mesh_topology t2;
		struct mesh_routes r2 = { 0 };
		world_topology(w, v, &t2);
		cr_assert_eq(mesh_routes_compute(&r2, &t2), 0);
		cr_assert_eq(memcmp(r2.next_hop, w->r[v].next_hop, w->n * sizeof(int)), 0);
		for (unsigned src = 0; src < w->n; src++) {
			const struct mesh_peer_name *a[RMAX], *b[RMAX];
			size_t na = mesh_routes_bcast_children(&r2, &w->names[src], a, RMAX);
			size_t nb = mesh_routes_bcast_children(&w->r[v], &w->names[src], b, RMAX);
			cr_assert_eq(na, nb);
			for (size_t k = 0; k < na && k < RMAX; k++)
				cr_assert(mesh_peer_name_eq(a[k], b[k]));
		}
		/* the relay lists of every source at once are those computed one by one */
		mesh_routes_relay_prepare(&r2, w->names, w->n);
		for (unsigned src = 0; src < w->n; src++) {
			const struct mesh_peer_name *a[RMAX], *b[RMAX];
			size_t na = mesh_routes_relay_further(&r2, &w->names[src], a, RMAX);
			size_t nb = mesh_routes_relay_further(&w->r[v], &w->names[src], b, RMAX);
			cr_assert_eq(na, nb);
			for (size_t k = 0; k < na && k < RMAX; k++)
				cr_assert(mesh_peer_name_eq(a[k], b[k]));
			for (unsigned u = 0; u < w->n; u++)
				cr_assert_eq(mesh_routes_relay_closer(&r2, &w->names[src], &w->names[u]),
					     mesh_routes_relay_closer(&w->r[v], &w->names[src], &w->names[u]));
		}
		mesh_routes_free(&r2);
		mesh_topo_free(&t2);
		mesh_topo_free(&t);
	}

	/* unicast: follow next hops from every node to every destination */
	for (unsigned u = 0; u < w->n; u++)
		for (unsigned d = 0; d < w->n; d++) {
			int want = w->dist[u][d];
			cr_assert_eq(mesh_routes_hops(&w->r[u], &w->names[d]), want,
				     "n=%u hops %u->%u", w->n, u, d);
			if (want <= 0) {
				cr_assert_null(mesh_routes_next_hop(&w->r[u], &w->names[d]));
				continue;
			}
			unsigned cur = u;
			int steps = 0;
			while (cur != d) {
				cr_assert_lt(steps, want, "n=%u %u->%u: loop or detour", w->n, u, d);
				const struct mesh_peer_name *nh = mesh_routes_next_hop(&w->r[cur], &w->names[d]);
				cr_assert_not_null(nh, "n=%u %u->%u: stuck at %u", w->n, u, d, cur);
				unsigned next = node_of(w, nh);
				cr_assert_eq(w->link[cur][next], 1, "next hop is not a neighbour");
				cur = next;
				steps++;
			}
			cr_assert_eq(steps, want);
		}

	/* broadcast: flood from every source, each router forwarding to its own children[S] */
	for (unsigned s = 0; s < w->n; s++) {
		unsigned got[RMAX] = { 0 }, q[RMAX * RMAX], qn = 0;
		q[qn++] = s;
		for (unsigned qi = 0; qi < qn; qi++) {
			unsigned at = q[qi];
			const struct mesh_peer_name *out[RMAX];
			size_t k = mesh_routes_bcast_children(&w->r[at], &w->names[s], out, RMAX);
			cr_assert_leq(k, RMAX);
			for (size_t c = 0; c < k; c++) {
				unsigned to = node_of(w, out[c]);
				cr_assert_eq(w->link[at][to], 1, "child is not a neighbour");
				cr_assert_eq(got[to], 0, "n=%u source %u: %u got it twice", w->n, s, to);
				got[to]++;
				q[qn++] = to;
			}
		}
		for (unsigned v = 0; v < w->n; v++) {
			unsigned want = (v != s && w->dist[s][v] > 0) ? 1 : 0;
			cr_assert_eq(got[v], want, "n=%u source %u: %u got it %u times", w->n, s, v, got[v]);
		}
	}

	/* gossip relay: from every source, each router passes on what came from a neighbour one
	 * hop closer to the source, to those one hop further it relays to: every reachable router
	 * gets it, from as many of its neighbours one hop closer as MESH_ROUTES_RELAY_PARENTS
	 * allows, and never from one that is not */
	for (unsigned s = 0; s < w->n; s++) {
		unsigned got[RMAX] = { 0 }, q[RMAX * RMAX], qn = 0;
		for (unsigned v = 0; v < w->n; v++)
			if (w->link[s][v] == 1 && w->dist[s][v] == 1) {
				got[v]++;
				q[qn++] = v;
			}
		for (unsigned qi = 0; qi < qn; qi++) {
			unsigned at = q[qi];
			const struct mesh_peer_name *out[RMAX];
			size_t k = mesh_routes_relay_further(&w->r[at], &w->names[s], out, RMAX);
			for (size_t c = 0; c < k; c++) {
				unsigned to = node_of(w, out[c]);
				cr_assert_eq(w->link[at][to], 1, "relayed to a non-neighbour");
				cr_assert_eq(w->dist[s][to], w->dist[s][at] + 1, "n=%u source %u: %u -> %u is no step away from it",
					     w->n, s, at, to);
				cr_assert(mesh_routes_relay_closer(&w->r[to], &w->names[s], &w->names[at]),
					  "n=%u source %u: %u does not take %u for a closer neighbour", w->n, s, to, at);
				if (got[to]++ == 0)
					q[qn++] = to;
			}
		}
		for (unsigned v = 0; v < w->n; v++) {
			unsigned closer = 0;
			for (unsigned u = 0; u < w->n; u++)
				closer += w->link[v][u] == 1 && w->dist[s][v] > 0 && w->dist[s][u] == w->dist[s][v] - 1;
			unsigned want = closer < MESH_ROUTES_RELAY_PARENTS ? closer : MESH_ROUTES_RELAY_PARENTS;
			if (w->dist[s][v] == 1)
				want = 1; /* from the source itself */
			cr_assert_eq(got[v], want, "n=%u source %u: %u got it %u times, has %u closer neighbours",
				     w->n, s, v, got[v], closer);
			if (w->dist[s][v] < 0)
				cr_assert_eq(mesh_routes_relay_further(&w->r[v], &w->names[s], NULL, 0), 0);
		}
	}
	for (unsigned v = 0; v < w->n; v++)
		mesh_routes_free(&w->r[v]);
}

Test(routes, random_graphs_every_viewpoint)
{
	static struct world w;
	for (unsigned i = 0; i < 200; i++) {
		random_world(&w, i % 2 == 0);
		check_world(&w);
	}
}

/* Not a benchmark: checks a large sparse topology computes and stays consistent. */
Test(routes, thousand_peers)
{
	enum { N = 1024 };
	struct mesh_topology t;
	struct mesh_peer_name names[N];
	for (unsigned i = 0; i < N; i++) {
		unsigned x = (i * 389u) % N;   /* names not in entry order */
		names[i] = (struct mesh_peer_name){ { 2, 0, 0, 0, (uint8_t)(x >> 8), (uint8_t)x } };
	}
	cr_assert_eq(mesh_topo_init(&t, &names[0], "big", 1, 1, 1), 0);
	for (unsigned i = 1; i < N; i++)
		add_peer(&t, &names[i]);
	/* a ring plus chords to i+7 and i+31 */
	static const unsigned step[] = { 1, 7, 31 };
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < 3; k++) {
			unsigned j = (i + step[k]) % N;
			add_conn(&t.peers[i], &names[j], MESH_TOPO_CONN_ESTABLISHED);
			add_conn(&t.peers[j], &names[i], MESH_TOPO_CONN_ESTABLISHED);
		}
	struct mesh_routes r = { 0 };
	cr_assert_eq(mesh_routes_compute(&r, &t), 0);
	cr_assert_eq(r.n, N);
	size_t total = 0;
	for (unsigned i = 1; i < N; i++) {
		cr_assert_geq(mesh_routes_hops(&r, &names[i]), 1);
		const struct mesh_peer_name *nh = mesh_routes_next_hop(&r, &names[i]);
		cr_assert_not_null(nh);
		cr_assert_eq(mesh_routes_hops(&r, nh), 1);
		total += mesh_routes_bcast_children(&r, &names[i], NULL, 0);
	}
	cr_assert_gt(total, 0);
	cr_assert_eq(mesh_routes_bcast_children(&r, &names[0], NULL, 0), 6);

	/* the relay lists of many sources at once are those computed one source at a time:
	 * all of them (by ball: the roots are our 6 neighbours and theirs; some names twice, one
	 * unknown), then 5 (by source: fewer than the ball's roots) */
	struct mesh_routes few = { 0 };
	cr_assert_eq(mesh_routes_compute(&few, &t), 0);
	mesh_routes_relay_prepare(&few, names + 100, 5);
	for (unsigned i = 100; i < 105; i++) {
		const struct mesh_peer_name *a[8], *b[8];
		size_t na = mesh_routes_relay_further(&r, &names[i], a, 8);
		cr_assert_eq(mesh_routes_relay_further(&few, &names[i], b, 8), na);
		for (size_t k = 0; k < na && k < 8; k++)
			cr_assert(mesh_peer_name_eq(a[k], b[k]));
		for (unsigned k = 0; k < 3; k++)
			cr_assert_eq(mesh_routes_relay_closer(&r, &names[i], &names[step[k]]),
				     mesh_routes_relay_closer(&few, &names[i], &names[step[k]]));
	}
	mesh_routes_free(&few);
	struct mesh_routes all = { 0 };
	cr_assert_eq(mesh_routes_compute(&all, &t), 0);
	struct mesh_peer_name *ask = malloc((N + 101) * sizeof(*ask));
	cr_assert_not_null(ask);
	for (unsigned i = 0; i < N; i++)
		ask[i] = names[(i * 7u) % N];
	for (unsigned i = 0; i < 100; i++)
		ask[N + i] = names[i * 3u];
	ask[N + 100] = (struct mesh_peer_name){ { 2, 0, 0, 0, 0x7f, 0x7f } };
	mesh_routes_relay_prepare(&all, ask, N + 101);
	for (unsigned i = 0; i < N; i++) {
		const struct mesh_peer_name *a[8], *b[8];
		size_t na = mesh_routes_relay_further(&r, &names[i], a, 8);
		size_t nb = mesh_routes_relay_further(&all, &names[i], b, 8);
		cr_assert_eq(na, nb, "source %u: %zu further one by one, %zu at once", i, na, nb);
		for (size_t k = 0; k < na && k < 8; k++)
			cr_assert(mesh_peer_name_eq(a[k], b[k]));
		for (unsigned j = 0; j < N; j += 97)
			cr_assert_eq(mesh_routes_relay_closer(&r, &names[i], &names[j]),
				     mesh_routes_relay_closer(&all, &names[i], &names[j]));
		for (unsigned k = 0; k < 3; k++) {
			const struct mesh_peer_name *nb0 = &names[(i + step[k]) % N];
			cr_assert_eq(mesh_routes_relay_closer(&r, &names[i], nb0),
				     mesh_routes_relay_closer(&all, &names[i], nb0));
		}
	}
	free(ask);
	mesh_routes_free(&all);
	mesh_routes_free(&r);
	mesh_topo_free(&t);
}

/* The relay lists of every source at once, by ball with more than 64 roots (three BFS of up to
 * 64 each: 12 neighbours and theirs), are those computed one source at a time. */
Test(routes, relay_lists_at_once_over_many_roots)
{
	enum { N = 600 };
	static const unsigned step[] = { 1, 5, 17, 41, 97, 211 };
	struct mesh_topology t;
	struct mesh_peer_name names[N];
	for (unsigned i = 0; i < N; i++) {
		unsigned x = (i * 263u) % N;
		names[i] = (struct mesh_peer_name){ { 2, 0, 0, 0, (uint8_t)(x >> 8), (uint8_t)x } };
	}
	cr_assert_eq(mesh_topo_init(&t, &names[0], "big", 1, 1, 1), 0);
	for (unsigned i = 1; i < N; i++)
		add_peer(&t, &names[i]);
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < 6; k++) {
			unsigned j = (i + step[k]) % N;
			add_conn(&t.peers[i], &names[j], MESH_TOPO_CONN_ESTABLISHED);
			add_conn(&t.peers[j], &names[i], MESH_TOPO_CONN_ESTABLISHED);
		}
	struct mesh_routes one = { 0 }, all = { 0 };
	cr_assert_eq(mesh_routes_compute(&one, &t), 0);
	cr_assert_eq(mesh_routes_compute(&all, &t), 0);
	mesh_routes_relay_prepare(&all, names, N);
	size_t total = 0;
	for (unsigned i = 0; i < N; i++) {
		const struct mesh_peer_name *a[16], *b[16];
		size_t na = mesh_routes_relay_further(&one, &names[i], a, 16);
		cr_assert_eq(mesh_routes_relay_further(&all, &names[i], b, 16), na, "source %u", i);
		for (size_t k = 0; k < na && k < 16; k++)
			cr_assert(mesh_peer_name_eq(a[k], b[k]));
		total += na;
		for (unsigned k = 0; k < 6; k++)
			for (int sign = -1; sign <= 1; sign += 2) {
				const struct mesh_peer_name *nb = &names[(N + sign * (int)step[k]) % N];
				cr_assert_eq(mesh_routes_relay_closer(&one, &names[i], nb),
					     mesh_routes_relay_closer(&all, &names[i], nb), "source %u", i);
			}
	}
	cr_assert_gt(total, N); /* not all empty */
	mesh_routes_free(&one);
	mesh_routes_free(&all);
	mesh_topo_free(&t);
}

/* ---- the memo: a computation reuses what it read of the same topology last time ---------- */

enum { MN = 40 };

/* Entry of name index x (if known) lists as established exactly the j with link[x][j]; as
 * topology.c does, with a new array and a new version. */
static void memo_set_conns(struct mesh_topology *t, const struct mesh_peer_name *names,
			   uint8_t link[MN][MN], unsigned x)
{
	struct mesh_topo_peer *p = mesh_topo_find(t, &names[x]);
	if (!p)
		return;
	free(p->conns);
	p->conns = NULL;
	p->nconns = 0;
	for (unsigned j = 0; j < MN; j++)
		if (link[x][j])
			add_conn(p, &names[j], MESH_TOPO_CONN_ESTABLISHED);
	p->version++;
}

static void same_routes(const struct mesh_routes *a, const struct mesh_routes *b, unsigned step)
{
	cr_assert_eq(a->n, b->n, "step %u", step);
	cr_assert_eq(a->me, b->me, "step %u", step);
	cr_assert_eq(memcmp(a->names, b->names, a->n * sizeof(*a->names)), 0, "step %u", step);
	cr_assert_eq(memcmp(a->next_hop, b->next_hop, a->n * sizeof(int)), 0, "step %u", step);
	cr_assert_eq(memcmp(a->hops, b->hops, a->n * sizeof(unsigned)), 0, "step %u", step);
	cr_assert_eq(memcmp(a->adj_off, b->adj_off, (a->n + 1) * sizeof(size_t)), 0, "step %u", step);
	cr_assert_eq(memcmp(a->adj, b->adj, a->adj_off[a->n] * sizeof(unsigned)), 0, "step %u", step);
}

/* Entries changed (new version), appended (some already listed by others while unknown) and
 * forgotten (the others' entries move): after each change, routes recomputed into the same
 * struct equal routes computed afresh. */
Test(routes, the_memo_follows_every_change)
{
	struct mesh_peer_name names[MN];
	for (unsigned i = 0; i < MN; i++)
		names[i] = (struct mesh_peer_name){ { 2, 0, 0, 0, 1, (uint8_t)((i * 37u) % 251u) } };
	static uint8_t link[MN][MN];
	memset(link, 0, sizeof(link));
	for (unsigned i = 0; i < MN; i++)
		for (unsigned j = i + 1; j < MN; j++)
			if (rnd() % 8 == 0) {
				link[i][j] = 1;
				link[j][i] = rnd() % 10 != 0; /* now and then one-sided */
			}
	struct mesh_topology t;
	cr_assert_eq(mesh_topo_init(&t, &names[0], "us", 1, 1, 1), 0);
	for (unsigned i = 1; i < 30; i++)
		add_peer(&t, &names[i]);
	for (unsigned i = 0; i < 30; i++)
		memo_set_conns(&t, names, link, i);
	struct mesh_routes kept = { 0 };
	for (unsigned step = 0; step < 800; step++) {
		unsigned x = 1 + rnd() % (MN - 1), what = rnd() % 4;
		bool known = mesh_topo_find(&t, &names[x]) != NULL;
		if (what <= 1 && known) { /* x's links change */
			for (unsigned j = 0; j < MN; j++)
				if (j != x && rnd() % 6 == 0)
					link[x][j] = !link[x][j];
			memo_set_conns(&t, names, link, x);
		} else if (what == 2 && !known) { /* x appears */
			add_peer(&t, &names[x]);
			memo_set_conns(&t, names, link, x);
		} else if (what == 3 && known) { /* x leaves and is forgotten */
			for (unsigned j = 0; j < MN; j++) {
				link[x][j] = 0;
				if (link[j][x]) {
					link[j][x] = 0;
					memo_set_conns(&t, names, link, j);
				}
			}
			memo_set_conns(&t, names, link, x);
			size_t before = t.n;
			cr_assert_geq(mesh_topo_forget_unreachable(&t, 1000 + step, 0), 1);
			cr_assert_lt(t.n, before);
		}
		if (rnd() % 2) /* sometimes two changes in one go: a forget, then an append */
			continue;
		cr_assert_eq(mesh_routes_compute(&kept, &t), 0);
		struct mesh_routes fresh = { 0 };
		cr_assert_eq(mesh_routes_compute(&fresh, &t), 0);
		same_routes(&kept, &fresh, step);
		mesh_routes_free(&fresh);
	}
	mesh_routes_free(&kept);
	mesh_topo_free(&t);
}

/* A forget and an append between two computations leave the count as it was, but entries
 * have moved: the memo must not take the old lists for the new places. */
Test(routes, the_memo_sees_entries_move)
{
	struct mesh_topology t;
	build(&t, "OABC", "OB OC");
	struct mesh_routes kept = { 0 }, fresh = { 0 };
	cr_assert_eq(mesh_routes_compute(&kept, &t), 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 1000, 0), 1); /* A: nobody lists it */
	struct mesh_peer_name d = nm('D'), c = nm('C');
	add_peer(&t, &d);
	add_conn(peer(&t, 'D'), &c, MESH_TOPO_CONN_ESTABLISHED);
	struct mesh_topo_peer *pc = peer(&t, 'C');
	add_conn(pc, &d, MESH_TOPO_CONN_ESTABLISHED);
	pc->version++;
	cr_assert_eq(t.n, 4);
	cr_assert_eq(mesh_routes_compute(&kept, &t), 0);
	cr_assert_eq(mesh_routes_compute(&fresh, &t), 0);
	same_routes(&kept, &fresh, 0);
	route(&kept, 'B', 'B', 1);
	route(&kept, 'D', 'C', 2);
	mesh_routes_free(&kept);
	mesh_routes_free(&fresh);
	mesh_topo_free(&t);
}
