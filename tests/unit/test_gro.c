/* tests/unit/test_gro.c: coalescing of received UDP frames (sleeve/gro.c): which frames join,
 * the super-frame's headers and offload state, and cutting it back into the original frames. */
#include <criterion/criterion.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/gro.h"

static uint8_t gbuf[SLEEVE_GRO_BUF];

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get_be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* The UDP header at f + at (its checksum field the pseudo-header sum: addresses summed in
 * `addrs`), the payload derived from seq, and the offload state of a local socket's frame. */
static size_t udp_rest(uint8_t *f, size_t at, uint16_t sport, uint32_t addrs, size_t payload,
		       unsigned seq, struct mesh_offload *off)
{
	uint8_t *u = f + at;
	put_be16(u, sport);
	put_be16(u + 2, 5201);
	put_be16(u + 4, (uint16_t)(8 + payload));
	put_be16(u + 6, fold(addrs + 17 + 8 + (uint32_t)payload));
	for (size_t i = 0; i < payload; i++)
		u[8 + i] = (uint8_t)(seq * 7 + i);
	*off = (struct mesh_offload){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = (uint16_t)at, .csum_offset = 6 };
	return at + 8 + payload;
}

/* A UDP/IPv4 frame as a local socket hands it over: partial checksum (the pseudo-header sum in
 * the checksum field), DF set, IP id `id`, payload bytes derived from `seq`. */
static size_t udp4(uint8_t *f, uint16_t sport, uint16_t id, size_t payload, unsigned seq,
		   struct mesh_offload *off)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };
	memcpy(f, eth, 14);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(28 + payload));
	put_be16(ip + 4, id);
	put_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	uint8_t a[8] = { 10, 32, 0, 2, 10, 32, 0, 1 };
	memcpy(ip + 12, a, 8);
	put_be16(ip + 10, (uint16_t)~fold(sum(ip, 20)));
	return udp_rest(f, 34, sport, sum(ip + 12, 8), payload, seq, off);
}

static size_t udp6(uint8_t *f, size_t payload, unsigned seq, struct mesh_offload *off)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd };
	memcpy(f, eth, 14);
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)(8 + payload));
	ip[6] = 17;
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = 2;
	ip[24] = 0xfd;
	ip[39] = 1;
	return udp_rest(f, 54, 4000, sum(ip + 8, 32), payload, seq, off);
}

Test(gro, joins_one_flow_and_cuts_it_back_into_the_same_frames)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	static uint8_t orig[5][2000];
	size_t olen[5];
	struct mesh_offload off;
	for (unsigned i = 0; i < 5; i++) {
		olen[i] = udp4(orig[i], 4000, (uint16_t)(100 + i), i < 4 ? 64 : 30, i, &off);
		cr_assert(sleeve_gro_add(&g, &off, orig[i], olen[i]), "frame %u not taken", i);
	}
	/* the shorter one closed the run */
	uint8_t more[200];
	size_t ml = udp4(more, 4000, 105, 64, 5, &off);
	cr_assert_not(sleeve_gro_add(&g, &off, more, ml));

	struct mesh_offload so;
	size_t len = sleeve_gro_finish(&g, &so);
	cr_assert_eq(len, 42 + 4 * 64 + 30);
	cr_assert_eq(so.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	cr_assert_eq(so.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	cr_assert_eq(so.gso_size, 64);
	cr_assert_eq(so.hdr_len, 42);
	cr_assert_eq(so.csum_start, 34);
	cr_assert_eq(so.csum_offset, 6);
	cr_assert_eq(get_be16(gbuf + 16), len - 14, "IP total length");
	cr_assert_eq(fold(sum(gbuf + 14, 20)), 0xffff, "IPv4 header checksum");
	cr_assert_eq(get_be16(gbuf + 38), len - 34, "UDP length");
	cr_assert_eq(get_be16(gbuf + 40), fold(sum(gbuf + 26, 8) + 17 + (uint32_t)(len - 34)),
		     "partial checksum: the pseudo-header sum for the whole length");
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(memcmp(gbuf + 42 + i * 64, orig[i] + 42, olen[i] - 42), 0);
	cr_assert_eq(sleeve_gro_finish(&g, &so), 0, "nothing pending after finish");

	/* cut back: byte for byte the frames that went in (their ids were consecutive) */
	uint8_t hdr[SLEEVE_GRO_HDR_MAX];
	struct mesh_offload segoff;
	size_t plen;
	unsigned n = 0;
	size_t hl;
	while ((hl = sleeve_gro_segment(gbuf, len, &so, n, hdr, &segoff, &plen))) {
		cr_assert_eq(hl, 42);
		cr_assert_eq(hl + plen, olen[n]);
		cr_assert_eq(memcmp(hdr, orig[n], hl), 0, "headers of segment %u", n);
		cr_assert_eq(memcmp(gbuf + hl + n * 64, orig[n] + hl, plen), 0);
		cr_assert_eq(segoff.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		cr_assert_eq(segoff.gso_type, 0);
		cr_assert_eq(segoff.csum_start, 34);
		n++;
	}
	cr_assert_eq(n, 5);
}

Test(gro, a_single_frame_comes_back_as_it_was)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	uint8_t f[200];
	struct mesh_offload off, so;
	size_t len = udp4(f, 4000, 7, 100, 1, &off);
	cr_assert(sleeve_gro_add(&g, &off, f, len));
	cr_assert_eq(sleeve_gro_finish(&g, &so), len);
	cr_assert_eq(memcmp(gbuf, f, len), 0);
	cr_assert_eq(memcmp(&so, &off, sizeof(so)), 0);
}

Test(gro, other_flows_and_headers_do_not_join)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	uint8_t a[200], b[200];
	struct mesh_offload off, boff;
	size_t al = udp4(a, 4000, 1, 64, 0, &off);
	cr_assert(sleeve_gro_add(&g, &off, a, al));
	struct {
		const char *what;
		size_t at;
		uint8_t val;
	} diff[] = {
		{ "destination MAC", 5, 9 }, { "source MAC", 11, 9 },  { "TOS", 15, 4 },
		{ "DF", 20, 0x00 },          { "TTL", 22, 3 },         { "source address", 29, 9 },
		{ "destination address", 33, 9 }, { "source port", 35, 1 }, { "destination port", 37, 1 },
	};
	for (size_t i = 0; i < sizeof(diff) / sizeof(diff[0]); i++) {
		size_t bl = udp4(b, 4000, 2, 64, 1, &boff);
		b[diff[i].at] = diff[i].val;
		cr_assert_not(sleeve_gro_add(&g, &boff, b, bl), "joined despite another %s",
			      diff[i].what);
	}
	size_t bl = udp4(b, 4000, 2, 65, 1, &boff);
	cr_assert_not(sleeve_gro_add(&g, &boff, b, bl), "a longer payload joined");
	bl = udp4(b, 4000, 2, 64, 1, &boff);
	cr_assert(sleeve_gro_add(&g, &boff, b, bl), "same flow, same size");
}

