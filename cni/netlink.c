/* cni/netlink.c: veth, bridge port, addresses, routes and gratuitous ARP (unsolicited NA for
 * IPv6) for mesh-cni with libnl-route-3, and the fork+setns helper that runs container-side
 * work in CNI_NETNS. */
#include "cni/netlink.h"
#include "mesh/ipv6off.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
}

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_BUSY: return -EBUSY;
	default: return -EIO;
	}
}

static struct nl_sock *open_rt(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return NULL;
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int get_link(struct nl_sock *sk, const char *name, struct rtnl_link **out)
{
	int r = rtnl_link_get_kernel(sk, 0, name, out);
	return r < 0 ? nl_errno(r) : 0;
}

int cni_nl_link_mtu(const char *name)
{
	struct nl_sock *sk = open_rt();
	struct rtnl_link *l = NULL;
	int ret;
	if (!sk)
		return -EIO;
	ret = get_link(sk, name, &l);
	if (ret == 0)
		ret = (int)rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

int cni_nl_link_exists(const char *name)
{
	int mtu = cni_nl_link_mtu(name);
	return mtu < 0 ? mtu : 0;
}

int cni_nl_link_del(const char *name)
{
	return cni_nl_link_del_owned(name, NULL, NULL);
}

int cni_nl_link_del_owned(const char *name, const char *owner, char other[256])
{
	struct nl_sock *sk = open_rt();
	struct rtnl_link *l = NULL;
	int ret;
	if (!sk)
		return -EIO;
	ret = get_link(sk, name, &l);
	if (ret == -ENODEV) {
		ret = 0;
		goto out;
	}
	if (ret < 0)
		goto out;
	const char *alias = rtnl_link_get_ifalias(l);
	if (owner && alias && *alias && strcmp(alias, owner)) {
		snprintf(other, 256, "%s", alias);
		ret = -EEXIST;
		goto out;
	}
	ret = rtnl_link_delete(sk, l);
	ret = ret < 0 && nl_errno(ret) != -ENODEV ? nl_errno(ret) : 0;
out:
	rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

static void mac_str(struct rtnl_link *l, char out[18])
{
	struct nl_addr *a = rtnl_link_get_addr(l);
	out[0] = '\0';
	if (a && nl_addr_get_len(a) == 6) {
		const unsigned char *m = nl_addr_get_binary_addr(a);
		snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

/* RTM_SETLINK, family AF_BRIDGE, IFLA_PROTINFO { IFLA_BRPORT_MODE = 1 }: hairpin on, as
 * `bridge link set dev X hairpin on` does. */
static int set_hairpin(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST);
	struct nlattr *pi;
	int ret = -ENOMEM;
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto out;
	if (!(pi = nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED)))
		goto out;
	if (nla_put_u8(m, IFLA_BRPORT_MODE, 1) < 0)
		goto out;
	nla_nest_end(m, pi);
	ret = nl_send_auto(sk, m);
	if (ret >= 0)
		ret = nl_wait_for_ack(sk);
	ret = ret < 0 ? nl_errno(ret) : 0;
out:
	nlmsg_free(m);
	return ret;
}

/* Caps the TCP super-frames (GSO) the stack builds for this link at what meshd's sleeve carries
 * whole in one datagram (SLEEVE_TAP_GSO_MAX). Best effort: kernels before 5.19 cannot change
 * it on an existing link, and then the sleeve simply gets MTU-sized frames. */
#define MESH_GSO_MAX_SIZE 64000
static void cap_gso(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST);
	if (!m)
		return;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(m, IFLA_GSO_MAX_SIZE, MESH_GSO_MAX_SIZE) == 0 && nl_send_auto(sk, m) >= 0)
		nl_wait_for_ack(sk);
	nlmsg_free(m);
}

int cni_nl_veth_add(const char *host, const char *peer, int nsfd, const char *bridge, int mtu,
		    const char *owner, char host_mac[18], char *msg, size_t msgcap)
{
	struct nl_sock *sk = open_rt();
	struct rtnl_link *br = NULL, *veth = NULL, *hl = NULL, *chg = NULL;
	int ret;
	if (!sk) {
		say(msg, msgcap, "cannot open a netlink socket");
		return -EIO;
	}
	ret = get_link(sk, bridge, &br);
	if (ret < 0) {
		say(msg, msgcap, "bridge %s: %s", bridge, ret == -ENODEV ? "does not exist (is meshd running?)" : strerror(-ret));
		goto out;
	}
	veth = rtnl_link_veth_alloc();
	if (!veth) {
		ret = -ENOMEM;
		goto out;
	}
	struct rtnl_link *pl = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host);
	rtnl_link_set_mtu(veth, (unsigned)mtu);
	rtnl_link_set_master(veth, rtnl_link_get_ifindex(br));
	rtnl_link_set_name(pl, peer);
	rtnl_link_set_mtu(pl, (unsigned)mtu);
	rtnl_link_set_ns_fd(pl, nsfd);
	rtnl_link_put(pl);
	ret = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0) {
		ret = nl_errno(ret);
		say(msg, msgcap, "creating veth %s <-> %s: %s", host, peer, strerror(-ret));
		goto out;
	}
	ret = get_link(sk, host, &hl);
	if (ret < 0) {
		say(msg, msgcap, "veth %s vanished after creation", host);
		goto out;
	}
	ret = set_hairpin(sk, rtnl_link_get_ifindex(hl));
	if (ret < 0) {
		say(msg, msgcap, "hairpin on %s: %s", host, strerror(-ret));
		goto out;
	}
	cap_gso(sk, rtnl_link_get_ifindex(hl));
	chg = rtnl_link_alloc();
	if (!chg) {
		ret = -ENOMEM;
		goto out;
	}
	/* the host end is only a bridge port: no host IPv6 on it, so that it sends nothing of its
	 * own into the mesh (set while it is down). Best effort: where /proc/sys is read-only
	 * only its MLD reports make its MAC known across the mesh. */
	mesh_link_ipv6_off(host);
	rtnl_link_set_flags(chg, IFF_UP);
	rtnl_link_set_ifalias(chg, owner); /* whose veth this is: DEL checks it */
	ret = rtnl_link_change(sk, hl, chg, 0);
	if (ret < 0) {
		ret = nl_errno(ret);
		say(msg, msgcap, "setting %s up: %s", host, strerror(-ret));
		goto out;
	}
	mac_str(hl, host_mac);
	ret = 0;
