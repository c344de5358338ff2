/* tests/unit/test_ipam_alloc.c: per-container allocation in our IPAM space (router/ipam_alloc.c),
 * the donation flow between two peers, and the persisted state (router/ipam_store.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gossip/ipam.h"
#include "mesh/bytes.h"
#include "router/ipam_alloc.h"
#include "router/ipam_store.h"

#define R16 0x0a280000u    /* 10.40.0.0/16: the lab's range */
#define S12 0x0a200000u    /* 10.32.0.0/12: the lab's default subnet */

static struct mesh_peer_name nm(unsigned i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

static void seeded(struct mesh_ipam_ring *r, unsigned self, unsigned n, uint32_t start, uint8_t prefix)
{
	struct mesh_peer_name names[16], s = nm(self);
	for (unsigned i = 0; i < n; i++)
		names[i] = nm(i + 1);
	cr_assert_eq(mesh_ipam_ring_init(r, &s, start, prefix), 0);
	cr_assert_eq(mesh_ipam_ring_seed(r, names, n), 0);
}

static void fmt(uint32_t ip, char out[16]) { mesh_ipam_addr_format(ip, out); }

/* --- ids ------------------------------------------------------------------------------------- */

Test(ipam_alloc, container_ids_are_checked)
{
	char why[MESH_IPAM_WHY_LEN];
	const char *good[] = { "a", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			       "pod_1.sandbox-x", "Z", "mesh/pod_1", "k8s-pod-network/0123abc" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(mesh_ipam_id_check(good[i], why), 0, "%s: %s", good[i], why);
	char longest[MESH_IPAM_ID_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	longest[MESH_IPAM_ID_MAX] = '\0';
	cr_assert_eq(mesh_ipam_id_check(longest, why), 0);
	longest[MESH_IPAM_ID_MAX] = 'a';
	longest[MESH_IPAM_ID_MAX + 1] = '\0';
	cr_assert_eq(mesh_ipam_id_check(longest, why), -EINVAL);
	cr_assert(strstr(why, "longer than"));
	const char *bad[] = { "", "-a", ".a", "a b", "a/b/c", "/a", "a/", "a/-b", "-a/b", "a\nb", "ä",
			      "a;rm" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		cr_assert_eq(mesh_ipam_id_check(bad[i], why), -EINVAL, "%s", bad[i]);
		cr_assert(why[0]);
	}
	mesh_ipam_id_check("ab cd", why);
	cr_assert(strstr(why, "0x20 at position 2"), "%s", why);
}

/* --- allocation ------------------------------------------------------------------------------ */

Test(ipam_alloc, lowest_first_idempotent_per_subnet_and_released)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r, 1, 2, R16, 16); /* ours: 10.40.0.0 - 10.40.127.255 */
	cr_assert_eq(mesh_ipam_alloc_init(&a, S12, 12), 0);
	uint32_t ip, ip2;
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", 0, 0, &ip, why), 1, "%s", why);
	cr_assert_eq(ip, R16); /* 10.40.0.0 is a host address in 10.32.0.0/12 */
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c2", 0, 0, &ip2, why), 1);
	cr_assert_eq(ip2, R16 + 1);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", 0, 0, &ip, why), 0); /* again: same */
	cr_assert_eq(ip, R16);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", S12, 12, &ip, why), 0); /* default, spelt out */
	cr_assert_eq(ip, R16);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "c2", 0, 0, &ip), 0);
	cr_assert_eq(ip, R16 + 1);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "c3", 0, 0, &ip), -ENOENT);
	/* another subnet: its network address is skipped, and c1 gets a second address there */
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", R16 + 256, 24, &ip, why), 1, "%s", why);
	cr_assert_eq(ip, R16 + 257);
	cr_assert_eq(a.n, 3);
	/* release by id: every subnet; then DEL again is fine */
	cr_assert_eq(mesh_ipam_alloc_release(&a, "c1"), 2);
	cr_assert_eq(mesh_ipam_alloc_release(&a, "c1"), 0);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "c1", 0, 0, &ip), -ENOENT);
	/* the freed lowest address is handed out again */
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c3", 0, 0, &ip, why), 1);
	cr_assert_eq(ip, R16);
	/* errors */
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "bad id", 0, 0, &ip, why), -EINVAL);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c4", R16 + 1, 24, &ip, why), -EINVAL);
	cr_assert(strstr(why, "aligned"));
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c4", 0xc0a80000u, 24, &ip, why), -EDOM);
	cr_assert(strstr(why, "192.168.0.0/24") && strstr(why, "10.40.0.0/16"), "%s", why);
	/* a subnet all in the other peer's space */
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c4", R16 + 40000 - (40000 % 256), 24, &ip, why),
		     -ENOSPC);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, range_equal_to_the_subnet_skips_network_and_broadcast)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	char why[MESH_IPAM_WHY_LEN];
	uint32_t net = 0xc0000200u; /* 192.0.2.0/29: 6 host addresses */
	seeded(&r, 1, 1, net, 29);
	cr_assert_eq(mesh_ipam_alloc_init(&a, net, 29), 0);
	cr_assert_eq(mesh_ipam_alloc_free_total(&a, &r), 6);
	uint32_t ip;
	char id[8];
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, id, 0, 0, &ip, why), 1);
		cr_assert_eq(ip, net + 1 + (uint32_t)i);
	}
	cr_assert_eq(mesh_ipam_alloc_free_total(&a, &r), 0);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c9", 0, 0, &ip, why), -ENOSPC);
	cr_assert(strstr(why, "no free address"), "%s", why);
	/* GC: keep c1 and c4 */
	const char *keep[] = { "c4", "nothere", "c1" };
	cr_assert_eq(mesh_ipam_alloc_release_except(&a, NULL, keep, 3), 4);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "c4", 0, 0, &ip), 0);
	cr_assert_eq(ip, net + 5);
	cr_assert_eq(mesh_ipam_alloc_free_total(&a, &r), 4);
	cr_assert_eq(mesh_ipam_alloc_release_except(&a, NULL, NULL, 0), 2);
	cr_assert_eq(a.n, 0);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, gc_of_one_network_leaves_other_networks_alone)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	char why[MESH_IPAM_WHY_LEN];
	uint32_t ip, net = 0xc0000200u; /* 192.0.2.0/24 */
	seeded(&r, 1, 1, net, 24);
	cr_assert_eq(mesh_ipam_alloc_init(&a, net, 24), 0);
	const char *ids[] = { "mesh/c1", "mesh/c2", "podman/c1", "podman/c3", "c1", "meshy/c2" };
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, ids[i], 0, 0, &ip, why), 1, "%s: %s", ids[i], why);
	/* mesh's GC keeps c1: mesh/c2 goes; podman's, the network-less and meshy's stay */
	const char *keep[] = { "c1" };
	cr_assert_eq(mesh_ipam_alloc_release_except(&a, "mesh", keep, 1), 1);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "mesh/c2", 0, 0, &ip), -ENOENT);
	for (size_t i = 0; i < 6; i++)
		if (i != 1)
			cr_assert_eq(mesh_ipam_alloc_lookup(&a, ids[i], 0, 0, &ip), 0, "%s", ids[i]);
	/* a GC without a network looks at network-less ids only */
	cr_assert_eq(mesh_ipam_alloc_release_except(&a, NULL, NULL, 0), 1);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a, "c1", 0, 0, &ip), -ENOENT);
	cr_assert_eq(mesh_ipam_alloc_release_except(&a, "podman", NULL, 0), 2);
	cr_assert_eq(a.n, 2);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, nothing_before_the_ring_is_seeded)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	struct mesh_peer_name s = nm(1);
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_init(&r, &s, R16, 16), 0);
	cr_assert_eq(mesh_ipam_alloc_init(&a, S12, 12), 0);
	uint32_t ip;
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", 0, 0, &ip, why), -ENOSPC);
	cr_assert(strstr(why, "not seeded"), "%s", why);
	cr_assert_eq(mesh_ipam_alloc_init(&a, S12 + 1, 12), -EINVAL);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, claim_records_a_given_address_with_checks)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r, 1, 2, R16, 16);
	cr_assert_eq(mesh_ipam_alloc_init(&a, R16, 16), 0);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c1", 0, 0, R16 + 7, why), 1, "%s", why);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c1", 0, 0, R16 + 7, why), 0);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c1", 0, 0, R16 + 8, why), -EEXIST);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c2", 0, 0, R16 + 7, why), -EEXIST);
	cr_assert(strstr(why, "already allocated to c1"), "%s", why);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c2", 0, 0, R16, why), -EINVAL); /* network */
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c2", 0, 0, R16 + 65535, why), -EINVAL);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c2", 0, 0, R16 + 40000, why), -EPERM);
	cr_assert(strstr(why, "10.40.156.64"), "%s", why);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, NULL, "c2", 0, 0, R16 + 40000, why), 1);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "c3", R16 + 256, 24, R16 + 100, why), -EINVAL);
	cr_assert_eq(mesh_ipam_alloc_claim(&a, &r, "-x", 0, 0, R16 + 9, why), -EINVAL);
	/* allocation goes around the claimed one */
	uint32_t ip;
	for (uint32_t i = 1; i < 7; i++)
		cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, (char[]){ 'a', (char)('0' + i), 0 }, 0, 0, &ip, why), 1);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "b", 0, 0, &ip, why), 1);
	cr_assert_eq(ip, R16 + 8);
	/* not owned: c2's address */
	struct mesh_ipam_allocation out[2];
	cr_assert_eq(mesh_ipam_alloc_not_owned(&a, &r, out, 2), 1);
	cr_assert_str_eq(out[0].id, "c2");
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, free_counts_are_reported_into_the_ring)
{
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r, 1, 2, R16, 16);
	cr_assert_eq(mesh_ipam_alloc_init(&a, R16, 16), 0); /* 10.40.0.0 is reserved */
	cr_assert_eq(mesh_ipam_alloc_report_free(&a, &r), 1);
	cr_assert_eq(r.e[0].free, 32767);
	cr_assert_eq(r.e[0].version, 2);
	cr_assert_eq(r.e[1].free, 32768); /* not ours: untouched */
	cr_assert_eq(mesh_ipam_alloc_report_free(&a, &r), 0);
	uint32_t ip;
	cr_assert_eq(mesh_ipam_alloc_allocate(&a, &r, "c1", 0, 0, &ip, why), 1);
	cr_assert_eq(ip, R16 + 1);
	cr_assert_eq(mesh_ipam_alloc_count_in(&a, R16, R16 + 2), 1);
	cr_assert_eq(mesh_ipam_alloc_count_in(&a, R16 + 2, R16 + 100), 0);
	cr_assert(mesh_ipam_alloc_has_in(&a, R16, (uint64_t)R16 + 65536));
	cr_assert(!mesh_ipam_alloc_has_in(&a, R16 + 2, (uint64_t)R16 + 65536));
	cr_assert_eq(mesh_ipam_alloc_report_free(&a, &r), 1);
	cr_assert_eq(r.e[0].free, 32766);
	cr_assert_eq(mesh_ipam_alloc_free_total(&a, &r), 32766);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

