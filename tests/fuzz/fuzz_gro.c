/* tests/fuzz/fuzz_gro.c: coalescing of received frames (sleeve/gro.c). The input is a run of
 * frames, each: offload flags u8 | gso_type u8 | csum_start u16 | length u16 | frame bytes.
 * Every frame is added as the sleeve would (finishing what is pending when it does not join).
 * Checked: nothing is lost or invented (the payload bytes of what went in come out, in order,
 * in the finished frames), a finished frame fits the buffer and its IP length, and cutting a
 * super-frame up gives back each frame that went into it. */
#include <linux/virtio_net.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/gro.h"
#include "tests/fuzz/fuzz.h"

static uint8_t buf[SLEEVE_GRO_BUF];
static uint8_t in[SLEEVE_GRO_SEGS_MAX][2048];
static size_t in_len[SLEEVE_GRO_SEGS_MAX];

static void check_finished(struct sleeve_gro *g, unsigned n)
{
	struct mesh_offload off;
	size_t len = sleeve_gro_finish(g, &off);
	if (!n) {
		FUZZ_CHECK(len == 0);
		return;
	}
	FUZZ_CHECK(len > 0 && len <= SLEEVE_GRO_BUF);
	if (n == 1) {
		FUZZ_CHECK(len == in_len[0] && memcmp(buf, in[0], len) == 0);
		return;
	}
	FUZZ_CHECK(off.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 && off.gso_size > 0);
	FUZZ_CHECK(get_be16(buf + 12) == 0x0800 ? get_be16(buf + 16) == len - 14
						 : get_be16(buf + 18) == len - 54);
	uint8_t hdr[SLEEVE_GRO_HDR_MAX];
	struct mesh_offload so;
	size_t plen, hl;
	unsigned i = 0;
	for (; (hl = sleeve_gro_segment(buf, len, &off, i, hdr, &so, &plen)); i++) {
		FUZZ_CHECK(i < n && hl + plen == in_len[i]);
		FUZZ_CHECK(memcmp(buf + hl + (size_t)i * off.gso_size, in[i] + hl, plen) == 0);
		/* headers equal but for the fields rebuilt: IPv4 id and header checksum, and the
		 * UDP checksum field */
		if (hl == 42)
			FUZZ_CHECK(memcmp(hdr, in[i], 18) == 0 && memcmp(hdr + 20, in[i] + 20, 4) == 0 &&
				   memcmp(hdr + 26, in[i] + 26, 14) == 0);
		else
			FUZZ_CHECK(memcmp(hdr, in[i], 60) == 0);
	}
	FUZZ_CHECK(i == n);
}

FUZZ_ENTRY(gro)(const uint8_t *data, size_t size)
{
	struct sleeve_gro g;
	unsigned n = 0;
	sleeve_gro_init(&g, buf);
	while (size >= 6) {
		struct mesh_offload off = { .flags = data[0], .gso_type = data[1],
					    .csum_start = get_be16(data + 2), .csum_offset = 6 };
		size_t len = get_be16(data + 4) % 2048;
		data += 6;
		size -= 6;
		if (len > size)
			len = size;
		if (!sleeve_gro_add(&g, &off, data, len)) {
			check_finished(&g, n);
			n = 0;
			if (!sleeve_gro_add(&g, &off, data, len))
				goto next;
		}
		FUZZ_CHECK(n < SLEEVE_GRO_SEGS_MAX);
		memcpy(in[n], data, len);
		in_len[n++] = len;
	next:
		data += len;
		size -= len;
	}
	check_finished(&g, n);
	return 0;
}
