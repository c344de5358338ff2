/* tests/unit/test_replay.c: the anti-replay bitmap window (crypto/replay.c), with fixed cases
 * at the edges and a randomized comparison against a simple reference model. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/replay.h"

#define W ((uint64_t)MESH_REPLAY_BITS)

/* Checks, verifies the check did not change anything, then accepts; both must agree. */
static enum mesh_replay_verdict feed(struct mesh_replay *r, uint64_t c)
{
	struct mesh_replay before = *r;
	enum mesh_replay_verdict v = mesh_replay_check(r, c);
	cr_assert_eq(memcmp(&before, r, sizeof(before)), 0, "check(%llu) changed the state",
		     (unsigned long long)c);
	enum mesh_replay_verdict a = mesh_replay_accept(r, c);
	cr_assert_eq(v, a, "check(%llu) = %s but accept = %s", (unsigned long long)c,
		     mesh_replay_verdict_str(v), mesh_replay_verdict_str(a));
	if (a != MESH_REPLAY_OK)
		cr_assert_eq(memcmp(&before, r, sizeof(before)), 0,
			     "rejected accept(%llu) changed the state", (unsigned long long)c);
	return a;
}

#define expect(r, c, want)                                                                       \
	do {                                                                                     \
		uint64_t c_ = (c);                                                               \
		enum mesh_replay_verdict got_ = feed((r), c_);                                   \
		cr_assert_eq(got_, (want), "counter %llu: got %s, want %s",                      \
			     (unsigned long long)c_, mesh_replay_verdict_str(got_),              \
			     mesh_replay_verdict_str(want));                                     \
	} while (0)

Test(replay, verdict_strings)
{
	cr_assert_str_eq(mesh_replay_verdict_str(MESH_REPLAY_OK), "ok");
	cr_assert_str_eq(mesh_replay_verdict_str(MESH_REPLAY_DUPLICATE), "duplicate");
	cr_assert_str_eq(mesh_replay_verdict_str(MESH_REPLAY_TOO_OLD), "too old");
	cr_assert_str_eq(mesh_replay_verdict_str(MESH_REPLAY_INVALID), "invalid counter");
}

Test(replay, in_order_sequence_accepted)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	for (uint64_t c = 1; c <= 5 * W + 17; c++)
		expect(&r, c, MESH_REPLAY_OK);
	cr_assert_eq(r.top, 5 * W + 17);
}

Test(replay, counter_zero_first_then_duplicate)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	expect(&r, 0, MESH_REPLAY_OK);
	cr_assert(r.any);
	cr_assert_eq(r.top, 0);
	expect(&r, 0, MESH_REPLAY_DUPLICATE);
	expect(&r, 1, MESH_REPLAY_OK);
	expect(&r, 0, MESH_REPLAY_DUPLICATE);
}

Test(replay, first_counter_anything_below_max)
{
	static const uint64_t firsts[] = { 0, 1, 63, 64, W - 1, W, W + 1, 1ULL << 63, UINT64_MAX - 1 };
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		struct mesh_replay r;
		mesh_replay_init(&r);
		expect(&r, firsts[i], MESH_REPLAY_OK);
		expect(&r, firsts[i], MESH_REPLAY_DUPLICATE);
		/* everything below the first counter, inside the window, is still unseen */
		if (firsts[i] > 0)
			expect(&r, firsts[i] - 1, MESH_REPLAY_OK);
	}
}

Test(replay, duplicates_rejected)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	for (uint64_t c = 100; c < 200; c++)
		expect(&r, c, MESH_REPLAY_OK);
	expect(&r, 199, MESH_REPLAY_DUPLICATE); /* the top itself */
	expect(&r, 198, MESH_REPLAY_DUPLICATE); /* recent */
	expect(&r, 100, MESH_REPLAY_DUPLICATE); /* oldest */
	for (uint64_t c = 100; c < 200; c++)
		expect(&r, c, MESH_REPLAY_DUPLICATE);
	cr_assert_eq(r.top, 199);
}

