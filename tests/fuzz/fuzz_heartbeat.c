/* tests/fuzz/fuzz_heartbeat.c: the fast path's heartbeat frames and acks (fastdp/heartbeat.c).
 * The first input byte picks the parser. An accepted heartbeat must name a length equal to the
 * input's and encode back to the same bytes (acknowledgement fields included) when its
 * padding is zero; an accepted ack must
 * encode back to the same bytes. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fastdp/heartbeat.h"
#include "tests/fuzz/fuzz.h"

static uint8_t again[MESH_HB_MAX_LEN];

FUZZ_ENTRY(heartbeat)(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	if (data[0] & 1) {
		struct mesh_heartbeat_ack ack;
		int ret = mesh_hb_ack_decode(p, len, &ack, &why);
		if (ret < 0) {
			FUZZ_CHECK(ret == -EBADMSG && why && why[0]);
			return 0;
		}
		FUZZ_CHECK(len == MESH_HB_ACK_LEN);
		mesh_hb_ack_encode(&ack, again);
		FUZZ_CHECK(memcmp(again, p, MESH_HB_ACK_LEN) == 0);
		return 0;
	}
	/* the receiver is whoever the frame is addressed to, so that decoding gets past the MAC */
	struct mesh_peer_name us = { { 0x0a, 0x6d, 0, 0, 0, 0 } };
	if (len >= 6)
		memcpy(us.b + 2, p + 2, 4);
	struct mesh_heartbeat hb;
	int ret = mesh_hb_decode(p, len, &us, &hb, &why);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EBADMSG && why && why[0]);
		return 0;
	}
	FUZZ_CHECK(hb.frame_len == len && len >= MESH_HB_MIN_LEN);
	ssize_t n = mesh_hb_encode(&hb, &us, again, sizeof(again));
	FUZZ_CHECK(n == (ssize_t)len);
	bool zero_pad = true;
	for (size_t i = len >= MESH_HB_ACK_MIN_FRAME ? MESH_HB_ACK_MIN_FRAME : MESH_HB_MIN_LEN;
	     i < len && zero_pad; i++)
		zero_pad = p[i] == 0;
	if (zero_pad && p[MESH_HB_HDR_LEN + 5] == 0)
		FUZZ_CHECK(memcmp(again, p, len) == 0);
	return 0;
}
