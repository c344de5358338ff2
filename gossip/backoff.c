/* gossip/backoff.c: jittered exponential reconnect backoff (see backoff.h). */
#include "gossip/backoff.h"

void mesh_backoff_init(struct mesh_backoff *b)
{
	b->base_ms = MESH_BACKOFF_INITIAL_MS;
	b->failures = 0;
	b->up = false;
	b->up_since_ms = 0;
}

void mesh_backoff_up(struct mesh_backoff *b, uint64_t now_ms)
{
	b->up = true;
	b->up_since_ms = now_ms;
}

void mesh_backoff_hold(struct mesh_backoff *b, uint32_t min_ms)
{
	if (min_ms > MESH_BACKOFF_MAX_MS)
		min_ms = MESH_BACKOFF_MAX_MS;
	if (b->base_ms < min_ms)
		b->base_ms = min_ms;
	b->up = false; /* a refused connection does not count as one that stayed up */
}

uint32_t mesh_backoff_failed(struct mesh_backoff *b, uint64_t now_ms, uint32_t rand)
{
	if (b->up && now_ms - b->up_since_ms >= MESH_BACKOFF_RESET_AFTER_MS)
		mesh_backoff_init(b);
	b->up = false;

	uint32_t base = b->base_ms;
	/* jitter: base × (0.75 + 0.5 × rand / 2^32), in [0.75, 1.25); rand = 2^31 gives base */
	uint32_t delay = (uint32_t)(((uint64_t)base * ((3ull << 32) + 2ull * rand)) >> 34);

	b->failures++;
	uint64_t next = (uint64_t)base * 3 / 2;
	b->base_ms = next > MESH_BACKOFF_MAX_MS ? MESH_BACKOFF_MAX_MS : (uint32_t)next;
	return delay;
}
