/* gossip/hello.c: encoding and validation of the HELLO message (see hello.h). */
#include <errno.h>
#include <string.h>

#include "gossip/hello.h"
#include "gossip/tlv.h"

bool mesh_nickname_valid(const char *s, size_t len)
{
	if (len == 0 || len > MESH_NICKNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

ssize_t mesh_hello_encode(const struct mesh_hello *h, uint8_t *out, size_t cap)
{
	struct tlv_writer w;
	if (cap < 1)
		return -EMSGSIZE;
	out[0] = MESH_MSG_HELLO;
	tlv_writer_init(&w, out + 1, cap - 1);
	tlv_put(&w, MESH_HELLO_NAME, h->name.b, MESH_PEER_NAME_LEN);
	tlv_put_str(&w, MESH_HELLO_NICKNAME, h->nickname);
	tlv_put_u64(&w, MESH_HELLO_UID, h->uid);
	tlv_put_u16(&w, MESH_HELLO_SHORT_ID, h->short_id);
	tlv_put_u64(&w, MESH_HELLO_CONN_ID, h->conn_id);
	tlv_put_u8(&w, MESH_HELLO_OVERLAYS, h->overlays);
	tlv_put_u16(&w, MESH_HELLO_SLEEVE_PORT, h->sleeve_port);
	tlv_put_u32(&w, MESH_HELLO_SLEEVE_INDEX, h->sleeve_index);
	tlv_put(&w, MESH_HELLO_CONFIRM, h->confirm, MESH_TAG_LEN);
	if (h->full)
		tlv_put_u16(&w, MESH_HELLO_FULL, h->full);
	if (h->range6_prefix) {
		uint8_t v[17];
		memcpy(v, h->range6, 16);
		v[16] = h->range6_prefix;
		tlv_put(&w, MESH_HELLO_RANGE6, v, sizeof(v));
	}
	if (h->features)
		tlv_put_u32(&w, MESH_HELLO_FEATURES, h->features);
	if (w.overflow)
		return -EMSGSIZE;
	return (ssize_t)(1 + w.len);
}

#define BAD(msg) do { *why = (msg); return -EBADMSG; } while (0)

/* A prefix length of 8..96 (room for an IPv4 address), the bits past it zero. */
static bool range6_valid(const uint8_t base[16], uint8_t prefix)
{
	if (prefix < 8 || prefix > 96)
		return false;
	for (unsigned bit = prefix; bit < 128; bit++)
		if (base[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int mesh_hello_decode(const uint8_t *msg, size_t len, struct mesh_hello *h, const char **why)
{
	struct tlv_reader r;
	struct tlv t;
	unsigned seen = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	if (len < 1 || msg[0] != MESH_MSG_HELLO)
		BAD("first message is not HELLO");
	tlv_reader_init(&r, msg + 1, len - 1);
	while ((ret = tlv_next(&r, &t)) > 0) {
		if (t.tag < 32 && (seen & (1u << t.tag)))
			BAD("HELLO repeats a field");
		switch (t.tag) {
		case MESH_HELLO_NAME:
			if (t.len != MESH_PEER_NAME_LEN)
				BAD("HELLO peer name is not 6 bytes");
			memcpy(h->name.b, t.val, MESH_PEER_NAME_LEN);
			break;
		case MESH_HELLO_NICKNAME:
			if (!mesh_nickname_valid((const char *)t.val, t.len))
				BAD("HELLO nickname is empty, too long or not printable");
			memcpy(h->nickname, t.val, t.len);
			h->nickname[t.len] = '\0';
			break;
		case MESH_HELLO_UID:
			if (tlv_get_u64(&t, &h->uid) < 0)
				BAD("HELLO uid is not 8 bytes");
			break;
		case MESH_HELLO_SHORT_ID:
			if (tlv_get_u16(&t, &h->short_id) < 0 || h->short_id > 0xfff)
				BAD("HELLO short id is not a 12-bit number");
			break;
		case MESH_HELLO_CONN_ID:
			if (tlv_get_u64(&t, &h->conn_id) < 0)
				BAD("HELLO connection id is not 8 bytes");
			break;
		case MESH_HELLO_OVERLAYS:
			if (tlv_get_u8(&t, &h->overlays) < 0)
				BAD("HELLO overlays is not 1 byte");
			break;
		case MESH_HELLO_SLEEVE_PORT:
			if (tlv_get_u16(&t, &h->sleeve_port) < 0 || h->sleeve_port == 0)
				BAD("HELLO sleeve port is not a port number");
			break;
		case MESH_HELLO_SLEEVE_INDEX:
			if (tlv_get_u32(&t, &h->sleeve_index) < 0)
				BAD("HELLO sleeve index is not 4 bytes");
			break;
		case MESH_HELLO_CONFIRM:
			if (t.len != MESH_TAG_LEN)
				BAD("HELLO confirmation tag is not 32 bytes");
			memcpy(h->confirm, t.val, MESH_TAG_LEN);
			break;
		case MESH_HELLO_FULL:
			if (tlv_get_u16(&t, &h->full) < 0 || h->full == 0)
				BAD("HELLO full is not a connection limit (u16, not 0)");
			break;
		case MESH_HELLO_RANGE6:
			if (t.len != 17 || !range6_valid(t.val, t.val[16]))
				BAD("HELLO IPv6 range is not a /8../96 prefix with its host bits zero "
				    "(17 bytes)");
			memcpy(h->range6, t.val, 16);
			h->range6_prefix = t.val[16];
			break;
		case MESH_HELLO_FEATURES:
			if (tlv_get_u32(&t, &h->features) < 0)
				BAD("HELLO features is not 4 bytes");
			break;
		default:
			continue; /* unknown field from a newer peer */
		}
		seen |= 1u << t.tag;
	}
	if (ret < 0)
		BAD("HELLO is truncated");
	const unsigned required = (1u << MESH_HELLO_NAME) | (1u << MESH_HELLO_NICKNAME) |
		(1u << MESH_HELLO_UID) | (1u << MESH_HELLO_SHORT_ID) | (1u << MESH_HELLO_CONN_ID) |
		(1u << MESH_HELLO_OVERLAYS) | (1u << MESH_HELLO_SLEEVE_PORT) |
		(1u << MESH_HELLO_SLEEVE_INDEX) | (1u << MESH_HELLO_CONFIRM);
	if ((seen & required) != required)
		BAD("HELLO lacks a required field");
	return 0;
}