/* --- donation between two peers -------------------------------------------------------------- */

static void gossip(struct mesh_ipam_ring *to, struct mesh_ipam_alloc *to_alloc,
		   const struct mesh_ipam_ring *from)
{
	uint8_t *b = malloc(mesh_ipam_ring_encoded_size(from));
	cr_assert_not_null(b);
	ssize_t n = mesh_ipam_ring_encode(from, b, mesh_ipam_ring_encoded_size(from));
	cr_assert_gt(n, 0);
	struct mesh_ipam_ring in;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_decode(b, (size_t)n, &in, why), 0, "%s", why);
	bool ch;
	cr_assert_eq(mesh_ipam_ring_merge(to, &in, mesh_ipam_alloc_has_in, to_alloc, &ch, why), 0,
		     "%s", why);
	mesh_ipam_ring_free(&in);
	free(b);
}

Test(ipam_alloc, an_exhausted_peer_gets_a_donation_and_no_address_is_shared)
{
	/* 10.40.0.0/26 between two peers: 32 addresses each */
	struct mesh_ipam_ring r1, r2;
	struct mesh_ipam_alloc a1, a2;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r1, 1, 2, R16, 26);
	seeded(&r2, 2, 2, R16, 26);
	cr_assert_eq(mesh_ipam_alloc_init(&a1, S12, 12), 0);
	cr_assert_eq(mesh_ipam_alloc_init(&a2, S12, 12), 0);
	uint32_t ip;
	char id[16];
	int got1 = 0;
	for (;;) {
		snprintf(id, sizeof(id), "p1-%d", got1);
		int ret = mesh_ipam_alloc_allocate(&a1, &r1, id, 0, 0, &ip, why);
		if (ret == -ENOSPC)
			break;
		cr_assert_eq(ret, 1);
		got1++;
	}
	cr_assert_eq(got1, 32);
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "p2-%d", i);
		cr_assert_eq(mesh_ipam_alloc_allocate(&a2, &r2, id, 0, 0, &ip, why), 1);
	}
	/* 2 tells everyone its free space */
	cr_assert_eq(mesh_ipam_alloc_report_free(&a2, &r2), 1);
	cr_assert_eq(mesh_ipam_alloc_report_free(&a1, &r1), 1);
	gossip(&r1, &a1, &r2);
	gossip(&r2, &a2, &r1);
	/* 1 picks its donor and asks; 2 picks what to give */
	struct mesh_peer_name reach[] = { nm(1), nm(2) }, donor, two = nm(2), one = nm(1);
	cr_assert_eq(mesh_ipam_pick_donor(&r1, reach, 2, &donor), 0);
	cr_assert(mesh_peer_name_eq(&donor, &two));
	uint8_t req[MESH_IPAM_REQUEST_LEN];
	struct mesh_ipam_request q = { r1.start, r1.prefix, r1.seed, one, 16 }, dq;
	cr_assert_eq(mesh_ipam_request_encode(&q, req, sizeof(req)), MESH_IPAM_REQUEST_LEN);
	cr_assert_eq(mesh_ipam_request_decode(req, sizeof(req), &dq, why), 0);
	uint32_t lo;
	uint64_t hi;
	cr_assert_eq(mesh_ipam_alloc_pick_donation(&a2, &r2, &lo, &hi), 0);
	cr_assert_eq(lo, R16 + 64 - 14); /* the upper half of the 29 free: 14 addresses */
	cr_assert_eq(hi, R16 + 64);
	cr_assert_eq(mesh_ipam_alloc_count_in(&a2, lo, hi), 0);
	cr_assert_eq(mesh_ipam_ring_transfer(&r2, lo, hi, &dq.requester), 0);
	cr_assert_geq(mesh_ipam_alloc_report_free(&a2, &r2), 0);
	gossip(&r1, &a1, &r2);
	/* 1 allocates again, in the donated space */
	for (;;) {
		snprintf(id, sizeof(id), "p1-%d", got1);
		int ret = mesh_ipam_alloc_allocate(&a1, &r1, id, 0, 0, &ip, why);
		if (ret == -ENOSPC)
			break;
		cr_assert_eq(ret, 1);
		cr_assert_geq(ip, lo);
		got1++;
	}
	cr_assert_eq(got1, 32 + 14);
	/* 2 goes on in what it kept */
	int got2 = 3;
	for (;;) {
		snprintf(id, sizeof(id), "p2-%d", got2);
		int ret = mesh_ipam_alloc_allocate(&a2, &r2, id, 0, 0, &ip, why);
		if (ret == -ENOSPC)
			break;
		cr_assert_eq(ret, 1);
		got2++;
	}
	cr_assert_eq(got2, 32 - 14);
	/* no address twice, across both */
	for (size_t i = 0; i < a1.n; i++)
		for (size_t k = 0; k < a2.n; k++)
			cr_assert_neq(a1.a[i].ip, a2.a[k].ip);
	cr_assert_eq(a1.n + a2.n, 64);
	/* nothing left to give */
	cr_assert_eq(mesh_ipam_alloc_pick_donation(&a2, &r2, &lo, &hi), -ENOSPC);
	mesh_ipam_alloc_free(&a1);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r1);
	mesh_ipam_ring_free(&r2);
}