Test(gro, frames_that_never_join)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	uint8_t f[200];
	struct mesh_offload off;
	size_t len, hl;
	bool v6;

	len = udp4(f, 4000, 1, 64, 0, &off);
	cr_assert(sleeve_gro_eligible(&off, f, len, &hl, &v6));
	cr_assert_eq(hl, 42);
	cr_assert_not(v6);
	off.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "a complete checksum");
	cr_assert_not(sleeve_gro_add(&g, NULL, f, len), "no offload state");
	len = udp4(f, 4000, 1, 64, 0, &off);
	off.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "already GSO");
	len = udp4(f, 4000, 1, 64, 0, &off);
	f[14] = 0x46;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "IP options");
	len = udp4(f, 4000, 1, 64, 0, &off);
	f[20] |= 0x20;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "more fragments");
	len = udp4(f, 4000, 1, 64, 0, &off);
	f[23] = 6;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "TCP");
	len = udp4(f, 4000, 1, 4, 0, &off);
	cr_assert_not(sleeve_gro_add(&g, &off, f, len + 14), "Ethernet padding");
	len = udp4(f, 4000, 1, 0, 0, &off);
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "no payload");
	len = udp4(f, 4000, 1, 64, 0, &off);
	f[12] = 0x81;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "VLAN tag");
	len = udp4(f, 4000, 1, 64, 0, &off);
	cr_assert_not(sleeve_gro_add(&g, &off, f, 20), "truncated");
	off.csum_start = 30;
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "checksum elsewhere");
	cr_assert_eq(g.len, 0);
}

Test(gro, at_most_64_segments_and_64_KB)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	uint8_t f[2000];
	struct mesh_offload off;
	for (unsigned i = 0; i < SLEEVE_GRO_SEGS_MAX; i++) {
		size_t len = udp4(f, 4000, (uint16_t)i, 100, i, &off);
		cr_assert(sleeve_gro_add(&g, &off, f, len));
	}
	size_t len = udp4(f, 4000, 64, 100, 64, &off);
	cr_assert_not(sleeve_gro_add(&g, &off, f, len), "a 65th segment");

	struct mesh_offload so;
	sleeve_gro_finish(&g, &so);
	unsigned n = 0;
	for (;; n++) {
		len = udp4(f, 4000, (uint16_t)n, 1372, n, &off);
		if (!sleeve_gro_add(&g, &off, f, len))
			break;
	}
	cr_assert_eq(n, (65535 - 28) / 1372, "stopped at %u segments of 1372 bytes", n);
	size_t total = sleeve_gro_finish(&g, &so);
	cr_assert_leq(total - 14, 65535);
}

Test(gro, ipv6)
{
	struct sleeve_gro g;
	sleeve_gro_init(&g, gbuf);
	static uint8_t orig[3][2000];
	size_t olen[3];
	struct mesh_offload off, so;
	for (unsigned i = 0; i < 3; i++) {
		olen[i] = udp6(orig[i], 1000, i, &off);
		cr_assert(sleeve_gro_add(&g, &off, orig[i], olen[i]));
	}
	size_t len = sleeve_gro_finish(&g, &so);
	cr_assert_eq(len, 62 + 3000);
	cr_assert_eq(so.hdr_len, 62);
	cr_assert_eq(so.csum_start, 54);
	cr_assert_eq(get_be16(gbuf + 18), 3008, "IPv6 payload length");
	cr_assert_eq(get_be16(gbuf + 58), 3008, "UDP length");
	cr_assert_eq(get_be16(gbuf + 60), fold(sum(gbuf + 22, 32) + 17 + 3008));
	uint8_t hdr[SLEEVE_GRO_HDR_MAX];
	struct mesh_offload segoff;
	size_t plen;
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(sleeve_gro_segment(gbuf, len, &so, i, hdr, &segoff, &plen), 62);
		cr_assert_eq(memcmp(hdr, orig[i], 62), 0);
		cr_assert_eq(plen, 1000);
	}
	cr_assert_eq(sleeve_gro_segment(gbuf, len, &so, 3, hdr, &segoff, &plen), 0);
}
