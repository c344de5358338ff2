/* tests/unit/test_limits.c: the bounds against hostile peers of issue 16 that are pure logic:
 * the budget of unauthenticated inbound connections (router/unauth.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "router/unauth.h"

static struct mesh_addr v4(uint32_t ip, uint16_t port)
{
	struct mesh_addr a;
	mesh_addr_from_ipv4(ip, port, &a);
	return a;
}

static struct mesh_addr v6(uint32_t low, uint16_t port)
{
	struct mesh_addr a = { .family = AF_INET6, .port = port };
	a.a[0] = 0x20, a.a[1] = 0x01, a.a[2] = 0x0d, a.a[3] = 0xb8;
	memcpy(a.a + 12, &low, 4);
	return a;
}

/* an address as a pointer argument */
#define A(ip) ((struct mesh_addr[]){ v4((ip), 0) })
#define AP(ip, port) ((struct mesh_addr[]){ v4((ip), (port)) })
#define A6(ip, port) ((struct mesh_addr[]){ v6((ip), (port)) })

Test(unauth, per_source_cap_leaves_room_for_others)
{
	struct mesh_unauth u = { 0 };
	uint32_t stranger = 0x010000c6, peer = 0x020000c6;
	for (int i = 0; i < MESH_UNAUTH_PER_SOURCE; i++)
		cr_assert_eq(mesh_unauth_take(&u, A(stranger)), 0, "connection %d", i);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(mesh_unauth_take(&u, A(stranger)), -EAGAIN);
	cr_assert_eq(mesh_unauth_held(&u, A(stranger)), MESH_UNAUTH_PER_SOURCE);
	cr_assert_eq(mesh_unauth_take(&u, A(peer)), 0, "another address still gets in");
	cr_assert_eq(u.total, MESH_UNAUTH_PER_SOURCE + 1);
	mesh_unauth_release(&u, A(stranger));
	cr_assert_eq(mesh_unauth_take(&u, A(stranger)), 0, "a slot given back is taken again");
}

Test(unauth, ipv6_sources_are_their_own)
{
	struct mesh_unauth u = { 0 };
	for (int i = 0; i < MESH_UNAUTH_PER_SOURCE; i++)
		cr_assert_eq(mesh_unauth_take(&u, A6(5, (uint16_t)i)), 0, "the port is not part of the source");
	cr_assert_eq(mesh_unauth_take(&u, A6(5, 9)), -EAGAIN);
	cr_assert_eq(mesh_unauth_take(&u, A(5)), 0, "an IPv4 address is not an IPv6 one");
	cr_assert_eq(mesh_unauth_take(&u, A6(6, 1)), 0);
	mesh_unauth_release(&u, A6(5, 0));
	cr_assert_eq(mesh_unauth_held(&u, A6(5, 0)), MESH_UNAUTH_PER_SOURCE - 1);
}

Test(unauth, total_cap_and_release)
{
	struct mesh_unauth u = { 0 };
	uint32_t ip = 1;
	for (int i = 0; i < MESH_UNAUTH_MAX; i++, ip++)
		cr_assert_eq(mesh_unauth_take(&u, A(ip)), 0, "source %d", i);
	cr_assert_eq(mesh_unauth_take(&u, A(ip)), -ENOSPC);
	cr_assert_eq(mesh_unauth_take(&u, A(1)), -ENOSPC, "a held source cannot go over the total");
	mesh_unauth_release(&u, A(5));
	cr_assert_eq(mesh_unauth_held(&u, A(5)), 0);
	cr_assert_eq(mesh_unauth_take(&u, A(ip)), 0, "the freed slot serves a new address");
	/* releasing what was never taken changes nothing */
	mesh_unauth_release(&u, A(0xdeadbeef));
	cr_assert_eq(u.total, MESH_UNAUTH_MAX);
	for (uint32_t i = 1; i <= (uint32_t)MESH_UNAUTH_MAX + 1; i++)
		mesh_unauth_release(&u, A(i));
	cr_assert_eq(u.total, 0);
	cr_assert_eq(mesh_unauth_take(&u, A(7)), 0);
}

/* --- the targets' address index (router/addrindex.c) ------------------------------------ */

#include "router/addrindex.h"

Test(addrindex, put_get_del_many)
{
	struct mesh_addrindex x;
	static int vals[5000];
	cr_assert_eq(mesh_addrindex_init(&x), 0);
	for (uint32_t i = 0; i < 5000; i++)
		cr_assert_eq(mesh_addrindex_put(&x, AP(i * 7919u, (uint16_t)(6783 + i % 3)), &vals[i]), 0);
	cr_assert_eq(x.count, 5000);
	cr_assert_eq(mesh_addrindex_put(&x, AP(0, 6783), &vals[1]), -EEXIST);
	cr_assert_eq(mesh_addrindex_put(&x, AP(1, 1), NULL), -EINVAL);
	for (uint32_t i = 0; i < 5000; i++)
		cr_assert_eq(mesh_addrindex_get(&x, AP(i * 7919u, (uint16_t)(6783 + i % 3))), &vals[i]);
	cr_assert_null(mesh_addrindex_get(&x, AP(7919u, 6783)), "same address, another port");
	for (uint32_t i = 0; i < 5000; i += 2)
		mesh_addrindex_del(&x, AP(i * 7919u, (uint16_t)(6783 + i % 3)));
	mesh_addrindex_del(&x, AP(12345, 1)); /* absent: nothing */
	cr_assert_eq(x.count, 2500);
	for (uint32_t i = 0; i < 5000; i++) {
		void *v = mesh_addrindex_get(&x, AP(i * 7919u, (uint16_t)(6783 + i % 3)));
		if (i % 2)
			cr_assert_eq(v, &vals[i], "entry %u lost after deletions", i);
		else
			cr_assert_null(v);
	}
	mesh_addrindex_free(&x);
}

Test(addrindex, ipv6_keys)
{
	struct mesh_addrindex x;
	int a, b, c;
	cr_assert_eq(mesh_addrindex_init(&x), 0);
	cr_assert_eq(mesh_addrindex_put(&x, A6(1, 6783), &a), 0);
	cr_assert_eq(mesh_addrindex_put(&x, AP(1, 6783), &b), 0, "IPv4 and IPv6 keys differ");
	cr_assert_eq(mesh_addrindex_put(&x, A6(1, 6784), &c), 0);
	cr_assert_eq(mesh_addrindex_put(&x, A6(1, 6783), &c), -EEXIST);
	cr_assert_eq(mesh_addrindex_get(&x, A6(1, 6783)), &a);
	cr_assert_eq(mesh_addrindex_get(&x, AP(1, 6783)), &b);
	mesh_addrindex_del(&x, A6(1, 6783));
	cr_assert_null(mesh_addrindex_get(&x, A6(1, 6783)));
	cr_assert_eq(mesh_addrindex_get(&x, A6(1, 6784)), &c);
	mesh_addrindex_free(&x);
}