out:
	rtnl_link_put(chg);
	rtnl_link_put(hl);
	rtnl_link_put(veth);
	rtnl_link_put(br);
	nl_socket_free(sk);
	return ret;
}

static int addr_of(const char *s, bool cidr, struct nl_addr **out)
{
	int fam = AF_UNSPEC, ret;
	unsigned char b[16];
	int pfx = -1;
	ret = cidr ? cni_parse_cidr(s, &fam, b, &pfx) : cni_parse_ip(s, &fam, b);
	if (ret < 0)
		return -EINVAL;
	*out = nl_addr_build(fam, b, fam == AF_INET ? 4 : 16);
	if (!*out)
		return -ENOMEM;
	if (cidr)
		nl_addr_set_prefixlen(*out, pfx);
	return 0;
}

/* One gratuitous ARP reply for ip from ifindex/mac: Ethernet broadcast, sender = target = ip. */
static void send_garp(int ifindex, const unsigned char mac[6], const unsigned char ip[4])
{
	unsigned char f[42];
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return;
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08; f[13] = 0x06;             /* ARP */
	f[14] = 0; f[15] = 1;                   /* Ethernet */
	f[16] = 0x08; f[17] = 0;                /* IPv4 */
	f[18] = 6; f[19] = 4;
	f[20] = 0; f[21] = ARPOP_REPLY;
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, ip, 4);
	memset(f + 32, 0xff, 6);
	memcpy(f + 38, ip, 4);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = ifindex, .sll_halen = 6 };
	memset(sll.sll_addr, 0xff, 6);
	if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		fprintf(stderr, "mesh-cni: gratuitous ARP: %s\n", strerror(errno));
	close(fd);
}

/* One unsolicited Neighbour Advertisement for ip6 from ifindex/mac (RFC 4861 7.2.6: to ff02::1,
 * Override set, with the target link-layer address), the IPv6 twin of the gratuitous ARP: a
 * neighbour that knew the address at another MAC (a container before this one) updates it at
 * once. The kernel fills in the ICMPv6 checksum. */
static void send_unsolicited_na(int ifindex, const unsigned char mac[6], const unsigned char ip6[16])
{
	unsigned char na[32] = { 136, 0, 0, 0, 0x20 /* Override */ };
	int hops = 255;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return;
	memcpy(na + 8, ip6, 16);
	na[24] = 2; /* target link-layer address, 8 bytes */
	na[25] = 1;
	memcpy(na + 26, mac, 6);
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 }, dst = { .sin6_family = AF_INET6 };
	memcpy(&src.sin6_addr, ip6, 16);
	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	dst.sin6_scope_id = (uint32_t)ifindex;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    sendto(fd, na, sizeof(na), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		fprintf(stderr, "mesh-cni: unsolicited neighbour advertisement: %s\n", strerror(errno));
	close(fd);
}

static const char *gw_for(const struct cni_result *r, int fam)
{
	for (int i = 0; i < r->n_ips; i++)
		if (r->ips[i].family == fam && r->ips[i].gateway[0])
			return r->ips[i].gateway;
	return NULL;
}

