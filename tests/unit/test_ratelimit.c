/* tests/unit/test_ratelimit.c: the accept token bucket (router/ratelimit.c). */
#include <criterion/criterion.h>

#include "router/ratelimit.h"

Test(ratelimit, burst_then_rate)
{
	struct mesh_ratelimit rl;
	mesh_ratelimit_init(&rl, 10, 5, 1000);
	for (int i = 0; i < 5; i++)
		cr_assert(mesh_ratelimit_take(&rl, 1000), "burst token %d", i);
	cr_assert_not(mesh_ratelimit_take(&rl, 1000));
	cr_assert_not(mesh_ratelimit_take(&rl, 1099), "0.99 tokens after 99 ms at 10/s");
	cr_assert(mesh_ratelimit_take(&rl, 1100));
	cr_assert_not(mesh_ratelimit_take(&rl, 1100));
	/* a long pause refills to the burst, not beyond */
	for (int i = 0; i < 5; i++)
		cr_assert(mesh_ratelimit_take(&rl, 100000));
	cr_assert_not(mesh_ratelimit_take(&rl, 100000));
}

Test(ratelimit, clock_going_back_is_harmless)
{
	struct mesh_ratelimit rl;
	mesh_ratelimit_init(&rl, 1, 1, 5000);
	cr_assert(mesh_ratelimit_take(&rl, 5000));
	cr_assert_not(mesh_ratelimit_take(&rl, 4000));
	cr_assert(mesh_ratelimit_take(&rl, 6000));
}
