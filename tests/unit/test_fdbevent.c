/* tests/unit/test_fdbevent.c: parsing bridge FDB notifications (router/fdbevent.c) from byte
 * arrays laid out as the kernel sends them (RTM_NEWNEIGH / RTM_DELNEIGH, struct ndmsg,
 * NDA_LLADDR, NDA_MASTER). */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "router/fdbevent.h"

static size_t attr(uint8_t *p, uint16_t type, const void *val, uint16_t len)
{
	struct rtattr a = { .rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type };
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), val, len);
	return RTA_SPACE(len);
}

/* One neighbour message into buf; returns its length. */
static size_t neigh(uint8_t *buf, uint16_t type, uint8_t family, int ifindex, uint16_t state,
		    const uint8_t *mac, size_t maclen, int master)
{
	struct nlmsghdr h = { .nlmsg_type = type };
	struct ndmsg ndm = { .ndm_family = family, .ndm_ifindex = ifindex, .ndm_state = state };
	size_t off = NLMSG_HDRLEN;
	memcpy(buf + off, &ndm, sizeof(ndm));
	off += NLMSG_ALIGN(sizeof(ndm));
	if (mac)
		off += attr(buf + off, NDA_LLADDR, mac, (uint16_t)maclen);
	if (master) {
		uint32_t m = (uint32_t)master;
		off += attr(buf + off, NDA_MASTER, &m, 4);
	}
	h.nlmsg_len = (uint32_t)off;
	memcpy(buf, &h, sizeof(h));
	return off;
}

static const uint8_t MAC[6] = { 0x16, 0x12, 0x7d, 0xe0, 0x4b, 0x7e };

Test(fdbevent, new_and_deleted_entries_in_one_read)
{
	uint8_t buf[512];
	size_t a = neigh(buf, RTM_NEWNEIGH, AF_BRIDGE, 6, NUD_REACHABLE, MAC, 6, 3);
	size_t b = neigh(buf + a, RTM_DELNEIGH, AF_BRIDGE, 6, NUD_STALE, MAC, 6, 3);
	struct mesh_fdb_event ev;
	size_t used;
	const char *why = NULL;
	cr_assert_eq(mesh_fdb_event_parse(buf, a + b, &ev, &used, &why), 1);
	cr_assert_eq(used, a);
	cr_assert(ev.added);
	cr_assert_eq(ev.ifindex, 6);
	cr_assert_eq(ev.master, 3);
	cr_assert_eq(memcmp(ev.mac, MAC, 6), 0);
	cr_assert_eq(mesh_fdb_event_parse(buf + a, b, &ev, &used, &why), 1);
	cr_assert(!ev.added);
	cr_assert_eq(used, b);
}

Test(fdbevent, other_messages_are_skipped)
{
	uint8_t buf[512];
	struct mesh_fdb_event ev;
	size_t used;
	const char *why = NULL;
	size_t n = neigh(buf, RTM_NEWNEIGH, AF_INET, 6, NUD_REACHABLE, MAC, 6, 0);
	cr_assert_eq(mesh_fdb_event_parse(buf, n, &ev, &used, &why), 0, "an ARP entry");
	cr_assert_eq(used, n);
	n = neigh(buf, RTM_NEWLINK, AF_BRIDGE, 6, 0, MAC, 6, 0);
	cr_assert_eq(mesh_fdb_event_parse(buf, n, &ev, &used, &why), 0, "a link message");
}

Test(fdbevent, malformed)
{
	uint8_t buf[512];
	struct mesh_fdb_event ev;
	size_t used;
	const char *why = NULL;
	size_t n = neigh(buf, RTM_NEWNEIGH, AF_BRIDGE, 6, NUD_REACHABLE, MAC, 6, 3);
	cr_assert_eq(mesh_fdb_event_parse(buf, 10, &ev, &used, &why), -EBADMSG, "cut header");
	cr_assert_eq(used, 0);
	cr_assert_eq(mesh_fdb_event_parse(buf, n - 4, &ev, &used, &why), -EBADMSG, "cut body");
	cr_assert_str_eq(why, "netlink message length outside the buffer");
	n = neigh(buf, RTM_NEWNEIGH, AF_BRIDGE, 6, NUD_REACHABLE, MAC, 4, 3);
	cr_assert_eq(mesh_fdb_event_parse(buf, n, &ev, &used, &why), -EBADMSG, "short MAC");
	n = neigh(buf, RTM_NEWNEIGH, AF_BRIDGE, 6, NUD_REACHABLE, NULL, 0, 3);
	cr_assert_eq(mesh_fdb_event_parse(buf, n, &ev, &used, &why), -EBADMSG, "no MAC");
	cr_assert_str_eq(why, "bridge FDB entry without a MAC address");
	/* an attribute claiming more than the message holds */
	n = neigh(buf, RTM_NEWNEIGH, AF_BRIDGE, 6, NUD_REACHABLE, MAC, 6, 0);
	buf[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ndmsg))] = 200;
	cr_assert_eq(mesh_fdb_event_parse(buf, n, &ev, &used, &why), -EBADMSG, "long attribute");
}
