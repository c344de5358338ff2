/* gossip/wire.h: constants of the control protocol on TCP 6783 (DESIGN §4).
 *
 * Byte stream, per side:
 *   VERSION  "MESH" min_version(u8) max_version(u8)                       6 bytes
 *   KEY      flags(u8: bit0 = password set, bit1 = mesh name follows) x25519_pk(32) name(6)
 *            nick_len(u8) nickname(nick_len, at most 63)
 *            [mesh_len(u8) mesh_name(mesh_len, 1..63), when bit1]         40..168 bytes
 * The mesh name (--mesh-name) salts the password's key and must be the same on both sides. It
 * is sent with a password always, without one when it is not the default "mesh"; a KEY
 * without it names the default mesh, and is refused with a password (a meshd from before mesh
 * names, whose key is not salted).
 *   then frames: length(u32 BE, 1..1 MiB) body(length)
 * Both sides send VERSION and KEY at once (no extra round trip); VERSION is checked before KEY
 * is parsed. Name and nickname travel in clear in KEY so that a refused peer (wrong password)
 * can still be named in logs; everything after KEY is sealed when a password is set.
 * A frame body, once opened, is msg_type(u8) followed by the message's TLVs
 * (tag u8, length u16 BE, value); unknown tags are skipped, malformed TLVs close the connection.
 * The first frame from each side is HELLO; its sealed form under the TCP key with counter 0
 * doubles as the password check. */
#ifndef MESH_GOSSIP_WIRE_H
#define MESH_GOSSIP_WIRE_H

#include "mesh/overlay.h" /* the overlay ids of HELLO and of MESH_MSG_OVERLAY */

#define MESH_MAGIC "MESH"
#define MESH_MAGIC_LEN 4
#define MESH_PROTO_MIN 1
#define MESH_PROTO_MAX 1
#define MESH_VERSION_MSG_LEN 6

#define MESH_KEY_FLAG_PASSWORD 0x01
#define MESH_KEY_FLAG_MESH_NAME 0x02
#define MESH_NICKNAME_MAX 63
#define MESH_MESH_NAME_MAX 63
#define MESH_DEFAULT_MESH_NAME "mesh"
#define MESH_KEY_MSG_MIN (1 + 32 + 6 + 1)
#define MESH_KEY_MSG_MAX (MESH_KEY_MSG_MIN + MESH_NICKNAME_MAX + 1 + MESH_MESH_NAME_MAX)

#define MESH_FRAME_HDR_LEN 4
#define MESH_FRAME_MAX (1u << 20)

enum mesh_msg_type {
	MESH_MSG_HELLO = 1,
	MESH_MSG_HEARTBEAT = 2,
	MESH_MSG_GOSSIP = 3,
	MESH_MSG_GOSSIP_UNICAST = 4,
	MESH_MSG_GOSSIP_BROADCAST = 5,
	MESH_MSG_OVERLAY = 6,
	/* Why the sender is closing this connection right after the handshake (plain text, at most
	 * MESH_REFUSED_MAX bytes): sent when its --conn-limit is reached, after its topology, so
	 * that the refused peer learns whom else to connect to. Older versions ignore it. */
	MESH_MSG_REFUSED = 7,
};
#define MESH_REFUSED_MAX 160

/* Channels of MESH_MSG_GOSSIP: the message's first byte (DESIGN §5); each channel's encoding
 * is in gossip/topology.h (topology and its digest), gossip/macs.h, gossip/ipam.h. Unknown
 * channels are ignored. */
enum mesh_gossip_channel {
	MESH_CHANNEL_TOPOLOGY = 1,
	MESH_CHANNEL_MACS = 2,
	MESH_CHANNEL_IPAM = 3,
	MESH_CHANNEL_TOPO_DIGEST = 4, /* the periodic round of the topology (gossip/topology.h) */
	MESH_CHANNEL_TOPO_SUMMARY = 5,/* each entry's name, uid and version (gossip/topo_summary.h);
				       * only to a peer whose HELLO has MESH_FEATURE_TOPO_SUMMARY */
};
#define MESH_CHANNEL_MAX 5

/* HELLO tags */
enum mesh_hello_tag {
	MESH_HELLO_NAME = 1,       /* 6 bytes */
	MESH_HELLO_NICKNAME = 2,   /* 1..63 bytes, printable ASCII */
	MESH_HELLO_UID = 3,        /* u64 */
	MESH_HELLO_SHORT_ID = 4,   /* u16, 12 bits used */
	MESH_HELLO_CONN_ID = 5,    /* u64, chosen by the client */
	MESH_HELLO_OVERLAYS = 6,   /* u8 bitmask, enum mesh_overlay_bit (mesh/overlay.h) */
	MESH_HELLO_SLEEVE_PORT = 7,/* u16 */
	MESH_HELLO_SLEEVE_INDEX = 8,/* u32: index to put in sleeve datagrams sent to this side */
	MESH_HELLO_CONFIRM = 9,    /* 32 bytes: key confirmation tag */
	MESH_HELLO_FULL = 10,      /* u16, optional: the server's --conn-limit, sent when it will
	                            * refuse this connection for it (then its topology and
	                            * MESH_MSG_REFUSED follow, and it closes) */
	MESH_HELLO_RANGE6 = 11,    /* 17 bytes, optional: the sender's --ipalloc-range6, its base
	                            * (16, host bits zero) then its prefix length (8..96); absent
	                            * when off. Told apart only to say when two hosts disagree */
	MESH_HELLO_FEATURES = 12,  /* u32, optional (absent: 0): what the sender understands,
	                            * enum mesh_feature; unknown bits are ignored */
};

/* Bits of MESH_HELLO_FEATURES. A router uses a feature with a peer only when the peer's HELLO
 * has its bit, so a mesh may mix versions. */
enum mesh_feature {
	/* topology summaries (MESH_CHANNEL_TOPO_SUMMARY): a new connection, or a neighbour whose
	 * digest differs, gets a summary and then only the entries it lacks, not the full state */
	MESH_FEATURE_TOPO_SUMMARY = 0x1,
};
#define MESH_FEATURES_OURS ((uint32_t)MESH_FEATURE_TOPO_SUMMARY)

#endif