/* Random allocations, releases and donations among three peers, with gossip in random order: at
 * no time does an address belong to two allocations anywhere, and each allocation is in space
 * its peer owns. */
static uint64_t rng;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static size_t below(size_t n) { return (size_t)(next_rand() % n); }

Test(ipam_alloc, random_allocation_release_and_donation_never_share_an_address, .timeout = 120)
{
	enum { P = 3, STEPS = 1500 };
	for (uint64_t seed = 1; seed <= 20; seed++) {
		rng = seed * 0x2545f4914f6cdd1dull;
		struct mesh_ipam_ring r[P];
		struct mesh_ipam_alloc a[P];
		char why[MESH_IPAM_WHY_LEN], id[32];
		for (unsigned i = 0; i < P; i++) {
			seeded(&r[i], i + 1, P, R16, 25); /* 128 addresses */
			cr_assert_eq(mesh_ipam_alloc_init(&a[i], R16, 25), 0);
		}
		unsigned serial = 0;
		for (int step = 0; step < STEPS; step++) {
			unsigned x = (unsigned)below(P);
			uint32_t ip;
			switch (below(5)) {
			case 0:
			case 1: {
				snprintf(id, sizeof(id), "c%u", serial++);
				int ret = mesh_ipam_alloc_allocate(&a[x], &r[x], id, 0, 0, &ip, why);
				cr_assert(ret == 1 || ret == -ENOSPC, "%d %s", ret, why);
				break;
			}
			case 2:
				if (a[x].n)
					mesh_ipam_alloc_release(&a[x], a[x].a[below(a[x].n)].id);
				break;
			case 3: { /* x asks a donor, the donor gives at once */
				struct mesh_peer_name reach[P], donor;
				for (unsigned i = 0; i < P; i++)
					reach[i] = nm(i + 1);
				cr_assert_geq(mesh_ipam_alloc_report_free(&a[x], &r[x]), 0);
				if (mesh_ipam_pick_donor(&r[x], reach, P, &donor) < 0)
					break;
				unsigned d = donor.b[5] - 1u;
				uint32_t lo;
				uint64_t hi;
				if (mesh_ipam_alloc_pick_donation(&a[d], &r[d], &lo, &hi) < 0)
					break;
				int ret = mesh_ipam_ring_transfer(&r[d], lo, hi, &r[x].self);
				cr_assert(ret == 0 || ret == -ENOSPC, "%d", ret);
				break;
			}
			default: { /* gossip from y to x */
				unsigned y = (unsigned)below(P);
				if (y != x) {
					cr_assert_geq(mesh_ipam_alloc_report_free(&a[y], &r[y]), 0);
					gossip(&r[x], &a[x], &r[y]);
				}
				break;
			}
			}
			for (unsigned i = 0; i < P; i++) {
				cr_assert_eq(mesh_ipam_alloc_not_owned(&a[i], &r[i], NULL, 0), 0);
				for (unsigned j = i + 1; j < P; j++)
					for (size_t k = 0; k < a[i].n; k++)
						cr_assert_eq(mesh_ipam_alloc_count_in(&a[j], a[i].a[k].ip,
										      (uint64_t)a[i].a[k].ip + 1), 0,
							     "seed %llu step %d: an address twice",
							     (unsigned long long)seed, step);
			}
		}
		for (unsigned i = 0; i < P; i++) {
			mesh_ipam_alloc_free(&a[i]);
			mesh_ipam_ring_free(&r[i]);
		}
	}
}

