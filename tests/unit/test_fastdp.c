/* tests/unit/test_fastdp.c: the fast path's pure parts: heartbeat frames and acks
 * (fastdp/heartbeat.c), the FDB reconciliation plan (fastdp/fdb_plan.c), the xfrm dump
 * classifier (fastdp/xfrm_dump.c) and the nft counter listing (fastdp/ipsec_filter.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fastdp/fdb_plan.h"
#include "fastdp/heartbeat.h"

static const struct mesh_peer_name A = { { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc } };
static const struct mesh_peer_name B = { { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 } };

static uint8_t frame[2000];

Test(heartbeat, round_trip_at_mtu_size)
{
	struct mesh_heartbeat hb = { .sender = A, .sender_uid = 1, .receiver_uid = 2, .seq = 9,
				     .frame_len = 1416 };
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 1416);
	uint8_t mac[6];
	mesh_hb_mac(&B, mac);
	cr_assert_eq(memcmp(frame, mac, 6), 0, "to B's heartbeat MAC");
	cr_assert_eq(mac[0], 0x0a, "locally administered unicast");
	cr_assert_eq(frame[12], 0x88);
	cr_assert_eq(frame[13], 0xb5);

	struct mesh_heartbeat out;
	const char *why = NULL;
	cr_assert_eq(mesh_hb_decode(frame, 1416, &B, &out, &why), 0, "%s", why);
	cr_assert(mesh_peer_name_eq(&out.sender, &A));
	cr_assert_eq(out.sender_uid, 1);
	cr_assert_eq(out.receiver_uid, 2);
	cr_assert_eq(out.seq, 9);
	cr_assert_eq(out.frame_len, 1416);
	cr_assert_eq(out.ack_seq, 0, "nothing heard yet");
	cr_assert_eq(out.ack_frame_len, 0);
}

Test(heartbeat, carries_the_newest_ack)
{
	struct mesh_heartbeat hb = { .sender = A, .seq = 5, .frame_len = 1416, .ack_seq = 0x01020304,
				     .ack_frame_len = 1416 }, out;
	const char *why = NULL;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 1416);
	const uint8_t at[6] = { 1, 2, 3, 4, 1416 >> 8, 1416 & 0xff };
	cr_assert_eq(memcmp(frame + MESH_HB_MIN_LEN, at, 6), 0, "right after frame_len, big endian");
	cr_assert_eq(mesh_hb_decode(frame, 1416, &B, &out, &why), 0, "%s", why);
	cr_assert_eq(out.ack_seq, 0x01020304);
	cr_assert_eq(out.ack_frame_len, 1416);

	/* a frame too short for the fields (none is sent, but one may arrive) has no ack */
	hb.frame_len = MESH_HB_MIN_LEN;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), MESH_HB_MIN_LEN);
	cr_assert_eq(mesh_hb_decode(frame, MESH_HB_MIN_LEN, &B, &out, &why), 0, "%s", why);
	cr_assert_eq(out.ack_seq, 0);
	cr_assert_eq(out.ack_frame_len, 0);

	/* a version-1 sender without the fields leaves zeros there: read as no ack */
	hb.frame_len = 200;
	hb.ack_seq = 0;
	hb.ack_frame_len = 0;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 200);
	cr_assert_eq(mesh_hb_decode(frame, 200, &B, &out, &why), 0, "%s", why);
	cr_assert_eq(out.ack_seq, 0);
}

Test(heartbeat, refusals)
{
	struct mesh_heartbeat hb = { .sender = A, .frame_len = 200 }, out;
	const char *why = NULL;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, 100), -EINVAL, "does not fit");
	hb.frame_len = MESH_HB_MIN_LEN - 1;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), -EINVAL, "too short to hold itself");
	hb.frame_len = 200;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 200);

	cr_assert_eq(mesh_hb_decode(frame, 199, &B, &out, &why), -EBADMSG, "truncated");
	cr_assert_str_eq(why, "truncated or padded on the way (length differs from what was sent)");
	cr_assert_eq(mesh_hb_decode(frame, 200, &A, &out, &why), -EBADMSG, "for another peer");
	cr_assert_eq(mesh_hb_decode(frame, 20, &B, &out, &why), -EBADMSG, "runt");
	frame[12] = 0x08;
	cr_assert_eq(mesh_hb_decode(frame, 200, &B, &out, &why), -EBADMSG, "other ethertype");
	frame[12] = 0x88;
	frame[6 + 5] ^= 1;
	cr_assert_eq(mesh_hb_decode(frame, 200, &B, &out, &why), -EBADMSG, "source MAC forged");
	frame[6 + 5] ^= 1;
	frame[14] = 'X';
	cr_assert_eq(mesh_hb_decode(frame, 200, &B, &out, &why), -EBADMSG, "magic");
}

