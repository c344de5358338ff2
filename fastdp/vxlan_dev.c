/* fastdp/vxlan_dev.c: the VXLAN device and its FDB over rtnetlink (see vxlan_dev.h). Bridge
 * port flags and FDB entries are built as raw messages: libnl-route 3.7 has no setter for
 * port isolation, and it derives an FDB entry's family from its address. */
#include <errno.h>
#include <net/if.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <stdio.h>
#include <string.h>

#include "fastdp/vxlan_dev.h"
#include "mesh/ipv6off.h"

static int nl_fail(char *err, size_t errlen, int nlerr, const char *what, const char *name)
{
	snprintf(err, errlen, "%s %s: %s%s", what, name, nl_geterror(nlerr),
		 nlerr == -NLE_PERM ? " (meshd needs CAP_NET_ADMIN: run it as root)" : "");
	return nlerr == -NLE_PERM ? -EPERM : nlerr == -NLE_NOADDR || nlerr == -NLE_OBJ_NOTFOUND
									? -ENOENT : -EIO;
}

static int send_sync(struct mesh_vxlan_dev *d, struct nl_msg *msg, const char *what,
		     const char *name, char *err, size_t errlen)
{
	int ret = nl_send_sync(d->sk, msg); /* frees msg */
	return ret < 0 ? nl_fail(err, errlen, ret, what, name) : 0;
}

/* RTM_SETLINK (AF_BRIDGE) with IFLA_PROTINFO: the bridge port flags of link ifindex. */
static int set_port_flags(struct mesh_vxlan_dev *d, int ifindex, const char *name, int learning,
			  char *err, size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST);
	struct nlattr *prot;
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(prot = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	    nla_put_u8(msg, IFLA_BRPORT_ISOLATED, 1) < 0 ||
	    (learning >= 0 && nla_put_u8(msg, IFLA_BRPORT_LEARNING, (uint8_t)learning) < 0)) {
		nlmsg_free(msg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nla_nest_end(msg, prot);
	return send_sync(d, msg, "cannot set the bridge port flags of", name, err, errlen);
}

static void delete_link(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = rtnl_link_alloc();
	if (!link)
		return;
	rtnl_link_set_name(link, name);
	rtnl_link_delete(sk, link);
	rtnl_link_put(link);
}

int mesh_link_change(struct nl_sock *sk, const char *name, unsigned mtu, int master, bool up,
		     char *err, size_t errlen)
{
	struct rtnl_link *orig = NULL, *change = rtnl_link_alloc();
	int ret = change ? rtnl_link_get_kernel(sk, 0, name, &orig) : -NLE_NOMEM;
	if (ret == 0) {
		if (mtu)
			rtnl_link_set_mtu(change, mtu);
		if (master > 0)
			rtnl_link_set_master(change, master);
		if (up)
			rtnl_link_set_flags(change, IFF_UP);
		ret = rtnl_link_change(sk, orig, change, 0);
	}
	if (change)
		rtnl_link_put(change);
	if (orig)
		rtnl_link_put(orig);
	return ret < 0 ? nl_fail(err, errlen, ret, "cannot configure link", name) : 0;
}

int mesh_vxlan_dev_create(struct mesh_vxlan_dev *d, const char *name, const char *bridge,
			  uint16_t port, uint32_t vni, unsigned mtu, bool ipv6, char *err,
			  size_t errlen)
{
	struct rtnl_link *link = NULL;
	struct nl_addr *any6 = NULL;
	int ret;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->bridge_ifindex = (int)if_nametoindex(bridge);
	if (!d->bridge_ifindex) {
		snprintf(err, errlen, "bridge %s does not exist", bridge);
		return -ENODEV;
	}
	d->sk = nl_socket_alloc();
	if (!d->sk) {
		snprintf(err, errlen, "cannot allocate a netlink socket");
		return -ENOMEM;
	}
	ret = nl_connect(d->sk, NETLINK_ROUTE);
	if (ret < 0) {
		ret = nl_fail(err, errlen, ret, "cannot open rtnetlink for", name);
		goto errout;
	}
	delete_link(d->sk, name); /* a leftover of a meshd that did not exit cleanly */
	link = rtnl_link_vxlan_alloc();
	if (!link) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto errout;
	}
	rtnl_link_set_name(link, name);
	rtnl_link_vxlan_set_id(link, vni);
	rtnl_link_vxlan_set_port(link, port);
	rtnl_link_vxlan_set_learning(link, 0);
	if (ipv6) { /* IFLA_VXLAN_LOCAL6 = ::: an IPv6 socket, any source */
		static const uint8_t zero[16];
		any6 = nl_addr_build(AF_INET6, zero, sizeof(zero));
		if (!any6 || rtnl_link_vxlan_set_local(link, any6) < 0) {
			ret = -ENOMEM;
			snprintf(err, errlen, "cannot set the local address of %s", name);
			goto errout;
		}
	}
	rtnl_link_set_mtu(link, mtu);
	rtnl_link_set_master(link, d->bridge_ifindex);
	ret = rtnl_link_add(d->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0) {
		ret = nl_fail(err, errlen, ret, "cannot create VXLAN device", name);
		if (ret == -EIO)
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (is UDP port %u taken%s, or is there no vxlan kernel module?)", port,
				 ipv6 ? " over IPv6, or has this kernel no IPv6" : "");
		goto errout;
	}
	rtnl_link_put(link);
	link = NULL;
	if (any6)
		nl_addr_put(any6);
	any6 = NULL;
	d->ifindex = (int)if_nametoindex(name);
	if (!d->ifindex) {
		ret = -ENODEV;
		snprintf(err, errlen, "VXLAN device %s vanished after creation", name);
		goto errout;
	}
	ret = set_port_flags(d, d->ifindex, name, 0, err, errlen);
	if (ret < 0)
		goto errout;
	/* best effort (a read-only /proc/sys): without it, only the device's own MLD reports
	 * make its MAC known across the mesh; the router logs the same for its other links */
	mesh_link_ipv6_off(name);
	if ((ret = mesh_link_change(d->sk, name, 0, 0, true, err, errlen)) < 0)
		goto errout;
	return 0;
