/* router/nflog.c: owns the nflog netlink socket of meshd and the parser of what the kernel
 * sends on it (see nflog.h). The parser trusts nothing: every length is checked against the
 * bytes that are there. */
#include "router/nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NFGEN_LEN 4 /* struct nfgenmsg */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint16_t get16h(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ports of the transport header at l4 (n bytes), for the protocols that have them. */
static void parse_l4(struct mesh_nflog_pkt *pkt, const uint8_t *l4, size_t n)
{
	switch (pkt->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		if (n >= 4) {
			pkt->sport = get16(l4);
			pkt->dport = get16(l4 + 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n >= 1)
			pkt->icmp_type = l4[0];
		break;
	}
}

/* The IP packet of an NFULA_PAYLOAD. 1 when read, 0 when not IPv4/IPv6, -EBADMSG. */
static int parse_payload(struct mesh_nflog_pkt *pkt, const uint8_t *p, size_t n, const char **why)
{
	if (n < 1) {
		*why = "empty payload";
		return -EBADMSG;
	}
	unsigned version = p[0] >> 4;
	if (version == 4) {
		size_t ihl = (size_t)(p[0] & 0xf) * 4;
		if (n < 20 || ihl < 20 || ihl > n) {
			*why = "IPv4 header cut short";
			return -EBADMSG;
		}
		pkt->family = AF_INET;
		memcpy(&pkt->src.v4, p + 12, 4);
		memcpy(&pkt->dst.v4, p + 16, 4);
		pkt->proto = p[9];
		/* later fragments have no transport header */
		if ((get16(p + 6) & 0x1fff) == 0)
			parse_l4(pkt, p + ihl, n - ihl);
		return 1;
	}
	if (version == 6) {
		if (n < 40) {
			*why = "IPv6 header cut short";
			return -EBADMSG;
		}
		pkt->family = AF_INET6;
		memcpy(&pkt->src.v6, p + 8, 16);
		memcpy(&pkt->dst.v6, p + 24, 16);
		uint8_t next = p[6];
		size_t off = 40;
		/* hop-by-hop, routing, destination options: skip; a fragment header: read the
		 * ports only from the first fragment */
		for (int hops = 0; hops < 8; hops++) {
			if (next == 0 || next == 43 || next == 60) {
				if (off + 2 > n)
					break;
				size_t el = ((size_t)p[off + 1] + 1) * 8;
				next = p[off];
				off += el;
			} else if (next == 44) {
				if (off + 8 > n)
					break;
				bool first = (get16(p + off + 2) & 0xfff8) == 0;
				next = p[off];
				off += 8;
				if (!first) {
					pkt->proto = next;
					return 1;
				}
			} else {
				break;
			}
		}
		pkt->proto = next;
		if (off <= n)
			parse_l4(pkt, p + off, n - off);
		return 1;
	}
	return 0;
}

int mesh_nflog_parse(const uint8_t *buf, size_t len, struct mesh_nflog_pkt *pkt, size_t *msg_len,
		     const char **why)
{
	*msg_len = 0;
	*why = NULL;
	if (len < sizeof(struct nlmsghdr)) {
		*why = "netlink header cut short";
		return -EBADMSG;
	}
	struct nlmsghdr nh;
	memcpy(&nh, buf, sizeof(nh));
	if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len) {
		*why = "netlink message length out of range";
		return -EBADMSG;
	}
	size_t aligned = NLMSG_ALIGN(nh.nlmsg_len);
	*msg_len = aligned <= len ? aligned : len;
	if (nh.nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return 0;
	if (nh.nlmsg_len < sizeof(nh) + NFGEN_LEN) {
		*why = "nfnetlink header cut short";
		return -EBADMSG;
	}
	memset(pkt, 0, sizeof(*pkt));
	const uint8_t *a = buf + sizeof(nh) + NFGEN_LEN;
	size_t left = nh.nlmsg_len - sizeof(nh) - NFGEN_LEN;
	const uint8_t *payload = NULL;
	size_t payload_len = 0;
	while (left >= 4) {
		uint16_t alen = get16h(a), atype = get16h(a + 2) & NLA_TYPE_MASK;
		if (alen < 4 || alen > left) {
			*why = "netlink attribute length out of range";
			return -EBADMSG;
		}
		const uint8_t *v = a + 4;
		size_t vlen = alen - 4u;
		switch (atype) {
		case NFULA_PAYLOAD:
			payload = v;
			payload_len = vlen;
			break;
		case NFULA_PREFIX: {
			size_t n = strnlen((const char *)v, vlen);
			if (n >= sizeof(pkt->prefix))
				n = sizeof(pkt->prefix) - 1;
			memcpy(pkt->prefix, v, n);
			pkt->prefix[n] = '\0';
			break;
		}
		case NFULA_IFINDEX_INDEV:
			if (vlen >= 4)
				pkt->indev = get32be(v);
			break;
		case NFULA_IFINDEX_OUTDEV:
			if (vlen >= 4)
				pkt->outdev = get32be(v);
			break;
		}
		size_t step = NLA_ALIGN(alen);
		if (step >= left)
			break;
		a += step;
		left -= step;
	}
	if (!payload)
		return 0;
	return parse_payload(pkt, payload, payload_len, why);
}

static size_t put_attr(uint8_t *buf, size_t off, size_t cap, uint16_t type, const void *v,
		       size_t vlen)
{
	size_t alen = 4 + vlen, step = NLA_ALIGN(alen);
	if (off + step > cap)
		return 0;
	uint16_t l = (uint16_t)alen;
	memcpy(buf + off, &l, 2);
	memcpy(buf + off + 2, &type, 2);
	memcpy(buf + off + 4, v, vlen);
	memset(buf + off + alen, 0, step - alen);
	return off + step;
}

int mesh_nflog_config_msg(uint8_t *buf, size_t cap, uint16_t group, bool bind, uint32_t copy_range,
			  uint32_t seq)
{
	size_t off = sizeof(struct nlmsghdr) + NFGEN_LEN;
	if (cap < off)
		return -ENOSPC;
	memset(buf, 0, off);
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0,
			      .res_id = htons(group) };
	memcpy(buf + sizeof(struct nlmsghdr), &g, NFGEN_LEN);
	struct nfulnl_msg_config_cmd cmd = {
		.command = bind ? NFULNL_CFG_CMD_BIND : NFULNL_CFG_CMD_UNBIND
	};
	if (!(off = put_attr(buf, off, cap, NFULA_CFG_CMD, &cmd, sizeof(cmd))))
		return -ENOSPC;
	if (bind) {
		struct nfulnl_msg_config_mode mode = { .copy_range = htonl(copy_range),
						       .copy_mode = NFULNL_COPY_PACKET };
		if (!(off = put_attr(buf, off, cap, NFULA_CFG_MODE, &mode, sizeof(mode))))
			return -ENOSPC;
	}
	struct nlmsghdr nh = { .nlmsg_len = (uint32_t)off,
			       .nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
			       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			       .nlmsg_seq = seq };
	memcpy(buf, &nh, sizeof(nh));
	return (int)off;
}