/* --- the store ------------------------------------------------------------------------------- */

static void state(struct mesh_ipam_ring *r, struct mesh_ipam_alloc *a)
{
	char why[MESH_IPAM_WHY_LEN];
	seeded(r, 1, 2, R16, 16);
	struct mesh_peer_name two = nm(2);
	cr_assert_eq(mesh_ipam_ring_transfer(r, R16 + 100, R16 + 200, &two), 0);
	cr_assert_eq(mesh_ipam_alloc_init(a, S12, 12), 0);
	uint32_t ip;
	cr_assert_eq(mesh_ipam_alloc_allocate(a, r, "alpha", 0, 0, &ip, why), 1);
	cr_assert_eq(mesh_ipam_alloc_allocate(a, r, "bravo", 0, 0, &ip, why), 1);
	cr_assert_eq(mesh_ipam_alloc_allocate(a, r, "alpha", R16 + 512, 23, &ip, why), 1);
	cr_assert_geq(mesh_ipam_alloc_report_free(a, r), 1);
}

static void fresh(struct mesh_ipam_ring *r, struct mesh_ipam_alloc *a, unsigned self, uint32_t start)
{
	struct mesh_peer_name s = nm(self);
	cr_assert_eq(mesh_ipam_ring_init(r, &s, start, 16), 0);
	cr_assert_eq(mesh_ipam_alloc_init(a, S12, 12), 0);
}

static bool same(const struct mesh_ipam_ring *r1, const struct mesh_ipam_alloc *a1,
		 const struct mesh_ipam_ring *r2, const struct mesh_ipam_alloc *a2)
{
	if (r1->n != r2->n || r1->seed != r2->seed || a1->n != a2->n)
		return false;
	if (r1->n && memcmp(r1->e, r2->e, r1->n * sizeof(r1->e[0])) != 0)
		return false;
	for (size_t i = 0; i < a1->n; i++)
		if (a1->a[i].ip != a2->a[i].ip || a1->a[i].subnet != a2->a[i].subnet ||
		    a1->a[i].prefix != a2->a[i].prefix || strcmp(a1->a[i].id, a2->a[i].id))
			return false;
	return true;
}

