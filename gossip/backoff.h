/* gossip/backoff.h: reconnect backoff for one peer address (DESIGN §4.7), a pure state
 * machine in the spirit of Open vSwitch's reconnect.c: 2 s, ×1.5 per failure, capped at
 * 6 min, jittered; a connection that stayed up for 1 min resets it. Times are in ms from any
 * monotonic origin; randomness comes in as an argument so tests are exact. */
#ifndef MESH_GOSSIP_BACKOFF_H
#define MESH_GOSSIP_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define MESH_BACKOFF_INITIAL_MS 2000u
#define MESH_BACKOFF_MAX_MS (6u * 60u * 1000u)
#define MESH_BACKOFF_RESET_AFTER_MS (60u * 1000u)

struct mesh_backoff {
	uint32_t base_ms;      /* delay before jitter for the next attempt */
	uint32_t failures;     /* consecutive failed attempts */
	bool up;
	uint64_t up_since_ms;
};

void mesh_backoff_init(struct mesh_backoff *b);
/* A connection attempt or an established connection ended at now_ms. Returns the delay in ms
 * before the next attempt: base ±25 % chosen by rand (any 32-bit value). */
uint32_t mesh_backoff_failed(struct mesh_backoff *b, uint64_t now_ms, uint32_t rand);
/* The peer asked us to stay away a while (it is full): the next delays start at min_ms at
 * least (capped at the maximum). */
void mesh_backoff_hold(struct mesh_backoff *b, uint32_t min_ms);
/* The connection came up (handshake done) at now_ms. */
void mesh_backoff_up(struct mesh_backoff *b, uint64_t now_ms);

#endif
