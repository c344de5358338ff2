/* tests/unit/test_mactable.c: MAC table learn, move, age, forget (router/mactable.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "mesh/clock.h"
#include "router/mactable.h"

static const struct mesh_peer_name P1 = { { 2, 0, 0, 0, 0, 1 } };
static const struct mesh_peer_name P2 = { { 2, 0, 0, 0, 0, 2 } };
#define NOW 1700000000000ull /* the wall clock at every merge, ms */

static void mac_of(unsigned i, uint8_t m[6])
{
	m[0] = 0x0a; m[1] = 0x58; m[2] = (uint8_t)(i >> 24); m[3] = (uint8_t)(i >> 16);
	m[4] = (uint8_t)(i >> 8); m[5] = (uint8_t)i;
}

Test(mactable, learn_move_refresh)
{
	struct mesh_mactable t;
	uint8_t m[6];
	cr_assert_eq(mesh_mactable_init(&t), 0);
	mac_of(1, m);
	cr_assert_null(mesh_mactable_lookup(&t, m));
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 10, 0), MESH_MAC_NEW);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 20, 0), MESH_MAC_REFRESHED);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P2, 30, 0), MESH_MAC_MOVED);
	const struct mesh_mac_entry *e = mesh_mactable_lookup(&t, m);
	cr_assert_not_null(e);
	cr_assert(mesh_peer_name_eq(&e->peer, &P2));
	cr_assert_eq(e->seen_ms, 30);
	cr_assert_eq(t.count, 1);
	mesh_mactable_free(&t);
}

Test(mactable, grows_and_keeps_everything)
{
	struct mesh_mactable t;
	uint8_t m[6];
	mesh_mactable_init(&t);
	for (unsigned i = 0; i < 5000; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_learn(&t, m, i % 2 ? &P1 : &P2, i, 0), MESH_MAC_NEW);
	}
	cr_assert_eq(t.count, 5000);
	for (unsigned i = 0; i < 5000; i++) {
		mac_of(i, m);
		const struct mesh_mac_entry *e = mesh_mactable_lookup(&t, m);
		cr_assert_not_null(e, "mac %u lost", i);
		cr_assert(mesh_peer_name_eq(&e->peer, i % 2 ? &P1 : &P2));
	}
	mesh_mactable_free(&t);
}

Test(mactable, ageing_and_forget_keep_the_rest_reachable)
{
	struct mesh_mactable t;
	uint8_t m[6];
	mesh_mactable_init(&t);
	for (unsigned i = 0; i < 3000; i++) {
		mac_of(i, m);
		mesh_mactable_learn(&t, m, i % 3 ? &P1 : &P2, i % 2 ? 1000 : 5000, 0);
	}
	/* at 5000 + max age, the ones seen at 1000 are too old, those seen at 5000 not yet */
	size_t gone = mesh_mactable_expire(&t, 5000 + MESH_MAC_MAX_AGE_MS, MESH_MAC_MAX_AGE_MS, NULL);
	cr_assert_eq(gone, 1500);
	for (unsigned i = 0; i < 3000; i++) {
		mac_of(i, m);
		if (i % 2)
			cr_assert_null(mesh_mactable_lookup(&t, m), "mac %u should have aged out", i);
		else
			cr_assert_not_null(mesh_mactable_lookup(&t, m), "mac %u lost by ageing", i);
	}
	size_t forgotten = mesh_mactable_forget_peer(&t, &P2);
	cr_assert_eq(forgotten, 500); /* even i divisible by 3 */
	for (unsigned i = 0; i < 3000; i += 2) {
		mac_of(i, m);
		bool at_p2 = i % 3 == 0;
		cr_assert_eq(mesh_mactable_lookup(&t, m) != NULL, !at_p2, "mac %u", i);
	}
	cr_assert_eq(t.count, 1000);
	mesh_mactable_free(&t);
}

Test(mactable, multicast_bit)
{
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	uint8_t ucast[6] = { 0x02, 0, 0, 0, 0, 1 };
	cr_assert(mesh_mac_is_multicast(bcast));
	cr_assert(mesh_mac_is_multicast(mcast));
	cr_assert_not(mesh_mac_is_multicast(ucast));
}