Test(ipam_store, format_is_the_documented_one_and_round_trips)
{
	struct mesh_ipam_ring r, r2;
	struct mesh_ipam_alloc a, a2;
	state(&r, &a);
	uint8_t *b;
	ssize_t n = mesh_ipam_store_encode(&r, &a, &b);
	cr_assert_gt(n, 0);
	cr_assert_eq(memcmp(b, "MESHIPAM", 8), 0);
	cr_assert_eq(get_be16(b + 8), 1);
	cr_assert_eq(memcmp(b + 10, r.self.b, 6), 0);
	cr_assert_eq(get_be32(b + 16), S12);
	cr_assert_eq(b[20], 12);
	size_t ring_len = get_be32(b + 21);
	cr_assert_eq(ring_len, mesh_ipam_ring_encoded_size(&r));
	cr_assert_eq(b[25], MESH_IPAM_MSG_RING);
	const uint8_t *p = b + 25 + ring_len;
	cr_assert_eq(get_be32(p), 3);
	cr_assert_eq(get_be32(p + 4), R16); /* first allocation: 10.40.0.0 for alpha */
	cr_assert_eq(get_be32(p + 8), S12);
	cr_assert_eq(p[12], 12);
	cr_assert_eq(p[13], 5);
	cr_assert_eq(memcmp(p + 14, "alpha", 5), 0);
	cr_assert_eq((size_t)n, 25 + ring_len + 4 + 3 * 10 + 5 + 5 + 5 + 8);

	fresh(&r2, &a2, 1, R16);
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_store_decode(b, (size_t)n, &r2, &a2, why), 0, "%s", why);
	cr_assert(same(&r, &a, &r2, &a2));
	free(b);
	mesh_ipam_ring_free(&r);
	mesh_ipam_ring_free(&r2);
	mesh_ipam_alloc_free(&a);
	mesh_ipam_alloc_free(&a2);
}

Test(ipam_store, damaged_foreign_or_other_range_state_is_refused_and_leaves_nothing)
{
	struct mesh_ipam_ring r, r2;
	struct mesh_ipam_alloc a, a2;
	char why[MESH_IPAM_WHY_LEN];
	state(&r, &a);
	uint8_t *b;
	ssize_t n = mesh_ipam_store_encode(&r, &a, &b);
	cr_assert_gt(n, 0);
	uint8_t *m = malloc((size_t)n);
	/* every single-bit flip and every truncation is refused */
	for (ssize_t i = 0; i < n; i++) {
		memcpy(m, b, (size_t)n);
		m[i] ^= 0x10;
		fresh(&r2, &a2, 1, R16);
		why[0] = '\0';
		int ret = mesh_ipam_store_decode(m, (size_t)n, &r2, &a2, why);
		cr_assert_lt(ret, 0, "flip at %zd accepted", i);
		cr_assert(why[0]);
		cr_assert_eq(r2.n, 0);
		cr_assert_eq(a2.n, 0);
		mesh_ipam_alloc_free(&a2);
		mesh_ipam_ring_free(&r2);
	}
	for (ssize_t len = 0; len < n; len++) {
		fresh(&r2, &a2, 1, R16);
		cr_assert_eq(mesh_ipam_store_decode(b, (size_t)len, &r2, &a2, why), -EBADMSG, "%zd", len);
		mesh_ipam_alloc_free(&a2);
		mesh_ipam_ring_free(&r2);
	}
	/* another peer's, another range's */
	fresh(&r2, &a2, 2, R16);
	cr_assert_eq(mesh_ipam_store_decode(b, (size_t)n, &r2, &a2, why), -ESTALE);
	cr_assert(strstr(why, "02:00:00:00:00:01") && strstr(why, "02:00:00:00:00:02"), "%s", why);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r2);
	fresh(&r2, &a2, 1, R16 + 65536);
	cr_assert_eq(mesh_ipam_store_decode(b, (size_t)n, &r2, &a2, why), -EDOM);
	cr_assert(strstr(why, "10.40.0.0/16") && strstr(why, "10.41.0.0/16"), "%s", why);
	cr_assert_eq(r2.n, 0);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r2);
	free(m);
	free(b);
	mesh_ipam_ring_free(&r);
	mesh_ipam_alloc_free(&a);
}

/* A state whose checksum is right but whose contents are not: written by hand. */
static size_t handmade(uint8_t *b, const struct mesh_ipam_ring *r, uint32_t ip1, uint32_t ip2,
		       const char *id2)
{
	size_t at = 0;
	memcpy(b, "MESHIPAM", 8);
	put_be16(b + 8, 1);
	memcpy(b + 10, r->self.b, 6);
	put_be32(b + 16, S12);
	b[20] = 12;
	size_t rl = mesh_ipam_ring_encoded_size(r);
	put_be32(b + 21, (uint32_t)rl);
	at = 25;
	cr_assert_eq(mesh_ipam_ring_encode(r, b + at, rl), (ssize_t)rl);
	at += rl;
	put_be32(b + at, 2);
	at += 4;
	put_be32(b + at, ip1);
	put_be32(b + at + 4, S12);
	b[at + 8] = 12;
	b[at + 9] = 1;
	b[at + 10] = 'a';
	at += 11;
	put_be32(b + at, ip2);
	put_be32(b + at + 4, S12);
	b[at + 8] = 12;
	b[at + 9] = (uint8_t)strlen(id2);
	memcpy(b + at + 10, id2, strlen(id2));
	at += 10 + strlen(id2);
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < at; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	put_be64(b + at, h);
	return at + 8;
}