Test(heartbeat, ack)
{
	struct mesh_heartbeat_ack ack = { .seq = 77, .frame_len = 1416 }, out;
	uint8_t msg[MESH_HB_ACK_LEN];
	const char *why = NULL;
	mesh_hb_ack_encode(&ack, msg);
	cr_assert_eq(mesh_hb_ack_decode(msg, sizeof(msg), &out, &why), 0);
	cr_assert_eq(out.seq, 77);
	cr_assert_eq(out.frame_len, 1416);
	cr_assert_eq(mesh_hb_ack_decode(msg, sizeof(msg) - 1, &out, &why), -EBADMSG);
	msg[0] = 1; /* the sleeve's overlay bit */
	cr_assert_eq(mesh_hb_ack_decode(msg, sizeof(msg), &out, &why), -EBADMSG);
}

/* --- FDB plan ------------------------------------------------------------------------ */

static struct mesh_fdb_entry E(uint8_t last, uint32_t ip)
{
	struct mesh_fdb_entry e = { { 0x02, 0, 0, 0, 0, last }, ip };
	if (!last)
		memset(e.mac, 0, 6);
	return e;
}

static char log_buf[256];

static void record(void *arg, bool add, const struct mesh_fdb_entry *e)
{
	char one[16];
	snprintf(one, sizeof(one), "%c%u@%u ", add ? '+' : '-', e->mac[5], e->ip);
	strncat(log_buf, one, sizeof(log_buf) - strlen(log_buf) - 1);
}

Test(fdb_plan, normalize_sorts_and_dedups)
{
	struct mesh_fdb_entry e[] = { E(3, 1), E(1, 2), E(3, 1), E(0, 5), E(0, 4), E(1, 2) };
	size_t n = mesh_fdb_normalize(e, 6);
	cr_assert_eq(n, 4);
	cr_assert(mesh_fdb_is_flood(&e[0]) && e[0].ip == 4);
	cr_assert(mesh_fdb_is_flood(&e[1]) && e[1].ip == 5);
	cr_assert_eq(e[2].mac[5], 1);
	cr_assert_eq(e[3].mac[5], 3);
}

Test(fdb_plan, diff_removes_first_and_changes_only_what_differs)
{
	struct mesh_fdb_entry have[] = { E(0, 7), E(1, 7), E(2, 7), E(3, 8) };
	struct mesh_fdb_entry want[] = { E(1, 7), E(2, 9), E(4, 8), E(0, 8), E(0, 7) };
	size_t nh = mesh_fdb_normalize(have, 4), nw = mesh_fdb_normalize(want, 5);
	log_buf[0] = '\0';
	size_t calls = mesh_fdb_diff(have, nh, want, nw, record, NULL);
	/* MAC 2 moved from 7 to 9: out, then in; MAC 3 gone; MAC 4 new; flood to 8 added */
	cr_assert_str_eq(log_buf, "-2@7 -3@8 +0@8 +2@9 +4@8 ");
	cr_assert_eq(calls, 5);

	log_buf[0] = '\0';
	cr_assert_eq(mesh_fdb_diff(want, nw, want, nw, record, NULL), 0, "no change, no call");
	cr_assert_eq(mesh_fdb_diff(NULL, 0, NULL, 0, record, NULL), 0);
	cr_assert_eq(mesh_fdb_diff(want, nw, NULL, 0, record, NULL), nw, "everything out");
}

/* ---- xfrm_dump: which SAs and policies in a dump are an earlier meshd's ----------------- */

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include "fastdp/xfrm_dump.h"

static uint8_t nlbuf[1024];

static void sel_of_ours(struct xfrm_selector *sel, uint32_t src, uint32_t dst, uint16_t port)
{
	memset(sel, 0, sizeof(*sel));
	sel->family = AF_INET;
	sel->saddr.a4 = src;
	sel->daddr.a4 = dst;
	sel->prefixlen_s = sel->prefixlen_d = 32;
	sel->proto = IPPROTO_UDP;
	sel->dport = htons(port);
	sel->dport_mask = 0xffff;
}

/* An SA as the kernel lists it (with an attribute after the fixed part). */
static size_t sa_msg(uint32_t src, uint32_t dst, uint32_t spi, uint8_t mode, uint16_t port)
{
	struct nlmsghdr *h = (struct nlmsghdr *)nlbuf;
	struct xfrm_usersa_info *sa = (struct xfrm_usersa_info *)(nlbuf + NLMSG_HDRLEN);
	memset(nlbuf, 0, sizeof(nlbuf));
	sel_of_ours(&sa->sel, src, dst, port);
	sa->id.daddr.a4 = dst;
	sa->id.spi = htonl(spi);
	sa->id.proto = IPPROTO_ESP;
	sa->saddr.a4 = src;
	sa->family = AF_INET;
	sa->mode = mode;
	h->nlmsg_type = XFRM_MSG_NEWSA;
	h->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*sa)) + 8;
	return h->nlmsg_len;
}

static size_t policy_msg(uint32_t src, uint32_t dst, uint8_t dir, uint32_t priority)
{
	struct nlmsghdr *h = (struct nlmsghdr *)nlbuf;
	struct xfrm_userpolicy_info *p = (struct xfrm_userpolicy_info *)(nlbuf + NLMSG_HDRLEN);
	memset(nlbuf, 0, sizeof(nlbuf));
	sel_of_ours(&p->sel, src, dst, 6784);
	p->dir = dir;
	p->priority = priority;
	h->nlmsg_type = XFRM_MSG_NEWPOLICY;
	h->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*p));
	return h->nlmsg_len;
}

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

