/* tests/unit/test_limits.c: the bounds against hostile peers of issue 16 that are pure logic:
 * the budget of unauthenticated inbound connections (router/unauth.c). */
#include <criterion/criterion.h>
#include <errno.h>

#include "router/unauth.h"

Test(unauth, per_source_cap_leaves_room_for_others)
{
	struct mesh_unauth u = { 0 };
	uint32_t stranger = 0x010000c6, peer = 0x020000c6;
	for (int i = 0; i < MESH_UNAUTH_PER_SOURCE; i++)
		cr_assert_eq(mesh_unauth_take(&u, stranger), 0, "connection %d", i);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(mesh_unauth_take(&u, stranger), -EAGAIN);
	cr_assert_eq(mesh_unauth_held(&u, stranger), MESH_UNAUTH_PER_SOURCE);
	cr_assert_eq(mesh_unauth_take(&u, peer), 0, "another address still gets in");
	cr_assert_eq(u.total, MESH_UNAUTH_PER_SOURCE + 1);
	mesh_unauth_release(&u, stranger);
	cr_assert_eq(mesh_unauth_take(&u, stranger), 0, "a slot given back is taken again");
}

Test(unauth, total_cap_and_release)
{
	struct mesh_unauth u = { 0 };
	uint32_t ip = 1;
	for (int i = 0; i < MESH_UNAUTH_MAX; i++, ip++)
		cr_assert_eq(mesh_unauth_take(&u, ip), 0, "source %d", i);
	cr_assert_eq(mesh_unauth_take(&u, ip), -ENOSPC);
	cr_assert_eq(mesh_unauth_take(&u, 1), -ENOSPC, "a held source cannot go over the total");
	mesh_unauth_release(&u, 5);
	cr_assert_eq(mesh_unauth_held(&u, 5), 0);
	cr_assert_eq(mesh_unauth_take(&u, ip), 0, "the freed slot serves a new address");
	/* releasing what was never taken changes nothing */
	mesh_unauth_release(&u, 0xdeadbeef);
	cr_assert_eq(u.total, MESH_UNAUTH_MAX);
	for (uint32_t i = 1; i <= (uint32_t)MESH_UNAUTH_MAX + 1; i++)
		mesh_unauth_release(&u, i);
	cr_assert_eq(u.total, 0);
	cr_assert_eq(mesh_unauth_take(&u, 7), 0);
}

/* --- the targets' address index (router/addrindex.c) ------------------------------------ */

#include "router/addrindex.h"

Test(addrindex, put_get_del_many)
{
	struct mesh_addrindex x;
	static int vals[5000];
	cr_assert_eq(mesh_addrindex_init(&x), 0);
	for (uint32_t i = 0; i < 5000; i++)
		cr_assert_eq(mesh_addrindex_put(&x, i * 7919u, (uint16_t)(6783 + i % 3), &vals[i]), 0);
	cr_assert_eq(x.count, 5000);
	cr_assert_eq(mesh_addrindex_put(&x, 0, 6783, &vals[1]), -EEXIST);
	cr_assert_eq(mesh_addrindex_put(&x, 1, 1, NULL), -EINVAL);
	for (uint32_t i = 0; i < 5000; i++)
		cr_assert_eq(mesh_addrindex_get(&x, i * 7919u, (uint16_t)(6783 + i % 3)), &vals[i]);
	cr_assert_null(mesh_addrindex_get(&x, 7919u, 6783), "same address, another port");
	for (uint32_t i = 0; i < 5000; i += 2)
		mesh_addrindex_del(&x, i * 7919u, (uint16_t)(6783 + i % 3));
	mesh_addrindex_del(&x, 12345, 1); /* absent: nothing */
	cr_assert_eq(x.count, 2500);
	for (uint32_t i = 0; i < 5000; i++) {
		void *v = mesh_addrindex_get(&x, i * 7919u, (uint16_t)(6783 + i % 3));
		if (i % 2)
			cr_assert_eq(v, &vals[i], "entry %u lost after deletions", i);
		else
			cr_assert_null(v);
	}
	mesh_addrindex_free(&x);
}
