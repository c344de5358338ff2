/* tests/fuzz/fuzz_arp.c: the parse of ARP packets arriving on the bridge (router/arpprobe.c),
 * which any container can send. A claim gives back the sender's address and MAC as they are in
 * the input; a probe built for any address parses as no claim. */
#include <errno.h>

#include "mesh/bytes.h"
#include "router/arpprobe.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(arp)(const uint8_t *data, size_t size)
{
	uint32_t ip = 0;
	uint8_t mac[6];
	int ret = mesh_arp_claim_parse(data, size, &ip, mac);
	FUZZ_CHECK(ret == 1 || ret == 0 || (ret == -EBADMSG && size < MESH_ARP_LEN));
	if (ret == 1) {
		FUZZ_CHECK(ip != 0 && ip == get_be32(data + 14));
		FUZZ_CHECK(memcmp(mac, data + 8, 6) == 0);
	}
	if (size >= 10) {
		uint8_t probe[MESH_ARP_LEN];
		FUZZ_CHECK(mesh_arp_probe_build(probe, data, get_be32(data + 6)) == MESH_ARP_LEN);
		FUZZ_CHECK(mesh_arp_claim_parse(probe, sizeof(probe), &ip, mac) == 0);
	}
	return 0;
}
