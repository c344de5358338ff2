/* fastdp/xfrm_dump.h: which entries of the kernel's xfrm tables are meshd's (pure, no I/O).
 * A meshd that was killed leaves its SAs and policies behind; the next one, encrypted or not,
 * dumps both tables and deletes what this says is ours, so that a stale policy does not send
 * VXLAN into an SA nobody answers. Ours: ESP SAs in transport mode, and outbound policies of
 * our priority, whose selector is exactly one host to another (IPv4 or IPv6), UDP to the VXLAN
 * port; and the block policies (our other priority, action block, any host to any host). */
#ifndef MESH_FASTDP_XFRM_DUMP_H
#define MESH_FASTDP_XFRM_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "fastdp/xfrm.h"

enum mesh_xfrm_kind { MESH_XFRM_SA = 1, MESH_XFRM_POLICY };

struct mesh_xfrm_item {
	enum mesh_xfrm_kind kind;
	struct mesh_xfrm_flow fl; /* the selector */
	uint32_t spi;             /* SA: host order */
};

/* msg: one netlink message of a dump (its header included), len the bytes available. Returns
 * 1 with *out filled when it is an SA or policy of ours for UDP `port`, 0 when it is anything
 * else (another type, someone else's entry), -EBADMSG when it is truncated. */
int mesh_xfrm_classify(const uint8_t *msg, size_t len, uint16_t port, struct mesh_xfrm_item *out);

#endif