Test(ipam_store, consistent_checksum_but_bad_contents_are_refused)
{
	struct mesh_ipam_ring r, r2;
	struct mesh_ipam_alloc a2;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r, 1, 2, R16, 16);
	uint8_t b[512];
	struct {
		uint32_t ip1, ip2;
		const char *id2;
		const char *why_has;
	} cases[] = {
		{ R16 + 1, R16 + 2, "b", NULL },
		{ R16 + 2, R16 + 1, "b", "address order" },
		{ R16 + 1, R16 + 1, "b", "address order" },
		{ R16 + 1, R16 + 2, "a", "already has another address" },
		{ R16 + 1, R16 + 40000, "b", "not in this peer's IPAM space" },
		{ R16 + 1, R16 + 2, "b c", "container id" },
		{ R16 + 1, 0x0b000001u, "b", "outside its subnet" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = handmade(b, &r, cases[i].ip1, cases[i].ip2, cases[i].id2);
		fresh(&r2, &a2, 1, R16);
		why[0] = '\0';
		int ret = mesh_ipam_store_decode(b, n, &r2, &a2, why);
		if (!cases[i].why_has) {
			cr_assert_eq(ret, 0, "case %zu: %s", i, why);
			cr_assert_eq(a2.n, 2);
		} else {
			cr_assert_eq(ret, -EBADMSG, "case %zu", i);
			cr_assert(strstr(why, cases[i].why_has), "case %zu: why \"%s\"", i, why);
			cr_assert_eq(a2.n, 0);
			cr_assert_eq(r2.n, 0);
		}
		mesh_ipam_alloc_free(&a2);
		mesh_ipam_ring_free(&r2);
	}
	mesh_ipam_ring_free(&r);
}

Test(ipam_store, save_and_load_survive_a_restart)
{
	char dir[] = "/tmp/mesh-ipam-test-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, MESH_IPAM_STORE_FILE);
	struct mesh_ipam_ring r, r2;
	struct mesh_ipam_alloc a, a2;
	char why[MESH_IPAM_WHY_LEN];
	fresh(&r2, &a2, 1, R16);
	cr_assert_eq(mesh_ipam_store_load(path, &r2, &a2, why), -ENOENT);
	state(&r, &a);
	cr_assert_eq(mesh_ipam_store_save(path, &r, &a), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(mesh_ipam_store_load(path, &r2, &a2, why), 0, "%s", why);
	cr_assert(same(&r, &a, &r2, &a2));
	/* after the restart, ADD for a known id gives back its address */
	uint32_t ip;
	cr_assert_eq(mesh_ipam_alloc_allocate(&a2, &r2, "bravo", 0, 0, &ip, why), 0);
	cr_assert_eq(ip, R16 + 1);
	/* overwrite: the newer state wins, no temp file stays */
	mesh_ipam_alloc_release(&a, "bravo");
	cr_assert_eq(mesh_ipam_store_save(path, &r, &a), 0);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r2);
	fresh(&r2, &a2, 1, R16);
	cr_assert_eq(mesh_ipam_store_load(path, &r2, &a2, why), 0, "%s", why);
	cr_assert_eq(a2.n, 2);
	cr_assert_eq(mesh_ipam_alloc_lookup(&a2, "bravo", 0, 0, &ip), -ENOENT);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r2);
	/* damaged on disk */
	FILE *f = fopen(path, "r+b");
	cr_assert_not_null(f);
	fseek(f, 30, SEEK_SET);
	fputc(0xee, f);
	fclose(f);
	fresh(&r2, &a2, 1, R16);
	cr_assert_eq(mesh_ipam_store_load(path, &r2, &a2, why), -EBADMSG);
	cr_assert(strstr(why, "checksum"), "%s", why);
	/* a directory is not a state file */
	cr_assert_eq(mesh_ipam_store_load(dir, &r2, &a2, why), -EINVAL);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r2);
	unlink(path);
	rmdir(dir);
	char addr[16];
	fmt(R16, addr);
	cr_assert_str_eq(addr, "10.40.0.0");
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