/* Writes v to /proc/sys/net/ipv6/conf/<dev>/<key> of the current netns. 0 or -errno. */
static int ipv6_conf_write(const char *dev, const char *key, const char *v)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", dev, key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int ret = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -errno;
	close(fd);
	return ret;
}

/* IPv6 on in the container for an IPv6 address on ifname: disable_ipv6 = 0 on the interface
 * (a runtime may have turned it off netns-wide: "all" and "default" follow, so that lo gets ::1
 * and later links have it too). 0, or -errno with msg. */
static int container_ipv6_on(const char *ifname, char *msg, size_t msgcap)
{
	static const char *const devs[] = { "all", "default" };
	int ret = ipv6_conf_write(ifname, "disable_ipv6", "0");
	if (ret < 0) {
		say(msg, msgcap, "turning IPv6 on for %s (net.ipv6.conf.%s.disable_ipv6 = 0): %s%s",
		    ifname, ifname, strerror(-ret),
		    ret == -ENOENT ? " (the kernel has no IPv6: use \"ipv6\": false)" : "");
		return ret;
	}
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		ipv6_conf_write(devs[i], "disable_ipv6", "0"); /* best effort: the address works without */
	return 0;
}

int cni_nl_container_setup(void *arg, char *msg, size_t msgcap)
{
	struct cni_ns_setup *s = arg;
	struct nl_sock *sk = open_rt();
	struct rtnl_link *l = NULL, *chg = NULL;
	int ret, ifindex;
	if (!sk) {
		say(msg, msgcap, "cannot open a netlink socket in the netns");
		return -EIO;
	}
	ret = get_link(sk, s->ifname, &l);
	if (ret < 0) {
		say(msg, msgcap, "%s not found in the netns", s->ifname);
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(l);
	cap_gso(sk, ifindex);
	if (!(chg = rtnl_link_alloc())) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_link_set_flags(chg, IFF_UP);
	ret = rtnl_link_change(sk, l, chg, 0);
	if (ret < 0) {
		ret = nl_errno(ret);
		say(msg, msgcap, "setting %s up: %s", s->ifname, strerror(-ret));
		goto out;
	}
	mac_str(l, s->mac);
	for (int i = 0; i < s->res->n_ips; i++) {
		const struct cni_ip *ip = &s->res->ips[i];
		if ((ip->iface < 0 || ip->iface == s->idx) && ip->family == AF_INET6) {
			if ((ret = container_ipv6_on(s->ifname, msg, msgcap)) < 0)
				goto out;
			break;
		}
	}
	for (int i = 0; i < s->res->n_ips; i++) {
		const struct cni_ip *ip = &s->res->ips[i];
		struct rtnl_addr *a;
		struct nl_addr *la = NULL;
		if (ip->iface >= 0 && ip->iface != s->idx)
			continue;
		if ((ret = addr_of(ip->address, true, &la)) < 0 || !(a = rtnl_addr_alloc())) {
			nl_addr_put(la);
			say(msg, msgcap, "address %s: %s", ip->address, strerror(ret < 0 ? -ret : ENOMEM));
			ret = ret < 0 ? ret : -ENOMEM;
			goto out;
		}
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, la);
		if (ip->family == AF_INET6)
			rtnl_addr_set_flags(a, IFA_F_NODAD);
		ret = rtnl_addr_add(sk, a, 0);
		rtnl_addr_put(a);
		if (ret < 0) {
			nl_addr_put(la);
			ret = nl_errno(ret);
			say(msg, msgcap, "adding %s to %s: %s", ip->address, s->ifname, strerror(-ret));
			goto out;
		}
		unsigned char mac[6] = { 0 };
		struct nl_addr *ha = rtnl_link_get_addr(l);
		if (ha && nl_addr_get_len(ha) == 6)
			memcpy(mac, nl_addr_get_binary_addr(ha), 6);
		if (ip->family == AF_INET)
			send_garp(ifindex, mac, nl_addr_get_binary_addr(la));
		else
			send_unsolicited_na(ifindex, mac, nl_addr_get_binary_addr(la));
		nl_addr_put(la);
	}
	for (int i = 0; i < s->res->n_routes; i++) {
		const struct cni_route *rt = &s->res->routes[i];
		struct nl_addr *dst = NULL, *gw = NULL;
		struct rtnl_route *route = rtnl_route_alloc();
		struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
		if (!route || !nh) {
			rtnl_route_put(route);
			if (nh) /* libnl's rtnl_route_nh_free does not take NULL */
				rtnl_route_nh_free(nh);
			ret = -ENOMEM;
			goto out;
		}
		ret = addr_of(rt->dst, true, &dst);
		const char *g = NULL;
		if (ret == 0) {
			g = rt->gw[0] ? rt->gw : gw_for(s->res, nl_addr_get_family(dst));
			if (g)
				ret = addr_of(g, false, &gw);
		}
		if (ret == 0) {
			rtnl_route_set_family(route, (uint8_t)nl_addr_get_family(dst));
			rtnl_route_set_dst(route, dst);
			rtnl_route_set_table(route, RT_TABLE_MAIN);
			rtnl_route_set_protocol(route, RTPROT_BOOT);
			rtnl_route_set_scope(route, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
			rtnl_route_nh_set_ifindex(nh, ifindex);
			if (gw)
				rtnl_route_nh_set_gateway(nh, gw);
			rtnl_route_add_nexthop(route, nh);
			nh = NULL;
			ret = rtnl_route_add(sk, route, NLM_F_CREATE);
			ret = ret < 0 ? nl_errno(ret) : 0;
			if (ret == -EEXIST) /* the connected route of an address */
				ret = 0;
		}
		if (nh) /* not handed to the route (rtnl_route_nh_free does not take NULL) */
			rtnl_route_nh_free(nh);
		rtnl_route_put(route);
		nl_addr_put(dst);
		nl_addr_put(gw);
		if (ret < 0) {
			say(msg, msgcap, "route %s%s%s: %s", rt->dst, g ? " via " : "", g ? g : "",
			    strerror(-ret));
			goto out;
		}
	}
	ret = 0;
out:
	rtnl_link_put(chg);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

int cni_nl_container_check(void *arg, char *msg, size_t msgcap)
{
	struct cni_ns_check *c = arg;
	struct nl_sock *sk = open_rt();
	struct rtnl_link *l = NULL;
	struct nl_cache *addrs = NULL;
	int ret;
	if (!sk)
		return -EIO;
	ret = get_link(sk, c->ifname, &l);
	if (ret < 0) {
		say(msg, msgcap, "%s does not exist in the netns", c->ifname);
		goto out;
	}
	if (!(rtnl_link_get_flags(l) & IFF_UP)) {
		say(msg, msgcap, "%s is down", c->ifname);
		ret = -ENETDOWN;
		goto out;
	}
	ret = rtnl_addr_alloc_cache(sk, &addrs);
	if (ret < 0) {
		ret = nl_errno(ret);
		goto out;
	}
	for (int i = 0; i < c->res->n_ips; i++) {
		const struct cni_ip *ip = &c->res->ips[i];
		struct nl_addr *want = NULL;
		bool found = false;
		if (ip->iface >= 0 && ip->iface != c->idx)
			continue;
		if (addr_of(ip->address, true, &want) < 0)
			continue;
		for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
			struct rtnl_addr *a = (struct rtnl_addr *)o;
			if (rtnl_addr_get_ifindex(a) == rtnl_link_get_ifindex(l) &&
			    !nl_addr_cmp(rtnl_addr_get_local(a), want))
				found = true;
		}
		nl_addr_put(want);
		if (!found) {
			say(msg, msgcap, "%s does not have address %s", c->ifname, ip->address);
			ret = -EADDRNOTAVAIL;
			goto out;
		}
	}
	ret = 0;
out:
	nl_cache_free(addrs);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

struct ns_reply {
	int rc;
	char msg[512];
};

int cni_ns_run(const char *nspath, int (*fn)(void *, char *, size_t), void *arg, size_t argsz,
	       char *msg, size_t msgcap)
{
	int nsfd, p[2], ret, status;
	struct ns_reply rep;
	msg[0] = '\0';
	nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		ret = -errno;
		say(msg, msgcap, "netns %s: %s", nspath, strerror(errno));
		return ret == -ENOENT ? -ENOENT : ret;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		ret = -errno;
		close(nsfd);
		return ret;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(nsfd);
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid == 0) {
		close(p[0]);
		memset(&rep, 0, sizeof(rep));
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			rep.rc = -errno;
			snprintf(rep.msg, sizeof(rep.msg), "joining netns %s: %s", nspath, strerror(errno));
		} else {
			rep.rc = fn(arg, rep.msg, sizeof(rep.msg));
		}
		ssize_t w1 = write(p[1], &rep, sizeof(rep));
		ssize_t w2 = write(p[1], arg, argsz);
		(void)w1;
		(void)w2;
		_exit(0);
	}
	close(nsfd);
	close(p[1]);
	ssize_t n = read(p[0], &rep, sizeof(rep));
	if (n == (ssize_t)sizeof(rep)) {
		unsigned char buf[4096];
		ssize_t m = argsz <= sizeof(buf) ? read(p[0], buf, argsz) : -1;
		if (m == (ssize_t)argsz)
			memcpy(arg, buf, argsz);
		ret = rep.rc;
		snprintf(msg, msgcap, "%s", rep.msg);
	} else {
		ret = -EIO;
		say(msg, msgcap, "the netns helper process died");
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret;
}
