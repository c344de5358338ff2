/* tests/unit/test_fastdp.c: the fast path's pure parts: heartbeat frames and acks
 * and their pace (fastdp/heartbeat.c), the FDB reconciliation plan (fastdp/fdb_plan.c), the xfrm dump
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

Test(heartbeat, carries_the_missing_flag_in_the_reserved_byte)
{
	struct mesh_heartbeat hb = { .sender = A, .seq = 5, .frame_len = 1416,
				     .flags = MESH_HB_FLAG_MISSING }, out;
	const char *why = NULL;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 1416);
	cr_assert_eq(frame[MESH_HB_HDR_LEN + 4], MESH_HB_VERSION, "the version is unchanged");
	cr_assert_eq(frame[MESH_HB_HDR_LEN + 5], MESH_HB_FLAG_MISSING, "the byte after the version");
	cr_assert_eq(mesh_hb_decode(frame, 1416, &B, &out, &why), 0, "%s", why);
	cr_assert_eq(out.flags, MESH_HB_FLAG_MISSING);
	hb.flags = 0;
	cr_assert_eq(mesh_hb_encode(&hb, &B, frame, sizeof(frame)), 1416);
	cr_assert_eq(mesh_hb_decode(frame, 1416, &B, &out, &why), 0, "%s", why);
	cr_assert_eq(out.flags, 0, "a sender that sets no flag (or predates them) sends zero");
}

/* A healthy connection at t = 10 s whose last heartbeat and ack came at 9.5 s. */
static struct mesh_hb_pace steady(void)
{
	return (struct mesh_hb_pace){ .healthy = true, .last_heard_ms = 9500, .last_ack_ms = 9500,
				      .peer_reads_acks = true };
}

Test(heartbeat_pace, slow_and_acks_in_heartbeats_while_nothing_is_missed)
{
	struct mesh_hb_pace p = steady();
	cr_assert_not(mesh_hb_missing(&p, 10000));
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_MS);
	cr_assert_not(mesh_hb_ack_over_tcp(&p, 10000));
	/* due at 1 s, late only after 1.25 s */
	uint64_t due = 9500 + MESH_FASTDP_HEARTBEAT_MS + MESH_FASTDP_HEARTBEAT_LATE_MS;
	cr_assert_not(mesh_hb_missing(&p, due));
	cr_assert(mesh_hb_missing(&p, due + 1));
	/* a clock read before the times were taken is no lateness */
	cr_assert_not(mesh_hb_missing(&p, 9000));
}

Test(heartbeat_pace, a_late_heartbeat_or_ack_makes_it_fast_and_acks_over_tcp)
{
	struct mesh_hb_pace p = steady();
	p.last_heard_ms = 8000;
	cr_assert(mesh_hb_missing(&p, 10000), "the peer's heartbeat is late");
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_LOSSY_MS);
	cr_assert(mesh_hb_ack_over_tcp(&p, 10000));
	p = steady();
	p.last_ack_ms = 8000;
	cr_assert(mesh_hb_missing(&p, 10000), "the peer's ack of ours is late");
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_LOSSY_MS);
	p = steady();
	p.last_ack_ms = 0;
	cr_assert(mesh_hb_missing(&p, 10000), "never acked");
	p = steady();
	p.healthy = false;
	cr_assert(mesh_hb_missing(&p, 10000), "not healthy yet: everything counts as missing");
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_FAST_MS,
		     "until healthy: the connecting pace");
}

Test(heartbeat_pace, lateness_is_due_when_the_older_of_heartbeat_and_ack_is_late)
{
	struct mesh_hb_pace p = steady();
	p.last_heard_ms = 9700;
	uint64_t due = MESH_FASTDP_HEARTBEAT_MS + MESH_FASTDP_HEARTBEAT_LATE_MS;
	uint64_t at = mesh_hb_late_at(&p);
	cr_assert_eq(at, 9500 + due + 1, "the ack (9.5 s) is older than the heartbeat (9.7 s)");
	cr_assert_not(mesh_hb_missing(&p, at - 1));
	cr_assert(mesh_hb_missing(&p, at), "missing from exactly then");
	p.healthy = false;
	cr_assert_eq(mesh_hb_late_at(&p), 0, "not healthy: counts as late already");
	p = steady();
	p.last_ack_ms = 0;
	cr_assert_eq(mesh_hb_late_at(&p), 0, "never acked");
}

Test(heartbeat_pace, the_peer_missing_ours_makes_this_end_fast_too_without_telling_it_back)
{
	struct mesh_hb_pace p = steady();
	p.peer_missing = true;
	/* this end sees nothing wrong: it does not set the flag (else both would keep each other
	 * fast for ever), but it sends fast and acknowledges over TCP as well */
	cr_assert_not(mesh_hb_missing(&p, 10000));
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_LOSSY_MS);
	cr_assert(mesh_hb_ack_over_tcp(&p, 10000));
}

