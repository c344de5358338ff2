/* tests/unit/test_macs.c: MAC-location gossip encoding (gossip/macs.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gossip/macs.h"

static struct mesh_mac_update out[MESH_MACS_MAX_PER_MSG];

Test(macs, round_trip)
{
	struct mesh_mac_update u[3];
	uint8_t buf[2 + 3 * MESH_MACS_ENTRY_LEN];
	const char *why = "";
	for (int i = 0; i < 3; i++) {
		memcpy(u[i].mac, "\x0a\x58\x00\x00\x00", 5);
		u[i].mac[5] = (uint8_t)i;
		memset(u[i].peer.b, 0x10 + i, 6);
		u[i].version = 1000000000000ull + (uint64_t)i;
	}
	cr_assert_eq(mesh_macs_encode(u, 3, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	cr_assert_eq(mesh_macs_decode(buf, sizeof(buf), out, &why), 3, "%s", why);
	for (int i = 0; i < 3; i++) {
		cr_assert_arr_eq(out[i].mac, u[i].mac, 6);
		cr_assert(mesh_peer_name_eq(&out[i].peer, &u[i].peer));
		cr_assert_eq(out[i].version, u[i].version);
	}
	cr_assert_eq(mesh_macs_encode(u, 3, buf, sizeof(buf) - 1), -EMSGSIZE);
	cr_assert_eq(mesh_macs_encode(u, 0, buf, sizeof(buf)), -EINVAL);
}

Test(macs, malformed_refused)
{
	struct mesh_mac_update u = { .mac = { 0x0a, 1, 2, 3, 4, 5 }, .peer = { { 2, 2, 2, 2, 2, 2 } }, .version = 9 };
	uint8_t buf[64];
	const char *why = "";
	ssize_t n = mesh_macs_encode(&u, 1, buf, sizeof(buf));
	for (ssize_t cut = 0; cut < n; cut++)
		cr_assert_eq(mesh_macs_decode(buf, (size_t)cut, out, &why), -EBADMSG, "cut %zd", cut);
	cr_assert_eq(mesh_macs_decode(buf, (size_t)n + 1, out, &why), -EBADMSG); /* trailing byte */
	buf[0] = 0; buf[1] = 0;
	cr_assert_eq(mesh_macs_decode(buf, 2, out, &why), -EBADMSG);
	buf[0] = 0x10; buf[1] = 1; /* 4097 */
	cr_assert_eq(mesh_macs_decode(buf, 2 + 4097 * 20, out, &why), -EBADMSG);
	n = mesh_macs_encode(&u, 1, buf, sizeof(buf));
	buf[2] = 0x01; /* multicast MAC */
	cr_assert_eq(mesh_macs_decode(buf, (size_t)n, out, &why), -EBADMSG);
	cr_assert_str_eq(why, "MAC gossip names a multicast MAC");
	n = mesh_macs_encode(&u, 1, buf, sizeof(buf));
	memset(buf + 8, 0, 6); /* no peer: the MAC is gone */
	cr_assert_eq(mesh_macs_decode(buf, (size_t)n, out, &why), 1);
	cr_assert(mesh_peer_name_is_zero(&out[0].peer));
}
