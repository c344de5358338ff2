/* sleeve/pmtu.h: path MTU discovery for one sleeve connection (DESIGN §7), a pure state
 * machine: it says which datagram size to probe next (sent with DF set), and learns from
 * answered and unanswered probes. The largest full-size datagram is tried first (most paths
 * carry it), then a binary search between the largest size known to pass and the smallest
 * known to fail. Sizes are UDP payload bytes. */
#ifndef MESH_SLEEVE_PMTU_H
#define MESH_SLEEVE_PMTU_H

#include <stdbool.h>
#include <stdint.h>

#define SLEEVE_PMTU_TRIES 2        /* unanswered probes of one size before it counts as lost */
#define SLEEVE_PMTU_PRECISION 1    /* stop when the bounds are this close */
/* The floor of the search: the UDP payload every path of the family carries (IPv4's 576-byte
 * minimum, IPv6's 1280, less the IP and UDP headers). */
#define SLEEVE_PMTU_FLOOR_V4 (576 - 20 - 8)
#define SLEEVE_PMTU_FLOOR_V6 (1280 - 40 - 8)

struct sleeve_pmtu {
	uint16_t ok;     /* largest size verified (starts at the floor everyone must carry) */
	uint16_t fail;   /* smallest size known to be lost, or max + 1 */
	uint16_t max;
	uint16_t probe;  /* size being probed, 0 when done */
	unsigned tries;
};

void sleeve_pmtu_init(struct sleeve_pmtu *p, uint16_t floor, uint16_t max);
/* Size to probe now (0: search finished). Counts an attempt. */
uint16_t sleeve_pmtu_next(struct sleeve_pmtu *p);
/* A probe of `size` was answered. */
void sleeve_pmtu_acked(struct sleeve_pmtu *p, uint16_t size);
/* The probe in flight went unanswered (timeout), or the kernel refused it (EMSGSIZE). */
void sleeve_pmtu_lost(struct sleeve_pmtu *p, bool refused_locally);
bool sleeve_pmtu_done(const struct sleeve_pmtu *p);

#endif
