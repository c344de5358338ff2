/* include/mesh/clock.h: the clocks of the whole tree, in milliseconds (microseconds to time
 * work): monotonic (timeouts, ages, rates) and wall clock (versions that must survive a
 * restart: MAC locations, a router's first topology version). Header-only, so mesh-cni links
 * nothing for it. */
#ifndef MESH_CLOCK_H
#define MESH_CLOCK_H

#include <stdbool.h>
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

/* Microseconds of CLOCK_MONOTONIC, for timing work that takes milliseconds. */
static inline uint64_t mesh_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds from t to now; 0 for a t after now (a time taken later than `now` was). */
static inline uint64_t mesh_ms_since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

/* Milliseconds since the epoch (CLOCK_REALTIME). */
static inline uint64_t mesh_wall_ms(void)
{
	return mesh_clock_ms(CLOCK_REALTIME);
}

/* Gossip versions that are wall-clock ms (a router's topology version, a MAC location's) are
 * refused when further ahead of the receiver's clock than this: a conforming peer gets there
 * only with a clock that wrong, and a version taken from the far future (UINT64_MAX) would
 * pin its entry for good. So the hosts of a mesh must agree on the time within a day. */
#define MESH_VERSION_AHEAD_MAX_MS (24ull * 3600 * 1000)

static inline bool mesh_version_too_far_ahead(uint64_t version, uint64_t now_wall_ms)
{
	return version > now_wall_ms + MESH_VERSION_AHEAD_MAX_MS;
}

#endif
