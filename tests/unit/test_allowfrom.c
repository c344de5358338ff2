/* tests/unit/test_allowfrom.c: --allow-from's networks (router/allowfrom.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "router/allowfrom.h"

static struct mesh_addr addr(const char *s)
{
	struct mesh_addr a;
	const char *why;
	cr_assert_eq(mesh_addr_parse(s, 6783, &a, &why), 0, "%s", s);
	return a;
}

static struct mesh_cidr cidr(const char *s)
{
	struct mesh_cidr c;
	const char *why = "";
	cr_assert_eq(mesh_cidr_parse(s, &c, &why), 0, "%s: %s", s, why);
	return c;
}

Test(allowfrom, networks_of_both_families_match_their_addresses)
{
	struct mesh_cidr list[3] = { cidr("198.18.0.0/24"), cidr("2001:2:0:6d::/64"), cidr("192.0.2.7") };
	struct mesh_addr in4 = addr("198.18.0.200:40000"), out4 = addr("198.18.1.1");
	struct mesh_addr in6 = addr("[2001:2:0:6d::5]:6783"), out6 = addr("2001:2:0:6e::5");
	struct mesh_addr one = addr("192.0.2.7"), next = addr("192.0.2.8");
	cr_assert(mesh_allow_from(list, 3, &in4));
	cr_assert_not(mesh_allow_from(list, 3, &out4));
	cr_assert(mesh_allow_from(list, 3, &in6));
	cr_assert_not(mesh_allow_from(list, 3, &out6));
	cr_assert(mesh_allow_from(list, 3, &one));
	cr_assert_not(mesh_allow_from(list, 3, &next));
	/* no list: everyone */
	cr_assert(mesh_allow_from(list, 0, &out6));
	/* an IPv4-mapped address is IPv4 */
	struct mesh_addr mapped = addr("[::ffff:198.18.0.9]:1");
	cr_assert(mesh_allow_from(list, 3, &mapped));
	/* odd prefix lengths */
	struct mesh_cidr c = cidr("10.32.0.0/12");
	struct mesh_addr a = addr("10.47.255.255"), b = addr("10.48.0.0");
	cr_assert(mesh_cidr_match(&c, &a));
	cr_assert_not(mesh_cidr_match(&c, &b));
	struct mesh_cidr all = cidr("0.0.0.0/0");
	cr_assert(mesh_cidr_match(&all, &b));
	cr_assert_not(mesh_cidr_match(&all, &in6));
	char s[MESH_CIDR_STRLEN];
	mesh_cidr_format(&list[1], s);
	cr_assert_str_eq(s, "2001:2:0:6d::/64");
	mesh_cidr_format(&list[2], s);
	cr_assert_str_eq(s, "192.0.2.7/32");
}

Test(allowfrom, bad_networks_are_refused_saying_why)
{
	static const struct { const char *in, *why; } bad[] = {
		{ "", "not an address" },
		{ "/24", "not an address" },
		{ "198.18.0.1/24", "host bits" },
		{ "198.18.0.0/33", "0..32" },
		{ "2001:db8::/129", "0..128" },
		{ "198.18.0.0/", "not a number" },
		{ "198.18.0.0/2x", "0..32" },
		{ "example.com", "not an IPv4 or IPv6" },
		{ "[2001:db8::]/32", "not an IPv4 or IPv6" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mesh_cidr c;
		const char *why = "";
		cr_assert_eq(mesh_cidr_parse(bad[i].in, &c, &why), -EINVAL, "accepted '%s'", bad[i].in);
		cr_assert(strstr(why, bad[i].why), "'%s': said '%s'", bad[i].in, why);
	}
}
