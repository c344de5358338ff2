/* fastdp/odp_codec.h: the Open vSwitch kernel datapath's generic-netlink messages (families
 * ovs_datapath, ovs_vport, ovs_flow, ovs_packet; <linux/openvswitch.h>), built and parsed
 * without I/O so that they can be tested against bytes captured from a real kernel.
 *
 * Only what meshd uses is modelled: a datapath (name, upcall PID, features, stats), vports
 * (netdev, internal, VXLAN with its UDP port, per-vport upcall PIDs), flows keyed on in_port,
 * Ethernet source/destination and the VXLAN tunnel (id, outer IPv4 or IPv6 addresses, TTL), with
 * output and set-tunnel actions, and miss upcalls / execute requests. Anything else a reply
 * carries is skipped. Every parser checks every length against the message it was given and
 * names the family, command and attribute of what it refuses. Addresses are in network order,
 * the tunnel id in host order. */
#ifndef MESH_FASTDP_ODP_CODEC_H
#define MESH_FASTDP_ODP_CODEC_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_msg;

#define ODP_NAME_MAX 16          /* IFNAMSIZ */
#define ODP_MAX_PIDS 16
#define ODP_MAX_ACTIONS 64
#define ODP_WHY_LEN 160

struct odp_tunnel {
	bool present;
	uint64_t id;                 /* VNI in the low 24 bits for VXLAN */
	uint32_t ipv4_src, ipv4_dst;
	bool ipv6;                   /* outer IPv6: ipv6_src/dst instead of ipv4_src/dst */
	uint8_t ipv6_src[16], ipv6_dst[16];
	uint8_t ttl, tos;
};

struct odp_flow_key {
	bool has_in_port, has_eth, has_ethertype;
	uint32_t in_port;
	uint8_t eth_src[6], eth_dst[6];
	uint16_t ethertype;          /* host order */
	struct odp_tunnel tun;
};

enum odp_action_kind { ODP_ACTION_OUTPUT = 1, ODP_ACTION_SET_TUNNEL = 2 };

struct odp_action {
	enum odp_action_kind kind;
	uint32_t port;               /* OUTPUT */
	struct odp_tunnel tun;       /* SET_TUNNEL */
};

struct odp_actions {
	size_t n;
	struct odp_action a[ODP_MAX_ACTIONS];
	size_t unknown;              /* actions of other kinds seen in a reply (skipped) */
};

struct odp_dp {
	int dp_ifindex;
	char name[ODP_NAME_MAX];
	uint32_t upcall_pid;
	bool has_features, has_stats;
	uint32_t features;           /* OVS_DP_F_* */
	uint64_t n_hit, n_missed, n_lost, n_flows;
};

struct odp_vport {
	int dp_ifindex;
	bool has_port_no;
	uint32_t port_no;
	uint32_t type;               /* OVS_VPORT_TYPE_* */
	char name[ODP_NAME_MAX];
	size_t npids;
	uint32_t pids[ODP_MAX_PIDS];
	uint16_t dst_port;           /* VXLAN: UDP port, host order; 0 when absent */
	int ifindex;                 /* 0 when absent */
};

struct odp_flow {
	int dp_ifindex;
	bool has_key, has_mask, has_actions, has_stats, has_used;
	struct odp_flow_key key, mask;
	struct odp_actions actions;
	uint64_t n_packets, n_bytes;
	uint64_t used_ms;            /* monotonic ms of the last packet; 0: never */
};

struct odp_upcall {
	int dp_ifindex;
	uint8_t cmd;                 /* OVS_PACKET_CMD_MISS or _ACTION */
	const uint8_t *packet;       /* points into the parsed message */
	size_t len;
	struct odp_flow_key key;
};

/* --- builders: a whole request into an empty nl_msg (nlmsg_alloc) ------------------------
 * `family` is the id genl_ctrl_resolve gave for the family; flags are NLM_F_* beyond
 * NLM_F_REQUEST (e.g. NLM_F_ACK, NLM_F_DUMP, NLM_F_CREATE). 0 or -ENOMEM / -EINVAL. */
int odp_build_dp(struct nl_msg *m, int family, uint8_t cmd, int flags, const struct odp_dp *dp);
int odp_build_vport(struct nl_msg *m, int family, uint8_t cmd, int flags,
		    const struct odp_vport *v);
/* key, mask and actions go in when has_key / has_mask / has_actions; a DEL without a key
 * flushes every flow. */
int odp_build_flow(struct nl_msg *m, int family, uint8_t cmd, int flags, const struct odp_flow *f);
int odp_build_execute(struct nl_msg *m, int family, int dp_ifindex, const uint8_t *packet,
		      size_t len, const struct odp_flow_key *key, const struct odp_actions *act);

/* --- parsers: one whole message (len bytes from h, len >= h->nlmsg_len) ----------------
 * 0; -errno for an NLMSG_ERROR reply carrying an error (why names it); -EBADMSG with why for
 * a malformed or unexpected message. */
int odp_parse_dp(const struct nlmsghdr *h, size_t len, struct odp_dp *out, char *why,
		 size_t cap);
int odp_parse_vport(const struct nlmsghdr *h, size_t len, struct odp_vport *out, char *why,
		    size_t cap);
int odp_parse_flow(const struct nlmsghdr *h, size_t len, struct odp_flow *out, char *why,
		   size_t cap);
int odp_parse_upcall(const struct nlmsghdr *h, size_t len, struct odp_upcall *out, char *why,
		     size_t cap);

#endif