Test(replay, out_of_order_within_window_accepted_once)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	expect(&r, 1000, MESH_REPLAY_OK);
	expect(&r, 1010, MESH_REPLAY_OK);
	expect(&r, 1005, MESH_REPLAY_OK);
	expect(&r, 1005, MESH_REPLAY_DUPLICATE);
	expect(&r, 1001, MESH_REPLAY_OK);
	expect(&r, 1009, MESH_REPLAY_OK);
	expect(&r, 1009, MESH_REPLAY_DUPLICATE);
	for (uint64_t c = 1002; c <= 1008; c++)
		if (c != 1005)
			expect(&r, c, MESH_REPLAY_OK);
	for (uint64_t c = 1000; c <= 1010; c++)
		expect(&r, c, MESH_REPLAY_DUPLICATE);
	cr_assert_eq(r.top, 1010);

	/* reverse order across many words of the bitmap */
	mesh_replay_init(&r);
	for (uint64_t c = 10 * W; c > 9 * W; c--)
		expect(&r, c, MESH_REPLAY_OK);
	expect(&r, 9 * W, MESH_REPLAY_TOO_OLD); /* top - W */
	for (uint64_t c = 10 * W; c > 9 * W; c--)
		expect(&r, c, MESH_REPLAY_DUPLICATE);
}

/* The window holds exactly W counters: top - (W - 1) .. top. top - W is too old. */
Test(replay, window_edge_is_exact)
{
	struct mesh_replay r;
	uint64_t top = 3 * W + 12345;

	mesh_replay_init(&r);
	expect(&r, top, MESH_REPLAY_OK);
	cr_assert_eq(mesh_replay_check(&r, top - (W - 1)), MESH_REPLAY_OK);
	cr_assert_eq(mesh_replay_check(&r, top - W), MESH_REPLAY_TOO_OLD);
	cr_assert_eq(mesh_replay_check(&r, top - W - 1), MESH_REPLAY_TOO_OLD);
	cr_assert_eq(mesh_replay_check(&r, 0), MESH_REPLAY_TOO_OLD);

	expect(&r, top - W, MESH_REPLAY_TOO_OLD);
	expect(&r, top - W - 1, MESH_REPLAY_TOO_OLD);
	expect(&r, top - (W - 1), MESH_REPLAY_OK);
	expect(&r, top - (W - 1), MESH_REPLAY_DUPLICATE);

	/* moving the top by one pushes the oldest counter out */
	expect(&r, top + 1, MESH_REPLAY_OK);
	expect(&r, top - (W - 1), MESH_REPLAY_TOO_OLD);
	expect(&r, top - (W - 2), MESH_REPLAY_OK);
}

/* The edge with the window still reaching below zero: counter 0 stays in while top < W. */
Test(replay, window_edge_near_zero)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	expect(&r, W - 1, MESH_REPLAY_OK);
	expect(&r, 0, MESH_REPLAY_OK);
	expect(&r, 0, MESH_REPLAY_DUPLICATE);
	expect(&r, W, MESH_REPLAY_OK);
	expect(&r, 0, MESH_REPLAY_TOO_OLD);
	expect(&r, 1, MESH_REPLAY_OK);
}

/* Bits of counters that fell out of the window must not be mistaken for the new counters
 * that reuse their positions. */
Test(replay, slide_clears_reused_bits)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	for (uint64_t c = 0; c < W; c++)
		expect(&r, c, MESH_REPLAY_OK); /* every bit set */
	/* jumps of various sizes, each leaving the skipped-over counters acceptable */
	static const uint64_t jumps[] = { 1, 2, 63, 64, 65, 127, 1000, W / 2, W - 1 };
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		uint64_t old = r.top, next = old + jumps[j];
		expect(&r, next, MESH_REPLAY_OK);
		for (uint64_t c = old + 1; c < next; c++)
			cr_assert_eq(mesh_replay_check(&r, c), MESH_REPLAY_OK, "jump %llu: %llu",
				     (unsigned long long)jumps[j], (unsigned long long)c);
		/* those still inside that were seen before stay duplicates */
		for (uint64_t c = next - W + 1; c <= old; c++)
			cr_assert_eq(mesh_replay_check(&r, c), MESH_REPLAY_DUPLICATE,
				     "jump %llu: %llu", (unsigned long long)jumps[j],
				     (unsigned long long)c);
		for (uint64_t c = old + 1; c < next; c++)
			expect(&r, c, MESH_REPLAY_OK); /* fill again */
	}
}

