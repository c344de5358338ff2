/* tests/unit/test_ipam.c: the IPAM ownership ring (gossip/ipam.c): seeding, wire format, merge
 * rules, transfer, reclaim and donor choice, and the CRDT properties of the merge. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/ipam.h"
#include "mesh/bytes.h"

#define R16 0x0a280000u /* 10.40.0.0/16 */

static struct mesh_peer_name nm(unsigned i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

static void ring_for(struct mesh_ipam_ring *r, unsigned self, uint32_t start, uint8_t prefix)
{
	struct mesh_peer_name s = nm(self);
	cr_assert_eq(mesh_ipam_ring_init(r, &s, start, prefix), 0);
}

/* A ring for self over 10.40.0.0/16 seeded among names 1..n. */
static void seeded(struct mesh_ipam_ring *r, unsigned self, unsigned n)
{
	struct mesh_peer_name names[64];
	cr_assert_leq(n, 64);
	for (unsigned i = 0; i < n; i++)
		names[i] = nm(i + 1);
	ring_for(r, self, R16, 16);
	cr_assert_eq(mesh_ipam_ring_seed(r, names, n), 0);
}

static bool ring_eq(const struct mesh_ipam_ring *a, const struct mesh_ipam_ring *b)
{
	if (a->start != b->start || a->prefix != b->prefix || a->seed != b->seed || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].token != b->e[i].token || a->e[i].version != b->e[i].version ||
		    a->e[i].free != b->e[i].free || !mesh_peer_name_eq(&a->e[i].owner, &b->e[i].owner))
			return false;
	return true;
}

static uint8_t *enc(const struct mesh_ipam_ring *r, size_t *len)
{
	size_t cap = mesh_ipam_ring_encoded_size(r);
	uint8_t *b = malloc(cap);
	cr_assert_not_null(b);
	ssize_t n = mesh_ipam_ring_encode(r, b, cap);
	cr_assert_eq(n, (ssize_t)cap);
	*len = (size_t)n;
	return b;
}

/* Merges r2 into r1 through the wire, as gossip would. */
static int merge_via_wire(struct mesh_ipam_ring *into, const struct mesh_ipam_ring *from,
			  mesh_ipam_has_alloc_fn fn, void *ctx, bool *changed, char *why)
{
	size_t len;
	uint8_t *b = enc(from, &len);
	struct mesh_ipam_ring in;
	char w[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(mesh_ipam_ring_decode(b, len, &in, w), 0, "decode: %s", w);
	free(b);
	int ret = mesh_ipam_ring_merge(into, &in, fn, ctx, changed, why);
	mesh_ipam_ring_free(&in);
	return ret;
}

static bool yes(void *ctx, uint32_t lo, uint64_t hi) { (void)ctx; (void)lo; (void)hi; return true; }
static bool no(void *ctx, uint32_t lo, uint64_t hi) { (void)ctx; (void)lo; (void)hi; return false; }

/* --- helpers: CIDR, init flag ---------------------------------------------------------------- */

Test(ipam, cidr_parse)
{
	uint32_t s;
	uint8_t p;
	cr_assert_eq(mesh_ipam_cidr_parse("10.40.0.0/16", &s, &p), 0);
	cr_assert_eq(s, R16);
	cr_assert_eq(p, 16);
	cr_assert_eq(mesh_ipam_cidr_parse("10.32.0.0/12", &s, &p), 0);
	cr_assert_eq(s, 0x0a200000u);
	cr_assert_eq(mesh_ipam_cidr_parse("192.0.2.7/32", &s, &p), 0);
	const char *bad[] = { "10.40.0.0", "10.40.0.1/16", "10.40.0.0/0", "10.40.0.0/33", "10.40.0.0/",
			      "10.40.0/16", "x/16", "10.40.0.0/1a", "10.40.0.0/016", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(mesh_ipam_cidr_parse(bad[i], &s, &p), -EINVAL, "%s", bad[i]);
	char out[16];
	mesh_ipam_addr_format(0x0a280102u, out);
	cr_assert_str_eq(out, "10.40.1.2");
}

Test(ipam, init_flag_parse)
{
	static struct mesh_ipam_init in;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_init_parse("consensus=3", &in, why), 0);
	cr_assert_eq(in.quorum, 3);
	cr_assert_eq(in.nseeds, 0);
	cr_assert_eq(mesh_ipam_init_parse("seed=02:00:00:00:00:02,02:00:00:00:00:01", &in, why), 0);
	cr_assert_eq(in.quorum, 0);
	cr_assert_eq(in.nseeds, 2);
	struct mesh_peer_name two = nm(2);
	cr_assert(mesh_peer_name_eq(&in.seeds[0], &two));
	const char *bad[] = { "consensus=", "consensus=0", "consensus=x", "consensus=99999999999",
			      "seed=", "seed=02:00:00:00:00:01,", "seed=00:00:00:00:00:00",
			      "seed=02:00:00:00:00:0g", "seed=02:00:00:00:00:01;02:00:00:00:00:02",
			      "quorum=3", "", "consensus=3 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		cr_assert_eq(mesh_ipam_init_parse(bad[i], &in, why), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(why, "--ipalloc-init"), "%s: why \"%s\"", bad[i], why);
	}
}

Test(ipam, consensus_waits_for_the_quorum_then_all_compute_the_same_ring)
{
	static struct mesh_ipam_init in;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_init_parse("consensus=3", &in, why), 0);
	struct mesh_ipam_ring a, b;
	ring_for(&a, 1, R16, 16);
	ring_for(&b, 3, R16, 16);
	struct mesh_peer_name k2[] = { nm(1), nm(2) };
	cr_assert_eq(mesh_ipam_init_maybe_seed(&a, &in, k2, 2), 0);
	cr_assert_eq(a.n, 0);
	struct mesh_peer_name ka[] = { nm(1), nm(2), nm(3) }, kb[] = { nm(3), nm(1), nm(2), nm(1) };
	cr_assert_eq(mesh_ipam_init_maybe_seed(&a, &in, ka, 3), 1);
	cr_assert_eq(mesh_ipam_init_maybe_seed(&b, &in, kb, 4), 1);
	cr_assert(ring_eq(&a, &b));
	cr_assert_eq(a.n, 3);
	/* seeded: nothing more happens */
	cr_assert_eq(mesh_ipam_init_maybe_seed(&a, &in, ka, 3), 0);
	/* seed= seeds at once, whoever is known */
	struct mesh_ipam_ring c;
	ring_for(&c, 2, R16, 16);
	cr_assert_eq(mesh_ipam_init_parse("seed=02:00:00:00:00:03,02:00:00:00:00:02,02:00:00:00:00:01",
					  &in, why), 0);
	cr_assert_eq(mesh_ipam_init_maybe_seed(&c, &in, NULL, 0), 1);
	cr_assert(ring_eq(&a, &c));
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&b);
	mesh_ipam_ring_free(&c);
}

