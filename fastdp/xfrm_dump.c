/* fastdp/xfrm_dump.c: tells meshd's SAs and policies from others' in an xfrm dump (see
 * xfrm_dump.h). Every length is checked against the message before a field is read. */
#include "fastdp/xfrm_dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

static bool zero_addr(const xfrm_address_t *a, size_t n)
{
	static const uint8_t zero[16];
	return memcmp(a, zero, n) == 0;
}

/* One host to another (/32 to /32 over IPv4, /128 to /128 over IPv6), or with `any` also any
 * host to any (/0, addresses 0), UDP to `port`. */
static int ours(const struct xfrm_selector *sel, uint16_t port, bool any,
		struct mesh_xfrm_flow *fl)
{
	size_t alen = sel->family == AF_INET6 ? 16 : 4;
	uint8_t host = sel->family == AF_INET6 ? 128 : 32;
	bool hosts = sel->prefixlen_s == host && sel->prefixlen_d == host;
	bool all = any && sel->prefixlen_s == 0 && sel->prefixlen_d == 0 &&
		   zero_addr(&sel->saddr, 16) && zero_addr(&sel->daddr, 16);
	if ((sel->family != AF_INET && sel->family != AF_INET6) || sel->proto != IPPROTO_UDP ||
	    !(hosts || all) || sel->dport != htons(port) || sel->dport_mask != 0xffff ||
	    sel->sport_mask != 0)
		return 0;
	if (hosts && (zero_addr(&sel->saddr, alen) || zero_addr(&sel->daddr, alen)))
		return 0; /* would be taken for the block policy's "any" */
	memset(fl, 0, sizeof(*fl));
	fl->family = sel->family;
	memcpy(fl->src, &sel->saddr, alen);
	memcpy(fl->dst, &sel->daddr, alen);
	fl->dport = port;
	return 1;
}

int mesh_xfrm_classify(const uint8_t *msg, size_t len, uint16_t port, struct mesh_xfrm_item *out)
{
	struct nlmsghdr h;
	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, msg, sizeof(h));
	if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
		return -EBADMSG;
	const uint8_t *body = msg + NLMSG_HDRLEN;
	size_t blen = h.nlmsg_len >= NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0;
	memset(out, 0, sizeof(*out));
	if (h.nlmsg_type == XFRM_MSG_NEWSA) {
		struct xfrm_usersa_info sa;
		if (blen < sizeof(sa))
			return -EBADMSG;
		memcpy(&sa, body, sizeof(sa));
		size_t alen = sa.family == AF_INET6 ? 16 : 4;
		if ((sa.family != AF_INET && sa.family != AF_INET6) || sa.id.proto != IPPROTO_ESP ||
		    sa.mode != XFRM_MODE_TRANSPORT || sa.sel.family != sa.family ||
		    !ours(&sa.sel, port, false, &out->fl) ||
		    memcmp(&sa.id.daddr, &sa.sel.daddr, alen) ||
		    memcmp(&sa.saddr, &sa.sel.saddr, alen))
			return 0;
		out->kind = MESH_XFRM_SA;
		out->spi = ntohl(sa.id.spi);
		return 1;
	}
	if (h.nlmsg_type == XFRM_MSG_NEWPOLICY) {
		struct xfrm_userpolicy_info pol;
		if (blen < sizeof(pol))
			return -EBADMSG;
		memcpy(&pol, body, sizeof(pol));
		bool peer = pol.priority == MESH_XFRM_POLICY_PRIORITY && pol.action == XFRM_POLICY_ALLOW;
		bool block = pol.priority == MESH_XFRM_BLOCK_PRIORITY && pol.action == XFRM_POLICY_BLOCK;
		if (pol.dir != XFRM_POLICY_OUT || !(peer || block) ||
		    !ours(&pol.sel, port, block, &out->fl))
			return 0;
		out->kind = MESH_XFRM_POLICY;
		return 1;
	}
	return 0;
}
