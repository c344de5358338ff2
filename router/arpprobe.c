/* router/arpprobe.c: ARP probe bytes and the parse of claims (see arpprobe.h). */
#include <errno.h>
#include <string.h>

#include "mesh/bytes.h"
#include "router/arpprobe.h"

#define ARP_HTYPE_ETHER 1
#define ARP_PTYPE_IPV4 0x0800
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

size_t mesh_arp_probe_build(uint8_t out[MESH_ARP_LEN], const uint8_t sender_mac[6], uint32_t target)
{
	put_be16(out, ARP_HTYPE_ETHER);
	put_be16(out + 2, ARP_PTYPE_IPV4);
	out[4] = 6;
	out[5] = 4;
	put_be16(out + 6, ARP_OP_REQUEST);
	memcpy(out + 8, sender_mac, 6);
	memset(out + 14, 0, 4);  /* sender IP 0.0.0.0: a probe, which nobody records */
	memset(out + 18, 0, 6);  /* target MAC: unknown */
	put_be32(out + 24, target);
	return MESH_ARP_LEN;
}

int mesh_arp_claim_parse(const uint8_t *p, size_t len, uint32_t *ip, uint8_t mac[6])
{
	if (len < MESH_ARP_LEN)
		return -EBADMSG;
	if (get_be16(p) != ARP_HTYPE_ETHER || get_be16(p + 2) != ARP_PTYPE_IPV4 || p[4] != 6 ||
	    p[5] != 4)
		return 0;
	uint16_t op = get_be16(p + 6);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return 0;
	uint32_t spa = get_be32(p + 14);
	if (spa == 0)
		return 0;
	*ip = spa;
	memcpy(mac, p + 8, 6);
	return 1;
}