/* --- seeding --------------------------------------------------------------------------------- */

Test(ipam, seed_divides_the_range_in_name_order)
{
	struct mesh_ipam_ring r;
	ring_for(&r, 1, R16, 16);
	struct mesh_peer_name names[] = { nm(3), nm(1), nm(2), nm(3) };
	cr_assert_eq(mesh_ipam_ring_seed(&r, names, 4), 0);
	cr_assert_eq(r.n, 3);
	uint32_t share = 65536 / 3;
	for (unsigned i = 0; i < 3; i++) {
		struct mesh_peer_name o = nm(i + 1);
		cr_assert_eq(r.e[i].token, R16 + i * share);
		cr_assert(mesh_peer_name_eq(&r.e[i].owner, &o));
		cr_assert_eq(r.e[i].version, 1);
		cr_assert_eq(r.e[i].free, mesh_ipam_entry_end(&r, i) - r.e[i].token);
	}
	cr_assert_eq(mesh_ipam_entry_end(&r, 2), (uint64_t)R16 + 65536);
	cr_assert_eq(r.e[2].free, 65536 - 2 * share);
	cr_assert_neq(r.seed, 0);
	struct mesh_peer_name other[] = { nm(1), nm(2), nm(3) }, fewer[] = { nm(1), nm(2) };
	cr_assert_eq(r.seed, mesh_ipam_seed_id(R16, 16, other, 3));
	cr_assert_neq(r.seed, mesh_ipam_seed_id(R16, 16, fewer, 2));
	cr_assert_neq(r.seed, mesh_ipam_seed_id(R16 + 65536, 16, other, 3));
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_check(&r, why), 0);
	/* find/owns */
	cr_assert_eq(mesh_ipam_ring_find(&r, R16), 0);
	cr_assert_eq(mesh_ipam_ring_find(&r, R16 + share - 1), 0);
	cr_assert_eq(mesh_ipam_ring_find(&r, R16 + share), 1);
	cr_assert_eq(mesh_ipam_ring_find(&r, R16 + 65535), 2);
	cr_assert_eq(mesh_ipam_ring_find(&r, R16 + 65536), -1);
	cr_assert_eq(mesh_ipam_ring_find(&r, R16 - 1), -1);
	cr_assert(mesh_ipam_ring_owns(&r, R16 + 5));
	cr_assert(!mesh_ipam_ring_owns(&r, R16 + share));
	/* already seeded */
	cr_assert_eq(mesh_ipam_ring_seed(&r, names, 4), -EEXIST);
	mesh_ipam_ring_free(&r);
}

Test(ipam, seed_refuses_bad_lists)
{
	struct mesh_ipam_ring r;
	ring_for(&r, 1, 0xc0000200u, 31); /* two addresses */
	struct mesh_peer_name three[] = { nm(1), nm(2), nm(3) }, zero[] = { { { 0 } }, nm(1) };
	cr_assert_eq(mesh_ipam_ring_seed(&r, three, 0), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_seed(&r, three, 3), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_seed(&r, zero, 2), -EINVAL);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(mesh_ipam_ring_seed(&r, three, 2), 0);
	cr_assert_eq(r.n, 2);
	mesh_ipam_ring_free(&r);
	cr_assert_eq(mesh_ipam_ring_init(&r, NULL, R16 + 1, 16), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_init(&r, NULL, R16, 0), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_init(&r, NULL, R16, 33), -EINVAL);
	/* a /1 ring ends at 2^32 */
	ring_for(&r, 1, 0x80000000u, 1);
	cr_assert_eq(mesh_ipam_ring_seed(&r, three, 3), 0);
	cr_assert_eq(mesh_ipam_entry_end(&r, 2), 1ull << 32);
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_check(&r, why), 0, "%s", why);
	mesh_ipam_ring_free(&r);
}

/* --- wire ------------------------------------------------------------------------------------ */

Test(ipam, ring_wire_format_is_the_documented_one)
{
	struct mesh_ipam_ring r;
	seeded(&r, 1, 2);
	size_t len;
	uint8_t *b = enc(&r, &len);
	cr_assert_eq(len, 16 + 2 * 18);
	cr_assert_eq(b[0], MESH_IPAM_MSG_RING);
	cr_assert_eq(get_be32(b + 1), R16);
	cr_assert_eq(b[5], 16);
	cr_assert_eq(get_be64(b + 6), r.seed);
	cr_assert_eq(get_be16(b + 14), 2);
	const uint8_t *e = b + 16 + 18; /* second entry */
	cr_assert_eq(get_be32(e), R16 + 32768);
	cr_assert_eq(memcmp(e + 4, nm(2).b, 6), 0);
	cr_assert_eq(get_be32(e + 10), 1);
	cr_assert_eq(get_be32(e + 14), 32768);
	cr_assert_eq(mesh_ipam_msg_type(b, len), MESH_IPAM_MSG_RING);
	cr_assert_eq(mesh_ipam_msg_type(b, 0), -EBADMSG);

	struct mesh_ipam_ring d;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_decode(b, len, &d, why), 0, "%s", why);
	cr_assert(mesh_peer_name_is_zero(&d.self));
	d.self = r.self;
	cr_assert(ring_eq(&r, &d));
	uint8_t small[20];
	cr_assert_eq(mesh_ipam_ring_encode(&r, small, sizeof(small)), -EMSGSIZE);
	mesh_ipam_ring_free(&d);
	/* the empty ring */
	struct mesh_ipam_ring empty;
	ring_for(&empty, 1, R16, 16);
	uint8_t eb[16];
	cr_assert_eq(mesh_ipam_ring_encode(&empty, eb, sizeof(eb)), 16);
	cr_assert_eq(mesh_ipam_ring_decode(eb, 16, &d, why), 0, "%s", why);
	cr_assert_eq(d.n, 0);
	mesh_ipam_ring_free(&d);
	free(b);
	mesh_ipam_ring_free(&r);
}

/* One malformed variant of a 3-entry ring message. */
struct bad_case {
	const char *name;
	void (*mutate)(uint8_t *b, size_t *len);
	const char *why_has;
};

