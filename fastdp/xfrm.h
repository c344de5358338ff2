/* fastdp/xfrm.h: kernel IPsec for the encrypted fast path (DESIGN §7), through NETLINK_XFRM
 * with libnl (never by running `ip xfrm`). ESP security associations in transport mode with
 * AES-GCM (rfc4106) and 64-bit sequence numbers (ESN: no wrap, so no rekeying and no repeated
 * GCM nonce), and the outbound policies that send our VXLAN packets to a peer through them.
 *
 * Only the VXLAN packets between two hosts are protected: a policy's selector is our address,
 * the peer's address (IPv4 or IPv6), UDP and the VXLAN port; below those, one policy blocks any other VXLAN
 * we would send, so nothing leaves in the clear. Received ESP needs no policy (the SA's SPI finds
 * it); refusing VXLAN that did not come through ESP is fastdp/ipsec_filter.h's job. */
#ifndef MESH_FASTDP_XFRM_H
#define MESH_FASTDP_XFRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/esp.h"

#define MESH_XFRM_REPLAY_WINDOW 4096 /* packets; the kernel's maximum with ESN */
#define MESH_XFRM_POLICY_PRIORITY 1000
#define MESH_XFRM_BLOCK_PRIORITY 1001 /* after the peers' policies (lower numbers go first) */

struct mesh_xfrm;

/* The packets an SA or policy is for: UDP from src to dst:dport over IPv4 or IPv6 (issue 18;
 * an IPv4 address in the first 4 bytes, network order, the rest zero; port in host order).
 * src and dst both all-zero: from any host to any host of that family (the block policy). */
struct mesh_xfrm_flow {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint16_t dport;
};

/* Whether fl is any host to any host (the block policy's selector). */
bool mesh_xfrm_flow_is_any(const struct mesh_xfrm_flow *fl);

/* Opens the netlink socket and, with probe_esp, checks that the kernel takes an ESP SA with
 * AES-GCM, by adding one (between two TEST-NET-1 addresses, with a random key) and deleting
 * it again. NULL with err filled in when it does not (no xfrm, no esp4 or gcm module). */
struct mesh_xfrm *mesh_xfrm_open(bool probe_esp, char *err, size_t errlen);
void mesh_xfrm_close(struct mesh_xfrm *x);

/* Deletes every SA and policy an earlier meshd left for VXLAN on UDP `port`
 * (fastdp/xfrm_dump.h says which are ours), but the block policy with keep_block; *deleted
 * counts them. */
int mesh_xfrm_purge(struct mesh_xfrm *x, uint16_t port, bool keep_block, unsigned *deleted,
		    char *err, size_t errlen);

/* Adds the SA for packets of `fl` (fl->dst is where they are decrypted). -EEXIST when an SA
 * with that SPI and destination exists. reqid ties an outbound SA to its policy. */
int mesh_xfrm_sa_add(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl,
		     const struct mesh_esp_sa *sa, uint32_t reqid, char *err, size_t errlen);
int mesh_xfrm_sa_del(struct mesh_xfrm *x, uint8_t family, const uint8_t dst[16], uint32_t spi,
		     char *err, size_t errlen);
/* Makes the outbound policy for `fl` (added, or replaced) use the SA with this reqid. */
int mesh_xfrm_policy_set(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl, uint32_t reqid,
			 char *err, size_t errlen);
int mesh_xfrm_policy_del(struct mesh_xfrm *x, const struct mesh_xfrm_flow *fl, char *err,
			 size_t errlen);
/* The policy that blocks all our VXLAN of one family (AF_INET or AF_INET6; UDP `port`, any
 * host to any host) that no peer's policy sends through ESP: while a connection is set up or
 * torn down, or if the kernel picks another source address, VXLAN is dropped rather than sent
 * in the clear. Added, or replaced; deleted with mesh_xfrm_block_del. */
int mesh_xfrm_block_set(struct mesh_xfrm *x, uint8_t family, uint16_t port, char *err,
			size_t errlen);
void mesh_xfrm_block_del(struct mesh_xfrm *x, uint8_t family, uint16_t port);

#endif