/* Sends a config request and waits (briefly, the socket is still blocking) for its ack. */
static int config(int fd, uint16_t group, bool bind, uint32_t seq)
{
	uint8_t req[128], ans[512];
	int n = mesh_nflog_config_msg(req, sizeof(req), group, bind, 256, seq);
	if (n < 0)
		return n;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	if (sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		return -errno;
	ssize_t r = recv(fd, ans, sizeof(ans), 0);
	if (r < 0)
		return -errno;
	struct nlmsghdr nh;
	if ((size_t)r < sizeof(nh) + sizeof(int))
		return -EBADMSG;
	memcpy(&nh, ans, sizeof(nh));
	if (nh.nlmsg_type != NLMSG_ERROR)
		return -EBADMSG;
	int e;
	memcpy(&e, ans + sizeof(nh), sizeof(e));
	return e; /* 0 or a negative errno */
}

int mesh_nflog_open(uint16_t group, char *err, size_t errlen)
{
	int ret;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "nflog: cannot open a netfilter netlink socket: %s", strerror(-ret));
		return ret;
	}
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "nflog: bind: %s", strerror(-ret));
		goto errout;
	}
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret = config(fd, group, true, 1);
	if (ret < 0) {
		snprintf(err, errlen, "nflog: cannot bind group %u: %s%s", group, strerror(-ret),
			 ret == -EBUSY ? " (another program, or another meshd in this network "
					 "namespace, reads it)" : "");
		goto errout;
	}
	int rcvbuf = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* a full socket buffer loses log lines, not the daemon's attention */
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		snprintf(err, errlen, "nflog: cannot make the socket non-blocking: %s", strerror(-ret));
		goto errout;
	}
	return fd;
errout:
	close(fd);
	return ret;
}

int mesh_nflog_read(int fd, void (*fn)(void *arg, const struct mesh_nflog_pkt *pkt), void *arg,
		    unsigned max_msgs, uint64_t *bad)
{
	static uint8_t buf[64 * 1024];
	int given = 0;
	unsigned msgs = 0;
	while (msgs < max_msgs) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return given ? given : -EAGAIN;
			if (errno == ENOBUFS) /* the kernel dropped some: go on reading */
				continue;
			return -errno;
		}
		size_t off = 0;
		while (off < (size_t)n && msgs < max_msgs) {
			struct mesh_nflog_pkt pkt;
			size_t ml;
			const char *why;
			int r = mesh_nflog_parse(buf + off, (size_t)n - off, &pkt, &ml, &why);
			msgs++;
			if (r < 0 && bad)
				(*bad)++;
			if (r == 1) {
				fn(arg, &pkt);
				given++;
			}
			if (ml == 0)
				break;
			off += ml;
		}
	}
	return given;
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_UDPLITE: return "udplite";
	}
	return NULL;
}

void mesh_nflog_flow_format(const struct mesh_nflog_pkt *pkt, char *out, size_t cap)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pn[16];
	inet_ntop(pkt->family, &pkt->src, s, sizeof(s));
	inet_ntop(pkt->family, &pkt->dst, d, sizeof(d));
	const char *name = proto_name(pkt->proto);
	if (!name) {
		snprintf(pn, sizeof(pn), "proto %u", pkt->proto);
		name = pn;
	}
	bool v6 = pkt->family == AF_INET6;
	if (pkt->sport || pkt->dport)
		snprintf(out, cap, "%s %s%s%s:%u -> %s%s%s:%u", name, v6 ? "[" : "", s, v6 ? "]" : "",
			 pkt->sport, v6 ? "[" : "", d, v6 ? "]" : "", pkt->dport);
	else if (pkt->proto == IPPROTO_ICMP || pkt->proto == IPPROTO_ICMPV6)
		snprintf(out, cap, "%s %s -> %s type %u", name, s, d, pkt->icmp_type);
	else
		snprintf(out, cap, "%s %s -> %s", name, s, d);
}