errout:
	if (link)
		rtnl_link_put(link);
	if (any6)
		nl_addr_put(any6);
	mesh_vxlan_dev_destroy(d);
	return ret;
}

int mesh_vxlan_dev_adopt_port(struct mesh_vxlan_dev *d, const char *name, const char *bridge,
			      unsigned mtu, char *err, size_t errlen)
{
	int ret;
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->bridge_ifindex = (int)if_nametoindex(bridge);
	d->ifindex = (int)if_nametoindex(name);
	if (!d->bridge_ifindex || !d->ifindex) {
		snprintf(err, errlen, "%s %s does not exist", d->ifindex ? "bridge" : "link",
			 d->ifindex ? bridge : name);
		return -ENODEV;
	}
	d->sk = nl_socket_alloc();
	if (!d->sk || nl_connect(d->sk, NETLINK_ROUTE) < 0) {
		snprintf(err, errlen, "cannot open rtnetlink for %s", name);
		ret = -EIO;
		goto errout;
	}
	mesh_link_ipv6_off(name); /* best effort, as for the VXLAN device */
	/* on the bridge first: the port flags are the bridge's */
	if ((ret = mesh_link_change(d->sk, name, mtu, d->bridge_ifindex, false, err, errlen)) < 0 ||
	    (ret = set_port_flags(d, d->ifindex, name, 0, err, errlen)) < 0 ||
	    (ret = mesh_link_change(d->sk, name, 0, 0, true, err, errlen)) < 0)
		goto errout;
	return 0;
errout:
	mesh_vxlan_dev_destroy(d);
	return ret;
}

int mesh_vxlan_dev_isolate_port(struct mesh_vxlan_dev *d, const char *ifname, char *err,
				size_t errlen)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "cannot find link %s", ifname);
		return -ENODEV;
	}
	return set_port_flags(d, ifindex, ifname, -1, err, errlen);
}

/* RTM_NEWNEIGH / RTM_DELNEIGH for an AF_BRIDGE FDB entry on the device. */
static int fdb_msg(struct mesh_vxlan_dev *d, bool add, int nlflags, uint8_t ntf, uint16_t state,
		   const uint8_t mac[6], const struct mesh_ip *ip, char *err, size_t errlen)
{
	struct ndmsg ndm = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = d->ifindex,
		.ndm_state = state,
		.ndm_flags = ntf,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
						NLM_F_REQUEST | nlflags);
	if (!msg || nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, NDA_LLADDR, 6, mac) < 0 ||
	    (ip && nla_put(msg, NDA_DST, mesh_ip_is_v6(ip) ? 16 : 4, ip->a) < 0)) {
		nlmsg_free(msg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char what[96];
	snprintf(what, sizeof(what), "cannot %s FDB entry %02x:%02x:%02x:%02x:%02x:%02x on",
		 add ? "add" : "remove", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	int ret = send_sync(d, msg, what, d->name, err, errlen);
	return !add && ret == -ENOENT ? 0 : ret;
}

int mesh_vxlan_dev_fdb(struct mesh_vxlan_dev *d, bool add, const uint8_t mac[6],
		       const struct mesh_ip *ip, char *err, size_t errlen)
{
	static const uint8_t zero[6];
	bool flood = memcmp(mac, zero, 6) == 0;
	int flags = add ? NLM_F_CREATE | (flood ? NLM_F_APPEND : NLM_F_REPLACE) : 0;
	return fdb_msg(d, add, flags, NTF_SELF, NUD_PERMANENT, mac, ip, err, errlen);
}

int mesh_vxlan_dev_bridge_fdb(struct mesh_vxlan_dev *d, bool add, const uint8_t mac[6],
			      char *err, size_t errlen)
{
	int flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
	return fdb_msg(d, add, flags, NTF_MASTER | NTF_STICKY, NUD_NOARP, mac, NULL, err, errlen);
}

void mesh_vxlan_dev_destroy(struct mesh_vxlan_dev *d)
{
	if (!d->sk)
		return;
	if (d->ifindex)
		delete_link(d->sk, d->name);
	nl_socket_free(d->sk);
	d->sk = NULL;
	d->ifindex = 0;
}
