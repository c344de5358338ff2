/* tests/unit/test_fastpath_decide.c: the flow decision of the Open vSwitch fast path
 * (router_fastpath_decide in router/fastpath.c) over a router state built by hand: which peers
 * a frame from the bridge goes to over VXLAN, and whether a frame from VXLAN goes to the
 * bridge. No sockets and no datapath: the connections' overlay forwarders are placeholders
 * that the decision only checks for presence. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "router/internal.h"

static const struct mesh_peer_name A = { { 0x02, 0, 0, 0, 0, 0xa } };
static const struct mesh_peer_name B = { { 0x02, 0, 0, 0, 0, 0xb } };
static const struct mesh_peer_name C = { { 0x02, 0, 0, 0, 0, 0xc } };
static const struct mesh_peer_name D = { { 0x02, 0, 0, 0, 0, 0xd } };
static const uint8_t MAC_AT_B[6] = { 0x0a, 1, 0, 0, 0, 0xb };
static const uint8_t MAC_AT_D[6] = { 0x0a, 1, 0, 0, 0, 0xd };
static const uint8_t MAC_HERE[6] = { 0x0a, 1, 0, 0, 0, 0xa };
static const uint8_t MAC_UNKNOWN[6] = { 0x0a, 1, 0, 0, 0, 0xee };
static const uint8_t BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint32_t ip_of(const struct mesh_peer_name *n)
{
	return htonl(0xc6120000u | n->b[5]);
}

/* The tunnel address the fast path uses for a peer: B, D over IPv4; C over IPv6 (issue 18). */
static struct mesh_ip tip(const struct mesh_peer_name *n)
{
	uint8_t a6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0x6d, [15] = n->b[5] };
	return n->b[5] == 0xc ? mesh_ip_v6(a6) : mesh_ip_v4(ip_of(n));
}

static bool same_ip(struct mesh_ip x, struct mesh_ip y)
{
	return mesh_ip_cmp(&x, &y) == 0;
}

static void add_peer(struct mesh_topology *t, const struct mesh_peer_name *n,
		     const struct mesh_peer_name *links, unsigned nlinks)
{
	struct mesh_topo_peer *p = &t->peers[0];
	if (!mesh_peer_name_eq(n, &t->self)) {
		cr_assert_lt(t->n, t->cap);
		p = &t->peers[t->n++];
		memset(p, 0, sizeof(*p));
		p->name = *n;
		p->version = 1;
	}
	free(p->conns);
	p->conns = calloc(nlinks, sizeof(*p->conns));
	p->nconns = nlinks;
	for (unsigned i = 0; i < nlinks; i++) {
		p->conns[i].peer = links[i];
		p->conns[i].ip = ip_of(&links[i]);
		p->conns[i].port = 6783;
		p->conns[i].flags = MESH_TOPO_CONN_ESTABLISHED;
	}
}

static struct mesh_router r;
static struct mesh_conn cb, cc;
static struct overlay_forwarder placeholder;

/* A (us) - B, A - C, C - D: B is a leaf of our broadcast tree, C relays to D. Connections to
 * B and C are on the fast path; MACs live at B, D and here. */
static void setup(void)
{
	memset(&r, 0, sizeof(r));
	r.name = A;
	r.fastdp = (struct mesh_fastdp *)&placeholder; /* a fast path exists; never dereferenced */
	cr_assert_eq(mesh_topo_init(&r.topo, &A, "h1", 1, 1, 1), 0);
	cr_assert_eq(mesh_mactable_init(&r.macs), 0);
	struct mesh_peer_name a[] = { B, C }, b[] = { A }, c[] = { A, D }, d[] = { C };
	add_peer(&r.topo, &A, a, 2);
	add_peer(&r.topo, &B, b, 1);
	add_peer(&r.topo, &C, c, 2);
	add_peer(&r.topo, &D, d, 1);
	cr_assert_eq(mesh_routes_compute(&r.routes, &r.topo), 0);
	struct mesh_conn *cs[] = { &cb, &cc };
	const struct mesh_peer_name *ps[] = { &B, &C };
	for (int i = 0; i < 2; i++) {
		memset(cs[i], 0, sizeof(*cs[i]));
		cs[i]->r = &r;
		cs[i]->state = CONN_ESTABLISHED;
		cs[i]->peer = *ps[i];
		struct mesh_ip t = tip(ps[i]);
		cs[i]->peer_addr.family = t.family;
		memcpy(cs[i]->peer_addr.a, t.a, 16);
		cs[i]->peer_addr.port = 6783;
		cs[i]->fwd = cs[i]->fast = &placeholder;
		cs[i]->usable = cs[i]->fast_ok = true;
	}
	cb.next = &cc;
	r.conns = &cb;
	mesh_mactable_merge(&r.macs, MAC_AT_B, &B, 1, 0, 1, &A);
	mesh_mactable_merge(&r.macs, MAC_AT_D, &D, 1, 0, 1, &A);
	mesh_mactable_learn(&r.macs, MAC_HERE, &A, 0, 1);
}

