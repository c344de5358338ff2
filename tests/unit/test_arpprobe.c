/* tests/unit/test_arpprobe.c: ARP probe bytes and claims (router/arpprobe.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "router/arpprobe.h"

static const uint8_t our_mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

Test(arpprobe, a_probe_asks_for_the_address_from_zero)
{
	uint8_t p[MESH_ARP_LEN];
	cr_assert_eq(mesh_arp_probe_build(p, our_mac, 0x0a288001), MESH_ARP_LEN);
	static const uint8_t want[MESH_ARP_LEN] = {
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,       /* Ethernet, IPv4, request */
		0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0, 0, /* us, from 0.0.0.0 */
		0, 0, 0, 0, 0, 0, 10, 40, 128, 1,               /* who has 10.40.128.1 */
	};
	cr_assert_arr_eq(p, want, MESH_ARP_LEN);
	uint32_t ip = 7;
	uint8_t mac[6];
	cr_assert_eq(mesh_arp_claim_parse(p, sizeof(p), &ip, mac), 0, "a probe claims nothing");
	cr_assert_eq(ip, 7);
}

Test(arpprobe, a_reply_claims_its_sender_address)
{
	uint8_t p[MESH_ARP_LEN + 18]; /* with Ethernet padding */
	memset(p, 0, sizeof(p));
	mesh_arp_probe_build(p, our_mac, 0);
	p[7] = 2;                                     /* reply */
	static const uint8_t them[6] = { 0xe6, 0x07, 0xfd, 0x97, 0x6a, 0x23 };
	memcpy(p + 8, them, 6);
	p[14] = 10; p[15] = 40; p[16] = 128; p[17] = 0; /* 10.40.128.0 is at them */
	uint32_t ip;
	uint8_t mac[6];
	cr_assert_eq(mesh_arp_claim_parse(p, sizeof(p), &ip, mac), 1);
	cr_assert_eq(ip, 0x0a288000);
	cr_assert_arr_eq(mac, them, 6);
}

Test(arpprobe, other_packets_claim_nothing)
{
	uint8_t p[MESH_ARP_LEN];
	uint32_t ip;
	uint8_t mac[6];
	mesh_arp_probe_build(p, our_mac, 0x0a288001);
	p[14] = 10; /* a sender address now */
	p[1] = 6;   /* hardware type 6 (IEEE 802) */
	cr_assert_eq(mesh_arp_claim_parse(p, sizeof(p), &ip, mac), 0);
	p[1] = 1;
	p[7] = 3;   /* RARP request */
	cr_assert_eq(mesh_arp_claim_parse(p, sizeof(p), &ip, mac), 0);
	p[7] = 1;
	p[5] = 16;  /* IPv6-sized protocol addresses */
	cr_assert_eq(mesh_arp_claim_parse(p, sizeof(p), &ip, mac), 0);
	cr_assert_eq(mesh_arp_claim_parse(p, MESH_ARP_LEN - 1, &ip, mac), -EBADMSG);
}