static void m_short(uint8_t *b, size_t *len) { (void)b; *len = 15; }
static void m_type(uint8_t *b, size_t *len) { (void)len; b[0] = 2; }
static void m_unaligned(uint8_t *b, size_t *len) { (void)len; put_be32(b + 1, R16 + 1); }
static void m_prefix0(uint8_t *b, size_t *len) { (void)len; b[5] = 0; }
static void m_prefix33(uint8_t *b, size_t *len) { (void)len; b[5] = 33; }
static void m_count_more(uint8_t *b, size_t *len) { (void)len; put_be16(b + 14, 4); }
static void m_count_less(uint8_t *b, size_t *len) { (void)len; put_be16(b + 14, 2); }
static void m_count_max(uint8_t *b, size_t *len) { (void)len; put_be16(b + 14, 0xffff); }
static void m_trailing(uint8_t *b, size_t *len) { b[*len] = 0; (*len)++; }
static void m_first(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16, R16 + 1); }
static void m_order(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16 + 36, R16 + 100); }
static void m_dup(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16 + 36, get_be32(b + 16 + 18)); }
static void m_outside(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16 + 36, R16 + 65536); }
static void m_owner(uint8_t *b, size_t *len) { (void)len; memset(b + 16 + 18 + 4, 0, 6); }
static void m_version(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16 + 10, 0); }
static void m_free(uint8_t *b, size_t *len) { (void)len; put_be32(b + 16 + 14, 21846); }
static void m_seed0(uint8_t *b, size_t *len) { (void)len; put_be64(b + 6, 0); }
static void m_noentries(uint8_t *b, size_t *len) { put_be16(b + 14, 0); *len = 16; }

Test(ipam, malformed_ring_messages_are_refused_with_a_reason)
{
	static const struct bad_case cases[] = {
		{ "short", m_short, "shorter than" },
		{ "type", m_type, "not a ring" },
		{ "unaligned", m_unaligned, "aligned prefix" },
		{ "prefix 0", m_prefix0, "aligned prefix" },
		{ "prefix 33", m_prefix33, "aligned prefix" },
		{ "count too large", m_count_more, "needs" },
		{ "count too small", m_count_less, "needs" },
		{ "count over max", m_count_max, "over 8192" },
		{ "trailing byte", m_trailing, "needs" },
		{ "first token", m_first, "range start" },
		{ "order", m_order, "does not come after" },
		{ "duplicate token", m_dup, "does not come after" },
		{ "outside", m_outside, "outside the range" },
		{ "no owner", m_owner, "no owner" },
		{ "version 0", m_version, "version 0" },
		{ "free over span", m_free, "free addresses in a span" },
		{ "seed 0 with entries", m_seed0, "seed" },
		{ "seed without entries", m_noentries, "seed" },
	};
	struct mesh_ipam_ring r;
	seeded(&r, 1, 3);
	size_t len0;
	uint8_t *b0 = enc(&r, &len0);
	uint8_t b[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, b0, len0);
		size_t len = len0;
		cases[i].mutate(b, &len);
		struct mesh_ipam_ring d;
		char why[MESH_IPAM_WHY_LEN] = "";
		cr_assert_eq(mesh_ipam_ring_decode(b, len, &d, why), -EBADMSG, "%s", cases[i].name);
		cr_assert(strstr(why, cases[i].why_has), "%s: why \"%s\"", cases[i].name, why);
		cr_assert_null(d.e);
	}
	free(b0);
	mesh_ipam_ring_free(&r);
}

Test(ipam, space_request_round_trip_and_malformed)
{
	struct mesh_ipam_request q = { R16, 16, 0x1122334455667788ull, nm(7), 256 }, d;
	uint8_t b[MESH_IPAM_REQUEST_LEN + 1];
	cr_assert_eq(mesh_ipam_request_encode(&q, b, sizeof(b)), MESH_IPAM_REQUEST_LEN);
	cr_assert_eq(b[0], MESH_IPAM_MSG_SPACE_REQUEST);
	cr_assert_eq(get_be32(b + 1), R16);
	cr_assert_eq(b[5], 16);
	cr_assert_eq(get_be64(b + 6), q.seed);
	cr_assert_eq(memcmp(b + 14, q.requester.b, 6), 0);
	cr_assert_eq(get_be32(b + 20), 256);
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_request_decode(b, MESH_IPAM_REQUEST_LEN, &d, why), 0, "%s", why);
	cr_assert_eq(memcmp(&d.requester, &q.requester, 6), 0);
	cr_assert_eq(d.wanted, 256);
	cr_assert_eq(d.seed, q.seed);
	cr_assert_eq(mesh_ipam_request_encode(&q, b, MESH_IPAM_REQUEST_LEN - 1), -EMSGSIZE);
	q.wanted = 0;
	cr_assert_eq(mesh_ipam_request_encode(&q, b, sizeof(b)), -EINVAL);
	q.wanted = 1;
	cr_assert_eq(mesh_ipam_request_encode(&q, b, sizeof(b)), MESH_IPAM_REQUEST_LEN);

	uint8_t m[MESH_IPAM_REQUEST_LEN + 1];
	memcpy(m, b, MESH_IPAM_REQUEST_LEN);
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN + 1, &d, why), -EBADMSG);
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN - 1, &d, why), -EBADMSG);
	m[0] = 1;
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN, &d, why), -EBADMSG);
	cr_assert(strstr(why, "not a space request"));
	memcpy(m, b, MESH_IPAM_REQUEST_LEN);
	m[5] = 40;
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN, &d, why), -EBADMSG);
	memcpy(m, b, MESH_IPAM_REQUEST_LEN);
	memset(m + 14, 0, 6);
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN, &d, why), -EBADMSG);
	cr_assert(strstr(why, "requester"));
	memcpy(m, b, MESH_IPAM_REQUEST_LEN);
	put_be32(m + 20, 0);
	cr_assert_eq(mesh_ipam_request_decode(m, MESH_IPAM_REQUEST_LEN, &d, why), -EBADMSG);
	cr_assert(strstr(why, "0 addresses"));
}

