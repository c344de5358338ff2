/* tests/unit/test_discover.c: discovery's bounds (router_discover in router/conns.c, issue 16
 * finding 4) over a topology built by hand in which one peer claims to reach 300 peers at
 * three addresses each. The router is real as far as discovery needs: an event base, the
 * gossip hub, the control listener on an ephemeral port; the event loop never runs, so
 * nothing is dialled. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "router/config.h"
#include "router/gossip.h"
#include "router/internal.h"

#define NFAKE 300

static struct mesh_peer_name name_of(unsigned i)
{
	struct mesh_peer_name n = { { 0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

static struct mesh_topo_peer *add_peer(struct mesh_topology *t, struct mesh_peer_name n)
{
	if (t->n == t->cap) {
		t->cap = t->cap * 2 + 8;
		t->peers = realloc(t->peers, t->cap * sizeof(*t->peers));
		cr_assert_not_null(t->peers);
	}
	struct mesh_topo_peer *p = &t->peers[t->n++];
	memset(p, 0, sizeof(*p));
	p->name = n;
	p->version = 1;
	return p;
}

/* Discovered targets (at peer, or all with NULL). */
static unsigned targets_of(const struct mesh_router *r, const struct mesh_peer_name *peer)
{
	unsigned n = 0;
	for (const struct mesh_target *t = r->targets; t; t = t->next)
		n += t->discovered && (!peer || mesh_peer_name_eq(&t->peer, peer));
	return n;
}

static unsigned all_targets(const struct mesh_router *r)
{
	unsigned n = 0;
	for (const struct mesh_target *t = r->targets; t; t = t->next)
		n++;
	return n;
}

/* Makes us and peer index i list each other established, and computes the routes: i is
 * reachable. Peer i's own connections must be in place (one more is added). */
static void link_us_with(struct mesh_router *r, size_t i)
{
	struct mesh_topo_peer *us = &r->topo.peers[0], *p = &r->topo.peers[i];
	us->conns = realloc(us->conns, (us->nconns + 1) * sizeof(*us->conns));
	p->conns = realloc(p->conns, (p->nconns + 1) * sizeof(*p->conns));
	cr_assert(us->conns && p->conns);
	us->conns[us->nconns++] = (struct mesh_topo_conn){ .peer = p->name,
							    .flags = MESH_TOPO_CONN_ESTABLISHED };
	p->conns[p->nconns++] = (struct mesh_topo_conn){ .peer = r->name,
							  .flags = MESH_TOPO_CONN_ESTABLISHED };
	cr_assert_eq(mesh_routes_compute(&r->routes, &r->topo), 0);
}

