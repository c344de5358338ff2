/* fastdp/heartbeat.c: heartbeat frame and acknowledgment codec, and the heartbeats' pace
 * (see heartbeat.h). */
#include <errno.h>
#include <string.h>

#include "fastdp/heartbeat.h"
#include "mesh/bytes.h"
#include "mesh/clock.h"
#include "mesh/overlay.h"

void mesh_hb_mac(const struct mesh_peer_name *peer, uint8_t mac[6])
{
	mac[0] = 0x0a;
	mac[1] = 0x6d;
	memcpy(mac + 2, peer->b + 2, 4);
}

ssize_t mesh_hb_encode(const struct mesh_heartbeat *hb, const struct mesh_peer_name *receiver,
		       uint8_t *out, size_t cap)
{
	size_t len = hb->frame_len;
	if (len < MESH_HB_MIN_LEN || len > cap)
		return -EINVAL;
	memset(out, 0, len);
	mesh_hb_mac(receiver, out);
	mesh_hb_mac(&hb->sender, out + 6);
	put_be16(out + 12, MESH_HB_ETHERTYPE);
	uint8_t *p = out + MESH_HB_HDR_LEN;
	memcpy(p, MESH_HB_MAGIC, 4);
	p[4] = MESH_HB_VERSION;
	p[5] = hb->flags;
	memcpy(p + 6, hb->sender.b, 6);
	put_be64(p + 12, hb->sender_uid);
	put_be64(p + 20, hb->receiver_uid);
	put_be32(p + 28, hb->seq);
	put_be16(p + 32, hb->frame_len);
	if (len >= MESH_HB_ACK_MIN_FRAME) {
		put_be32(p + 34, hb->ack_seq);
		put_be16(p + 38, hb->ack_frame_len);
	}
	return (ssize_t)len;
}

int mesh_hb_decode(const uint8_t *frame, size_t len, const struct mesh_peer_name *us,
		   struct mesh_heartbeat *out, const char **why)
{
	uint8_t mac[6];
	if (len < MESH_HB_MIN_LEN) {
		*why = "shorter than a heartbeat";
		return -EBADMSG;
	}
	if (get_be16(frame + 12) != MESH_HB_ETHERTYPE) {
		*why = "not the heartbeat ethertype";
		return -EBADMSG;
	}
	mesh_hb_mac(us, mac);
	if (memcmp(frame, mac, 6) != 0) {
		*why = "addressed to another peer's heartbeat MAC";
		return -EBADMSG;
	}
	const uint8_t *p = frame + MESH_HB_HDR_LEN;
	if (memcmp(p, MESH_HB_MAGIC, 4) != 0 || p[4] != MESH_HB_VERSION) {
		*why = "bad magic or version";
		return -EBADMSG;
	}
	out->flags = p[5];
	memcpy(out->sender.b, p + 6, 6);
	out->sender_uid = get_be64(p + 12);
	out->receiver_uid = get_be64(p + 20);
	out->seq = get_be32(p + 28);
	out->frame_len = get_be16(p + 32);
	out->ack_seq = len >= MESH_HB_ACK_MIN_FRAME ? get_be32(p + 34) : 0;
	out->ack_frame_len = len >= MESH_HB_ACK_MIN_FRAME ? get_be16(p + 38) : 0;
	mesh_hb_mac(&out->sender, mac);
	if (memcmp(frame + 6, mac, 6) != 0) {
		*why = "source MAC is not the heartbeat MAC of the sender it names";
		return -EBADMSG;
	}
	if (out->frame_len != len) {
		*why = "truncated or padded on the way (length differs from what was sent)";
		return -EBADMSG;
	}
	return 0;
}

#define DUE_MS (MESH_FASTDP_HEARTBEAT_MS + MESH_FASTDP_HEARTBEAT_LATE_MS)

bool mesh_hb_missing(const struct mesh_hb_pace *p, uint64_t now_ms)
{
	return !p->healthy || !p->last_heard_ms || !p->last_ack_ms ||
	       mesh_ms_since(now_ms, p->last_heard_ms) > DUE_MS || mesh_ms_since(now_ms, p->last_ack_ms) > DUE_MS;
}

uint64_t mesh_hb_late_at(const struct mesh_hb_pace *p)
{
	if (!p->healthy || !p->last_heard_ms || !p->last_ack_ms)
		return 0;
	uint64_t older = p->last_heard_ms < p->last_ack_ms ? p->last_heard_ms : p->last_ack_ms;
	return older + DUE_MS + 1;
}

unsigned mesh_hb_interval_ms(const struct mesh_hb_pace *p, uint64_t now_ms)
{
	if (!p->healthy)
		return MESH_FASTDP_HEARTBEAT_FAST_MS;
	return mesh_hb_missing(p, now_ms) || p->peer_missing ? MESH_FASTDP_HEARTBEAT_LOSSY_MS
							     : MESH_FASTDP_HEARTBEAT_MS;
}

bool mesh_hb_ack_over_tcp(const struct mesh_hb_pace *p, uint64_t now_ms)
{
	return !p->peer_reads_acks || p->peer_missing || mesh_hb_missing(p, now_ms);
}

void mesh_hb_ack_encode(const struct mesh_heartbeat_ack *ack, uint8_t out[MESH_HB_ACK_LEN])
{
	out[0] = MESH_OVERLAY_FASTDP;
	out[1] = MESH_HB_ACK_KIND;
	put_be32(out + 2, ack->seq);
	put_be16(out + 6, ack->frame_len);
}

int mesh_hb_ack_decode(const uint8_t *p, size_t len, struct mesh_heartbeat_ack *out,
		       const char **why)
{
	if (len != MESH_HB_ACK_LEN) {
		*why = "heartbeat ack of the wrong length";
		return -EBADMSG;
	}
	if (p[0] != MESH_OVERLAY_FASTDP || p[1] != MESH_HB_ACK_KIND) {
		*why = "not a fast path heartbeat ack";
		return -EBADMSG;
	}
	out->seq = get_be32(p + 2);
	out->frame_len = get_be16(p + 6);
	return 0;
}
