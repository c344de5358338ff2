/* gossip/topo_summary.h: the topology summary (channel MESH_CHANNEL_TOPO_SUMMARY): every
 * entry's name, uid and version, so that two routers exchange only the entries one of them
 * lacks or has an older version of, instead of their full states. Pure: no I/O, no clock.
 *
 * A full state is every entry with its connections (~140 bytes an entry at 8 connections); a
 * summary is 22 bytes an entry, and what follows it only the entries that differ. When a link
 * comes back after a partition, the first links to heal carry the other side's changes, and
 * every later one finds the two sides equal but for a few entries.
 *
 * Wire format (big endian): flags(u8: MESH_TOPO_SUMMARY_NO_REPLY, other bits zero) count(u16,
 *   at most MESH_TOPO_MAX_PEERS) then count × { name(6) uid(u64) version(u64) }.
 * The receiver sends (on the topology channel) its entries that the summary lacks or has
 * older (merge order: higher version, then higher uid); and, unless the summary has
 * MESH_TOPO_SUMMARY_NO_REPLY, its own summary with that flag when the summary names an entry
 * it lacks or has older, so that the sender sends those. A new connection: each side sends a
 * summary with NO_REPLY (each sends its own anyway). A digest that differs: a summary without
 * it. Only to a peer whose HELLO has MESH_FEATURE_TOPO_SUMMARY; others get the full state. */
#ifndef MESH_GOSSIP_TOPO_SUMMARY_H
#define MESH_GOSSIP_TOPO_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gossip/topology.h"

#define MESH_TOPO_SUMMARY_NO_REPLY 0x01
#define MESH_TOPO_SUMMARY_HDR_LEN 3
#define MESH_TOPO_SUMMARY_ENTRY_LEN 22

/* Bytes mesh_topo_summary_encode needs for t. */
size_t mesh_topo_summary_size(const struct mesh_topology *t);
/* Our summary. Returns its length, or -EMSGSIZE when out is too small. */
ssize_t mesh_topo_summary_encode(const struct mesh_topology *t, uint8_t flags, uint8_t *out,
				 size_t cap);

/* What a received summary says against our topology. */
struct mesh_topo_summary_diff {
	uint8_t flags;      /* the summary's */
	size_t nsend;       /* our entries its sender lacks or has older: their names are in send */
	size_t nneed;       /* entries it names that we lack or have older */
};

/* Compares a received summary with t; send has room for t->n names. A name the summary
 * repeats counts once for send (the newest of its versions) and each time for nneed. 0, or
 * -EBADMSG with *why saying what was wrong (a static string; nothing written to d), or
 * -ENOMEM. */
int mesh_topo_summary_compare(const struct mesh_topology *t, const uint8_t *p, size_t len,
			      struct mesh_peer_name *send, struct mesh_topo_summary_diff *d,
			      const char **why);

#endif