/* Issue 16, finding 2: a request gives space to its requester, so it must be the sender's. */
Test(ipam, space_request_only_for_the_sender)
{
	struct mesh_ipam_request q = { R16, 16, 1, nm(7), 1 };
	struct mesh_peer_name self = nm(7), other = nm(8);
	char why[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(mesh_ipam_request_check_sender(&q, &self, why), 0);
	cr_assert_eq(mesh_ipam_request_check_sender(&q, &other, why), -EPERM);
	cr_assert(strstr(why, "a peer asks for itself only"), "%s", why);
}

/* --- merge ----------------------------------------------------------------------------------- */

Test(ipam, merge_refuses_other_range_and_other_seed)
{
	struct mesh_ipam_ring a, b, c;
	seeded(&a, 1, 2);
	seeded(&b, 2, 3); /* seeded among 1,2,3: another seed */
	ring_for(&c, 2, R16 + 65536, 16);
	struct mesh_peer_name n2[] = { nm(1), nm(2) };
	cr_assert_eq(mesh_ipam_ring_seed(&c, n2, 2), 0);
	bool ch = true;
	char why[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(merge_via_wire(&a, &b, no, NULL, &ch, why), -EXDEV);
	cr_assert(!ch);
	char ours[32], theirs[32];
	snprintf(ours, sizeof(ours), "%016llx", (unsigned long long)a.seed);
	snprintf(theirs, sizeof(theirs), "%016llx", (unsigned long long)b.seed);
	cr_assert(strstr(why, ours) && strstr(why, theirs) && strstr(why, "seeded differently"),
		  "why \"%s\"", why);
	cr_assert_eq(merge_via_wire(&a, &c, no, NULL, &ch, why), -EDOM);
	cr_assert(strstr(why, "10.41.0.0/16") && strstr(why, "10.40.0.0/16"), "why \"%s\"", why);
	/* a is untouched */
	struct mesh_ipam_ring a2;
	seeded(&a2, 1, 2);
	cr_assert(ring_eq(&a, &a2));
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&a2);
	mesh_ipam_ring_free(&b);
	mesh_ipam_ring_free(&c);
}

Test(ipam, empty_ring_adopts_the_first_ring_and_empty_updates_change_nothing)
{
	struct mesh_ipam_ring a, e;
	seeded(&a, 1, 3);
	ring_for(&e, 9, R16, 16);
	bool ch = false;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(merge_via_wire(&e, &a, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	struct mesh_peer_name nine = nm(9);
	cr_assert(mesh_peer_name_eq(&e.self, &nine));
	e.self = a.self;
	cr_assert(ring_eq(&e, &a));
	e.self = nine;
	struct mesh_ipam_ring empty;
	ring_for(&empty, 5, R16, 16);
	cr_assert_eq(merge_via_wire(&a, &empty, NULL, NULL, &ch, why), 0);
	cr_assert(!ch);
	/* idempotent */
	cr_assert_eq(merge_via_wire(&e, &a, NULL, NULL, &ch, why), 0);
	cr_assert(!ch);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&e);
}

Test(ipam, higher_version_wins_per_token)
{
	struct mesh_ipam_ring a, b;
	seeded(&a, 1, 3);
	seeded(&b, 2, 3);
	/* b reports free space in its entry */
	cr_assert_eq(mesh_ipam_ring_set_free(&b, 1, 100), 1);
	cr_assert_eq(b.e[1].version, 2);
	cr_assert_eq(mesh_ipam_ring_set_free(&b, 1, 100), 0);
	cr_assert_eq(mesh_ipam_ring_set_free(&b, 0, 100), -EINVAL); /* not b's */
	cr_assert_eq(mesh_ipam_ring_set_free(&b, 1, 30000), -EINVAL); /* over the span */
	bool ch;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(merge_via_wire(&a, &b, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	cr_assert_eq(a.e[1].free, 100);
	cr_assert_eq(a.e[1].version, 2);
	/* the older one from a stale peer does not go back */
	struct mesh_ipam_ring stale;
	seeded(&stale, 3, 3);
	cr_assert_eq(merge_via_wire(&a, &stale, NULL, NULL, &ch, why), 0);
	cr_assert(!ch);
	cr_assert_eq(a.e[1].free, 100);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&b);
	mesh_ipam_ring_free(&stale);
}

/* Issue 16 finding 5: a peer with the password gossips versions far ahead (UINT32_MAX would
 * pin an entry for good: its owner could never change it again). */
Test(ipam, merge_refuses_versions_far_ahead)
{
	struct mesh_ipam_ring a, f;
	seeded(&a, 1, 3);
	seeded(&f, 3, 3); /* the forger, any peer of the mesh */
	f.e[1].version = UINT32_MAX; /* peer 2's entry */
	bool ch = true;
	char why[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(merge_via_wire(&a, &f, NULL, NULL, &ch, why), -ERANGE);
	cr_assert(!ch);
	cr_assert(strstr(why, "ahead of ours (v1)") && strstr(why, "4294967295"), "why \"%s\"", why);
	cr_assert_eq(a.e[1].version, 1);
	/* at the limit it is taken (a reclaim jumps by 2^20, honest rings stay far below) */
	f.e[1].version = 1 + MESH_IPAM_VERSION_AHEAD_MAX;
	cr_assert_eq(merge_via_wire(&a, &f, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	cr_assert_eq(a.e[1].version, 1 + MESH_IPAM_VERSION_AHEAD_MAX);
	/* a new token far ahead of the entry it splits is refused too */
	struct mesh_ipam_ring g;
	seeded(&g, 3, 3);
	cr_assert_eq(mesh_ipam_ring_transfer(&g, g.e[2].token + 16, g.e[2].token + 32, &(struct mesh_peer_name){ { 0x02, 0, 0, 0, 0, 7 } }), 0);
	for (size_t k = 0; k < g.n; k++)
		if (g.e[k].token == g.e[2].token + 16 || (k > 2 && g.e[k].token > g.e[2].token))
			g.e[k].version = 3000000000u;
	cr_assert_eq(merge_via_wire(&a, &g, NULL, NULL, &ch, why), -ERANGE);
	/* an empty ring adopts what it hears: it has nothing to compare with */
	struct mesh_ipam_ring e;
	ring_for(&e, 9, R16, 16);
	cr_assert_eq(merge_via_wire(&e, &f, NULL, NULL, &ch, why), 0, "%s", why);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&e);
	mesh_ipam_ring_free(&f);
	mesh_ipam_ring_free(&g);
}

/* Issue 16 finding 5: a peer owns its own entries: nobody else raises their versions. */
Test(ipam, merge_never_takes_our_own_entry_from_another)
{
	struct mesh_ipam_ring a, f;
	seeded(&a, 1, 3);
	seeded(&f, 3, 3);
	/* the forger raises peer 1's entry (us), with another free count */
	f.e[0].version = 1000;
	f.e[0].free = 7;
	bool ch = false;
	char why[MESH_IPAM_WHY_LEN] = "";
	uint32_t free0 = a.e[0].free;
	cr_assert_eq(merge_via_wire(&a, &f, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch, "our entry jumps past the forged one, so the next gossip corrects the others");
	cr_assert_eq(a.e[0].free, free0);
	cr_assert_eq(a.e[0].version, 1001);
	cr_assert(mesh_peer_name_eq(&a.e[0].owner, &a.self));
	/* the others take ours back over the forged one */
	cr_assert_eq(merge_via_wire(&f, &a, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert_eq(f.e[0].version, 1001);
	cr_assert_eq(f.e[0].free, free0);
	/* a token inside our space, ours, that we never made, is not taken */
	struct mesh_ipam_ring g;
	seeded(&g, 3, 3);
	struct mesh_ipam_entry extra = g.e[0];
	extra.token += 64;
	extra.version = 5;
	extra.free = 0;
	g.e[0].free = 0;
	g.e = realloc(g.e, (g.n + 1) * sizeof(g.e[0]));
	cr_assert_not_null(g.e);
	g.cap = g.n + 1;
	memmove(&g.e[2], &g.e[1], (g.n - 1) * sizeof(g.e[0]));
	g.e[1] = extra;
	g.n++;
	size_t n = a.n;
	cr_assert_eq(merge_via_wire(&a, &g, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert_eq(a.n, n);
	/* the same forged entry about peer 2 is taken by us (only peer 2 can tell) */
	struct mesh_ipam_ring h;
	seeded(&h, 3, 3);
	h.e[1].version = 50;
	cr_assert_eq(merge_via_wire(&a, &h, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert_eq(a.e[1].version, 50);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&f);
	mesh_ipam_ring_free(&g);
	mesh_ipam_ring_free(&h);
}

Test(ipam, merge_refuses_to_take_our_space_where_we_have_allocations)
{
	struct mesh_ipam_ring a, b;
	seeded(&a, 1, 2);
	seeded(&b, 2, 2);
	/* b (wrongly) claims a's first entry for itself */
	b.e[0].owner = nm(2);
	b.e[0].version = 5;
	bool ch = true;
	char why[MESH_IPAM_WHY_LEN] = "";
	cr_assert_eq(merge_via_wire(&a, &b, yes, NULL, &ch, why), -EPERM);
	cr_assert(!ch);
	cr_assert(strstr(why, "10.40.0.0..10.40.127.255") && strstr(why, "02:00:00:00:00:01") &&
		  strstr(why, "02:00:00:00:00:02"), "why \"%s\"", why);
	cr_assert_eq(a.e[0].version, 1);
	cr_assert_eq(merge_via_wire(&a, &b, NULL, NULL, &ch, why), -EPERM); /* NULL: assume so */
	/* without allocations there, it is accepted (our space was reclaimed, or a repair) */
	cr_assert_eq(merge_via_wire(&a, &b, no, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	cr_assert(!mesh_ipam_ring_owns(&a, R16));
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&b);
}

Test(ipam, an_old_self_entry_is_learnt_back_after_a_restart_without_state)
{
	struct mesh_ipam_ring a, fresh;
	seeded(&a, 1, 2);
	cr_assert_eq(mesh_ipam_ring_set_free(&a, 0, 7), 1);
	ring_for(&fresh, 1, R16, 16);
	bool ch;
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(merge_via_wire(&fresh, &a, NULL, NULL, &ch, why), 0);
	cr_assert(ch);
	cr_assert(mesh_ipam_ring_owns(&fresh, R16));
	cr_assert_eq(fresh.e[0].free, 7);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&fresh);
}

/* --- transfer -------------------------------------------------------------------------------- */

Test(ipam, transfer_splits_and_hands_over)
{
	struct mesh_ipam_ring a, b;
	seeded(&a, 1, 2); /* 1: [0, 32768), 2: [32768, 65536) */
	seeded(&b, 2, 2);
	struct mesh_peer_name two = nm(2), one = nm(1);
	/* the middle of our entry */
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 1000, R16 + 2000, &two), 0);
	cr_assert_eq(a.n, 4);
	cr_assert_eq(a.e[0].token, R16);
	cr_assert_eq(a.e[0].free, 1000);
	cr_assert_eq(a.e[0].version, 2);
	cr_assert_eq(a.e[1].token, R16 + 1000);
	cr_assert(mesh_peer_name_eq(&a.e[1].owner, &two));
	cr_assert_eq(a.e[1].free, 1000);
	cr_assert_eq(a.e[2].token, R16 + 2000);
	cr_assert(mesh_peer_name_eq(&a.e[2].owner, &one));
	cr_assert_eq(a.e[2].free, 32768 - 2000);
	char why[MESH_IPAM_WHY_LEN];
	cr_assert_eq(mesh_ipam_ring_check(&a, why), 0, "%s", why);
	cr_assert(!mesh_ipam_ring_owns(&a, R16 + 1000));
	cr_assert(!mesh_ipam_ring_owns(&a, R16 + 1999));
	cr_assert(mesh_ipam_ring_owns(&a, R16 + 999));
	cr_assert(mesh_ipam_ring_owns(&a, R16 + 2000));
	/* errors: not ours, empty, outside, to us, zero */
	struct mesh_peer_name z = { { 0 } };
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 1500, R16 + 2500, &two), -EPERM);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 40000, R16 + 40001, &two), -EPERM);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 10, R16 + 10, &two), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 - 10, R16 + 10, &two), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 10, R16 + 65537, &two), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 10, R16 + 20, &one), -EINVAL);
	cr_assert_eq(mesh_ipam_ring_transfer(&a, R16 + 10, R16 + 20, &z), -EINVAL);
	cr_assert_eq(a.n, 4);
	/* b learns it owns the middle part */
	bool ch;
	cr_assert_eq(merge_via_wire(&b, &a, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ch);
	cr_assert(mesh_ipam_ring_owns(&b, R16 + 1000));
	cr_assert(mesh_ipam_ring_owns(&b, R16 + 40000));
	cr_assert(!mesh_ipam_ring_owns(&b, R16 + 999));
	/* b gives part of it back, ending exactly at an existing token, and a accepts */
	cr_assert_eq(mesh_ipam_ring_transfer(&b, R16 + 1500, R16 + 2000, &one), 0);
	cr_assert_eq(b.n, 5);
	cr_assert_eq(merge_via_wire(&a, &b, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(mesh_ipam_ring_owns(&a, R16 + 1500));
	cr_assert(!mesh_ipam_ring_owns(&a, R16 + 1499));
	cr_assert_eq(merge_via_wire(&b, &a, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert(ring_eq(&a, &(struct mesh_ipam_ring){ .start = b.start, .prefix = b.prefix,
							.seed = b.seed, .n = b.n, .e = b.e }));
	/* whole entries up to the end of the range */
	cr_assert_eq(mesh_ipam_ring_transfer(&b, R16 + 60000, (uint64_t)R16 + 65536, &one), 0);
	cr_assert_eq(mesh_ipam_ring_check(&b, why), 0, "%s", why);
	cr_assert(!mesh_ipam_ring_owns(&b, R16 + 65535));
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&b);
}

/* --- status, donor, reclaim ------------------------------------------------------------------ */

Test(ipam, owners_and_donor_choice)
{
	struct mesh_ipam_ring r;
	seeded(&r, 1, 3);
	struct mesh_ipam_owner_stat st[4];
	cr_assert_eq(mesh_ipam_ring_owners(&r, st, 4), 3);
	uint64_t total = 0;
	for (int i = 0; i < 3; i++) {
		struct mesh_peer_name o = nm((unsigned)i + 1);
		cr_assert(mesh_peer_name_eq(&st[i].owner, &o));
		cr_assert_eq(st[i].ranges, 1);
		cr_assert_eq(st[i].owned, st[i].free);
		total += st[i].owned;
	}
	cr_assert_eq(total, 65536);
	cr_assert_eq(mesh_ipam_ring_owners(&r, st, 1), 3); /* counts past its cap */
	/* free: 2 has 10, 3 has 21846 */
	r.e[1].free = 10;
	struct mesh_peer_name donor, reach[] = { nm(1), nm(2), nm(3) };
	cr_assert_eq(mesh_ipam_pick_donor(&r, reach, 3, &donor), 0);
	struct mesh_peer_name three = nm(3), two = nm(2);
	cr_assert(mesh_peer_name_eq(&donor, &three));
	cr_assert_eq(mesh_ipam_pick_donor(&r, reach, 2, &donor), 0); /* 3 not reachable */
	cr_assert(mesh_peer_name_eq(&donor, &two));
	r.e[2].free = 10; /* tie: the lower name */
	cr_assert_eq(mesh_ipam_pick_donor(&r, reach, 3, &donor), 0);
	cr_assert(mesh_peer_name_eq(&donor, &two));
	r.e[1].free = r.e[2].free = 0;
	cr_assert_eq(mesh_ipam_pick_donor(&r, reach, 3, &donor), -ENOSPC);
	cr_assert_eq(mesh_ipam_pick_donor(&r, reach, 1, &donor), -ENOSPC); /* only us */
	mesh_ipam_ring_free(&r);
}

#define MIN 60000ull

Test(ipam, a_removed_peer_is_reclaimed_at_once_but_only_while_unreachable)
{
	struct mesh_ipam_ring r;
	seeded(&r, 2, 3); /* we are 2 of 1..3 */
	struct mesh_peer_name v, h, three = nm(3);
	uint64_t now = 100 * MIN, started = 99 * MIN;
	struct mesh_ipam_peer_seen p[] = { { nm(1), true, now, false },
					   { nm(3), false, now - 1000, false } };
	/* gone one second: too early for any reclaim time, and reclaim set to never */
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 30 * MIN, &v, &h), 0);
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 0, &v, &h), 0);
	/* its Node object was deleted */
	p[1].removed = true;
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 30 * MIN, &v, &h), 1);
	cr_assert(mesh_peer_name_eq(&v, &three));
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 0, &v, &h), 1);
	/* but never while we still reach it */
	p[1].reachable = true;
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 0, &v, &h), 0);
	/* nor without a majority */
	p[1].reachable = false;
	p[0].reachable = false;
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 2, now, started, 0, &v, &h), 0);
	mesh_ipam_ring_free(&r);
}

