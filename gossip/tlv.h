/* gossip/tlv.h: bounded writer and reader of the control protocol's TLVs
 * (tag u8, length u16 BE, value). Pure, no allocation. */
#ifndef MESH_GOSSIP_TLV_H
#define MESH_GOSSIP_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/bytes.h"

#define MESH_TLV_HDR_LEN 3
#define MESH_TLV_VALUE_MAX 0xffff

struct tlv_writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow; /* set once something did not fit; later puts are ignored */
};

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap);
void tlv_put(struct tlv_writer *w, uint8_t tag, const void *val, size_t len);
void tlv_put_u8(struct tlv_writer *w, uint8_t tag, uint8_t v);
void tlv_put_u16(struct tlv_writer *w, uint8_t tag, uint16_t v);
void tlv_put_u32(struct tlv_writer *w, uint8_t tag, uint32_t v);
void tlv_put_u64(struct tlv_writer *w, uint8_t tag, uint64_t v);
void tlv_put_str(struct tlv_writer *w, uint8_t tag, const char *s);

struct tlv_reader {
	const uint8_t *p;
	size_t left;
};

struct tlv {
	uint8_t tag;
	uint16_t len;
	const uint8_t *val;
};

void tlv_reader_init(struct tlv_reader *r, const uint8_t *buf, size_t len);
/* 1: *t holds the next TLV; 0: clean end; -EBADMSG: truncated header or value. */
int tlv_next(struct tlv_reader *r, struct tlv *t);

/* Typed getters: -EBADMSG when the length is not exactly the type's size. */
int tlv_get_u8(const struct tlv *t, uint8_t *v);
int tlv_get_u16(const struct tlv *t, uint16_t *v);
int tlv_get_u32(const struct tlv *t, uint32_t *v);
int tlv_get_u64(const struct tlv *t, uint64_t *v);

#endif
