/* gossip/macs.c: encoding of MAC-location gossip (see macs.h). */
#include <errno.h>
#include <string.h>

#include "gossip/macs.h"
#include "mesh/bytes.h"

ssize_t mesh_macs_encode(const struct mesh_mac_update *u, size_t n, uint8_t *out, size_t cap)
{
	if (n == 0 || n > MESH_MACS_MAX_PER_MSG)
		return -EINVAL;
	size_t len = 2 + n * MESH_MACS_ENTRY_LEN;
	if (cap < len)
		return -EMSGSIZE;
	put_be16(out, (uint16_t)n);
	uint8_t *p = out + 2;
	for (size_t i = 0; i < n; i++, p += MESH_MACS_ENTRY_LEN) {
		memcpy(p, u[i].mac, 6);
		memcpy(p + 6, u[i].peer.b, MESH_PEER_NAME_LEN);
		put_be64(p + 12, u[i].version);
	}
	return (ssize_t)len;
}

ssize_t mesh_macs_decode(const uint8_t *buf, size_t len, struct mesh_mac_update *out,
			 const char **why)
{
	if (len < 2) {
		*why = "MAC gossip shorter than its count";
		return -EBADMSG;
	}
	size_t n = get_be16(buf);
	if (n == 0 || n > MESH_MACS_MAX_PER_MSG) {
		*why = "MAC gossip count is 0 or over 4096";
		return -EBADMSG;
	}
	if (len != 2 + n * MESH_MACS_ENTRY_LEN) {
		*why = "MAC gossip length does not match its count";
		return -EBADMSG;
	}
	const uint8_t *p = buf + 2;
	for (size_t i = 0; i < n; i++, p += MESH_MACS_ENTRY_LEN) {
		memcpy(out[i].mac, p, 6);
		memcpy(out[i].peer.b, p + 6, MESH_PEER_NAME_LEN);
		out[i].version = get_be64(p + 12);
		if (out[i].mac[0] & 1) {
			*why = "MAC gossip names a multicast MAC";
			return -EBADMSG;
		}
	}
	return (ssize_t)n;
}
