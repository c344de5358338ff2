/* fastdp/decide.h: the question the Open vSwitch datapath asks the router about a frame it
 * has no flow for, and the router's answer (DESIGN §7). Shared by the datapath
 * (fastdp/odp_path.h, fastdp/flow_table.h) and, through fastdp/fastdp.h, the router. */
#ifndef MESH_FASTDP_DECIDE_H
#define MESH_FASTDP_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_ODP_MAX_TARGETS 64

/* A frame the datapath had no flow for. */
struct mesh_odp_miss {
	bool from_tunnel;        /* came in over VXLAN (else from the bridge) */
	uint32_t tun_src;        /* the sending host's address (network order), from_tunnel */
	uint8_t eth_src[6], eth_dst[6];
};

/* What the router wants done with such frames. */
struct mesh_odp_decision {
	bool to_bridge;          /* hand it to the bridge (containers on this host) */
	size_t n;                /* and send it over VXLAN to these hosts */
	uint32_t peer_ips[MESH_ODP_MAX_TARGETS];
};

#endif
