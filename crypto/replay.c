/* crypto/replay.c: owns the anti-replay window for counter nonces (DESIGN §7), an RFC 6479
 * style bitmap. Pure logic, no I/O.
 *
 * Window: when `any`, the counters top - MESH_REPLAY_BITS + 1 .. top (those >= 0) are inside;
 * counter c lives at bit c % MESH_REPLAY_BITS. Invariant: for every counter inside the window
 * its bit is set iff it was accepted. Unlike RFC 6479, which clears whole 64-bit blocks when
 * the window slides (shrinking the usable window by up to a block), we clear exactly the bits
 * of the counters the top passes over, so the window is exactly MESH_REPLAY_BITS wide. */
#include "crypto/replay.h"

#include <string.h>

_Static_assert(MESH_REPLAY_BITS % 64 == 0, "window a multiple of 64");
_Static_assert((MESH_REPLAY_BITS & (MESH_REPLAY_BITS - 1)) == 0, "window a power of two");

static inline size_t bit_pos(uint64_t counter)
{
	return (size_t)(counter & (MESH_REPLAY_BITS - 1));
}

static inline bool bit_get(const struct mesh_replay *r, uint64_t counter)
{
	size_t p = bit_pos(counter);
	return (r->bitmap[p / 64] >> (p % 64)) & 1;
}

static inline void bit_set(struct mesh_replay *r, uint64_t counter)
{
	size_t p = bit_pos(counter);
	r->bitmap[p / 64] |= (uint64_t)1 << (p % 64);
}

/* Clears the bits of `count` consecutive counters starting at `first` (count < window). */
static void bits_clear(struct mesh_replay *r, uint64_t first, uint64_t count)
{
	size_t p = bit_pos(first);
	while (count > 0) {
		size_t off = p % 64;
		uint64_t n = 64 - off;
		if (n > count)
			n = count;
		uint64_t mask = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << off;
		r->bitmap[p / 64] &= ~mask;
		p = (p + n) & (MESH_REPLAY_BITS - 1);
		count -= n;
	}
}

void mesh_replay_init(struct mesh_replay *r)
{
	memset(r, 0, sizeof(*r));
}

enum mesh_replay_verdict mesh_replay_check(const struct mesh_replay *r, uint64_t counter)
{
	if (counter == UINT64_MAX)
		return MESH_REPLAY_INVALID;
	if (!r->any || counter > r->top)
		return MESH_REPLAY_OK;
	if (r->top - counter >= MESH_REPLAY_BITS)
		return MESH_REPLAY_TOO_OLD;
	return bit_get(r, counter) ? MESH_REPLAY_DUPLICATE : MESH_REPLAY_OK;
}

enum mesh_replay_verdict mesh_replay_accept(struct mesh_replay *r, uint64_t counter)
{
	enum mesh_replay_verdict v = mesh_replay_check(r, counter);
	if (v != MESH_REPLAY_OK)
		return v;

	if (!r->any) {
		memset(r->bitmap, 0, sizeof(r->bitmap));
		r->any = true;
		r->top = counter;
	} else if (counter > r->top) {
		uint64_t jump = counter - r->top;
		if (jump >= MESH_REPLAY_BITS)
			memset(r->bitmap, 0, sizeof(r->bitmap));
		else
			bits_clear(r, r->top + 1, jump);
		r->top = counter;
	}
	bit_set(r, counter);
	return MESH_REPLAY_OK;
}

bool mesh_replay_far_ahead(const struct mesh_replay *r, uint64_t counter)
{
	uint64_t top = r->any ? r->top : 0;
	return counter > top && counter - top > MESH_REPLAY_BITS;
}

const char *mesh_replay_verdict_str(enum mesh_replay_verdict v)
{
	switch (v) {
	case MESH_REPLAY_OK:
		return "ok";
	case MESH_REPLAY_DUPLICATE:
		return "duplicate";
	case MESH_REPLAY_TOO_OLD:
		return "too old";
	case MESH_REPLAY_INVALID:
		return "invalid counter";
	}
	return "unknown";
}