static void teardown(void)
{
	mesh_routes_free(&r.routes);
	mesh_topo_free(&r.topo);
	mesh_mactable_free(&r.macs);
}

static struct mesh_odp_decision from_bridge(const uint8_t dst[6])
{
	struct mesh_odp_miss m = { .from_tunnel = false };
	memcpy(m.eth_dst, dst, 6);
	memcpy(m.eth_src, MAC_HERE, 6);
	struct mesh_odp_decision d;
	router_fastpath_decide(&r, &m, &d);
	return d;
}

TestSuite(fastpath_decide, .init = setup, .fini = teardown);

Test(fastpath_decide, unicast_to_a_peer_on_the_fast_path)
{
	struct mesh_odp_decision d = from_bridge(MAC_AT_B);
	cr_assert(!d.to_bridge);
	cr_assert_eq(d.n, 1);
	cr_assert(same_ip(d.peer_ips[0], tip(&B)));
}

Test(fastpath_decide, unicast_to_a_peer_reached_over_ipv6)
{
	static const uint8_t MAC_AT_C[6] = { 0x0a, 1, 0, 0, 0, 0xc };
	mesh_mactable_merge(&r.macs, MAC_AT_C, &C, 1, 0, 1, &A);
	struct mesh_odp_decision d = from_bridge(MAC_AT_C);
	cr_assert_eq(d.n, 1);
	cr_assert(mesh_ip_is_v6(&d.peer_ips[0]));
	cr_assert(same_ip(d.peer_ips[0], tip(&C)));
}

Test(fastpath_decide, relayed_and_local_destinations_stay_off_the_datapath)
{
	cr_assert_eq(from_bridge(MAC_AT_D).n, 0, "D is reached through C: the sleeve relays");
	cr_assert_eq(from_bridge(MAC_HERE).n, 0, "a local MAC is the bridge's business");
}

Test(fastpath_decide, floods_go_to_the_leaves_of_our_tree_only)
{
	struct mesh_odp_decision d = from_bridge(BROADCAST);
	cr_assert_eq(d.n, 1, "C has D below it: the sleeve floods to C, the kernel to B");
	cr_assert(same_ip(d.peer_ips[0], tip(&B)));
	d = from_bridge(MAC_UNKNOWN);
	cr_assert_eq(d.n, 1, "unknown unicast floods like broadcast");
	cr_assert(same_ip(d.peer_ips[0], tip(&B)));
}

Test(fastpath_decide, a_peer_off_the_fast_path_gets_nothing)
{
	cb.fast_ok = false;
	cr_assert_eq(from_bridge(MAC_AT_B).n, 0);
	cr_assert_eq(from_bridge(BROADCAST).n, 0);
	cb.fast_ok = true;
	cb.usable = false; /* its sleeve is down: the connection is not used at all */
	cr_assert_eq(from_bridge(MAC_AT_B).n, 0);
}

Test(fastpath_decide, from_vxlan_only_peers_on_the_fast_path_reach_the_bridge)
{
	struct mesh_odp_miss m = { .from_tunnel = true, .tun_src = tip(&B) };
	memcpy(m.eth_dst, MAC_HERE, 6);
	memcpy(m.eth_src, MAC_AT_B, 6);
	struct mesh_odp_decision d;
	router_fastpath_decide(&r, &m, &d);
	cr_assert(d.to_bridge);
	cr_assert_eq(d.n, 0, "never back out over VXLAN");
	m.tun_src = tip(&D); /* no connection of ours */
	router_fastpath_decide(&r, &m, &d);
	cr_assert(!d.to_bridge);
	m.tun_src = tip(&C); /* over IPv6 (issue 18) */
	router_fastpath_decide(&r, &m, &d);
	cr_assert(d.to_bridge, "C's frames over IPv6");
	m.tun_src = mesh_ip_v4(ip_of(&C));
	router_fastpath_decide(&r, &m, &d);
	cr_assert(!d.to_bridge, "C is not reached over IPv4: an IPv4 address of the same last "
		  "byte is another host");
	cc.fast_ok = false;
	m.tun_src = tip(&C);
	router_fastpath_decide(&r, &m, &d);
	cr_assert(!d.to_bridge, "C is on the sleeve now: its frames come that way");
}
