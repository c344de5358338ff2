/* sleeve/gro.h: coalescing received UDP frames for the TAP (userspace GRO), pure.
 *
 * Writing a frame to the TAP costs a system call and a pass through the bridge, netfilter
 * and the container's veth, whatever the frame's size: for small frames that is the sleeve's
 * receive bottleneck. Frames delivered in one receive round that belong to one UDP flow
 * (same Ethernet, IP and UDP headers but for lengths, IPv4 id and checksums), carry a partial
 * checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM, as every frame from a local socket does) and have
 * payloads of one size (the last may be shorter) are joined into one UDP GSO super-frame
 * (VIRTIO_NET_HDR_GSO_UDP_L4): the kernel takes it in one write and cuts it back into the
 * original datagrams only at the receiving socket. IP options, IPv6 extension headers, VLAN
 * tags, fragments and Ethernet padding are never joined. Linux 6.2 and later accept UDP GSO
 * frames from a TAP; sleeve_gro_segment() cuts a super-frame up again for older kernels. */
#ifndef MESH_SLEEVE_GRO_H
#define MESH_SLEEVE_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/overlay.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define SLEEVE_GRO_SEGS_MAX 64      /* UDP_MAX_SEGMENTS of older kernels */
#define SLEEVE_GRO_HDR_MAX (14 + 40 + 8)
#define SLEEVE_GRO_BUF (14 + 65535) /* a whole IPv4 packet, or an IPv6 one of 64 KB payload */

struct sleeve_gro {
	uint8_t *buf;           /* the frame being built (caller's, SLEEVE_GRO_BUF bytes) */
	size_t len;             /* its length; 0: nothing pending */
	size_t hdr_len;         /* Ethernet + IP + UDP header */
	uint16_t seg;           /* UDP payload of each segment but the last */
	unsigned segs;
	bool closed;            /* the last segment was shorter: nothing more may join */
	bool v6;
	struct mesh_offload off; /* of the first frame */
};

void sleeve_gro_init(struct sleeve_gro *g, uint8_t *buf);

/* Whether a frame may ever be joined to another (UDP over IPv4/IPv6 without options or
 * extension headers, partial checksum, no GSO, no padding, a payload). On true, *hdr_len is
 * the length of its Ethernet + IP + UDP headers and *v6 tells the IP version. */
bool sleeve_gro_eligible(const struct mesh_offload *off, const uint8_t *frame, size_t len,
			 size_t *hdr_len, bool *v6);

/* Adds the frame to the pending one, or starts a pending one when there is none. Returns
 * true when the frame was taken (copied into g->buf); false when it cannot join what is
 * pending (the caller then writes that out with sleeve_gro_finish and adds again) or is not
 * eligible at all (the caller writes it alone). */
bool sleeve_gro_add(struct sleeve_gro *g, const struct mesh_offload *off, const uint8_t *frame,
		    size_t len);

/* Ends the pending frame: with more than one segment its IP and UDP headers are rewritten
 * for the whole length and *off says UDP GSO; with one, it is the frame as it came, with its
 * own offload state. Returns its length (the frame is at g->buf until the next add), 0 when
 * nothing was pending; g is empty afterwards. */
size_t sleeve_gro_finish(struct sleeve_gro *g, struct mesh_offload *off);

/* Rebuilds segment i (0-based) of a super-frame made by sleeve_gro_finish (for kernels that
 * refuse UDP GSO from a TAP): its headers go to hdr (SLEEVE_GRO_HDR_MAX bytes), its offload
 * state to *off, and its payload is super + hdr_len + i * gso_size, *payload_len bytes.
 * Returns the header length, or 0 when i is past the last segment. */
size_t sleeve_gro_segment(const uint8_t *super, size_t len, const struct mesh_offload *super_off,
			  unsigned i, uint8_t hdr[SLEEVE_GRO_HDR_MAX], struct mesh_offload *off,
			  size_t *payload_len);

#endif
