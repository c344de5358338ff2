/* tests/unit/test_nflog.c: the nflog parser (router/nflog.c) on messages built here the way the
 * kernel builds them (nfnetlink_log: nlmsghdr, nfgenmsg, attributes, the IP packet in
 * NFULA_PAYLOAD), and the config request it sends. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <string.h>

#include "router/nflog.h"

static size_t attr(uint8_t *b, size_t off, uint16_t type, const void *v, size_t n)
{
	uint16_t len = (uint16_t)(4 + n);
	memcpy(b + off, &len, 2);
	memcpy(b + off + 2, &type, 2);
	memcpy(b + off + 4, v, n);
	size_t step = NLA_ALIGN(len);
	memset(b + off + 4 + n, 0, step - len);
	return off + step;
}

/* A logged packet message holding payload, with a prefix and an outdev. */
static size_t packet_msg(uint8_t *b, const uint8_t *payload, size_t plen, const char *prefix)
{
	size_t off = sizeof(struct nlmsghdr);
	struct nfgenmsg g = { .nfgen_family = AF_INET, .version = NFNETLINK_V0, .res_id = htons(5) };
	memcpy(b + off, &g, sizeof(g));
	off += sizeof(g);
	uint32_t out = htonl(7);
	off = attr(b, off, NFULA_IFINDEX_OUTDEV, &out, 4);
	off = attr(b, off, NFULA_PREFIX, prefix, strlen(prefix) + 1);
	off = attr(b, off, NFULA_PAYLOAD, payload, plen);
	struct nlmsghdr nh = { .nlmsg_len = (uint32_t)off,
			       .nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET };
	memcpy(b, &nh, sizeof(nh));
	return off;
}

static const uint8_t tcp4[] = {
	0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, /* ..., DF, ttl, tcp, csum */
	10, 32, 0, 2, 10, 32, 0, 5,                   /* src, dst */
	0xa0, 0x28, 0x00, 0x50, 0, 0, 0, 0,           /* 41000 -> 80 */
	0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0,
};

Test(nflog, tcp_over_ipv4)
{
	uint8_t b[256];
	size_t n = packet_msg(b, tcp4, sizeof(tcp4), "mesh-policy");
	struct mesh_nflog_pkt p;
	size_t used;
	const char *why;
	cr_assert_eq(mesh_nflog_parse(b, n, &p, &used, &why), 1);
	cr_assert_eq(used, n);
	cr_assert_eq(p.family, AF_INET);
	cr_assert_eq(p.proto, IPPROTO_TCP);
	cr_assert_eq(p.sport, 41000);
	cr_assert_eq(p.dport, 80);
	cr_assert_eq(p.outdev, 7);
	cr_assert_str_eq(p.prefix, "mesh-policy");
	char line[128];
	mesh_nflog_flow_format(&p, line, sizeof(line));
	cr_assert_str_eq(line, "tcp 10.32.0.2:41000 -> 10.32.0.5:80");
}

Test(nflog, later_fragment_has_no_ports)
{
	uint8_t frag[sizeof(tcp4)], b[256];
	memcpy(frag, tcp4, sizeof(tcp4));
	frag[6] = 0x00;
	frag[7] = 0x10; /* offset 16*8 */
	size_t n = packet_msg(b, frag, sizeof(frag), "");
	struct mesh_nflog_pkt p;
	size_t used;
	const char *why;
	cr_assert_eq(mesh_nflog_parse(b, n, &p, &used, &why), 1);
	cr_assert_eq(p.sport, 0);
	cr_assert_eq(p.dport, 0);
}

Test(nflog, udp_over_ipv6)
{
	uint8_t v6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };
	inet_pton(AF_INET6, "fd6d::1", v6 + 8);
	inet_pton(AF_INET6, "fd6d::2", v6 + 24);
	v6[40] = 0x13; v6[41] = 0x88; v6[42] = 0x00; v6[43] = 0x35; /* 5000 -> 53 */
	uint8_t b[256];
	size_t n = packet_msg(b, v6, sizeof(v6), "x");
	struct mesh_nflog_pkt p;
	size_t used;
	const char *why;
	cr_assert_eq(mesh_nflog_parse(b, n, &p, &used, &why), 1);
	char line[160];
	mesh_nflog_flow_format(&p, line, sizeof(line));
	cr_assert_str_eq(line, "udp [fd6d::1]:5000 -> [fd6d::2]:53");
}

Test(nflog, cut_payload_and_lengths_refused)
{
	uint8_t b[256];
	size_t n = packet_msg(b, tcp4, 12, "");
	struct mesh_nflog_pkt p;
	size_t used;
	const char *why = NULL;
	cr_assert_eq(mesh_nflog_parse(b, n, &p, &used, &why), -EBADMSG);
	cr_assert_not_null(why);
	/* a message claiming more than is there */
	n = packet_msg(b, tcp4, sizeof(tcp4), "");
	cr_assert_eq(mesh_nflog_parse(b, n - 1, &p, &used, &why), -EBADMSG);
	/* an attribute claiming more than its message */
	uint16_t big = 200;
	memcpy(b + sizeof(struct nlmsghdr) + 4, &big, 2);
	cr_assert_eq(mesh_nflog_parse(b, n, &p, &used, &why), -EBADMSG);
}

Test(nflog, other_messages_skipped)
{
	struct nlmsghdr nh = { .nlmsg_len = sizeof(nh) + 4, .nlmsg_type = NLMSG_ERROR };
	uint8_t b[64] = { 0 };
	memcpy(b, &nh, sizeof(nh));
	struct mesh_nflog_pkt p;
	size_t used;
	const char *why;
	cr_assert_eq(mesh_nflog_parse(b, sizeof(nh) + 4, &p, &used, &why), 0);
	cr_assert_eq(used, sizeof(nh) + 4);
}

Test(nflog, config_request)
{
	uint8_t b[128];
	int n = mesh_nflog_config_msg(b, sizeof(b), 5, true, 256, 9);
	cr_assert_gt(n, 0);
	struct nlmsghdr nh;
	memcpy(&nh, b, sizeof(nh));
	cr_assert_eq(nh.nlmsg_len, (uint32_t)n);
	cr_assert_eq(nh.nlmsg_type, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
	cr_assert_eq(nh.nlmsg_seq, 9);
	struct nfgenmsg g;
	memcpy(&g, b + sizeof(nh), sizeof(g));
	cr_assert_eq(ntohs(g.res_id), 5);
	cr_assert_eq(mesh_nflog_config_msg(b, 20, 5, true, 256, 9), -ENOSPC);
}