Test(mactable, merge_follows_the_newer_version)
{
	struct mesh_mactable t;
	uint8_t m[6];
	mesh_mactable_init(&t);
	mac_of(7, m);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, 100, 1, NOW, NULL), MESH_MAC_NEW);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, 99, 2, NOW, NULL), MESH_MAC_STALE);
	cr_assert(mesh_peer_name_eq(&mesh_mactable_lookup(&t, m)->peer, &P1));
	cr_assert_eq(mesh_mactable_lookup(&t, m)->seen_ms, 1, "a stale announcement refreshes nothing");
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, 100, 3, NOW, NULL), MESH_MAC_REFRESHED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->seen_ms, 3);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, 101, 4, NOW, NULL), MESH_MAC_MOVED);
	cr_assert(mesh_peer_name_eq(&mesh_mactable_lookup(&t, m)->peer, &P2));
	cr_assert_eq(mesh_mactable_lookup(&t, m)->version, 101);
	/* learning from a frame moves it and stamps the version it is given */
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 5, 200), MESH_MAC_MOVED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->version, 200);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 6, 300), MESH_MAC_REFRESHED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->version, 200, "a refresh keeps the version");
	mesh_mactable_free(&t);
}

Test(mactable, versions_far_ahead_of_the_clock_are_never_taken)
{
	struct mesh_mactable t;
	uint8_t m[6];
	static const struct mesh_peer_name nobody;
	uint64_t far = NOW + MESH_VERSION_AHEAD_MAX_MS;
	mesh_mactable_init(&t);
	mac_of(7, m);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, UINT64_MAX, 1, NOW, NULL), MESH_MAC_REFUSED);
	cr_assert_eq(t.count, 0);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, NOW - 10, 2, NOW, NULL), MESH_MAC_NEW);
	/* a location or a tombstone pinned at the end of time: never taken */
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, UINT64_MAX, 3, NOW, NULL), MESH_MAC_REFUSED);
	cr_assert_eq(mesh_mactable_merge(&t, m, &nobody, UINT64_MAX, 3, NOW, NULL), MESH_MAC_REFUSED);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, far + 1, 3, NOW, NULL), MESH_MAC_REFUSED);
	const struct mesh_mac_entry *e = mesh_mactable_lookup(&t, m);
	cr_assert(e && mesh_peer_name_eq(&e->peer, &P1));
	cr_assert_eq(e->version, NOW - 10);
	/* so the MAC still follows real news: a move, then a move back */
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, NOW, 4, NOW, NULL), MESH_MAC_MOVED);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, NOW + 5, 5, NOW + 5, NULL), MESH_MAC_MOVED);
	/* up to a day ahead (another host's clock): taken */
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, far, 6, NOW, NULL), MESH_MAC_MOVED);
	mesh_mactable_free(&t);
}

Test(mactable, a_location_at_us_is_ours_to_announce)
{
	struct mesh_mactable t;
	uint8_t m[6], other[6];
	const struct mesh_peer_name *self = &P1;
	mesh_mactable_init(&t);
	mac_of(7, m);
	mac_of(8, other);
	/* nobody else puts a MAC on our bridge (it would live and be announced for ever) */
	cr_assert_eq(mesh_mactable_merge(&t, other, self, NOW, 1, NOW, self), MESH_MAC_STALE);
	cr_assert_eq(t.count, 0);
	cr_assert_eq(mesh_mactable_learn(&t, m, self, 1, NOW - 100), MESH_MAC_NEW);
	/* nor raises the version of one of ours; our own announcement echoed back is fine */
	cr_assert_eq(mesh_mactable_merge(&t, m, self, NOW + 3600000, 2, NOW, self), MESH_MAC_STALE);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->version, NOW - 100);
	cr_assert_eq(mesh_mactable_merge(&t, m, self, NOW - 100, 2, NOW, self), MESH_MAC_REFRESHED);
	/* a newer location elsewhere moves it (the container moved) ... */
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, NOW + 3600000, 3, NOW, self), MESH_MAC_MOVED);
	/* ... and when our bridge shows it again, our version jumps past that one (its host's
	 * clock is an hour ahead of ours), so the others take our news */
	cr_assert_eq(mesh_mactable_learn(&t, m, self, 4, NOW), MESH_MAC_MOVED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->version, NOW + 3600001);
	mesh_mactable_free(&t);
}

