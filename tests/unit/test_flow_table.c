/* tests/unit/test_flow_table.c: the record of installed datapath flows (fastdp/flow_table.c):
 * put, replace, delete (with probe runs that wrap), overflow, and revalidation deleting just
 * the flows whose decision changed. */
#include <criterion/criterion.h>
#include <string.h>

#include "fastdp/flow_table.h"

static struct mesh_odp_miss miss(unsigned i, bool tunnel)
{
	struct mesh_odp_miss m = { .from_tunnel = tunnel };
	if (tunnel)
		m.tun_src = mesh_ip_v4(0x0a000000u + i);
	uint8_t src[6] = { 2, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t dst[6] = { 2, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)(i + 1) };
	memcpy(m.eth_src, src, 6);
	memcpy(m.eth_dst, dst, 6);
	return m;
}

/* The decision world: peer IP per destination MAC's last byte, bridge for tunnel ingress. */
static uint32_t peer_of[256];
static void decide(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d)
{
	(void)arg;
	if (m->from_tunnel) {
		d->to_bridge = true;
		return;
	}
	if (peer_of[m->eth_dst[5]])
		d->peer_ips[d->n++] = mesh_ip_v4(peer_of[m->eth_dst[5]]);
}

static size_t nstale;
static struct mesh_flow_rec stale_recs[1024];
static void on_stale(void *arg, const struct mesh_flow_rec *r)
{
	(void)arg;
	stale_recs[nstale++] = *r;
}

static uint64_t decided(const struct mesh_odp_miss *m)
{
	struct mesh_odp_decision d;
	memset(&d, 0, sizeof(d));
	decide(NULL, m, &d);
	return mesh_odp_decision_hash(&d);
}

Test(flow_table, put_replace_delete)
{
	struct mesh_flow_table t;
	cr_assert_eq(mesh_flow_table_init(&t, 100), 0);
	cr_assert_eq(t.cap, 128);
	for (unsigned i = 0; i < 90; i++) {
		struct mesh_odp_miss m = miss(i, false);
		mesh_flow_table_put(&t, 1, &m, 7);
	}
	cr_assert_eq(t.count, 90);
	struct mesh_odp_miss m = miss(5, false);
	mesh_flow_table_put(&t, 1, &m, 8); /* again: replaced, not added */
	cr_assert_eq(t.count, 90);
	mesh_flow_table_put(&t, 2, &m, 8); /* another port: another flow */
	cr_assert_eq(t.count, 91);
	cr_assert_not(t.overflow);
	/* delete every other one; the rest must still be found */
	for (unsigned i = 0; i < 90; i += 2) {
		struct mesh_odp_miss x = miss(i, false);
		cr_assert(mesh_flow_table_del(&t, 1, x.eth_src, x.eth_dst), "flow %u", i);
	}
	for (unsigned i = 0; i < 90; i++) {
		struct mesh_odp_miss x = miss(i, false);
		cr_assert_eq(mesh_flow_table_del(&t, 1, x.eth_src, x.eth_dst), i % 2 == 1, "flow %u", i);
	}
	cr_assert_eq(t.count, 1);
	cr_assert(mesh_flow_table_del(&t, 2, m.eth_src, m.eth_dst));
	cr_assert_eq(t.count, 0);
	mesh_flow_table_free(&t);
}

Test(flow_table, full_table_overflows_and_clear_resets)
{
	struct mesh_flow_table t;
	cr_assert_eq(mesh_flow_table_init(&t, 16), 0);
	for (unsigned i = 0; i < 12; i++) {
		struct mesh_odp_miss m = miss(i, false);
		mesh_flow_table_put(&t, 1, &m, 1);
	}
	cr_assert_not(t.overflow);
	struct mesh_odp_miss m = miss(12, false);
	mesh_flow_table_put(&t, 1, &m, 1);
	cr_assert(t.overflow, "a 13th flow in 16 slots is not recorded");
	cr_assert_eq(t.count, 12);
	mesh_flow_table_clear(&t);
	cr_assert_not(t.overflow);
	cr_assert_eq(t.count, 0);
	mesh_flow_table_free(&t);
}

Test(flow_table, revalidation_deletes_only_what_is_decided_otherwise)
{
	struct mesh_flow_table t;
	cr_assert_eq(mesh_flow_table_init(&t, 1024), 0);
	memset(peer_of, 0, sizeof(peer_of));
	for (unsigned i = 0; i < 200; i++)
		peer_of[(i + 1) & 0xff] = 0xc6120000u + (i % 3);
	for (unsigned i = 0; i < 200; i++) {
		struct mesh_odp_miss m = miss(i, i >= 150);
		mesh_flow_table_put(&t, i >= 150 ? 2 : 1, &m, decided(&m));
	}
	nstale = 0;
	cr_assert_eq(mesh_flow_table_revalidate(&t, decide, NULL, on_stale, NULL), 0);
	cr_assert_eq(t.count, 200);

	/* the MACs behind peer 198.18.0.1 move to 198.18.0.9: only their flows are stale */
	size_t moved = 0;
	for (unsigned i = 0; i < 150; i++)
		if (peer_of[(i + 1) & 0xff] == 0xc6120001u)
			moved++;
	for (unsigned i = 0; i < 256; i++)
		if (peer_of[i] == 0xc6120001u)
			peer_of[i] = 0xc6120009u;
	nstale = 0;
	size_t n = mesh_flow_table_revalidate(&t, decide, NULL, on_stale, NULL);
	cr_assert_eq(n, moved);
	cr_assert_eq(nstale, moved);
	for (size_t k = 0; k < nstale; k++)
		cr_assert_eq(peer_of[stale_recs[k].miss.eth_dst[5]], 0xc6120009u);
	cr_assert_eq(t.count, 200 - moved);
	/* what is left decides as recorded: nothing more to do */
	cr_assert_eq(mesh_flow_table_revalidate(&t, decide, NULL, on_stale, NULL), 0);
	/* every remaining flow is still found */
	size_t found = 0;
	for (unsigned i = 0; i < 200; i++) {
		struct mesh_odp_miss m = miss(i, i >= 150);
		found += mesh_flow_table_del(&t, i >= 150 ? 2 : 1, m.eth_src, m.eth_dst);
	}
	cr_assert_eq(found, 200 - moved);
	mesh_flow_table_free(&t);
}

Test(flow_table, decision_hash_tells_decisions_apart)
{
	struct mesh_odp_decision a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(mesh_odp_decision_hash(&a), mesh_odp_decision_hash(&b));
	b.to_bridge = true;
	cr_assert_neq(mesh_odp_decision_hash(&a), mesh_odp_decision_hash(&b));
	b.to_bridge = false;
	b.n = 1;
	b.peer_ips[0] = mesh_ip_v4(1);
	cr_assert_neq(mesh_odp_decision_hash(&a), mesh_odp_decision_hash(&b));
	a.n = 1;
	a.peer_ips[0] = mesh_ip_v4(1);
	a.peer_ips[1] = mesh_ip_v4(99); /* past n: not part of the decision */
	cr_assert_eq(mesh_odp_decision_hash(&a), mesh_odp_decision_hash(&b));
	/* the same address bytes over IPv6 are another host (issue 18) */
	uint8_t a6[16] = { 0, 0, 0, 1 };
	a.peer_ips[0] = mesh_ip_v6(a6);
	cr_assert_neq(mesh_odp_decision_hash(&a), mesh_odp_decision_hash(&b));
}