Test(ipam, reclaim_needs_a_majority_and_the_time_and_names_one_heir)
{
	struct mesh_ipam_ring r;
	seeded(&r, 2, 5); /* we are 2 of 1..5 */
	struct mesh_peer_name v, h;
	uint64_t now = 100 * MIN, after = 30 * MIN, started = 1 * MIN;
	struct mesh_ipam_peer_seen p[] = {
		{ nm(1), true, now, false }, { nm(3), true, now, false },
		{ nm(4), false, now - 31 * MIN, false }, { nm(5), false, now - 10 * MIN, false },
	};
	cr_assert(mesh_ipam_have_majority(&r, p, 4));
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 4, now, started, after, &v, &h), 1);
	struct mesh_peer_name four = nm(4), one = nm(1);
	cr_assert(mesh_peer_name_eq(&v, &four));
	cr_assert(mesh_peer_name_eq(&h, &one)); /* lowest reachable, not us */
	/* never */
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 4, now, started, 0, &v, &h), 0);
	/* not long enough */
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 4, now, started, 40 * MIN, &v, &h), 0);
	/* a minority: only 1 and us of 5 */
	p[1].reachable = false;
	p[1].last_seen_ms = now - 50 * MIN;
	cr_assert(!mesh_ipam_have_majority(&r, p, 4));
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, p, 4, now, started, after, &v, &h), 0);
	/* owners we have never heard of count as members, and as gone since our start */
	struct mesh_ipam_peer_seen q[] = { { nm(1), true, now, false }, { nm(3), true, now, false } };
	cr_assert(mesh_ipam_have_majority(&r, q, 2)); /* 3 of 5 */
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, q, 2, started + 29 * MIN, started, after, &v, &h), 0);
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, q, 2, started + 30 * MIN, started, after, &v, &h), 1);
	cr_assert(mesh_peer_name_eq(&v, &four));
	/* 1 is gone: we are the heir, and we take 4's space */
	q[0].reachable = false;
	q[0].last_seen_ms = 0;
	struct mesh_ipam_peer_seen q3[] = { q[0], q[1], { nm(5), true, now, false } };
	cr_assert_eq(mesh_ipam_reclaim_decide(&r, q3, 3, now, started, after, &v, &h), 1);
	cr_assert(mesh_peer_name_eq(&v, &one)); /* the lowest victim first */
	cr_assert(mesh_peer_name_eq(&h, &r.self));
	uint32_t before = r.e[0].version;
	cr_assert_eq(mesh_ipam_ring_reclaim(&r, &v), 13107);
	cr_assert(mesh_ipam_ring_owns(&r, R16));
	cr_assert_eq(r.e[0].version, before + MESH_IPAM_RECLAIM_VERSION_JUMP);
	cr_assert_eq(mesh_ipam_ring_reclaim(&r, &v), 0);
	cr_assert_eq(mesh_ipam_ring_reclaim(&r, &r.self), -EINVAL);
	mesh_ipam_ring_free(&r);
}

