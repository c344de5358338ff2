/* crypto/replay.h: the anti-replay window for counter-nonce datagrams (DESIGN §7),
 * a bitmap window in the style of RFC 6479. Pure logic, no I/O.
 * Use: mesh_replay_check() before opening a datagram (cheap reject), mesh_replay_accept()
 * only after it authenticated, so forged counters cannot move the window. */
#ifndef MESH_CRYPTO_REPLAY_H
#define MESH_CRYPTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define MESH_REPLAY_BITS 8192 /* window size in packets; a power of two, multiple of 64 */

struct mesh_replay {
	uint64_t top;  /* highest counter accepted so far, valid when `any` */
	bool any;
	uint64_t bitmap[MESH_REPLAY_BITS / 64];
};

enum mesh_replay_verdict {
	MESH_REPLAY_OK = 0,
	MESH_REPLAY_DUPLICATE = -1, /* seen already */
	MESH_REPLAY_TOO_OLD = -2,   /* fell out of the window */
	MESH_REPLAY_INVALID = -3,   /* UINT64_MAX: never sent by a conforming sender */
};

void mesh_replay_init(struct mesh_replay *r);
enum mesh_replay_verdict mesh_replay_check(const struct mesh_replay *r, uint64_t counter);
/* Checks again and records the counter; returns the verdict (nothing recorded unless OK). */
enum mesh_replay_verdict mesh_replay_accept(struct mesh_replay *r, uint64_t counter);
const char *mesh_replay_verdict_str(enum mesh_replay_verdict v);
/* Whether counter lies more than a whole window beyond the highest accepted (beyond
 * MESH_REPLAY_BITS while none was): a conforming sender gets there only after a window's
 * worth of its datagrams in a row was lost. Such a counter is fine for a datagram that is
 * opened at once (only one that authenticates moves the window), but must not take any
 * state that outlives a forged datagram, such as a reassembly in progress. */
bool mesh_replay_far_ahead(const struct mesh_replay *r, uint64_t counter);

#endif
