/* crypto/replay.c: the anti-replay bitmap window (see replay.h). Bit (c % BITS) of the ring
 * stands for counter c while c is within the window below `top`. */
#include <string.h>

#include "crypto/replay.h"

#define WORDS (MESH_REPLAY_BITS / 64)

void mesh_replay_init(struct mesh_replay *r)
{
	memset(r, 0, sizeof(*r));
}

static bool bit(const struct mesh_replay *r, uint64_t c)
{
	uint64_t b = c % MESH_REPLAY_BITS;
	return r->bitmap[b / 64] >> (b % 64) & 1;
}

enum mesh_replay_verdict mesh_replay_check(const struct mesh_replay *r, uint64_t counter)
{
	if (counter == UINT64_MAX)
		return MESH_REPLAY_INVALID;
	if (!r->any || counter > r->top)
		return MESH_REPLAY_OK;
	if (r->top - counter >= MESH_REPLAY_BITS)
		return MESH_REPLAY_TOO_OLD;
	return bit(r, counter) ? MESH_REPLAY_DUPLICATE : MESH_REPLAY_OK;
}

enum mesh_replay_verdict mesh_replay_accept(struct mesh_replay *r, uint64_t counter)
{
	enum mesh_replay_verdict v = mesh_replay_check(r, counter);
	if (v != MESH_REPLAY_OK)
		return v;
	if (!r->any) {
		r->any = true;
		r->top = counter;
	} else if (counter > r->top) {
		uint64_t gap = counter - r->top;
		if (gap >= MESH_REPLAY_BITS) {
			memset(r->bitmap, 0, sizeof(r->bitmap));
		} else {
			/* clear the bits of the counters the window slides over */
			for (uint64_t c = r->top + 1; c < counter; c++) {
				uint64_t b = c % MESH_REPLAY_BITS;
				r->bitmap[b / 64] &= ~(1ull << (b % 64));
			}
		}
		r->top = counter;
	}
	uint64_t b = counter % MESH_REPLAY_BITS;
	r->bitmap[b / 64] |= 1ull << (b % 64);
	return MESH_REPLAY_OK;
}

const char *mesh_replay_verdict_str(enum mesh_replay_verdict v)
{
	switch (v) {
	case MESH_REPLAY_OK: return "ok";
	case MESH_REPLAY_DUPLICATE: return "duplicate";
	case MESH_REPLAY_TOO_OLD: return "too old";
	case MESH_REPLAY_INVALID: return "invalid counter";
	}
	return "?";
}
