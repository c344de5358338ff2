/* router/netdev.h: the host's links that meshd owns, through libnl-route (never by running
 * `ip`): the bridge containers attach to, and the data path ports on it. */
#ifndef MESH_ROUTER_NETDEV_H
#define MESH_ROUTER_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mesh_netdev {
	struct nl_sock *sk;
	char bridge[16];
	bool created_bridge;  /* we made it, so we remove it on exit */
	int bridge_ifindex;
};

/* All return 0 or a negative errno with err filled in. */
int mesh_netdev_open(struct mesh_netdev *nd, char *err, size_t errlen);
/* Creates bridge `name` unless it exists, sets its MTU and brings it up. */
int mesh_netdev_bridge_ensure(struct mesh_netdev *nd, const char *name, unsigned mtu, char *err,
			      size_t errlen);
/* Puts link `ifname` on the bridge with the given MTU, up. */
int mesh_netdev_attach(struct mesh_netdev *nd, const char *ifname, unsigned mtu, char *err,
		       size_t errlen);
/* Changes the MTU of link ifname. */
int mesh_netdev_set_mtu(struct mesh_netdev *nd, const char *ifname, unsigned mtu, char *err,
			size_t errlen);
/* Caps the size of the super-frames (GSO) the kernel hands to link ifname. */
int mesh_netdev_set_gso_max_size(struct mesh_netdev *nd, const char *ifname, uint32_t size,
				 char *err, size_t errlen);
/* Gives the bridge the address ip/prefix of family AF_INET (4 bytes, network order) or AF_INET6
 * (16 bytes; without duplicate address detection) unless it has it: 1 when added, 0 when it
 * was there, or a negative errno with err filled in. */
int mesh_netdev_bridge_addr_ensure(struct mesh_netdev *nd, int family, const void *ip,
				   uint8_t prefix, char *err, size_t errlen);
/* Removes the bridge if we created it and remove_bridge is set; closes the socket. */
void mesh_netdev_close(struct mesh_netdev *nd, bool remove_bridge);

#endif
