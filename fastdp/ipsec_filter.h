/* fastdp/ipsec_filter.h: the nftables rule that makes the encrypted fast path's encryption
 * mandatory. The kernel hands a received VXLAN packet to the VXLAN device before any IPsec
 * policy check, so without this rule anyone who can reach our UDP port could inject frames
 * into an encrypted mesh in the clear. The rule drops, at input, every packet to the VXLAN
 * port that did not arrive inside one of mesh's own ESP SAs: every inbound SA meshd makes
 * carries reqid MESH_IPSEC_IN_REQID, and VXLAN decrypted by any other SA of the host (another
 * IPsec user's tunnel) is dropped like VXLAN in the clear. Table `inet mesh_ipsec`, made and
 * removed whole through libnftables. */
#ifndef MESH_FASTDP_IPSEC_FILTER_H
#define MESH_FASTDP_IPSEC_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define MESH_IPSEC_FILTER_TABLE "mesh_ipsec"
/* The reqid of every inbound ESP SA meshd makes ("mesh"); outbound SAs carry their SPI as
 * reqid, which ties each to its policy. */
#define MESH_IPSEC_IN_REQID 0x6d657368u

/* Replaces any table of that name (one a crashed meshd left) with ours, for UDP `port`.
 * Returns 0; 1 when the kernel cannot match on an SA, so only VXLAN outside ESP is dropped (err
 * says so: the caller logs it); or a negative errno with err filled in. */
int mesh_ipsec_filter_install(uint16_t port, char *err, size_t errlen);
/* Removes the table (nothing when there is none). */
void mesh_ipsec_filter_remove(void);
/* How many packets the rule has dropped (lists the table and reads the rule's counter). 0 or
 * a negative errno. */
int mesh_ipsec_filter_drops(uint64_t *packets);
/* The packet count in nft's listing of the table (its rule's "counter packets N bytes M");
 * pure. 0, or -EBADMSG when there is none. */
int mesh_ipsec_filter_parse_packets(const char *listing, uint64_t *packets);

#endif
