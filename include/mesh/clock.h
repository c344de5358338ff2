/* include/mesh/clock.h: the clocks of the whole tree, in milliseconds: monotonic (timeouts,
 * ages, rates) and wall clock (versions that must survive a restart: MAC locations, a
 * router's first topology version). Header-only, so mesh-cni links nothing for it. */
#ifndef MESH_CLOCK_H
#define MESH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mesh_clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static inline uint64_t mesh_mono_ms(void)
{
	return mesh_clock_ms(CLOCK_MONOTONIC);
}

/* Milliseconds since the epoch (CLOCK_REALTIME). */
static inline uint64_t mesh_wall_ms(void)
{
	return mesh_clock_ms(CLOCK_REALTIME);
}

#endif