Test(replay, far_jump_then_old_ones)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	for (uint64_t c = 1; c <= 500; c++)
		expect(&r, c, MESH_REPLAY_OK);

	uint64_t top = 500 + 3 * W + 7;
	expect(&r, top, MESH_REPLAY_OK);
	for (uint64_t c = 1; c <= 500; c++)
		expect(&r, c, MESH_REPLAY_TOO_OLD);
	expect(&r, top - W, MESH_REPLAY_TOO_OLD);
	/* just below the new top, all of the window: unseen, so accepted, once */
	for (uint64_t c = top - 1; c > top - W; c--)
		expect(&r, c, MESH_REPLAY_OK);
	for (uint64_t c = top; c > top - W; c--)
		expect(&r, c, MESH_REPLAY_DUPLICATE);

	/* a jump of exactly the window size */
	expect(&r, top + W, MESH_REPLAY_OK);
	expect(&r, top, MESH_REPLAY_TOO_OLD);
	expect(&r, top + 1, MESH_REPLAY_OK);
	expect(&r, top + W - 1, MESH_REPLAY_OK);
	expect(&r, top + W - 1, MESH_REPLAY_DUPLICATE);
}

Test(replay, edges_near_uint64_max)
{
	struct mesh_replay r;
	mesh_replay_init(&r);
	expect(&r, UINT64_MAX, MESH_REPLAY_INVALID); /* even as the first counter */
	cr_assert_not(r.any);

	expect(&r, UINT64_MAX - 5, MESH_REPLAY_OK);
	expect(&r, UINT64_MAX - 1, MESH_REPLAY_OK);
	expect(&r, UINT64_MAX, MESH_REPLAY_INVALID);
	expect(&r, UINT64_MAX - 1, MESH_REPLAY_DUPLICATE);
	expect(&r, UINT64_MAX - 2, MESH_REPLAY_OK);
	expect(&r, UINT64_MAX - 5, MESH_REPLAY_DUPLICATE);
	expect(&r, UINT64_MAX - W, MESH_REPLAY_OK);          /* top - (W - 1) */
	expect(&r, UINT64_MAX - W - 1, MESH_REPLAY_TOO_OLD); /* top - W */
	expect(&r, 0, MESH_REPLAY_TOO_OLD);
	expect(&r, UINT64_MAX, MESH_REPLAY_INVALID);
	cr_assert_eq(r.top, UINT64_MAX - 1);

	/* from 0 straight to the end */
	mesh_replay_init(&r);
	expect(&r, 0, MESH_REPLAY_OK);
	expect(&r, UINT64_MAX - 1, MESH_REPLAY_OK);
	expect(&r, 0, MESH_REPLAY_TOO_OLD);
	expect(&r, UINT64_MAX - 2, MESH_REPLAY_OK);
}

Test(replay, check_never_changes_state)
{
	struct mesh_replay r, copy;
	mesh_replay_init(&r);
	copy = r;
	static const uint64_t probes[] = { 0, 1, 5, 100, W, 2 * W, UINT64_MAX - 1, UINT64_MAX };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		(void)mesh_replay_check(&r, probes[i]);
		cr_assert_eq(memcmp(&r, &copy, sizeof(r)), 0);
	}
	for (uint64_t c = 10; c < 30; c += 2)
		cr_assert_eq(mesh_replay_accept(&r, c), MESH_REPLAY_OK);
	copy = r;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		(void)mesh_replay_check(&r, probes[i]);
		cr_assert_eq(memcmp(&r, &copy, sizeof(r)), 0);
	}
	for (uint64_t c = 0; c < 40; c++) {
		(void)mesh_replay_check(&r, c);
		cr_assert_eq(memcmp(&r, &copy, sizeof(r)), 0);
	}
	/* check alone never records: the same counter stays OK */
	cr_assert_eq(mesh_replay_check(&r, 11), MESH_REPLAY_OK);
	cr_assert_eq(mesh_replay_check(&r, 11), MESH_REPLAY_OK);
	cr_assert_eq(mesh_replay_check(&r, 1000), MESH_REPLAY_OK);
	cr_assert_eq(r.top, 28);
}

/* ---- randomized comparison with a reference model --------------------------------------
 * The model keeps every accepted counter in a hash set plus the highest one; it knows
 * nothing about bitmaps. */

struct model {
	uint64_t *slots; /* open addressing; UINT64_MAX marks an empty slot (never accepted) */
	size_t cap, used;
	uint64_t top;
	bool any;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void model_init(struct model *m, size_t cap)
{
	m->slots = malloc(cap * sizeof(*m->slots));
	cr_assert(m->slots);
	memset(m->slots, 0xff, cap * sizeof(*m->slots));
	m->cap = cap;
	m->used = 0;
	m->any = false;
	m->top = 0;
}

static bool model_seen(const struct model *m, uint64_t c)
{
	for (size_t i = mix(c) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i] == c)
			return true;
		if (m->slots[i] == UINT64_MAX)
			return false;
	}
}

