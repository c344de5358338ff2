/* include/mesh/ipv6off.h: turning the host's IPv6 off on a link that is only a bridge port
 * (the sleeve TAP, the VXLAN device, a container's host-side veth, a bridge meshd made), so
 * the host sends nothing of its own from it: no MLD reports (which Linux sends even from a
 * link without an address), no router solicitations. Otherwise each such link's MAC would
 * travel the mesh like a container's. Bridging of IPv6 frames is not affected. */
#ifndef MESH_IPV6OFF_H
#define MESH_IPV6OFF_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* For link ifname in the caller's network namespace; best before the link comes up.
 * Returns 0 (also when the kernel has no IPv6) or -errno. */
static inline int mesh_link_ipv6_off(const char *ifname)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int ret = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return ret;
}

#endif