Test(discover, bounded_in_all_and_per_peer)
{
	cr_assert(sodium_init() >= 0);
	static struct mesh_router r;
	static struct mesh_config cfg; /* port 0: the listener takes an ephemeral one */
	char err[256];
	r.base = event_base_new();
	r.cfg = &cfg;
	r.name = name_of(1);
	/* one peer given on the command line: it does not count against the bound */
	cr_assert_eq(mesh_addr_parse("198.51.100.7:6783", 0, &cfg.peers[0], NULL), 0);
	cfg.npeers = 1;
	cr_assert_eq(router_gossip_init(&r), 0);
	cr_assert_eq(router_conns_start(&r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mesh_topo_init(&r.topo, &r.name, "us", 1, 1, 1), 0);

	/* peer 2 says it reaches peers 10..309, each at three addresses; they all exist */
	struct mesh_topo_peer *liar = add_peer(&r.topo, name_of(2));
	struct mesh_topo_conn *c = calloc(3 * NFAKE, sizeof(*c));
	for (unsigned i = 0; i < NFAKE; i++)
		for (unsigned k = 0; k < 3; k++) {
			c[3 * i + k].peer = name_of(10 + i);
			c[3 * i + k].ip = htonl(0xc6130000u + i);
			c[3 * i + k].port = (uint16_t)(6783 + k);
			c[3 * i + k].flags = MESH_TOPO_CONN_ESTABLISHED;
		}
	liar = &r.topo.peers[1];
	liar->conns = c;
	liar->nconns = 3 * NFAKE;
	for (unsigned i = 0; i < NFAKE; i++)
		add_peer(&r.topo, name_of(10 + i));
	/* and one more address, of a peer the topology does not know */
	struct mesh_topo_peer *q = add_peer(&r.topo, name_of(3));
	q->conns = calloc(1, sizeof(*q->conns));
	q->conns[0].peer = name_of(999);
	q->conns[0].ip = htonl(0xc6140001u);
	q->conns[0].port = 6783;
	q->nconns = 1;
	link_us_with(&r, 1); /* the liar is a neighbour of ours */

	router_discover(&r);
	unsigned n = targets_of(&r, NULL);
	cr_assert_gt(n, 0, "discovery dialled nothing");
	cr_assert_eq(n, 128, "%u addresses dialled, learned from one peer's gossip", n);
	for (unsigned i = 0; i < NFAKE; i++) {
		struct mesh_peer_name p = name_of(10 + i);
		cr_assert_leq(targets_of(&r, &p), 2, "peer %u has %u addresses dialled", 10 + i,
			      targets_of(&r, &p));
	}
	struct mesh_peer_name ghost = name_of(999);
	cr_assert_eq(targets_of(&r, &ghost), 0, "an address of a peer nobody announced was dialled");
	cr_assert_gt(r.ctr.discovery_refused, 0);

	cr_assert_eq(all_targets(&r), n + 1, "the configured peer is still dialled");

	router_discover(&r); /* again: nothing changes, nothing is added twice */
	cr_assert_eq(targets_of(&r, NULL), n);

	router_conns_stop(&r);
	router_gossip_free(&r);
	mesh_routes_free(&r.routes);
	mesh_topo_free(&r.topo);
	event_base_free(r.base);
}

/* Issue 16, finding 4, seen with tests/tools/hostile_peer: a peer with the password announces
 * thousands of made-up peers (which nobody reaches), each at its own address. They take at most
 * DISCOVERED_UNVOUCHED_MAX (16) places, never those of the addresses a peer we reach announces:
 * before, they took all 128 and a new host was never dialled. */
Test(discover, peers_nobody_reaches_never_crowd_out_real_ones)
{
	cr_assert(sodium_init() >= 0);
	static struct mesh_router r;
	static struct mesh_config cfg;
	char err[256];
	r.base = event_base_new();
	r.cfg = &cfg;
	r.name = name_of(1);
	cr_assert_eq(router_gossip_init(&r), 0);
	cr_assert_eq(router_conns_start(&r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mesh_topo_init(&r.topo, &r.name, "us", 1, 1, 1), 0);
	/* peers 10..309 each announce the next at its own address; nobody reaches them */
	for (unsigned i = 0; i < NFAKE; i++) {
		struct mesh_topo_peer *f = add_peer(&r.topo, name_of(10 + i));
		f->conns = calloc(1, sizeof(*f->conns));
		f->conns[0].peer = name_of(10 + (i + 1) % NFAKE);
		f->conns[0].ip = htonl(0xc6130000u + i);
		f->conns[0].port = 6783;
		f->conns[0].flags = MESH_TOPO_CONN_ESTABLISHED;
		f->nconns = 1;
	}
	/* peer 2, our neighbour, reached peer 3 (a new host) at 198.18.0.3 */
	add_peer(&r.topo, name_of(2));
	add_peer(&r.topo, name_of(3));
	struct mesh_topo_peer *p2 = &r.topo.peers[NFAKE + 1];
	p2->conns = calloc(1, sizeof(*p2->conns));
	p2->conns[0] = (struct mesh_topo_conn){ .peer = name_of(3), .ip = htonl(0xc6120003u),
						.port = 6783, .flags = MESH_TOPO_CONN_ESTABLISHED };
	p2->nconns = 1;
	link_us_with(&r, NFAKE + 1);

	router_discover(&r);
	struct mesh_peer_name three = name_of(3);
	cr_assert_eq(targets_of(&r, &three), 1, "the new host announced by our neighbour was not dialled");
	unsigned n = targets_of(&r, NULL);
	cr_assert_eq(n, 1 + 16, "%u addresses dialled", n);
	cr_assert_gt(r.ctr.discovery_refused, 0);
	router_discover(&r);
	cr_assert_eq(targets_of(&r, NULL), n);

	router_conns_stop(&r);
	router_gossip_free(&r);
	mesh_routes_free(&r.routes);
	mesh_topo_free(&r.topo);
	event_base_free(r.base);
}

/* An IPv6 connection address in gossip (issue 18) is dialled like an IPv4 one, and shown in
 * brackets. */
Test(discover, ipv6_addresses_are_dialled)
{
	cr_assert(sodium_init() >= 0);
	static struct mesh_router r;
	static struct mesh_config cfg;
	char err[256];
	r.base = event_base_new();
	r.cfg = &cfg;
	r.name = name_of(1);
	cr_assert_eq(router_gossip_init(&r), 0);
	cr_assert_eq(router_conns_start(&r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mesh_topo_init(&r.topo, &r.name, "us", 1, 1, 1), 0);
	add_peer(&r.topo, name_of(2));
	add_peer(&r.topo, name_of(3));
	struct mesh_topo_peer *p2 = &r.topo.peers[1];
	p2->conns = calloc(2, sizeof(*p2->conns));
	p2->conns[0].peer = name_of(3);
	p2->conns[0].flags = MESH_TOPO_CONN_ESTABLISHED;
	struct mesh_addr a, ll;
	cr_assert_eq(mesh_addr_parse("[2001:2:0:6d::3]:6783", 0, &a, NULL), 0);
	mesh_topo_conn_set_addr(&p2->conns[0], &a);
	/* a link-local address cannot be dialled without its interface: not tried */
	p2->conns[1] = p2->conns[0];
	cr_assert_eq(mesh_addr_parse("[fe80::3]:6783", 0, &ll, NULL), 0);
	mesh_topo_conn_set_addr(&p2->conns[1], &ll);
	p2->nconns = 2;
	link_us_with(&r, 1);

	router_discover(&r);
	cr_assert_eq(targets_of(&r, NULL), 1);
	cr_assert(mesh_addr_eq(&r.targets->addr, &a));
	cr_assert_str_eq(r.targets->addr_str, "[2001:2:0:6d::3]:6783");

	char msg[200];
	cr_assert_eq(mesh_router_forget(&r, "[2001:2:0:6d::3]:6783", "test", msg, sizeof(msg)), 0,
		     "%s", msg);
	cr_assert_eq(all_targets(&r), 0);
	cr_assert_eq(mesh_router_connect(&r, "2001:2:0:6d::9", "test", msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(r.targets->addr_str, "[2001:2:0:6d::9]", "the default port (this config: 0)");
	cr_assert_eq(mesh_router_connect(&r, "[2001:2::9", "test", msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "closing ']'"), "%s", msg);

	router_conns_stop(&r);
	router_gossip_free(&r);
	mesh_routes_free(&r.routes);
	mesh_topo_free(&r.topo);
	event_base_free(r.base);
}