Test(ipam, majority_counts_each_owner_once)
{
	struct mesh_ipam_ring r;
	seeded(&r, 1, 3);
	struct mesh_peer_name three = nm(3);
	/* 3 gets three more pieces of ours: four entries, still one member */
	for (uint32_t k = 1; k <= 3; k++)
		cr_assert_eq(mesh_ipam_ring_transfer(&r, R16 + 1000 * k, R16 + 1000 * k + 10, &three), 0);
	cr_assert_eq(r.n, 3 + 6);
	struct mesh_ipam_peer_seen p[] = { { nm(2), false, 0, false }, { nm(2), false, 0, false } };
	cr_assert(!mesh_ipam_have_majority(&r, p, 2)); /* 1 of 3 */
	p[0].reachable = true;
	cr_assert(mesh_ipam_have_majority(&r, p, 1)); /* 2 of 3 */
	mesh_ipam_ring_free(&r);
}

Test(ipam, a_returning_victim_accepts_the_loss_only_without_allocations)
{
	struct mesh_ipam_ring victim, heir, other;
	seeded(&victim, 1, 3);
	seeded(&heir, 2, 3);
	seeded(&other, 3, 3);
	/* the victim reported free space while cut off: a higher version than the heir knows */
	for (int i = 0; i < 5; i++)
		cr_assert_geq(mesh_ipam_ring_set_free(&victim, 0, (uint32_t)(100 + i)), 0);
	struct mesh_peer_name v = nm(1);
	cr_assert_eq(mesh_ipam_ring_reclaim(&heir, &v), 21845);
	bool ch;
	char why[MESH_IPAM_WHY_LEN];
	/* the reclaim outranks what the victim said meanwhile, everywhere */
	cr_assert_eq(merge_via_wire(&other, &victim, NULL, NULL, &ch, why), 0, "%s", why);
	cr_assert_eq(merge_via_wire(&other, &heir, NULL, NULL, &ch, why), 0, "%s", why);
	struct mesh_peer_name two = nm(2);
	cr_assert(mesh_peer_name_eq(&other.e[0].owner, &two));
	cr_assert_eq(merge_via_wire(&heir, &victim, yes, NULL, &ch, why), 0, "%s", why);
	cr_assert(!ch);
	/* the victim with allocations refuses loudly; without, it gives in */
	cr_assert_eq(merge_via_wire(&victim, &heir, yes, NULL, &ch, why), -EPERM);
	cr_assert_eq(merge_via_wire(&victim, &heir, no, NULL, &ch, why), 0, "%s", why);
	cr_assert(!mesh_ipam_ring_owns(&victim, R16));
	mesh_ipam_ring_free(&victim);
	mesh_ipam_ring_free(&heir);
	mesh_ipam_ring_free(&other);
}

