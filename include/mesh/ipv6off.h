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
#include <string.h>
#include <unistd.h>

/* Writes value to /proc/sys/net/ipv6/conf/<ifname>/<key> in the caller's network namespace.
 * Returns 0 (also when the kernel has no IPv6) or -errno. */
static inline int mesh_link_ipv6_sysctl(const char *ifname, const char *key, const char *value)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	size_t n = strlen(value);
	int ret = write(fd, value, n) == (ssize_t)n ? 0 : -errno;
	close(fd);
	return ret;
}

/* For link ifname in the caller's network namespace; best before the link comes up.
 * Returns 0 (also when the kernel has no IPv6) or -errno. */
static inline int mesh_link_ipv6_off(const char *ifname)
{
	return mesh_link_ipv6_sysctl(ifname, "disable_ipv6", "1");
}

#endif
