/* sleeve/sleeve.h: the sleeve data path (DESIGN §7): frames from the TAP device go out as
 * batched UDP datagrams, sealed per connection; datagrams from peers are checked (index,
 * replay window, authentication) and their frames handed to the router. Heartbeats on the
 * UDP path tell each connection's health. Implements struct overlay_ops. */
#ifndef MESH_SLEEVE_SLEEVE_H
#define MESH_SLEEVE_SLEEVE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "mesh/overlay.h"

#define SLEEVE_DEFAULT_PORT 6783
#define SLEEVE_UNDERLAY_MTU 1500
/* IPv4 + UDP + sleeve header + MAC + one record header + Ethernet header */
#define SLEEVE_OVERHEAD (20 + 8 + 16 + 16 + 24 + 14)
#define SLEEVE_DEFAULT_MTU (SLEEVE_UNDERLAY_MTU - SLEEVE_OVERHEAD) /* 1402 */
/* Over an IPv6 underlay the IP header is this much longer (40 bytes, not 20): a 1500-byte
 * IPv6 path carries containers 20 bytes less */
#define SLEEVE_IPV6_EXTRA (40 - 20)

/* Largest super-frame: what fits one UDP datagram with the header, MAC and record header. */
#define SLEEVE_FRAME_MAX (65507 - 16 - 16 - 24)
/* gso_max_size for the TAP and the containers' links, so the kernel never hands over a larger
 * super-frame: 64000 lets one, cut into 1500-byte-path fragments with their 20-byte headers,
 * still go out as one UDP GSO send of at most 64 KB (and so come back as one read). */
#define SLEEVE_TAP_GSO_MAX 64000

#define SLEEVE_HEARTBEAT_FAST_MS 500
#define SLEEVE_HEARTBEAT_SLOW_MS 1000
#define SLEEVE_HEARTBEAT_LATE_MS 250 /* an answer later than this is taken as lost */
#define SLEEVE_HEALTH_TIMEOUT_MS 4000

struct sleeve;

struct sleeve_config {
	uint16_t port;               /* UDP port to bind */
	const char *tap_name;        /* e.g. "mesh-tap" */
	unsigned mtu;                /* IP MTU of the overlay (TAP MTU) */
};

struct sleeve_counters {
	uint64_t rx_datagrams, tx_datagrams, rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t drop_replay, drop_auth, drop_malformed, drop_unknown_conn, drop_tx_full,
		drop_mtu, drop_tap;
	uint64_t drop_offload; /* frames from peers with an offload state the TAP must not get */
	uint64_t tap_writes;   /* writes to the TAP (a coalesced run of frames is one) */
	uint64_t rx_coalesced; /* received frames written to the TAP as part of a run */
	uint64_t rx_in_place;  /* fragmented datagrams read in one piece and opened where they lay */
};

/* Opens the TAP device and binds the UDP socket. Returns NULL with err filled in. */
struct sleeve *sleeve_new(struct event_base *base, const struct sleeve_config *cfg,
			  const struct overlay_callbacks *cb, char *err, size_t errlen);
void sleeve_free(struct sleeve *s);

struct overlay *sleeve_overlay(struct sleeve *s);
const struct sleeve_counters *sleeve_counters(const struct sleeve *s);
const char *sleeve_tap_name(const struct sleeve *s);
int sleeve_tap_fd(const struct sleeve *s);
uint16_t sleeve_port(const struct sleeve *s);
/* Turns TCP super-frames (TSO on the TAP) on or off. They travel as one datagram that the
 * kernel fragments at the local link's MTU, so they are only safe while every path carries
 * full-size packets. */
int sleeve_set_tso(struct sleeve *s, bool on);
/* Whether received UDP frames of one flow are joined into one UDP GSO write to the TAP
 * (gro.h): the kernel must take such frames from a TAP (Linux 6.2 and later). */
bool sleeve_coalesces(const struct sleeve *s);

#endif