Test(ipam, a_minority_stops_allocating_before_the_majority_may_reclaim)
{
	cr_assert(mesh_ipam_may_allocate(0, 100 * MIN, 30 * MIN));
	cr_assert(mesh_ipam_may_allocate(90 * MIN, 100 * MIN, 30 * MIN));
	cr_assert(!mesh_ipam_may_allocate(85 * MIN, 100 * MIN, 30 * MIN));
	cr_assert(mesh_ipam_may_allocate(1, 100 * MIN, 0)); /* never reclaimed: never fenced */
	cr_assert(mesh_ipam_may_allocate(200 * MIN, 100 * MIN, 30 * MIN)); /* clock went back */
}

/* --- property: random transfers and gossip among peers ---------------------------------------- */

static uint64_t rng;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static size_t below(size_t n) { return (size_t)(next_rand() % n); }

#define P_PEERS 5
#define P_STEPS 400
#define P_MSGS 256

/* At every moment, no address is believed to be its own by two peers. */
static void check_disjoint(struct mesh_ipam_ring *peers, uint64_t seed)
{
	for (unsigned x = 0; x < P_PEERS; x++)
		for (size_t i = 0; i < peers[x].n; i++) {
			if (!mesh_peer_name_eq(&peers[x].e[i].owner, &peers[x].self))
				continue;
			uint32_t lo = peers[x].e[i].token;
			uint64_t hi = mesh_ipam_entry_end(&peers[x], i);
			for (unsigned y = 0; y < P_PEERS; y++) {
				if (y == x)
					continue;
				/* every entry of y's that overlaps [lo, hi) must not be y's own */
				for (size_t k = 0; k < peers[y].n; k++) {
					uint32_t l2 = peers[y].e[k].token;
					uint64_t h2 = mesh_ipam_entry_end(&peers[y], k);
					if (l2 < hi && lo < h2)
						cr_assert(!mesh_peer_name_eq(&peers[y].e[k].owner, &peers[y].self),
							  "seed %llu: peers %u and %u both own %08x..",
							  (unsigned long long)seed, x, y, lo > l2 ? lo : l2);
				}
			}
		}
}

