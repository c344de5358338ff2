/* gossip/tlv.c: the TLV writer and reader of the control protocol (see tlv.h). */
#include <errno.h>
#include <string.h>

#include "gossip/tlv.h"

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

void tlv_put(struct tlv_writer *w, uint8_t tag, const void *val, size_t len)
{
	if (w->overflow || len > MESH_TLV_VALUE_MAX || w->cap - w->len < MESH_TLV_HDR_LEN + len) {
		w->overflow = true;
		return;
	}
	w->buf[w->len] = tag;
	put_be16(w->buf + w->len + 1, (uint16_t)len);
	if (len)
		memcpy(w->buf + w->len + MESH_TLV_HDR_LEN, val, len);
	w->len += MESH_TLV_HDR_LEN + len;
}

void tlv_put_u8(struct tlv_writer *w, uint8_t tag, uint8_t v)
{
	tlv_put(w, tag, &v, 1);
}

void tlv_put_u16(struct tlv_writer *w, uint8_t tag, uint16_t v)
{
	uint8_t b[2];
	put_be16(b, v);
	tlv_put(w, tag, b, sizeof(b));
}

void tlv_put_u32(struct tlv_writer *w, uint8_t tag, uint32_t v)
{
	uint8_t b[4];
	put_be32(b, v);
	tlv_put(w, tag, b, sizeof(b));
}

void tlv_put_u64(struct tlv_writer *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	put_be64(b, v);
	tlv_put(w, tag, b, sizeof(b));
}

void tlv_put_str(struct tlv_writer *w, uint8_t tag, const char *s)
{
	tlv_put(w, tag, s, strlen(s));
}

void tlv_reader_init(struct tlv_reader *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->left = len;
}

int tlv_next(struct tlv_reader *r, struct tlv *t)
{
	if (r->left == 0)
		return 0;
	if (r->left < MESH_TLV_HDR_LEN)
		return -EBADMSG;
	uint16_t len = get_be16(r->p + 1);
	if (r->left - MESH_TLV_HDR_LEN < len)
		return -EBADMSG;
	t->tag = r->p[0];
	t->len = len;
	t->val = r->p + MESH_TLV_HDR_LEN;
	r->p += MESH_TLV_HDR_LEN + len;
	r->left -= MESH_TLV_HDR_LEN + len;
	return 1;
}

int tlv_get_u8(const struct tlv *t, uint8_t *v)
{
	if (t->len != 1)
		return -EBADMSG;
	*v = t->val[0];
	return 0;
}

int tlv_get_u16(const struct tlv *t, uint16_t *v)
{
	if (t->len != 2)
		return -EBADMSG;
	*v = get_be16(t->val);
	return 0;
}

int tlv_get_u32(const struct tlv *t, uint32_t *v)
{
	if (t->len != 4)
		return -EBADMSG;
	*v = get_be32(t->val);
	return 0;
}

int tlv_get_u64(const struct tlv *t, uint64_t *v)
{
	if (t->len != 8)
		return -EBADMSG;
	*v = get_be64(t->val);
	return 0;
}