Test(xfrm_dump, our_sa_and_policy_are_found)
{
	struct mesh_xfrm_item it;
	size_t n = sa_msg(IP(198, 18, 0, 1), IP(198, 18, 0, 2), 0x1234abcd, XFRM_MODE_TRANSPORT, 6784);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_SA);
	cr_assert_eq(it.spi, 0x1234abcdu);
	cr_assert_eq(it.fl.src, IP(198, 18, 0, 1));
	cr_assert_eq(it.fl.dst, IP(198, 18, 0, 2));
	cr_assert_eq(it.fl.dport, 6784);

	n = policy_msg(IP(198, 18, 0, 1), IP(198, 18, 0, 3), XFRM_POLICY_OUT, MESH_XFRM_POLICY_PRIORITY);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_POLICY);
	cr_assert_eq(it.fl.dst, IP(198, 18, 0, 3));
}

/* The block policy: any host to any host, action block, its own priority. */
Test(xfrm_dump, our_block_policy_is_found)
{
	struct mesh_xfrm_item it;
	size_t n = policy_msg(0, 0, XFRM_POLICY_OUT, MESH_XFRM_BLOCK_PRIORITY);
	struct xfrm_userpolicy_info *p = (struct xfrm_userpolicy_info *)(nlbuf + NLMSG_HDRLEN);
	p->sel.prefixlen_s = p->sel.prefixlen_d = 0;
	p->action = XFRM_POLICY_BLOCK;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_POLICY);
	cr_assert_eq(it.fl.src, 0);
	cr_assert_eq(it.fl.dst, 0);
	p->action = XFRM_POLICY_ALLOW;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "an allow policy for any host");
	p->action = XFRM_POLICY_BLOCK;
	p->priority = MESH_XFRM_POLICY_PRIORITY;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a block at the peers' priority");
	p->priority = MESH_XFRM_BLOCK_PRIORITY;
	p->sel.prefixlen_s = p->sel.prefixlen_d = 32;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a block of host 0.0.0.0");
}

Test(xfrm_dump, others_entries_are_left_alone)
{
	struct mesh_xfrm_item it;
	size_t n = sa_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), 0x500, XFRM_MODE_TUNNEL, 6784);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a tunnel-mode SA");
	n = sa_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), 0x500, XFRM_MODE_TRANSPORT, 4500);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "another port");
	n = policy_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), XFRM_POLICY_IN, MESH_XFRM_POLICY_PRIORITY);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "an inbound policy");
	n = policy_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), XFRM_POLICY_OUT, 0);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "another priority");
	n = policy_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), XFRM_POLICY_OUT, MESH_XFRM_POLICY_PRIORITY);
	((struct xfrm_userpolicy_info *)(nlbuf + NLMSG_HDRLEN))->sel.prefixlen_d = 24;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a /24 selector");
	((struct nlmsghdr *)nlbuf)->nlmsg_type = NLMSG_DONE;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "not an SA or policy");
}

Test(xfrm_dump, truncated_messages_are_ebadmsg)
{
	struct mesh_xfrm_item it;
	size_t n = sa_msg(IP(10, 0, 0, 1), IP(10, 0, 0, 2), 0x500, XFRM_MODE_TRANSPORT, 6784);
	for (size_t len = 0; len < n; len++)
		cr_assert_eq(mesh_xfrm_classify(nlbuf, len, 6784, &it), -EBADMSG, "len %zu", len);
	/* a header that claims less than the fixed part */
	((struct nlmsghdr *)nlbuf)->nlmsg_len = NLMSG_HDRLEN + 8;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), -EBADMSG);
	((struct nlmsghdr *)nlbuf)->nlmsg_len = 3;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), -EBADMSG);
}

/* ---- ipsec_filter: the drop counter as nft lists it ------------------------------------- */

#include "fastdp/ipsec_filter.h"

Test(ipsec_filter, packets_of_a_counter_listing)
{
	uint64_t n = 7;
	cr_assert_eq(mesh_ipsec_filter_parse_packets("table inet mesh_ipsec {\n\tcounter "
						     "unencrypted_vxlan {\n\t\tpackets 1234 bytes "
						     "99999\n\t}\n}\n", &n), 0);
	cr_assert_eq(n, 1234);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("packets 0 bytes 0", &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("packets 18446744073709551615\n", &n), 0);
	cr_assert_eq(n, UINT64_MAX);
}

Test(ipsec_filter, listings_without_a_count_are_ebadmsg)
{
	uint64_t n = 7;
	cr_assert_eq(mesh_ipsec_filter_parse_packets("", &n), -EBADMSG);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("Error: No such file or directory", &n), -EBADMSG);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("packets x bytes 1", &n), -EBADMSG);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("packets 12x", &n), -EBADMSG);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("xpackets 12 ", &n), -EBADMSG);
	cr_assert_eq(mesh_ipsec_filter_parse_packets("packets 99999999999999999999999", &n), -EBADMSG);
	cr_assert_eq(n, 7, "untouched on failure");
}
