/* router/netdev.c: bridge creation and port attachment with libnl-route (see netdev.h). */
#include <errno.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/bridge.h>
#include <stdio.h>
#include <string.h>

#include "mesh/ipv6off.h"
#include "router/log.h"
#include "router/netdev.h"

/* "<what> <name>: <netlink error>" */
static int nl_fail(char *err, size_t errlen, int nlerr, const char *what, const char *name)
{
	snprintf(err, errlen, "%s%s: %s%s", what, name, nl_geterror(nlerr),
		 nlerr == -NLE_PERM ? " (meshd needs CAP_NET_ADMIN: run it as root)" : "");
	return nlerr == -NLE_PERM ? -EPERM : -EIO;
}

int mesh_netdev_open(struct mesh_netdev *nd, char *err, size_t errlen)
{
	int ret;
	memset(nd, 0, sizeof(*nd));
	nd->sk = nl_socket_alloc();
	if (!nd->sk) {
		snprintf(err, errlen, "cannot allocate a netlink socket");
		return -ENOMEM;
	}
	ret = nl_connect(nd->sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(nd->sk);
		nd->sk = NULL;
		return nl_fail(err, errlen, ret, "cannot open rtnetlink", "");
	}
	return 0;
}

/* Sets MTU and IFF_UP on a link (and master when master_ifindex > 0). `quiet`: a link of
 * ours that is still down gets the host's IPv6 turned off first (mesh/ipv6off.h). */
static int link_configure(struct mesh_netdev *nd, const char *name, unsigned mtu,
			  int master_ifindex, bool quiet, char *err, size_t errlen)
{
	struct rtnl_link *orig = NULL, *change = NULL;
	int ret;

	ret = rtnl_link_get_kernel(nd->sk, 0, name, &orig);
	if (ret < 0)
		return nl_fail(err, errlen, ret, "cannot find link ", name);
	change = rtnl_link_alloc();
	if (!change) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* best effort: without it (a read-only /proc/sys) the link's own MAC travels the mesh */
	if (quiet && !(rtnl_link_get_flags(orig) & IFF_UP) && (ret = mesh_link_ipv6_off(name)) < 0)
		log_warn("cannot turn the host's IPv6 off on %s (%s): its own MLD reports will make "
			 "its MAC known across the mesh", name, strerror(-ret));
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	if (master_ifindex > 0)
		rtnl_link_set_master(change, master_ifindex);
	rtnl_link_set_flags(change, IFF_UP);
	ret = rtnl_link_change(nd->sk, orig, change, 0);
	if (ret < 0) {
		ret = nl_fail(err, errlen, ret, "cannot configure link ", name);
		goto out;
	}
	ret = rtnl_link_get_ifindex(orig);
out:
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return ret;
}

/* Multicast snooping off on a bridge we made: the mesh floods multicast along its broadcast
 * trees, so the bridge must pass every group to every port, and it must not send IGMP of its
 * own (it joins 224.0.0.106 for router discovery while snooping), which would make its MAC
 * travel the mesh like a container's. */
static int bridge_snooping_off(struct mesh_netdev *nd, const char *name, char *err, size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex(name) };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST);
	struct nlattr *info, *data;
	int ret;
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0) {
		nlmsg_free(msg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	ret = nl_send_sync(nd->sk, msg); /* frees msg */
	return ret < 0 ? nl_fail(err, errlen, ret, "cannot turn multicast snooping off on ", name) : 0;
}

/* The alias meshd gives a bridge it makes, so a later meshd knows it for one of its own. */
#define MESH_BRIDGE_ALIAS "mesh: made by meshd"

static int set_alias(struct mesh_netdev *nd, const char *name, const char *alias, char *err,
		     size_t errlen)
{
	struct rtnl_link *req = rtnl_link_alloc(), *orig = rtnl_link_alloc();
	int ret = -ENOMEM;
	if (!req || !orig)
		goto out;
	rtnl_link_set_ifindex(orig, (int)if_nametoindex(name));
	rtnl_link_set_ifalias(req, alias);
	ret = rtnl_link_change(nd->sk, orig, req, 0);
	if (ret < 0)
		ret = nl_fail(err, errlen, ret, "cannot name bridge ", name);
out:
	rtnl_link_put(req);
	rtnl_link_put(orig);
	return ret;
}

int mesh_netdev_bridge_ensure(struct mesh_netdev *nd, const char *name, unsigned mtu, char *err,
			      size_t errlen)
{
	struct rtnl_link *existing = NULL;
	int ret;

	snprintf(nd->bridge, sizeof(nd->bridge), "%s", name);
	ret = rtnl_link_get_kernel(nd->sk, 0, name, &existing);
	if (ret == 0) {
		bool is_bridge = rtnl_link_is_bridge(existing);
		const char *alias = rtnl_link_get_ifalias(existing);
		/* one an earlier meshd made (and kept while containers were on it) is ours to remove */
		nd->created_bridge = is_bridge && alias && !strcmp(alias, MESH_BRIDGE_ALIAS);
		rtnl_link_put(existing);
		if (!is_bridge) {
			snprintf(err, errlen, "link %s exists and is not a bridge: choose another --bridge", name);
			return -EEXIST;
		}
	} else {
		ret = rtnl_link_bridge_add(nd->sk, name);
		if (ret < 0)
			return nl_fail(err, errlen, ret, "cannot create bridge ", name);
		nd->created_bridge = true;
		ret = bridge_snooping_off(nd, name, err, errlen);
		if (ret < 0)
			return ret;
		ret = set_alias(nd, name, MESH_BRIDGE_ALIAS, err, errlen);
		if (ret < 0)
			return ret;
	}
	ret = link_configure(nd, name, mtu, 0, nd->created_bridge, err, errlen);
	if (ret < 0)
		return ret;
	nd->bridge_ifindex = ret;
	return 0;
}

int mesh_netdev_attach(struct mesh_netdev *nd, const char *ifname, unsigned mtu, char *err,
		       size_t errlen)
{
	int ret = link_configure(nd, ifname, mtu, nd->bridge_ifindex, true, err, errlen);
	return ret < 0 ? ret : 0;
}

int mesh_netdev_set_mtu(struct mesh_netdev *nd, const char *ifname, unsigned mtu, char *err,
			size_t errlen)
{
	int ret = link_configure(nd, ifname, mtu, 0, false, err, errlen);
	return ret < 0 ? ret : 0;
}

int mesh_netdev_set_gso_max_size(struct mesh_netdev *nd, const char *ifname, uint32_t size,
				 char *err, size_t errlen)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = NULL;
	int ret;

	ifi.ifi_index = (int)if_nametoindex(ifname);
	if (!ifi.ifi_index) {
		snprintf(err, errlen, "cannot find link %s", ifname);
		return -ENODEV;
	}
	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST);
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_GSO_MAX_SIZE, size) < 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = nl_send_sync(nd->sk, msg); /* frees msg */
	msg = NULL;
	if (ret < 0)
		ret = nl_fail(err, errlen, ret, "cannot set gso_max_size of ", ifname);