Test(ipam_alloc, donate_answers_a_valid_request_and_refuses_others)
{
	struct mesh_ipam_ring r1, r2;
	struct mesh_ipam_alloc a2;
	char why[MESH_IPAM_WHY_LEN];
	seeded(&r1, 1, 2, R16, 24);
	seeded(&r2, 2, 2, R16, 24); /* 2 owns 10.40.0.128/25 */
	cr_assert_eq(mesh_ipam_alloc_init(&a2, S12, 12), 0);
	uint32_t ip;
	cr_assert_eq(mesh_ipam_alloc_allocate(&a2, &r2, "x", 0, 0, &ip, why), 1);
	cr_assert_eq(ip, R16 + 128);
	struct mesh_ipam_request q = { R16, 24, r2.seed, nm(1), 10 };
	/* wrong range, wrong seed, from ourselves */
	struct mesh_ipam_request bad = q;
	bad.prefix = 25;
	cr_assert_eq(mesh_ipam_alloc_donate(&a2, &r2, &bad, why), -EDOM);
	cr_assert(strstr(why, "10.40.0.0/25") && strstr(why, "10.40.0.0/24"), "%s", why);
	bad = q;
	bad.seed ^= 1;
	cr_assert_eq(mesh_ipam_alloc_donate(&a2, &r2, &bad, why), -EXDEV);
	cr_assert(strstr(why, "seeded"), "%s", why);
	bad = q;
	bad.requester = nm(2);
	cr_assert_eq(mesh_ipam_alloc_donate(&a2, &r2, &bad, why), -EINVAL);
	/* a valid one: the upper half of the 127 free, i.e. 63 addresses */
	cr_assert_eq(mesh_ipam_alloc_donate(&a2, &r2, &q, why), 63, "%s", why);
	cr_assert(!mesh_ipam_ring_owns(&r2, R16 + 255));
	cr_assert(mesh_ipam_ring_owns(&r2, R16 + 192));
	cr_assert(!mesh_ipam_ring_owns(&r2, R16 + 193));
	/* the free counts went out with it: ours is 64 - 1 allocated */
	struct mesh_ipam_owner_stat st[2];
	cr_assert_eq(mesh_ipam_ring_owners(&r2, st, 2), 2);
	cr_assert_eq(st[1].owned, 65);
	cr_assert_eq(st[1].free, 64);
	/* the requester takes it through gossip */
	bool ch;
	size_t len = mesh_ipam_ring_encoded_size(&r2);
	uint8_t *b = malloc(len);
	cr_assert_eq(mesh_ipam_ring_encode(&r2, b, len), (ssize_t)len);
	cr_assert_eq(mesh_ipam_ring_merge_msg(&r1, b, len, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	cr_assert(mesh_ipam_ring_owns(&r1, R16 + 255));
	cr_assert(mesh_ipam_ring_owns(&r1, R16 + 193));
	/* a damaged message is refused by the same call */
	b[len - 1] ^= 0xff; /* the last free count: now over its span */
	cr_assert_eq(mesh_ipam_ring_merge_msg(&r1, b, len, NULL, NULL, &ch, why), -EBADMSG);
	cr_assert(!ch);
	cr_assert(strstr(why, "free addresses in a span"), "%s", why);
	free(b);
	/* nothing left: a full peer gives nothing */
	struct mesh_ipam_ring r3;
	struct mesh_ipam_alloc a3;
	seeded(&r3, 1, 1, 0xc0000200u, 31);
	cr_assert_eq(mesh_ipam_alloc_init(&a3, 0xc0000200u, 31), 0);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a3, &r3, "p", 0, 0, &ip, why), 1);
	cr_assert_eq(mesh_ipam_alloc_allocate(&a3, &r3, "q", 0, 0, &ip, why), 1);
	struct mesh_ipam_request q3 = { 0xc0000200u, 31, r3.seed, nm(2), 1 };
	cr_assert_eq(mesh_ipam_alloc_donate(&a3, &r3, &q3, why), -ENOSPC);
	mesh_ipam_alloc_free(&a3);
	mesh_ipam_ring_free(&r3);
	mesh_ipam_alloc_free(&a2);
	mesh_ipam_ring_free(&r1);
	mesh_ipam_ring_free(&r2);
}

/* --- the whole life of a three-host mesh, as the acceptance tests run it --------------------- */

struct host {
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
};

static void host_gossip(struct host *to, const struct host *from)
{
	cr_assert_geq(mesh_ipam_alloc_report_free(&((struct host *)from)->a, &((struct host *)from)->r), 0);
	size_t len = mesh_ipam_ring_encoded_size(&from->r);
	uint8_t *b = malloc(len);
	cr_assert_eq(mesh_ipam_ring_encode(&from->r, b, len), (ssize_t)len);
	bool ch;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_merge_msg(&to->r, b, len, mesh_ipam_alloc_has_in, &to->a, &ch, why), 0,
		     "%s", why);
	free(b);
}

static void no_address_twice(struct host *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(mesh_ipam_alloc_not_owned(&h[i].a, &h[i].r, NULL, 0), 0);
		for (size_t j = i + 1; j < n; j++)
			for (size_t k = 0; k < h[i].a.n; k++)
				cr_assert_eq(mesh_ipam_alloc_count_in(&h[j].a, h[i].a.a[k].ip,
								      (uint64_t)h[i].a.a[k].ip + 1), 0);
	}
}

static void add_many(struct host *h, const char *prefix, int n)
{
	char id[32], why[MESH_IPAM_WHY_LEN];
	uint32_t ip;
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		cr_assert_eq(mesh_ipam_alloc_allocate(&h->a, &h->r, id, 0, 0, &ip, why), 1, "%s", why);
		cr_assert_leq(R16, ip);
		cr_assert_lt(ip, R16 + 65536);
	}
}

