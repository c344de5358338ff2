/* tests/unit/test_backoff.c: the reconnect backoff state machine (gossip/backoff.c). */
#include <criterion/criterion.h>

#include "gossip/backoff.h"

#define MID 0x80000000u /* rand giving no jitter */

Test(backoff, grows_by_half_up_to_the_cap)
{
	struct mesh_backoff b;
	mesh_backoff_init(&b);
	uint32_t expect = 2000;
	for (int i = 0; i < 30; i++) {
		uint32_t d = mesh_backoff_failed(&b, 0, MID);
		cr_assert_eq(d, expect, "attempt %d: %u != %u", i, d, expect);
		uint64_t next = (uint64_t)expect * 3 / 2;
		expect = next > MESH_BACKOFF_MAX_MS ? MESH_BACKOFF_MAX_MS : (uint32_t)next;
	}
	cr_assert_eq(mesh_backoff_failed(&b, 0, MID), MESH_BACKOFF_MAX_MS);
}

Test(backoff, jitter_stays_within_a_quarter)
{
	struct mesh_backoff b;
	mesh_backoff_init(&b);
	cr_assert_eq(mesh_backoff_failed(&b, 0, 0), 1500);
	mesh_backoff_init(&b);
	cr_assert_eq(mesh_backoff_failed(&b, 0, 0xffffffffu), 2499);
}

Test(backoff, long_uptime_resets_short_does_not)
{
	struct mesh_backoff b;
	mesh_backoff_init(&b);
	for (int i = 0; i < 5; i++)
		mesh_backoff_failed(&b, 0, MID);
	uint32_t before = b.base_ms;
	mesh_backoff_up(&b, 1000);
	/* up for 59 s: still backing off */
	cr_assert_eq(mesh_backoff_failed(&b, 1000 + 59000, MID), before);
	mesh_backoff_up(&b, 100000);
	/* up for 60 s: start again from 2 s */
	cr_assert_eq(mesh_backoff_failed(&b, 160000, MID), 2000);
}

Test(backoff, hold_raises_the_next_delay_never_lowers_it)
{
	struct mesh_backoff b;
	mesh_backoff_init(&b);
	mesh_backoff_up(&b, 0);
	mesh_backoff_hold(&b, 30000);
	/* a connection refused right after coming up, whatever its uptime, waits 30 s */
	cr_assert_eq(mesh_backoff_failed(&b, 120000, MID), 30000);
	cr_assert_eq(mesh_backoff_failed(&b, 120000, MID), 45000);
	mesh_backoff_hold(&b, 10000); /* lower than where it stands: unchanged */
	cr_assert_eq(mesh_backoff_failed(&b, 120000, MID), 67500);
	mesh_backoff_hold(&b, 0xffffffffu);
	cr_assert_eq(mesh_backoff_failed(&b, 120000, MID), MESH_BACKOFF_MAX_MS);
}