Test(heartbeat_pace, a_peer_that_does_not_read_acks_in_heartbeats_gets_them_over_tcp)
{
	struct mesh_hb_pace p = steady();
	p.peer_reads_acks = false;
	cr_assert(mesh_hb_ack_over_tcp(&p, 10000));
	cr_assert_eq(mesh_hb_interval_ms(&p, 10000), MESH_FASTDP_HEARTBEAT_MS);
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
	struct mesh_fdb_entry e = { { 0x02, 0, 0, 0, 0, last }, mesh_ip_v4(ip) };
	if (!last)
		memset(e.mac, 0, 6);
	return e;
}

static char log_buf[256];

static void record(void *arg, bool add, const struct mesh_fdb_entry *e)
{
	char one[16];
	if (mesh_ip_is_v6(&e->ip))
		snprintf(one, sizeof(one), "%c%u@v6:%u ", add ? '+' : '-', e->mac[5], e->ip.a[15]);
	else
		snprintf(one, sizeof(one), "%c%u@%u ", add ? '+' : '-', e->mac[5],
			 mesh_ip_ipv4(&e->ip));
	strncat(log_buf, one, sizeof(log_buf) - strlen(log_buf) - 1);
}

Test(fdb_plan, normalize_sorts_and_dedups)
{
	struct mesh_fdb_entry e[] = { E(3, 1), E(1, 2), E(3, 1), E(0, 5), E(0, 4), E(1, 2) };
	size_t n = mesh_fdb_normalize(e, 6);
	cr_assert_eq(n, 4);
	cr_assert(mesh_fdb_is_flood(&e[0]) && mesh_ip_ipv4(&e[0].ip) == 4);
	cr_assert(mesh_fdb_is_flood(&e[1]) && mesh_ip_ipv4(&e[1].ip) == 5);
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

/* Issue 18: entries of both families in one plan; a MAC moving from a host reached over IPv4
 * to one reached over IPv6 is a removal then an addition, like any move. */
static struct mesh_fdb_entry E6(uint8_t last, uint8_t host)
{
	uint8_t a[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0x6d, [15] = host };
	struct mesh_fdb_entry e = { { 0x02, 0, 0, 0, 0, last }, mesh_ip_v6(a) };
	if (!last)
		memset(e.mac, 0, 6);
	return e;
}

Test(fdb_plan, both_families)
{
	struct mesh_fdb_entry have[] = { E(1, 7), E6(2, 7), E(0, 7), E6(0, 8) };
	struct mesh_fdb_entry want[] = { E6(1, 7), E6(2, 7), E(0, 7), E6(0, 8), E6(0, 8), E(0, 8) };
	size_t nh = mesh_fdb_normalize(have, 4), nw = mesh_fdb_normalize(want, 6);
	cr_assert_eq(nw, 5, "one duplicate");
	log_buf[0] = '\0';
	mesh_fdb_diff(have, nh, want, nw, record, NULL);
	/* IPv4 7 and IPv6 ::7 are different hosts, though their last byte is the same */
	cr_assert_str_eq(log_buf, "-1@7 +0@8 +1@v6:7 ");
	struct mesh_fdb_entry a = E(3, 7), b = E6(3, 7);
	cr_assert_neq(mesh_ip_cmp(&a.ip, &b.ip), 0);
	cr_assert_eq(mesh_ip_ipv4(&b.ip), 0, "an IPv6 address has no IPv4 one");
	cr_assert(mesh_ip_is_v6(&b.ip) && !mesh_ip_is_v6(&a.ip));
}

/* ---- the tunnel address of a connection ------------------------------------------------- */

#include <arpa/inet.h>
#include <sys/un.h>

#include "fastdp/fastdp.h"

Test(fastdp, tunnel_addr_of_each_family)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct mesh_ip ip;
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0xc6120002);
	cr_assert_eq(mesh_fastdp_tunnel_addr(&ss, &ip), 0);
	cr_assert_eq(ip.family, AF_INET);
	cr_assert_eq(mesh_ip_ipv4(&ip), htonl(0xc6120002));

	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:2:0:6d::2", &s6->sin6_addr);
	cr_assert_eq(mesh_fastdp_tunnel_addr(&ss, &ip), 0);
	cr_assert(mesh_ip_is_v6(&ip));
	cr_assert_eq(memcmp(ip.a, &s6->sin6_addr, 16), 0);

	inet_pton(AF_INET6, "::ffff:198.18.0.3", &s6->sin6_addr);
	cr_assert_eq(mesh_fastdp_tunnel_addr(&ss, &ip), 0, "mapped: the IPv4 peer it is");
	cr_assert_eq(ip.family, AF_INET);
	cr_assert_eq(mesh_ip_ipv4(&ip), htonl(0xc6120003));

	inet_pton(AF_INET6, "::", &s6->sin6_addr);
	cr_assert_eq(mesh_fastdp_tunnel_addr(&ss, &ip), -EADDRNOTAVAIL);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_assert_eq(mesh_fastdp_tunnel_addr(&ss, &ip), -EAFNOSUPPORT);
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
	uint32_t a4;
	cr_assert_eq(it.fl.family, AF_INET);
	memcpy(&a4, it.fl.src, 4);
	cr_assert_eq(a4, IP(198, 18, 0, 1));
	memcpy(&a4, it.fl.dst, 4);
	cr_assert_eq(a4, IP(198, 18, 0, 2));
	cr_assert_eq(it.fl.dport, 6784);

	n = policy_msg(IP(198, 18, 0, 1), IP(198, 18, 0, 3), XFRM_POLICY_OUT, MESH_XFRM_POLICY_PRIORITY);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_POLICY);
	memcpy(&a4, it.fl.dst, 4);
	cr_assert_eq(a4, IP(198, 18, 0, 3));
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
	cr_assert(mesh_xfrm_flow_is_any(&it.fl));
	cr_assert_eq(it.fl.family, AF_INET);
	p->action = XFRM_POLICY_ALLOW;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "an allow policy for any host");
	p->action = XFRM_POLICY_BLOCK;
	p->priority = MESH_XFRM_POLICY_PRIORITY;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a block at the peers' priority");
	p->priority = MESH_XFRM_BLOCK_PRIORITY;
	p->sel.prefixlen_s = p->sel.prefixlen_d = 32;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a block of host 0.0.0.0");
}

