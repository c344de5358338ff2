/* sleeve/tap.c: the sleeve's TAP device with virtio-net headers and offloads (see tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sleeve/tap.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

_Static_assert(sizeof(struct virtio_net_hdr) == SLEEVE_TAP_HDR_LEN, "virtio_net_hdr is 10 bytes");

int sleeve_tap_open(const char *name)
{
	struct ifreq ifr;
	int fd, ret;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	int hdr = SLEEVE_TAP_HDR_LEN;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0) { /* TSO: sleeve_set_tso() */
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

ssize_t sleeve_tap_read(int fd, uint8_t *frame, size_t cap, struct mesh_offload *off)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { frame, cap } };
	ssize_t n = readv(fd, iov, 2);
	if (n < 0)
		return -errno;
	if ((size_t)n < SLEEVE_TAP_HDR_LEN)
		return -EBADMSG;
	off->flags = h.flags;
	off->gso_type = h.gso_type;
	off->hdr_len = h.hdr_len;
	off->gso_size = h.gso_size;
	off->csum_start = h.csum_start;
	off->csum_offset = h.csum_offset;
	return n - SLEEVE_TAP_HDR_LEN;
}

int sleeve_tap_write(int fd, const struct mesh_offload *off, const uint8_t *frame, size_t len)
{
	struct iovec iov = { (void *)frame, len };
	return sleeve_tap_writev(fd, off, &iov, 1);
}

int sleeve_tap_writev(int fd, const struct mesh_offload *off, const struct iovec *iov, unsigned n)
{
	struct virtio_net_hdr h;
	struct iovec v[1 + SLEEVE_TAP_IOV_MAX];
	if (n > SLEEVE_TAP_IOV_MAX)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	if (off) {
		h.flags = off->flags;
		h.gso_type = off->gso_type;
		h.hdr_len = off->hdr_len;
		h.gso_size = off->gso_size;
		h.csum_start = off->csum_start;
		h.csum_offset = off->csum_offset;
	}
	v[0] = (struct iovec){ &h, sizeof(h) };
	memcpy(v + 1, iov, n * sizeof(*iov));
	return writev(fd, v, (int)n + 1) < 0 ? -errno : 0;
}

bool sleeve_tap_takes_uso(int fd)
{
	/* Linux 6.2 added UDP segmentation offload to TAP devices (TUN_F_USO4/6), and with it
	 * UDP GSO frames written to one; older kernels refuse the flags. Asked, then put back. */
	bool yes = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6) == 0;
	ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM);
	return yes;
}
