/* router/ratelimit.h: a token bucket (pure: time comes in as an argument), used to limit how
 * fast meshd accepts control connections (DESIGN §4.7). */
#ifndef MESH_ROUTER_RATELIMIT_H
#define MESH_ROUTER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct mesh_ratelimit {
	uint32_t rate_per_s;   /* tokens added per second */
	uint32_t burst;        /* bucket size */
	uint64_t tokens_milli; /* tokens × 1000 */
	uint64_t last_ms;
};

void mesh_ratelimit_init(struct mesh_ratelimit *rl, uint32_t rate_per_s, uint32_t burst, uint64_t now_ms);
/* Takes one token if there is one: true when the event may go ahead. */
bool mesh_ratelimit_take(struct mesh_ratelimit *rl, uint64_t now_ms);

#endif