out:
	nlmsg_free(msg);
	return ret;
}

int mesh_netdev_bridge_addr_ensure(struct mesh_netdev *nd, int family, const void *ip,
				   uint8_t prefix, char *err, size_t errlen)
{
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int ret, ifindex = (int)if_nametoindex(nd->bridge);

	if (!ifindex) {
		snprintf(err, errlen, "cannot find bridge %s", nd->bridge);
		return -ENODEV;
	}
	addr = rtnl_addr_alloc();
	if (family != AF_INET && family != AF_INET6) {
		snprintf(err, errlen, "not an IPv4 or IPv6 address (family %d)", family);
		ret = -EAFNOSUPPORT;
		goto out;
	}
	local = nl_addr_build(family, ip, family == AF_INET ? 4 : 16);
	if (!addr || !local) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nl_addr_set_prefixlen(local, prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, family);
	/* IPv6: usable at once, as mesh-cni's container addresses (no duplicate detection: the
	 * IPAM gave it to this host alone) */
	if (family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	ret = rtnl_addr_set_local(addr, local);
	if (ret < 0) {
		ret = nl_fail(err, errlen, ret, "cannot build the address of ", nd->bridge);
		goto out;
	}
	rtnl_addr_set_prefixlen(addr, prefix);
	/* NLM_F_EXCL: "exists" tells us it was there already, which is the usual case */
	ret = rtnl_addr_add(nd->sk, addr, NLM_F_EXCL);
	if (ret == -NLE_EXIST) {
		ret = 0;
	} else if (ret < 0) {
		ret = nl_fail(err, errlen, ret, "cannot add an address to bridge ", nd->bridge);
	} else {
		ret = 1;
	}
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return ret;
}

/* Links whose master is the bridge (meshd's own ports are gone by the time this is asked). */
static int bridge_ports(struct mesh_netdev *nd)
{
	struct nl_cache *cache = NULL;
	int br = (int)if_nametoindex(nd->bridge), n = 0;
	if (!br || rtnl_link_alloc_cache(nd->sk, AF_UNSPEC, &cache) < 0)
		return 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
		if (rtnl_link_get_master((struct rtnl_link *)o) == br)
			n++;
	nl_cache_free(cache);
	return n;
}

void mesh_netdev_close(struct mesh_netdev *nd, bool remove_bridge)
{
	if (!nd->sk)
		return;
	int ports = remove_bridge && nd->created_bridge ? bridge_ports(nd) : 0;
	if (ports > 0) {
		/* deleting it would cut those containers off for good: nothing attaches them again
		 * when meshd starts (it finds the bridge and uses it) */
		log_info("bridge %s kept: %d container port%s still on it", nd->bridge, ports,
			 ports == 1 ? " is" : "s are");
		remove_bridge = false;
	}
	if (remove_bridge && nd->created_bridge) {
		struct rtnl_link *link = rtnl_link_alloc();
		if (link) {
			rtnl_link_set_name(link, nd->bridge);
			rtnl_link_delete(nd->sk, link);
			rtnl_link_put(link);
		}
	}
	nl_socket_free(nd->sk);
	nd->sk = NULL;
}