static void model_add(struct model *m, uint64_t c)
{
	cr_assert(m->used < m->cap / 2, "model full");
	size_t i = mix(c) & (m->cap - 1);
	while (m->slots[i] != UINT64_MAX)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = c;
	m->used++;
}

static enum mesh_replay_verdict model_verdict(const struct model *m, uint64_t c)
{
	if (c == UINT64_MAX)
		return MESH_REPLAY_INVALID;
	if (!m->any || c > m->top)
		return MESH_REPLAY_OK;
	if (m->top - c >= W)
		return MESH_REPLAY_TOO_OLD;
	return model_seen(m, c) ? MESH_REPLAY_DUPLICATE : MESH_REPLAY_OK;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a < b ? 0 : a - b;
}

/* A counter near the current top, mostly inside or just around the window edge. */
static uint64_t pick(const struct model *m, uint64_t start)
{
	uint64_t base = m->any ? m->top : start;
	uint64_t k = rnd() % 100;
	if (k < 30) /* a little ahead: the usual case */
		return sat_add(base, 1 + rnd() % 4);
	if (k < 70) /* behind, inside the window */
		return sat_sub(base, rnd() % W);
	if (k < 80) /* around the window edge */
		return sat_sub(base, W - 3 + rnd() % 6);
	if (k < 88) /* far behind */
		return sat_sub(base, W + rnd() % (4 * W));
	if (k < 94) /* jump ahead by up to a bit more than a window */
		return sat_add(base, rnd() % (W + W / 4));
	if (k < 96) /* jump ahead by more than a window */
		return sat_add(base, W + rnd() % (3 * W));
	if (k < 97)
		return UINT64_MAX;
	return base; /* the top itself */
}

static void run_random(uint64_t seed, uint64_t start, int ops)
{
	struct mesh_replay r;
	struct model m;
	int counts[4] = { 0 };

	rng_state = seed;
	mesh_replay_init(&r);
	model_init(&m, (size_t)1 << 20);
	for (int i = 0; i < ops; i++) {
		uint64_t c = pick(&m, start);
		enum mesh_replay_verdict want = model_verdict(&m, c);
		struct mesh_replay before = r;

		enum mesh_replay_verdict chk = mesh_replay_check(&r, c);
		cr_assert_eq(chk, want, "op %d, counter %llu, top %llu: check %s, model %s", i,
			     (unsigned long long)c, (unsigned long long)m.top,
			     mesh_replay_verdict_str(chk), mesh_replay_verdict_str(want));
		cr_assert_eq(memcmp(&before, &r, sizeof(r)), 0, "op %d: check changed state", i);

		/* sometimes only check, as the datapath does when authentication then fails */
		if (rnd() % 8 == 0)
			continue;
		enum mesh_replay_verdict acc = mesh_replay_accept(&r, c);
		cr_assert_eq(acc, want, "op %d, counter %llu: accept %s, model %s", i,
			     (unsigned long long)c, mesh_replay_verdict_str(acc),
			     mesh_replay_verdict_str(want));
		counts[-want]++;
		if (want == MESH_REPLAY_OK) {
			model_add(&m, c);
			if (!m.any || c > m.top)
				m.top = c;
			m.any = true;
		} else {
			cr_assert_eq(memcmp(&before, &r, sizeof(r)), 0,
				     "op %d: rejected accept changed state", i);
		}
		cr_assert_eq(r.any, m.any);
		cr_assert_eq(r.top, m.top);
	}
	/* the mix must actually exercise every verdict */
	for (int v = 0; v < 4; v++)
		cr_assert_gt(counts[v], 100, "verdict %s seen only %d times",
			     mesh_replay_verdict_str((enum mesh_replay_verdict)-v), counts[v]);
	free(m.slots);
}

Test(replay, random_against_model_from_zero)
{
	run_random(0x6d657368ULL, 0, 200000);
}

Test(replay, random_against_model_high_counters)
{
	run_random(0x5eed0002ULL, (1ULL << 63) - W / 2, 100000);
}

/* Starts close enough to UINT64_MAX that the top runs into it; the generator then keeps
 * producing the saturated UINT64_MAX (invalid) and old counters. */
Test(replay, random_against_model_near_uint64_max)
{
	run_random(0x5eed0003ULL, UINT64_MAX - 40 * W, 100000);
}
