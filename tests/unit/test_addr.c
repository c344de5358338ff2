/* tests/unit/test_addr.c: peer addresses of either family (include/mesh/addr.h, gossip/addr.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "mesh/addr.h"

static struct mesh_addr parse_ok(const char *s, uint16_t def)
{
	struct mesh_addr a;
	const char *why = NULL;
	int r = mesh_addr_parse(s, def, &a, &why);
	cr_assert_eq(r, 0, "'%s' refused: %s", s, why ? why : "?");
	return a;
}

static void round_trip(const char *in, uint16_t def, const char *want)
{
	struct mesh_addr a = parse_ok(in, def);
	char out[MESH_ADDR_STRLEN];
	mesh_addr_format(&a, out, sizeof(out));
	cr_assert_str_eq(out, want, "'%s' formats as '%s', not '%s'", in, out, want);
}

Test(addr, accepted_forms)
{
	round_trip("1.2.3.4", 6783, "1.2.3.4:6783");
	round_trip("1.2.3.4:99", 6783, "1.2.3.4:99");
	round_trip("[2001:db8::a]", 6783, "[2001:db8::a]:6783");
	round_trip("[2001:db8::a]:6783", 1, "[2001:db8::a]:6783");
	round_trip("2001:db8::a", 7000, "[2001:db8::a]:7000");
	round_trip("2001:DB8:0:0:0:0:0:A", 1, "[2001:db8::a]:1");
	round_trip("::1", 5, "[::1]:5");
	round_trip("[::1]:65535", 5, "[::1]:65535");
	round_trip("1.2.3.4", 0, "1.2.3.4");
}

Test(addr, mapped_ipv4_is_plain_ipv4)
{
	struct mesh_addr a = parse_ok("[::ffff:198.18.0.1]:6783", 1);
	cr_assert_eq(a.family, AF_INET);
	char out[MESH_ADDR_STRLEN];
	mesh_addr_format(&a, out, sizeof(out));
	cr_assert_str_eq(out, "198.18.0.1:6783");
	struct mesh_addr b = parse_ok("198.18.0.1:6783", 1);
	cr_assert(mesh_addr_eq(&a, &b));
	cr_assert_eq(mesh_addr_ipv4(&a), inet_addr("198.18.0.1"));
}

static void refused(const char *s, const char *why_has)
{
	struct mesh_addr a;
	memset(&a, 0x5a, sizeof(a));
	struct mesh_addr before = a;
	const char *why = NULL;
	cr_assert_eq(mesh_addr_parse(s, 6783, &a, &why), -EINVAL, "'%s' was accepted", s);
	cr_assert_not_null(why, "'%s': no reason", s);
	cr_assert(strstr(why, why_has), "'%s': reason '%s' lacks '%s'", s, why, why_has);
	cr_assert(memcmp(&a, &before, sizeof(a)) == 0, "'%s': out changed on failure", s);
}

Test(addr, refused_with_reasons)
{
	refused("", "empty");
	refused("1.2.3", "not an IPv4 address");
	refused("1.2.3.4:", "port after ':' is empty");
	refused("1.2.3.4:0", "port is 0");
	refused("1.2.3.4:65536", "above 65535");
	refused("1.2.3.4:12a", "not a decimal");
	refused("1.2.3.4:-1", "not a decimal");
	refused(":6783", "before ':' is empty");
	refused("[2001:db8::a", "without a closing");
	refused("2001:db8::a]", "without an opening");
	refused("[]", "brackets are empty");
	refused("[1.2.3.4]", "not an IPv6 address");
	refused("[2001:db8::a]x", "only ':port'");
	refused("[2001:db8::a]:", "port after ':' is empty");
	refused("2001:db8::a:6783x", "nor an IPv6");
	refused("host.example", "not an IPv4 address");
	refused("[fe80::1%eth0]", "zone");
	refused("fe80::1%eth0", "zone");
	refused("[2001:db8::a]:70000", "above 65535");
}

Test(addr, sockaddr_conversions)
{
	struct mesh_addr v4 = parse_ok("198.18.0.2:6783", 1), v6 = parse_ok("[2001:2:0:6d::2]:6783", 1);
	struct sockaddr_storage ss;
	struct mesh_addr back;

	socklen_t n = mesh_addr_to_sockaddr(&v4, AF_INET, &ss);
	cr_assert_eq(n, sizeof(struct sockaddr_in));
	cr_assert_eq(mesh_addr_from_sockaddr((struct sockaddr *)&ss, n, &back), 0);
	cr_assert(mesh_addr_eq(&back, &v4));

	n = mesh_addr_to_sockaddr(&v4, AF_INET6, &ss);
	cr_assert_eq(n, sizeof(struct sockaddr_in6), "IPv4 goes mapped to a dual-stack socket");
	cr_assert(IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	cr_assert_eq(mesh_addr_from_sockaddr((struct sockaddr *)&ss, n, &back), 0);
	cr_assert(mesh_addr_eq(&back, &v4), "mapped comes back as IPv4");

	n = mesh_addr_to_sockaddr(&v6, AF_INET6, &ss);
	cr_assert_eq(n, sizeof(struct sockaddr_in6));
	cr_assert_eq(mesh_addr_from_sockaddr((struct sockaddr *)&ss, n, &back), 0);
	cr_assert(mesh_addr_eq(&back, &v6));
	cr_assert_eq(mesh_addr_ipv4(&v6), 0);

	cr_assert_eq(mesh_addr_to_sockaddr(&v6, AF_INET, &ss), 0, "IPv6 cannot go to an AF_INET socket");
	struct sockaddr_un { sa_family_t f; char p[10]; } un = { AF_UNIX, "x" };
	cr_assert_eq(mesh_addr_from_sockaddr((struct sockaddr *)&un, sizeof(un), &back), -EAFNOSUPPORT);
	cr_assert_eq(mesh_addr_from_sockaddr((struct sockaddr *)&ss, 8, &back), -EAFNOSUPPORT,
		     "a short sockaddr_in6 is refused");
}

Test(addr, equality_and_unspecified)
{
	struct mesh_addr a = parse_ok("[2001:db8::a]:1", 0), b = parse_ok("[2001:db8::a]:2", 0);
	cr_assert(!mesh_addr_eq(&a, &b));
	cr_assert(mesh_addr_same_host(&a, &b));
	struct mesh_addr z = parse_ok("[::]", 1), z4 = parse_ok("0.0.0.0", 1), none = { 0 };
	cr_assert(mesh_addr_is_unspecified(&z));
	cr_assert(mesh_addr_is_unspecified(&z4));
	cr_assert(mesh_addr_is_unspecified(&none));
	cr_assert(!mesh_addr_is_unspecified(&a));
	char small[8];
	cr_assert_eq(mesh_addr_format(&a, small, sizeof(small)), sizeof(small) - 1, "truncated, terminated");
	cr_assert_eq(small[7], '\0');
}

Test(addr, dialable)
{
	const char *yes[] = { "198.18.0.1", "10.0.0.1", "[2001:2:0:6d::1]", "[fd00::1]", "[::1]" };
	const char *no[] = { "0.0.0.0", "224.0.0.1", "239.1.2.3", "255.255.255.255", "[::]",
			     "[ff02::1]", "[fe80::1]", "[febf::1]" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(mesh_addr_dialable((struct mesh_addr[]){ parse_ok(yes[i], 1) }), "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert(!mesh_addr_dialable((struct mesh_addr[]){ parse_ok(no[i], 1) }), "%s", no[i]);
	struct mesh_addr none = { 0 };
	cr_assert(!mesh_addr_dialable(&none));
}