Test(ipam_alloc, three_hosts_consensus_restart_partition_and_reclaim)
{
	struct host h[3];
	static struct mesh_ipam_init init;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_init_parse("consensus=3", &init, why), 0);
	struct mesh_peer_name all[3] = { nm(1), nm(2), nm(3) };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(mesh_ipam_ring_init(&h[i].r, &all[i], R16, 16), 0);
		cr_assert_eq(mesh_ipam_alloc_init(&h[i].a, S12, 12), 0);
		/* two known: wait; three: seed */
		cr_assert_eq(mesh_ipam_init_maybe_seed(&h[i].r, &init, all, 2), 0);
		cr_assert_eq(mesh_ipam_init_maybe_seed(&h[i].r, &init, all, 3), 1);
	}
	/* 50 ADDs on each host: 150 distinct addresses */
	add_many(&h[0], "h1", 50);
	add_many(&h[1], "h2", 50);
	add_many(&h[2], "h3", 50);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				host_gossip(&h[j], &h[i]);
	no_address_twice(h, 3);

	/* h3 is killed and restarted: its allocations are still its own */
	char dir[] = "/tmp/mesh-ipam-life-XXXXXX", path[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, MESH_IPAM_STORE_FILE);
	cr_assert_eq(mesh_ipam_store_save(path, &h[2].r, &h[2].a), 0);
	mesh_ipam_alloc_free(&h[2].a);
	mesh_ipam_ring_free(&h[2].r);
	cr_assert_eq(mesh_ipam_ring_init(&h[2].r, &all[2], R16, 16), 0);
	cr_assert_eq(mesh_ipam_alloc_init(&h[2].a, S12, 12), 0);
	cr_assert_eq(mesh_ipam_store_load(path, &h[2].r, &h[2].a, why), 0, "%s", why);
	cr_assert_eq(h[2].a.n, 50);
	uint32_t ip, again;
	cr_assert_eq(mesh_ipam_alloc_lookup(&h[2].a, "h3-7", 0, 0, &ip), 0);
	cr_assert_eq(mesh_ipam_alloc_allocate(&h[2].a, &h[2].r, "h3-7", 0, 0, &again, why), 0);
	cr_assert_eq(ip, again);
	host_gossip(&h[2], &h[0]);
	host_gossip(&h[0], &h[2]);

	/* partition h1 | h2 h3: both sides go on allocating */
	add_many(&h[0], "p1", 30);
	add_many(&h[1], "p2", 30);
	host_gossip(&h[2], &h[1]);
	add_many(&h[2], "p3", 30);
	host_gossip(&h[1], &h[2]);
	/* heal */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				if (i != j)
					host_gossip(&h[j], &h[i]);
	no_address_twice(h, 3);

	/* h3 is gone for good: h1 and h2 agree that h1 takes its space */
	uint64_t t0 = 1000000, after = 30 * 60000ull;
	struct mesh_ipam_peer_seen seen1[] = { { all[1], true, t0 + after, false },
					       { all[2], false, t0, false } };
	struct mesh_ipam_peer_seen seen2[] = { { all[0], true, t0 + after, false },
					       { all[2], false, t0, false } };
	struct mesh_peer_name v1, heir1, v2, heir2;
	cr_assert_eq(mesh_ipam_reclaim_decide(&h[0].r, seen1, 2, t0 + after - 1, 0, after, &v1, &heir1), 0);
	cr_assert_eq(mesh_ipam_reclaim_decide(&h[0].r, seen1, 2, t0 + after, 0, after, &v1, &heir1), 1);
	cr_assert_eq(mesh_ipam_reclaim_decide(&h[1].r, seen2, 2, t0 + after, 0, after, &v2, &heir2), 1);
	cr_assert(mesh_peer_name_eq(&v1, &all[2]) && mesh_peer_name_eq(&v2, &all[2]));
	cr_assert(mesh_peer_name_eq(&heir1, &all[0]) && mesh_peer_name_eq(&heir2, &all[0]));
	cr_assert_eq(mesh_ipam_ring_reclaim(&h[0].r, &v1), 21846);
	host_gossip(&h[1], &h[0]);
	cr_assert(!mesh_ipam_ring_owns(&h[1].r, R16 + 65535));
	struct mesh_ipam_owner_stat st[3];
	cr_assert_eq(mesh_ipam_ring_owners(&h[1].r, st, 3), 2); /* h3 owns nothing any more */
	/* h1 allocates in the reclaimed space once its own is used up (here: a claim there) */
	cr_assert_eq(mesh_ipam_alloc_claim(&h[0].a, &h[0].r, "late", 0, 0, R16 + 65000, why), 1, "%s", why);

	/* h3 comes back with its old state: it refuses to lose space where it has allocations */
	size_t len = mesh_ipam_ring_encoded_size(&h[0].r);
	uint8_t *b = malloc(len);
	cr_assert_eq(mesh_ipam_ring_encode(&h[0].r, b, len), (ssize_t)len);
	bool ch;
	cr_assert_eq(mesh_ipam_ring_merge_msg(&h[2].r, b, len, mesh_ipam_alloc_has_in, &h[2].a, &ch, why),
		     -EPERM);
	cr_assert(strstr(why, "02:00:00:00:00:03") && strstr(why, "02:00:00:00:00:01"), "%s", why);
	/* once its containers are gone (CNI GC with nothing to keep), it accepts */
	cr_assert_eq(mesh_ipam_alloc_release_except(&h[2].a, NULL, NULL, 0), 80);
	cr_assert_eq(mesh_ipam_ring_merge_msg(&h[2].r, b, len, mesh_ipam_alloc_has_in, &h[2].a, &ch, why), 0,
		     "%s", why);
	cr_assert(ch);
	free(b);
	/* and then asks for space like any newcomer */
	cr_assert_eq(mesh_ipam_alloc_allocate(&h[2].a, &h[2].r, "new", 0, 0, &ip, why), -ENOSPC);
	struct mesh_peer_name donor;
	cr_assert_eq(mesh_ipam_pick_donor(&h[2].r, all, 3, &donor), 0);
	cr_assert(mesh_peer_name_eq(&donor, &all[0])); /* the most free: h1 with h3's old space */
	struct mesh_ipam_request q = { R16, 16, h[2].r.seed, all[2], 1 };
	cr_assert_gt(mesh_ipam_alloc_donate(&h[0].a, &h[0].r, &q, why), 0, "%s", why);
	host_gossip(&h[2], &h[0]);
	cr_assert_eq(mesh_ipam_alloc_allocate(&h[2].a, &h[2].r, "new", 0, 0, &ip, why), 1, "%s", why);
	host_gossip(&h[1], &h[0]);
	host_gossip(&h[1], &h[2]);
	no_address_twice(h, 3);

	unlink(path);
	rmdir(dir);
	for (int i = 0; i < 3; i++) {
		mesh_ipam_alloc_free(&h[i].a);
		mesh_ipam_ring_free(&h[i].r);
	}
}
