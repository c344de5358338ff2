/* fastdp/vxlan_dev.h: the kernel VXLAN device of the VXLAN fast path and its forwarding
 * database, through rtnetlink (libnl-route; never by running `ip` or `bridge`).
 *
 * The device (`mesh-vxlan`, UDP 6784, one VNI, learning off) is a port of the mesh bridge.
 * It and the sleeve's TAP are isolated bridge ports, so the kernel never passes a frame from
 * one to the other: a frame that came over one data path is only delivered to containers, and
 * forwarding between peers stays the router's decision. Learning is off on the VXLAN port too:
 * the router says which remote MACs live behind it (sticky static bridge entries) and where
 * each is (the device's own FDB: MAC -> peer underlay address). */
#ifndef MESH_FASTDP_VXLAN_DEV_H
#define MESH_FASTDP_VXLAN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastdp/decide.h"

struct mesh_vxlan_dev {
	struct nl_sock *sk;
	char name[16];
	int ifindex, bridge_ifindex;
};

/* All return 0 or a negative errno with err filled in (what, which link, why). */

/* Creates device `name` (removing a leftover of that name first), VNI vni, UDP port `port`,
 * MTU mtu, on bridge `bridge` as an isolated port without learning, and brings it up. With
 * ipv6, a device whose remotes are IPv6 (local address ::, so the kernel opens an IPv6 socket
 * on the port): a device takes FDB remotes of one family only (issue 18). */
int mesh_vxlan_dev_create(struct mesh_vxlan_dev *d, const char *name, const char *bridge,
			  uint16_t port, uint32_t vni, unsigned mtu, bool ipv6, char *err,
			  size_t errlen);
/* Puts the existing link `name` (e.g. one end of a veth pair) on bridge `bridge` the same way:
 * isolated, no learning, no host IPv6, MTU mtu, up. The FDB calls below then act on it, and
 * destroy removes it. */
int mesh_vxlan_dev_adopt_port(struct mesh_vxlan_dev *d, const char *name, const char *bridge,
			      unsigned mtu, char *err, size_t errlen);
/* Makes bridge port `ifname` (the sleeve TAP) isolated too. */
int mesh_vxlan_dev_isolate_port(struct mesh_vxlan_dev *d, const char *ifname, char *err,
				size_t errlen);
/* Adds (replacing) or removes the device's own FDB entry mac -> ip (of the device's family).
 * An all-zero mac is a flood entry: added alongside the others of its kind. Removing an entry
 * that is not there is not an error. */
int mesh_vxlan_dev_fdb(struct mesh_vxlan_dev *d, bool add, const uint8_t mac[6],
		       const struct mesh_ip *ip, char *err, size_t errlen);
/* Adds (replacing) or removes the bridge's sticky static entry mac -> this device's port. */
int mesh_vxlan_dev_bridge_fdb(struct mesh_vxlan_dev *d, bool add, const uint8_t mac[6],
			      char *err, size_t errlen);
/* One change of link `name` through sk: MTU (0: keep), master (0: keep), up (false: keep). */
int mesh_link_change(struct nl_sock *sk, const char *name, unsigned mtu, int master, bool up,
		     char *err, size_t errlen);
/* Removes the device (if made) and closes the socket. */
void mesh_vxlan_dev_destroy(struct mesh_vxlan_dev *d);

#endif
