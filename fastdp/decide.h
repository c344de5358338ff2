/* fastdp/decide.h: the question the Open vSwitch datapath asks the router about a frame it
 * has no flow for, and the router's answer (DESIGN §7). Shared by the datapath
 * (fastdp/odp_path.h, fastdp/flow_table.h) and, through fastdp/fastdp.h, the router. */
#ifndef MESH_FASTDP_DECIDE_H
#define MESH_FASTDP_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MESH_ODP_MAX_TARGETS 64

/* A peer's underlay (tunnel) address as the fast path uses it: IPv4 or IPv6, no port (issue
 * 18). Bytes only, so it has no padding and compares with memcmp. IPv4: the first 4 bytes of
 * a, network order, the rest zero. */
struct mesh_ip {
	uint8_t family;          /* AF_INET or AF_INET6 (0: none) */
	uint8_t a[16];
};

static inline struct mesh_ip mesh_ip_v4(uint32_t ip_be)
{
	struct mesh_ip x = { .family = AF_INET };
	__builtin_memcpy(x.a, &ip_be, 4);
	return x;
}

static inline struct mesh_ip mesh_ip_v6(const uint8_t a[16])
{
	struct mesh_ip x = { .family = AF_INET6 };
	__builtin_memcpy(x.a, a, 16);
	return x;
}

static inline uint32_t mesh_ip_ipv4(const struct mesh_ip *x)
{
	uint32_t ip = 0;
	if (x->family == AF_INET)
		__builtin_memcpy(&ip, x->a, 4);
	return ip;
}

static inline bool mesh_ip_is_v6(const struct mesh_ip *x)
{
	return x->family == AF_INET6;
}

static inline int mesh_ip_cmp(const struct mesh_ip *x, const struct mesh_ip *y)
{
	return __builtin_memcmp(x, y, sizeof(*x));
}

/* A frame the datapath had no flow for. */
struct mesh_odp_miss {
	bool from_tunnel;        /* came in over VXLAN (else from the bridge) */
	struct mesh_ip tun_src;  /* the sending host's address, from_tunnel */
	uint8_t eth_src[6], eth_dst[6];
};

/* What the router wants done with such frames. */
struct mesh_odp_decision {
	bool to_bridge;          /* hand it to the bridge (containers on this host) */
	size_t n;                /* and send it over VXLAN to these hosts */
	struct mesh_ip peer_ips[MESH_ODP_MAX_TARGETS];
};

#endif
