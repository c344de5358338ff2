/* cni/netlink.h: the kernel side of mesh-cni through libnl-route (never by running `ip`): veth
 * pair onto the bridge with hairpin, link lookups and deletion, addresses and routes on the
 * container interface, the gratuitous ARP, and running a function inside a netns (in a forked
 * child, so the plugin process itself never changes namespace). */
#ifndef MESH_CNI_NETLINK_H
#define MESH_CNI_NETLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "cni/result.h"

/* MTU of a link in the current netns, or -errno (-ENODEV when absent). */
int cni_nl_link_mtu(const char *name);
/* 0 when the link exists, -ENODEV when not, other -errno on failure. */
int cni_nl_link_exists(const char *name);
/* Deletes a link; 0 also when it was already gone. */
int cni_nl_link_del(const char *name);
/* Deletes link `name` if it is owner's: its alias (IFLA_IFALIAS) is owner, or it has none (a
 * veth of an older mesh-cni), or owner is NULL (any link). 0 when deleted or gone, -EEXIST
 * (alias into other, IFALIASZ) when another container's veth has the name, else -errno. */
int cni_nl_link_del_owned(const char *name, const char *owner, char other[256]);

/* Creates the veth pair host <-> peer, the peer moved into the netns nsfd at once, the host end
 * enslaved to bridge, both with mtu, host end up with hairpin on and `owner` as its alias (what
 * cni_nl_link_del_owned checks); its MAC into host_mac. -errno with a message in msg. */
int cni_nl_veth_add(const char *host, const char *peer, int nsfd, const char *bridge, int mtu,
		    const char *owner, char host_mac[18], char *msg, size_t msgcap);

/* In the container netns (run through cni_ns_run): bring ifname up, add r's addresses that
 * belong to iface index idx (or have no interface), r's routes (gateway from the route, else the
 * address of the same family's gateway, else on-link), announce each IPv4 address with a
 * gratuitous ARP and each IPv6 one with an unsolicited neighbour advertisement (IPv6 turned on
 * on ifname first, the addresses added nodad); its MAC into mac. */
struct cni_ns_setup {
	const char *ifname;
	const struct cni_result *res;
	int idx;
	char mac[18];           /* out */
};
int cni_nl_container_setup(void *arg, char *msg, size_t msgcap);

/* In the container netns: ifname exists, is up, and has every address of res at idx. */
struct cni_ns_check {
	const char *ifname;
	const struct cni_result *res;
	int idx;
};
int cni_nl_container_check(void *arg, char *msg, size_t msgcap);

/* Runs fn(arg, msg, msgcap) in a forked child that joined the netns at nspath; copies back
 * outsz bytes of arg (its outputs) and fn's return value. -ENOENT when the netns does not exist,
 * else fn's result or -errno. */
int cni_ns_run(const char *nspath, int (*fn)(void *, char *, size_t), void *arg, size_t argsz,
	       char *msg, size_t msgcap);

#endif
