/* sleeve/gro.c: joins runs of received UDP frames of one flow into one UDP GSO super-frame
 * for a single TAP write, and cuts one up again (see gro.h). No I/O. */
#include <linux/virtio_net.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/gro.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8

void sleeve_gro_init(struct sleeve_gro *g, uint8_t *buf)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
}

bool sleeve_gro_eligible(const struct mesh_offload *off, const uint8_t *frame, size_t len,
			 size_t *hdr_len, bool *v6)
{
	if (!off || !(off->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || off->gso_type != 0 ||
	    off->csum_offset != 6 || len < ETH_LEN + 1)
		return false;
	uint16_t type = get_be16(frame + 12);
	const uint8_t *ip = frame + ETH_LEN;
	size_t hl;
	if (type == 0x0800) {
		hl = ETH_LEN + IP4_LEN + UDP_LEN;
		if (len <= hl || ip[0] != 0x45 || ip[9] != 17 || get_be16(ip + 2) != len - ETH_LEN ||
		    (get_be16(ip + 6) & 0x3fff) != 0)
			return false;
		*v6 = false;
	} else if (type == 0x86dd) {
		hl = ETH_LEN + IP6_LEN + UDP_LEN;
		if (len <= hl || (ip[0] >> 4) != 6 || ip[6] != 17 ||
		    get_be16(ip + 4) != len - ETH_LEN - IP6_LEN)
			return false;
		*v6 = true;
	} else {
		return false;
	}
	if (off->csum_start != hl - UDP_LEN || get_be16(frame + hl - UDP_LEN + 4) != len - hl + UDP_LEN)
		return false;
	*hdr_len = hl;
	return true;
}

/* Whether two frames' headers (hl bytes) agree but for the fields that differ between the
 * datagrams of one flow: IP length, IPv4 id and header checksum, UDP length and checksum. */
static bool same_flow(const uint8_t *a, const uint8_t *b, size_t hl, bool v6)
{
	size_t udp = hl - UDP_LEN;
	if (memcmp(a, b, ETH_LEN + 2) != 0)
		return false;
	if (v6)
		return !memcmp(a + ETH_LEN + 6, b + ETH_LEN + 6, udp + 4 - (ETH_LEN + 6)) &&
		       !memcmp(a + ETH_LEN, b + ETH_LEN, 4);
	return !memcmp(a + ETH_LEN + 6, b + ETH_LEN + 6, 4) &&      /* frag, ttl, protocol */
	       !memcmp(a + ETH_LEN + 12, b + ETH_LEN + 12, 8 + 4);  /* addresses, ports */
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get_be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Rewrites the IP and UDP headers of h (hl bytes) for a UDP payload of `payload` bytes: IP
 * length (and for IPv4 the id plus id_add and the header checksum), UDP length, and the UDP
 * checksum field as a partial checksum (the pseudo-header sum, completed by whoever takes
 * the frame). */
static void set_lengths(uint8_t *h, size_t hl, bool v6, size_t payload, uint16_t id_add)
{
	uint8_t *ip = h + ETH_LEN, *udp = h + hl - UDP_LEN;
	uint16_t ulen = (uint16_t)(UDP_LEN + payload);
	uint32_t pseudo;
	if (v6) {
		put_be16(ip + 4, ulen);
		pseudo = sum16(ip + 8, 32, 0) + ulen + 17;
	} else {
		put_be16(ip + 2, (uint16_t)(IP4_LEN + ulen));
		put_be16(ip + 4, (uint16_t)(get_be16(ip + 4) + id_add));
		put_be16(ip + 10, 0);
		put_be16(ip + 10, (uint16_t)~fold(sum16(ip, IP4_LEN, 0)));
		pseudo = sum16(ip + 12, 8, 0) + ulen + 17;
	}
	put_be16(udp + 4, ulen);
	put_be16(udp + 6, fold(pseudo));
}

bool sleeve_gro_add(struct sleeve_gro *g, const struct mesh_offload *off, const uint8_t *frame,
		    size_t len)
{
	size_t hl;
	bool v6;
	if (!sleeve_gro_eligible(off, frame, len, &hl, &v6))
		return false;
	size_t payload = len - hl;
	if (!g->len) {
		if (payload > UINT16_MAX)
			return false;
		memcpy(g->buf, frame, len);
		g->len = len;
		g->hdr_len = hl;
		g->v6 = v6;
		g->seg = (uint16_t)payload;
		g->segs = 1;
		g->closed = false;
		g->off = *off;
		return true;
	}
	if (g->closed || v6 != g->v6 || hl != g->hdr_len || payload > g->seg ||
	    g->segs >= SLEEVE_GRO_SEGS_MAX || g->len + payload > SLEEVE_GRO_BUF ||
	    g->len + payload - ETH_LEN - (v6 ? IP6_LEN : 0) > UINT16_MAX ||
	    off->flags != g->off.flags || !same_flow(g->buf, frame, hl, v6))
		return false;
	memcpy(g->buf + g->len, frame + hl, payload);
	g->len += payload;
	g->segs++;
	g->closed = payload < g->seg;
	return true;
}

size_t sleeve_gro_finish(struct sleeve_gro *g, struct mesh_offload *off)
{
	size_t len = g->len;
	if (!len)
		return 0;
	if (g->segs == 1) {
		*off = g->off;
	} else {
		set_lengths(g->buf, g->hdr_len, g->v6, len - g->hdr_len, 0);
		*off = (struct mesh_offload){
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
			.hdr_len = (uint16_t)g->hdr_len,
			.gso_size = g->seg,
			.csum_start = g->off.csum_start,
			.csum_offset = g->off.csum_offset,
		};
	}
	g->len = 0;
	g->segs = 0;
	return len;
}

size_t sleeve_gro_segment(const uint8_t *super, size_t len, const struct mesh_offload *super_off,
			  unsigned i, uint8_t hdr[SLEEVE_GRO_HDR_MAX], struct mesh_offload *off,
			  size_t *payload_len)
{
	size_t hl = super_off->hdr_len, seg = super_off->gso_size;
	if (super_off->gso_type != VIRTIO_NET_HDR_GSO_UDP_L4 || !seg || len <= hl ||
	    (hl != ETH_LEN + IP4_LEN + UDP_LEN && hl != ETH_LEN + IP6_LEN + UDP_LEN))
		return 0;
	size_t payload = len - hl, at = (size_t)i * seg;
	if (at >= payload)
		return 0;
	*payload_len = payload - at < seg ? payload - at : seg;
	memcpy(hdr, super, hl);
	set_lengths(hdr, hl, hl == ETH_LEN + IP6_LEN + UDP_LEN, *payload_len, (uint16_t)i);
	*off = (struct mesh_offload){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = super_off->csum_start,
		.csum_offset = super_off->csum_offset,
	};
	return hl;
}