static void property_round(uint64_t seed)
{
	rng = seed;
	struct mesh_ipam_ring peers[P_PEERS];
	for (unsigned i = 0; i < P_PEERS; i++)
		seeded(&peers[i], i + 1, P_PEERS);
	struct { uint8_t *b; size_t len; } msgs[P_MSGS];
	size_t nmsgs = 0;
	char why[MESH_IPAM_WHY_LEN];
	bool ch;

	for (int step = 0; step < P_STEPS; step++) {
		unsigned x = (unsigned)below(P_PEERS);
		struct mesh_ipam_ring *r = &peers[x];
		switch (below(4)) {
		case 0: { /* give part of one of our entries to someone else */
			size_t i = below(r->n);
			if (!mesh_peer_name_eq(&r->e[i].owner, &r->self))
				break;
			uint64_t lo = r->e[i].token, span = mesh_ipam_entry_end(r, i) - lo;
			uint64_t a = lo + below(span), b = a + 1 + below(lo + span - a);
			struct mesh_peer_name to = nm((unsigned)(x + 1 + below(P_PEERS - 1)) % P_PEERS + 1);
			int ret = mesh_ipam_ring_transfer(r, (uint32_t)a, b, &to);
			cr_assert(ret == 0 || ret == -ENOSPC, "transfer: %d", ret);
			break;
		}
		case 1: { /* report free */
			size_t i = below(r->n);
			if (mesh_peer_name_eq(&r->e[i].owner, &r->self)) {
				uint64_t span = mesh_ipam_entry_end(r, i) - r->e[i].token;
				cr_assert_geq(mesh_ipam_ring_set_free(r, i, (uint32_t)below(span + 1)), 0);
			}
			break;
		}
		case 2: /* gossip: snapshot our ring */
			if (nmsgs < P_MSGS) {
				msgs[nmsgs].b = enc(r, &msgs[nmsgs].len);
				nmsgs++;
			}
			break;
		default: /* deliver some old message, maybe again */
			if (nmsgs) {
				size_t m = below(nmsgs);
				struct mesh_ipam_ring in;
				cr_assert_eq(mesh_ipam_ring_decode(msgs[m].b, msgs[m].len, &in, why), 0, "%s", why);
				/* honest peers never take anyone's space: the strict merge must accept */
				cr_assert_eq(mesh_ipam_ring_merge(r, &in, NULL, NULL, &ch, why), 0,
					     "seed %llu step %d: %s", (unsigned long long)seed, step, why);
				mesh_ipam_ring_free(&in);
			}
			break;
		}
		cr_assert_eq(mesh_ipam_ring_check(r, why), 0, "%s", why);
		check_disjoint(peers, seed);
	}

	/* observers hear every message in random orders with repeats: all end the same */
	struct mesh_ipam_ring obs[3];
	for (unsigned o = 0; o < 3; o++) {
		ring_for(&obs[o], 100 + o, R16, 16);
		for (size_t k = 0; k < 2 * nmsgs + 1; k++) {
			size_t m = k < nmsgs ? (o == 1 ? nmsgs - 1 - k : (o == 0 ? k : below(nmsgs))) : below(nmsgs + 1);
			if (m >= nmsgs) {
				continue;
			}
			struct mesh_ipam_ring in;
			cr_assert_eq(mesh_ipam_ring_decode(msgs[m].b, msgs[m].len, &in, why), 0);
			cr_assert_eq(mesh_ipam_ring_merge(&obs[o], &in, NULL, NULL, &ch, why), 0, "%s", why);
			mesh_ipam_ring_free(&in);
		}
		/* o == 2 may have missed some: give it each once more, shuffled */
		size_t perm[P_MSGS];
		for (size_t k = 0; k < nmsgs; k++)
			perm[k] = k;
		for (size_t k = nmsgs; k > 1; k--) {
			size_t j = below(k), t = perm[k - 1];
			perm[k - 1] = perm[j];
			perm[j] = t;
		}
		for (size_t k = 0; k < nmsgs; k++) {
			size_t m = perm[k];
			struct mesh_ipam_ring in;
			cr_assert_eq(mesh_ipam_ring_decode(msgs[m].b, msgs[m].len, &in, why), 0);
			cr_assert_eq(mesh_ipam_ring_merge(&obs[o], &in, NULL, NULL, &ch, why), 0, "%s", why);
			mesh_ipam_ring_free(&in);
		}
	}
	for (unsigned o = 1; o < 3; o++) {
		obs[o].self = obs[0].self;
		cr_assert(ring_eq(&obs[0], &obs[o]), "seed %llu: observer %u differs", (unsigned long long)seed, o);
	}
	/* idempotent: everything again changes nothing */
	for (size_t m = 0; m < nmsgs; m++) {
		struct mesh_ipam_ring in;
		cr_assert_eq(mesh_ipam_ring_decode(msgs[m].b, msgs[m].len, &in, why), 0);
		cr_assert_eq(mesh_ipam_ring_merge(&obs[0], &in, NULL, NULL, &ch, why), 0);
		cr_assert(!ch);
		mesh_ipam_ring_free(&in);
	}

	/* full exchange among the peers until quiet: all peers converge to one ring */
	for (int round = 0; round < 3; round++)
		for (unsigned x = 0; x < P_PEERS; x++)
			for (unsigned y = 0; y < P_PEERS; y++)
				if (x != y)
					cr_assert_eq(merge_via_wire(&peers[y], &peers[x], NULL, NULL, &ch, why), 0,
						     "%s", why);
	for (unsigned x = 1; x < P_PEERS; x++) {
		struct mesh_ipam_ring t = peers[x];
		t.self = peers[0].self;
		cr_assert(ring_eq(&peers[0], &t), "seed %llu: peer %u did not converge", (unsigned long long)seed, x);
	}
	/* and ownership covers the whole range exactly once (trivially, by construction), with
	 * every address owned by one of the peers */
	struct mesh_ipam_owner_stat st[P_PEERS + 1];
	size_t no = mesh_ipam_ring_owners(&peers[0], st, P_PEERS + 1);
	cr_assert_leq(no, P_PEERS);
	uint64_t total = 0;
	for (size_t i = 0; i < no; i++)
		total += st[i].owned;
	cr_assert_eq(total, 65536);

	for (size_t m = 0; m < nmsgs; m++)
		free(msgs[m].b);
	for (unsigned i = 0; i < P_PEERS; i++)
		mesh_ipam_ring_free(&peers[i]);
	for (unsigned o = 0; o < 3; o++)
		mesh_ipam_ring_free(&obs[o]);
}

Test(ipam, merge_is_commutative_idempotent_converges_and_never_shares_an_address, .timeout = 120)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		property_round(0x9e3779b97f4a7c15ull * seed);
}

Test(ipam, next_owned_address_walks_only_our_entries)
{
	struct mesh_ipam_ring r2, r3;
	/* 10.40.0.0/16 seeded among three: each owns one contiguous share, in name order */
	seeded(&r2, 2, 3);
	seeded(&r3, 3, 3);
	uint64_t end = (uint64_t)r2.start + mesh_ipam_ring_size(&r2);
	uint64_t a2 = mesh_ipam_ring_next_owned(&r2, r2.start);
	cr_assert(a2 < end);
	cr_assert(mesh_ipam_ring_owns(&r2, (uint32_t)a2));
	cr_assert_not(a2 > r2.start && mesh_ipam_ring_owns(&r2, (uint32_t)a2 - 1));
	/* inside our share: the address itself */
	cr_assert_eq(mesh_ipam_ring_next_owned(&r2, a2 + 5), a2 + 5);
	/* past our share: nothing more of ours, or the start of the next share of ours */
	uint64_t a = a2;
	while (a < end && mesh_ipam_ring_owns(&r2, (uint32_t)a))
		a++;
	uint64_t next = mesh_ipam_ring_next_owned(&r2, a);
	cr_assert(next == end || mesh_ipam_ring_owns(&r2, (uint32_t)next));
	/* the other peer's first address is not ours */
	uint64_t a3 = mesh_ipam_ring_next_owned(&r3, r3.start);
	cr_assert_neq(a3, a2);
	cr_assert_not(mesh_ipam_ring_owns(&r2, (uint32_t)a3));
	/* an empty ring: nothing */
	struct mesh_ipam_ring empty;
	ring_for(&empty, 2, 0x0a280000, 16);
	cr_assert_eq(mesh_ipam_ring_next_owned(&empty, empty.start), end);
	mesh_ipam_ring_free(&r2);
	mesh_ipam_ring_free(&r3);
	mesh_ipam_ring_free(&empty);
}