Test(mactable, a_gone_mac_stays_gone_until_newer_news)
{
	struct mesh_mactable t;
	uint8_t m[6];
	mesh_mactable_init(&t);
	mac_of(7, m);
	cr_assert_eq(mesh_mactable_gone(&t, m, 1, 50), 0, "unknown: nothing to mark");
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 10, 100), MESH_MAC_NEW);
	cr_assert_eq(mesh_mactable_gone(&t, m, 20, 90), 101, "the tombstone is newer than the entry");
	cr_assert_null(mesh_mactable_lookup(&t, m), "gone MACs are not found");
	cr_assert_eq(t.count, 1, "but kept as a tombstone");
	cr_assert_eq(mesh_mactable_gone(&t, m, 21, 200), 0, "already gone");
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, 100, 30, NOW, NULL), MESH_MAC_STALE,
		     "an older announcement does not bring it back");
	cr_assert_null(mesh_mactable_lookup(&t, m));
	static const struct mesh_peer_name nobody;
	cr_assert_eq(mesh_mactable_merge(&t, m, &nobody, 101, 31, NOW, NULL), MESH_MAC_REFRESHED,
		     "the same tombstone again");
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, 150, 40, NOW, NULL), MESH_MAC_MOVED, "back, elsewhere");
	cr_assert(mesh_peer_name_eq(&mesh_mactable_lookup(&t, m)->peer, &P2));
	cr_assert_eq(mesh_mactable_merge(&t, m, &nobody, 160, 41, NOW, NULL), MESH_MAC_MOVED,
		     "a newer tombstone from gossip");
	cr_assert_null(mesh_mactable_lookup(&t, m));
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 50, 170), MESH_MAC_MOVED,
		     "seen in a frame again");
	cr_assert_not_null(mesh_mactable_lookup(&t, m));
	mesh_mactable_free(&t);
}

Test(mactable, own_macs_do_not_age)
{
	struct mesh_mactable t;
	uint8_t m[6];
	mesh_mactable_init(&t);
	mac_of(1, m);
	mesh_mactable_learn(&t, m, &P1, 0, 1);
	mac_of(2, m);
	mesh_mactable_learn(&t, m, &P2, 0, 1);
	cr_assert_eq(mesh_mactable_expire(&t, 1 + MESH_MAC_MAX_AGE_MS, MESH_MAC_MAX_AGE_MS, &P1), 1);
	cr_assert_null(mesh_mactable_lookup(&t, m));
	mac_of(1, m);
	cr_assert_not_null(mesh_mactable_lookup(&t, m), "P1's (ours) stays: the bridge says when it goes");
	mesh_mactable_free(&t);
}

/* --- bounds (issue 16, finding 3) ---------------------------------------------------------- */

static const struct mesh_peer_name SELF = { { 2, 0, 0, 0, 0, 9 } };

static void limited(struct mesh_mactable *t, size_t global, size_t per_peer, size_t per_port,
		    uint32_t rate, uint32_t burst)
{
	struct mesh_mac_limits l = { global, per_peer, per_port, rate, burst };
	cr_assert_eq(mesh_mactable_init(t), 0);
	mesh_mactable_set_limits(t, &l, &SELF, 0);
}

Test(mactable, a_bridge_port_spoofing_macs_is_capped_and_others_still_learn)
{
	struct mesh_mactable t;
	uint8_t m[6];
	limited(&t, 100, 50, 4, 0, 0);
	for (unsigned i = 0; i < 4; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 7, 0, 1), MESH_MAC_NEW);
	}
	for (unsigned i = 4; i < 1000; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 7, 0, 1), MESH_MAC_REFUSED_PORT);
	}
	cr_assert_eq(t.count, 4);
	cr_assert_eq(t.refused.port, 996);
	mac_of(5000, m);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 8, 0, 1), MESH_MAC_NEW,
		     "another port still learns");
	/* a MAC that left (tombstone) keeps counting at its port until it ages out */
	mac_of(0, m);
	cr_assert_neq(mesh_mactable_gone(&t, m, 0, 2), 0);
	mac_of(4, m);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 7, 0, 1), MESH_MAC_REFUSED_PORT);
	cr_assert_eq(mesh_mactable_expire(&t, MESH_MAC_MAX_AGE_MS + 1, MESH_MAC_MAX_AGE_MS, NULL), 5);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 7, MESH_MAC_MAX_AGE_MS + 2, 1),
		     MESH_MAC_NEW, "room again once the port's entries aged out");
	mesh_mactable_free(&t);
}

