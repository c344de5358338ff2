/* sleeve/tap.h: the TAP device through which the sleeve exchanges frames with the bridge.
 * It is opened with a virtio-net header and checksum offload; with TSO switched on as well
 * (sleeve_set_tso) the kernel hands over (and takes back) TCP super-frames of up to 64 KB
 * instead of one frame per MTU. */
#ifndef MESH_SLEEVE_TAP_H
#define MESH_SLEEVE_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "mesh/overlay.h"

#define SLEEVE_TAP_HDR_LEN 10  /* struct virtio_net_hdr */
#define SLEEVE_TAP_FRAME_MAX 65535
#define SLEEVE_TAP_IOV_MAX 8

/* Opens (creating) TAP `name`, non-blocking, with the virtio-net header and offloads. Returns
 * the fd or -errno; the kernel deletes the device when the fd is closed. */
int sleeve_tap_open(const char *name);
/* Reads one frame into `frame` (cap bytes; a longer frame is cut short) and its offload state
 * into *off. Returns its length, or -errno (-EAGAIN: none). */
ssize_t sleeve_tap_read(int fd, uint8_t *frame, size_t cap, struct mesh_offload *off);
/* Writes one frame with its offload state (NULL: plain). 0 or -errno. */
int sleeve_tap_write(int fd, const struct mesh_offload *off, const uint8_t *frame, size_t len);
/* The same, the frame in n (at most SLEEVE_TAP_IOV_MAX) pieces. */
int sleeve_tap_writev(int fd, const struct mesh_offload *off, const struct iovec *iov, unsigned n);
/* Whether the kernel takes UDP GSO frames written to the TAP (Linux 6.2 and later). */
bool sleeve_tap_takes_uso(int fd);

#endif
