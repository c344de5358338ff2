/* tests/unit/test_pmtu.c: path MTU search (sleeve/pmtu.c) against simulated paths. */
#include <criterion/criterion.h>

#include "sleeve/pmtu.h"

/* Runs the search against a path that carries sizes <= path; returns probes sent. */
static unsigned search(struct sleeve_pmtu *p, uint16_t path)
{
	unsigned sent = 0;
	uint16_t s;
	while ((s = sleeve_pmtu_next(p)) != 0 && sent < 1000) {
		sent++;
		if (s <= path)
			sleeve_pmtu_acked(p, s);
		else
			sleeve_pmtu_lost(p, false);
	}
	return sent;
}

Test(pmtu, full_path_takes_one_probe)
{
	struct sleeve_pmtu p;
	sleeve_pmtu_init(&p, 548, 1472);
	cr_assert_eq(search(&p, 1472), 1);
	cr_assert_eq(p.ok, 1472);
	cr_assert(sleeve_pmtu_done(&p));
}

Test(pmtu, smaller_path_found_within_precision)
{
	for (uint16_t path = 548; path <= 1472; path += 37) {
		struct sleeve_pmtu p;
		sleeve_pmtu_init(&p, 548, 1472);
		unsigned sent = search(&p, path);
		cr_assert(p.ok <= path, "path %u: verified %u beyond it", path, p.ok);
		cr_assert(path - p.ok <= SLEEVE_PMTU_PRECISION, "path %u: only %u found", path, p.ok);
		cr_assert(sent <= SLEEVE_PMTU_TRIES * 11, "path %u: %u probes", path, sent);
	}
}

Test(pmtu, a_lost_probe_is_retried_before_it_counts)
{
	struct sleeve_pmtu p;
	sleeve_pmtu_init(&p, 548, 1472);
	cr_assert_eq(sleeve_pmtu_next(&p), 1472);
	sleeve_pmtu_lost(&p, false);
	cr_assert_eq(sleeve_pmtu_next(&p), 1472, "one loss is not enough");
	cr_assert_eq(SLEEVE_PMTU_TRIES, 2);
	sleeve_pmtu_acked(&p, 1472);
	cr_assert_eq(p.ok, 1472);
	cr_assert(sleeve_pmtu_done(&p));
}

Test(pmtu, local_refusal_counts_at_once)
{
	struct sleeve_pmtu p;
	sleeve_pmtu_init(&p, 548, 1472);
	cr_assert_eq(sleeve_pmtu_next(&p), 1472);
	sleeve_pmtu_lost(&p, true);
	cr_assert_eq(p.fail, 1472);
	cr_assert_lt(sleeve_pmtu_next(&p), 1472);
}

Test(pmtu, late_or_bogus_acks_are_ignored)
{
	struct sleeve_pmtu p;
	sleeve_pmtu_init(&p, 548, 1472);
	sleeve_pmtu_next(&p);
	sleeve_pmtu_lost(&p, true);          /* 1472 fails */
	sleeve_pmtu_acked(&p, 1472);         /* an ack for a size known to fail */
	cr_assert_eq(p.ok, 548);
	sleeve_pmtu_acked(&p, 100);          /* below what is verified */
	cr_assert_eq(p.ok, 548);
}

/* Over IPv6 (issue 18) the search starts from IPv6's 1280-byte minimum: a 1280-byte link is
 * found without a probe below it, and a 1500-byte one carries 20 bytes less than over IPv4. */
Test(pmtu, ipv6_floor_and_full_size)
{
	struct sleeve_pmtu p;
	cr_assert_eq(SLEEVE_PMTU_FLOOR_V6, 1232);
	sleeve_pmtu_init(&p, SLEEVE_PMTU_FLOOR_V6, 1472);
	uint16_t s, smallest = UINT16_MAX;
	while ((s = sleeve_pmtu_next(&p)) != 0) {
		smallest = s < smallest ? s : smallest;
		if (s <= 1232)
			sleeve_pmtu_acked(&p, s);
		else
			sleeve_pmtu_lost(&p, false);
	}
	cr_assert_eq(p.ok, 1232);
	cr_assert_geq(smallest, 1232, "probed %u, below what every IPv6 path carries", smallest);
	sleeve_pmtu_init(&p, SLEEVE_PMTU_FLOOR_V6, 1472);
	search(&p, 1500 - 40 - 8);
	cr_assert_eq(p.ok, 1452);
}
