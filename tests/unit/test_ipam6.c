/* tests/unit/test_ipam6.c: --ipalloc-range6 parsing and the IPv4 -> IPv6 mapping of the mesh
 * IPAM (router/ipam6.c), and that addresses allocated on two peers of one ring (router/
 * ipam_alloc.c) map to distinct IPv6 addresses inside range6. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gossip/ipam.h"
#include "router/ipam6.h"
#include "router/ipam_alloc.h"

#define R16 0x0a280000u    /* 10.40.0.0/16: the lab's range */
#define S12 0x0a200000u    /* 10.32.0.0/12 */

static struct mesh_ipam6 range6(const char *s)
{
	struct mesh_ipam6 r;
	char why[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(mesh_ipam6_parse(s, &r, why), 0, "%s: %s", s, why);
	return r;
}

static void map_str(const struct mesh_ipam6 *r, uint32_t ip, char out[MESH_IPAM6_STRLEN])
{
	uint8_t a[16];
	cr_assert_eq(mesh_ipam6_map(r, ip, a), 0);
	mesh_ipam6_addr_format(a, out);
}

Test(ipam6, parse_accepts_prefixes_and_off)
{
	char s[MESH_IPAM6_CIDRLEN];
	struct mesh_ipam6 r = range6(MESH_DEFAULT_IPALLOC_RANGE6);
	cr_expect(r.on);
	cr_expect_eq(r.prefix, 48);
	mesh_ipam6_range_format(&r, s);
	cr_expect_str_eq(s, "fd6d:6573:6800::/48");
	r = range6("2001:db8::/32");
	cr_expect_eq(r.prefix, 32);
	r = range6("fd00:1:2:3:4:5::/96");
	mesh_ipam6_range_format(&r, s);
	cr_expect_str_eq(s, "fd00:1:2:3:4:5::/96");
	r = range6("off");
	cr_expect_not(r.on);
	mesh_ipam6_range_format(&r, s);
	cr_expect_str_eq(s, "off");
}

Test(ipam6, parse_refuses_bad_input_saying_why)
{
	static const struct {
		const char *in, *says;
	} bad[] = {
		{ "", "is not an IPv6 prefix" },
		{ "fd00::", "is not an IPv6 prefix" },
		{ "/64", "is not an IPv6 prefix" },
		{ "Off", "is not an IPv6 prefix" },
		{ "fd00::/", "the prefix length '' is not a number" },
		{ "fd00::/129", "the prefix length '129'" },
		{ "fd00::/064", "the prefix length '064'" },
		{ "fd00::/64x", "the prefix length '64x'" },
		{ "fd00::/-1", "the prefix length '-1'" },
		{ "fd00::/12800", "the prefix length '12800'" },
		{ "10.32.0.0/12", "'10.32.0.0' is not an IPv6 address" },
		{ "fd00:::/64", "is not an IPv6 address" },
		{ "fd00::1/64", "bits set beyond the /64 prefix" },
		{ "fd00::/97", "a /97 is too small: each IPv6 address embeds the 32 bits of its IPv4 one, so the range must be a /96 or wider" },
		{ "fd00::1/128", "a /128 is too small" },
		{ "fd6d:6573:6801::/47", "bits set beyond the /47 prefix" },
		{ "fc00::/7", "a prefix of 7 bits is wider" },
		{ "::/0", "a prefix of 0 bits" },
		{ "ff15::/16", "a multicast prefix" },
		{ "fe80::/64", "a link-local prefix" },
		{ "febf::/16", "a link-local prefix" },
		{ "::/8", "in ::/8" },
		{ "::ffff:0:0/96", "in ::/8" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mesh_ipam6 r;
		char why[MESH_IPAM_WHY_LEN] = "";
		memset(&r, 0xaa, sizeof(r));
		cr_expect_eq(mesh_ipam6_parse(bad[i].in, &r, why), -EINVAL, "'%s' was accepted", bad[i].in);
		cr_expect(strstr(why, bad[i].says), "'%s': '%s' does not say '%s'", bad[i].in, why,
			  bad[i].says);
		cr_expect_not(r.on, "'%s' left the range on", bad[i].in);
	}
	/* fec0::/10 (deprecated site-local) is not link-local */
	struct mesh_ipam6 r = range6("fec0::/10");
	cr_expect(r.on);
}

Test(ipam6, maps_the_ipv4_address_into_the_last_32_bits)
{
	char s[MESH_IPAM6_STRLEN];
	uint8_t a[16];
	struct mesh_ipam6 r = range6(MESH_DEFAULT_IPALLOC_RANGE6);
	map_str(&r, R16 + 5, s); /* 10.40.0.5 */
	cr_expect_str_eq(s, "fd6d:6573:6800::a28:5");
	map_str(&r, R16, s);     /* the first of the lab's range: not the prefix's anycast address */
	cr_expect_str_eq(s, "fd6d:6573:6800::a28:0");
	map_str(&r, 0xffffffffu, s);
	cr_expect_str_eq(s, "fd6d:6573:6800::ffff:ffff");
	map_str(&r, 1, s);
	cr_expect_str_eq(s, "fd6d:6573:6800::1");
	/* a /96: its own last 32 bits are all the IPv4 address */
	r = range6("2001:db8:0:1:2:3::/96");
	map_str(&r, S12 + 0x10203, s);
	cr_expect_str_eq(s, "2001:db8:0:1:2:3:a21:203");
	/* 0.0.0.0 would be the prefix's Subnet-Router anycast address */
	cr_expect_eq(mesh_ipam6_map(&r, 0, a), -ERANGE);
	r = range6("off");
	cr_expect_eq(mesh_ipam6_map(&r, R16 + 1, a), -ENODATA);
}

Test(ipam6, unmap_inverts_map_and_refuses_other_addresses)
{
	struct mesh_ipam6 r = range6("fd00:0:0:0:abcd::/96");
	uint8_t a[16];
	uint32_t ip;
	for (uint64_t v = 1; v <= 0xffffffffu; v += 0x01010101u / 3) {
		cr_assert_eq(mesh_ipam6_map(&r, (uint32_t)v, a), 0);
		cr_assert_eq(mesh_ipam6_unmap(&r, a, &ip), 0);
		cr_assert_eq(ip, (uint32_t)v);
	}
	inet_pton(AF_INET6, "fd00::abce:0:a28:5", a);
	cr_expect_eq(mesh_ipam6_unmap(&r, a, &ip), -ERANGE, "another /96");
	inet_pton(AF_INET6, "fd01::abcd:0:a28:5", a);
	cr_expect_eq(mesh_ipam6_unmap(&r, a, &ip), -ERANGE);
	inet_pton(AF_INET6, "fd00::abcd:0:0:0", a);
	cr_expect_eq(mesh_ipam6_unmap(&r, a, &ip), -ERANGE, "the anycast address");
	r = range6(MESH_DEFAULT_IPALLOC_RANGE6);
	inet_pton(AF_INET6, "fd6d:6573:6800::a28:ffff", a);
	cr_expect_eq(mesh_ipam6_unmap(&r, a, &ip), 0);
	cr_expect_eq(ip, 0x0a28ffffu);
	inet_pton(AF_INET6, "fd6d:6573:6800::1:a28:ffff", a);
	cr_expect_eq(mesh_ipam6_unmap(&r, a, &ip), -ERANGE, "bits between the /48 and the /96");
}

static struct mesh_peer_name nm(unsigned i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

/* Two peers of one seeded ring (10.40.0.0/24) each fill their space: every IPv4 allocation is
 * unique (the ring's rule), and so is every mapped IPv6 address, inside range6. */
Test(ipam6, allocations_of_two_peers_map_to_distinct_addresses)
{
	struct mesh_peer_name names[2] = { nm(1), nm(2) };
	struct mesh_ipam_ring ring[2];
	struct mesh_ipam_alloc al[2];
	struct mesh_ipam6 r6 = range6("fd00:6d::/96");
	const uint32_t start = 0x0a280000u;
	static uint8_t seen[256];
	char why[MESH_IPAM_WHY_LEN], id[32];
	size_t total = 0;
	for (int p = 0; p < 2; p++) {
		cr_assert_eq(mesh_ipam_ring_init(&ring[p], &names[p], start, 24), 0);
		cr_assert_eq(mesh_ipam_ring_seed(&ring[p], names, 2), 0);
		cr_assert_eq(mesh_ipam_alloc_init(&al[p], start, 24), 0);
		for (int k = 0;; k++) {
			uint32_t ip;
			uint8_t a[16], b[16];
			snprintf(id, sizeof(id), "c%d-%d", p, k);
			int ret = mesh_ipam_alloc_allocate(&al[p], &ring[p], id, 0, 0, &ip, why);
			if (ret == -ENOSPC)
				break;
			cr_assert_eq(ret, 1, "%s", why);
			cr_assert_eq(mesh_ipam6_map(&r6, ip, a), 0);
			memcpy(b, r6.base, 16);
			b[12] = 10, b[13] = 40, b[14] = 0;
			cr_assert_eq(memcmp(a, b, 15), 0, "not fd00:6d::a28:xx");
			cr_assert_eq(seen[a[15]], 0, "IPv6 address ::%x given twice", a[15]);
			seen[a[15]] = 1;
			total++;
		}
	}
	/* all of the /24 but its network and broadcast addresses */
	cr_expect_eq(total, 254);
	cr_expect_eq(seen[0], 0);
	cr_expect_eq(seen[255], 0);
	for (int p = 0; p < 2; p++) {
		mesh_ipam_alloc_free(&al[p]);
		mesh_ipam_ring_free(&ring[p]);
	}
}
