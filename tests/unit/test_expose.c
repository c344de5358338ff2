/* tests/unit/test_expose.c: the masquerade table's nft text (router/expose.c). The table itself
 * is exercised against the kernel by tests/k8s (pods reaching the API server). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "router/expose.h"

static uint32_t ip(const char *s)
{
	uint32_t a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a); /* host order, as struct mesh_config keeps it */
}

Test(expose, masquerade_rule)
{
	char out[1024];
	cr_assert_eq(mesh_masquerade_ruleset(ip("10.32.0.0"), 12, "mesh", out, sizeof(out)), 0);
	cr_expect(strstr(out, "table ip " MESH_MASQ_TABLE " {"), "%s", out);
	cr_expect(strstr(out, "ip saddr 10.32.0.0/12 ip daddr != 10.32.0.0/12 "), "%s", out);
	cr_expect(strstr(out, "oifname != \"mesh\""), "%s", out);
	cr_expect(strstr(out, "ip daddr != 224.0.0.0/4"), "%s", out);
	/* a table a killed meshd left is replaced in the same transaction */
	cr_expect_eq(strstr(out, "add table"), out);
	cr_expect(strstr(out, "delete table ip " MESH_MASQ_TABLE "\n"), "%s", out);
}

Test(expose, masquerade_rule_masks_host_bits)
{
	char out[1024];
	cr_assert_eq(mesh_masquerade_ruleset(ip("10.40.1.7"), 16, "br-x", out, sizeof(out)), 0);
	cr_expect(strstr(out, "ip saddr 10.40.0.0/16 ip daddr != 10.40.0.0/16 "), "%s", out);
	cr_assert_eq(mesh_masquerade_ruleset(ip("10.40.1.7"), 32, "br-x", out, sizeof(out)), 0);
	cr_expect(strstr(out, "ip saddr 10.40.1.7/32 "), "%s", out);
}

Test(expose, masquerade_rule_refuses)
{
	char out[1024], small[40];
	cr_expect_eq(mesh_masquerade_ruleset(ip("10.32.0.0"), 33, "mesh", out, sizeof(out)), -EINVAL);
	cr_expect_eq(mesh_masquerade_ruleset(ip("10.32.0.0"), 12, "", out, sizeof(out)), -EINVAL);
	/* a name that would end the quoted string */
	cr_expect_eq(mesh_masquerade_ruleset(ip("10.32.0.0"), 12, "a\"b", out, sizeof(out)), -EINVAL);
	cr_expect_eq(mesh_masquerade_ruleset(ip("10.32.0.0"), 12, "mesh", small, sizeof(small)),
		     -ENOSPC);
}
