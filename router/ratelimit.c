/* router/ratelimit.c: token bucket (see ratelimit.h). */
#include "router/ratelimit.h"

void mesh_ratelimit_init(struct mesh_ratelimit *rl, uint32_t rate_per_s, uint32_t burst, uint64_t now_ms)
{
	rl->rate_per_s = rate_per_s;
	rl->burst = burst;
	rl->tokens_milli = (uint64_t)burst * 1000;
	rl->last_ms = now_ms;
}

bool mesh_ratelimit_take(struct mesh_ratelimit *rl, uint64_t now_ms)
{
	if (now_ms > rl->last_ms) {
		uint64_t add = (now_ms - rl->last_ms) * rl->rate_per_s; /* ms × tokens/s = milli-tokens */
		uint64_t max = (uint64_t)rl->burst * 1000;
		rl->tokens_milli = add >= max - rl->tokens_milli ? max : rl->tokens_milli + add;
		rl->last_ms = now_ms;
	}
	if (rl->tokens_milli < 1000)
		return false;
	rl->tokens_milli -= 1000;
	return true;
}
