/* tests/fuzz/fuzz_topo_digest.c: the topology digest (gossip/topology.c,
 * mesh_topo_digest_decode), the periodic round's message. When it accepts an input, the input
 * is 11 bytes with no unknown flag, encoding gives the same bytes back, and comparing it with
 * a topology is well defined (it matches exactly when its count and digest are ours). */
#include <errno.h>

#include "gossip/topology.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(topo_digest)(const uint8_t *data, size_t size)
{
	struct mesh_topo_digest d, ours;
	const char *why = NULL;
	uint8_t again[MESH_TOPO_DIGEST_LEN];
	if (mesh_topo_digest_decode(data, size, &d, &why) < 0) {
		FUZZ_CHECK(why && why[0]);
		return 0;
	}
	FUZZ_CHECK(size == MESH_TOPO_DIGEST_LEN);
	FUZZ_CHECK(!(d.flags & ~MESH_TOPO_DIGEST_REPLY));
	FUZZ_CHECK(mesh_topo_digest_encode(&d, again, sizeof(again)) == MESH_TOPO_DIGEST_LEN);
	FUZZ_CHECK(memcmp(again, data, size) == 0);

	struct mesh_topology t;
	struct mesh_peer_name self = { { 0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01 } };
	if (mesh_topo_init(&t, &self, "self", 1, 1000, 7) < 0)
		return 0;
	mesh_topo_digest_make(&t, 0, &ours);
	FUZZ_CHECK(mesh_topo_digest_matches(&t, &d) ==
		   (d.count == ours.count && d.digest == ours.digest));
	mesh_topo_free(&t);
	return 0;
}