Test(mactable, a_peer_is_capped_in_frames_and_gossip_and_the_table_globally)
{
	struct mesh_mactable t;
	uint8_t m[6];
	limited(&t, 10, 6, 4, 0, 0);
	for (unsigned i = 0; i < 6; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_merge(&t, m, &P1, NOW - 1, 0, NOW, &SELF), MESH_MAC_NEW);
	}
	mac_of(6, m);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, NOW - 1, 0, NOW, &SELF), MESH_MAC_REFUSED_PEER);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 0, 1), MESH_MAC_REFUSED_PEER);
	/* nor can a peer at its cap take a MAC over from another */
	mac_of(100, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P2, 0, 1), MESH_MAC_NEW);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P1, NOW, 0, NOW, &SELF), MESH_MAC_REFUSED_PEER);
	cr_assert(mesh_peer_name_eq(&mesh_mactable_lookup(&t, m)->peer, &P2));
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 0, 1), MESH_MAC_REFUSED_PEER);
	/* the whole table: 7 entries now, room for 3 */
	for (unsigned i = 200; i < 203; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, (uint32_t)i, 0, 1), MESH_MAC_NEW);
	}
	mac_of(300, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P2, 0, 1), MESH_MAC_REFUSED_FULL);
	cr_assert_eq(t.count, 10);
	cr_assert_eq(t.refused.full, 1);
	/* a peer's MACs forgotten free its count */
	cr_assert_eq(mesh_mactable_forget_peer(&t, &P1), 6);
	mac_of(6, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 0, 1), MESH_MAC_NEW);
	mesh_mactable_free(&t);
}

Test(mactable, a_known_port_moves_the_count_from_the_unknown_one)
{
	struct mesh_mactable t;
	uint8_t m[6];
	limited(&t, 0, 0, 1, 0, 0);
	mac_of(1, m);
	/* read from our TAP: port unknown (0), then the bridge tells the port */
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 0, 0, 1), MESH_MAC_NEW);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 3, 0, 1), MESH_MAC_REFRESHED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->port, 3);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 0, 0, 1), MESH_MAC_REFRESHED);
	cr_assert_eq(mesh_mactable_lookup(&t, m)->port, 3, "an unknown port does not undo it");
	mac_of(2, m);
	cr_assert_eq(mesh_mactable_learn_port(&t, m, &SELF, 0, 0, 1), MESH_MAC_NEW,
		     "the unknown port's slot was given back");
	mesh_mactable_free(&t);
}

Test(mactable, learning_rate_limit)
{
	struct mesh_mactable t;
	uint8_t m[6];
	limited(&t, 0, 0, 0, 10, 5);
	unsigned i = 0;
	for (; i < 5; i++) {
		mac_of(i, m);
		cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 0, 1), MESH_MAC_NEW);
	}
	mac_of(i, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 0, 1), MESH_MAC_REFUSED_RATE);
	cr_assert_eq(t.refused.rate, 1);
	mac_of(0, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 50, 1), MESH_MAC_REFRESHED,
		     "known MACs are not rate-limited");
	mac_of(i, m);
	cr_assert_eq(mesh_mactable_learn(&t, m, &P1, 100, 1), MESH_MAC_NEW, "a token after 100 ms");
	/* gossip is bounded by the caps, not the rate */
	mac_of(99, m);
	cr_assert_eq(mesh_mactable_merge(&t, m, &P2, NOW - 1, 100, NOW, &SELF), MESH_MAC_NEW);
	mesh_mactable_free(&t);
}

/* The hash is keyed: two tables place the same MACs differently (with the old unkeyed hash,
 * every host placed them alike, so chosen MACs collided everywhere). */
Test(mactable, hash_is_keyed_per_table)
{
	struct mesh_mactable a, b;
	uint8_t m[6];
	mesh_mactable_init(&a);
	mesh_mactable_init(&b);
	for (unsigned i = 0; i < 64; i++) {
		mac_of(i, m);
		mesh_mactable_learn(&a, m, &P1, 0, 1);
		mesh_mactable_learn(&b, m, &P1, 0, 1);
	}
	cr_assert_eq(a.cap, b.cap);
	size_t differ = 0;
	for (size_t i = 0; i < a.cap; i++)
		differ += a.slots[i].used != b.slots[i].used ||
			  (a.slots[i].used && memcmp(a.slots[i].mac, b.slots[i].mac, 6));
	cr_assert_gt(differ, 0, "both tables laid out the same 64 MACs identically");
	mesh_mactable_free(&a);
	mesh_mactable_free(&b);
}