/* Issue 18: the same over IPv6: an SA host/128 to host/128, a peer policy, the IPv6 block
 * policy; a /64 selector or a zero host is not ours. */
static void sel6(struct xfrm_selector *sel, uint8_t s_last, uint8_t d_last, uint8_t plen)
{
	memset(sel, 0, sizeof(*sel));
	sel->family = AF_INET6;
	if (s_last)
		inet_pton(AF_INET6, "2001:2:0:6d::", &sel->saddr);
	if (d_last)
		inet_pton(AF_INET6, "2001:2:0:6d::", &sel->daddr);
	((uint8_t *)&sel->saddr)[15] = s_last;
	((uint8_t *)&sel->daddr)[15] = d_last;
	sel->prefixlen_s = sel->prefixlen_d = plen;
	sel->proto = IPPROTO_UDP;
	sel->dport = htons(6784);
	sel->dport_mask = 0xffff;
}

Test(xfrm_dump, ipv6_entries_are_found)
{
	struct mesh_xfrm_item it;
	struct nlmsghdr *h = (struct nlmsghdr *)nlbuf;
	struct xfrm_usersa_info *sa = (struct xfrm_usersa_info *)(nlbuf + NLMSG_HDRLEN);
	memset(nlbuf, 0, sizeof(nlbuf));
	sel6(&sa->sel, 1, 2, 128);
	sa->id.daddr = sa->sel.daddr;
	sa->saddr = sa->sel.saddr;
	sa->id.spi = htonl(0x777);
	sa->id.proto = IPPROTO_ESP;
	sa->family = AF_INET6;
	sa->mode = XFRM_MODE_TRANSPORT;
	h->nlmsg_type = XFRM_MSG_NEWSA;
	h->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*sa));
	cr_assert_eq(mesh_xfrm_classify(nlbuf, h->nlmsg_len, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_SA);
	cr_assert_eq(it.fl.family, AF_INET6);
	cr_assert_eq(it.spi, 0x777);
	cr_assert_eq(memcmp(it.fl.dst, &sa->sel.daddr, 16), 0);
	cr_assert_eq(memcmp(it.fl.src, &sa->sel.saddr, 16), 0);
	cr_assert(!mesh_xfrm_flow_is_any(&it.fl));
	((uint8_t *)&sa->id.daddr)[15] = 9;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, h->nlmsg_len, 6784, &it), 0,
		     "an SA for another host than its selector's");
	sa->id.daddr = sa->sel.daddr;
	sa->sel.prefixlen_s = sa->sel.prefixlen_d = 32;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, h->nlmsg_len, 6784, &it), 0, "IPv6 /32: not a host");

	size_t n = policy_msg(0, 0, XFRM_POLICY_OUT, MESH_XFRM_POLICY_PRIORITY);
	struct xfrm_userpolicy_info *p = (struct xfrm_userpolicy_info *)(nlbuf + NLMSG_HDRLEN);
	sel6(&p->sel, 1, 3, 128);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1);
	cr_assert_eq(it.kind, MESH_XFRM_POLICY);
	cr_assert_eq(it.fl.family, AF_INET6);
	cr_assert_eq(it.fl.dst[15], 3);
	sel6(&p->sel, 1, 3, 64);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "a /64 selector");
	sel6(&p->sel, 0, 3, 128);
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "host :: is not a peer");

	sel6(&p->sel, 0, 0, 0);
	p->priority = MESH_XFRM_BLOCK_PRIORITY;
	p->action = XFRM_POLICY_BLOCK;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 1, "the IPv6 block policy");
	cr_assert(mesh_xfrm_flow_is_any(&it.fl));
	cr_assert_eq(it.fl.family, AF_INET6);
	((uint8_t *)&p->sel.daddr)[15] = 1;
	cr_assert_eq(mesh_xfrm_classify(nlbuf, n, 6784, &it), 0, "/0 with an address set");
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
