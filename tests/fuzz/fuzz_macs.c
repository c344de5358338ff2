/* tests/fuzz/fuzz_macs.c: MAC-location gossip (gossip/macs.c) and its merge into the MAC table
 * (router/mactable.c). When mesh_macs_decode accepts an input, every entry must be a unicast MAC
 * at a named peer, encoding must give the same bytes back, and merging the entries into a
 * table (at NOW, as SELF) must leave each MAC at the peer of its newest version, leaving out
 * versions more than a day ahead of NOW and locations at SELF, which are never taken. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "gossip/macs.h"
#include "mesh/clock.h"
#include "router/mactable.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000000ull
static const struct mesh_peer_name SELF = { { 0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01 } };

static bool taken(const struct mesh_mac_update *x)
{
	return !mesh_version_too_far_ahead(x->version, NOW) && !mesh_peer_name_eq(&x->peer, &SELF);
}

static struct mesh_mac_update u[MESH_MACS_MAX_PER_MSG];
static uint8_t again[2 + MESH_MACS_MAX_PER_MSG * MESH_MACS_ENTRY_LEN];

FUZZ_ENTRY(macs)(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	ssize_t n = mesh_macs_decode(data, size, u, &why);
	if (n < 0) {
		FUZZ_CHECK(n == -EBADMSG && why && why[0]);
		return 0;
	}
	FUZZ_CHECK(n >= 1 && n <= MESH_MACS_MAX_PER_MSG);
	FUZZ_CHECK((size_t)n * MESH_MACS_ENTRY_LEN + 2 == size);
	ssize_t len = mesh_macs_encode(u, (size_t)n, again, sizeof(again));
	FUZZ_CHECK(len == (ssize_t)size && memcmp(again, data, size) == 0);

	struct mesh_mactable t;
	if (mesh_mactable_init(&t) < 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		FUZZ_CHECK(!(u[i].mac[0] & 1));
		int res = mesh_mactable_merge(&t, u[i].mac, &u[i].peer, u[i].version, (uint64_t)i,
					      NOW, &SELF);
		if (res < 0)
			break;
		FUZZ_CHECK(taken(&u[i]) || res == MESH_MAC_REFUSED || res == MESH_MAC_STALE);
	}
	/* each MAC ends at a peer that announced it with the highest version seen for it */
	for (ssize_t i = 0; i < n; i++) {
		const struct mesh_mac_entry *e = mesh_mactable_lookup(&t, u[i].mac);
		if (!e)
			continue; /* gone (a tombstone won), or out of memory above */
		FUZZ_CHECK(!mesh_version_too_far_ahead(e->version, NOW));
		FUZZ_CHECK(!mesh_peer_name_eq(&e->peer, &SELF));
		if (taken(&u[i]))
			FUZZ_CHECK(e->version >= u[i].version);
		bool found = false;
		for (ssize_t k = 0; k < n && !found; k++)
			found = !memcmp(u[k].mac, e->mac, 6) && u[k].version == e->version &&
				mesh_peer_name_eq(&u[k].peer, &e->peer);
		FUZZ_CHECK(found);
	}
	mesh_mactable_free(&t);
	return 0;
}
