/* router/config.h: meshd's command line and environment, parsed into a config without I/O
 * (the password file is read later by meshd.c), so the parser can be unit-tested and fuzzed. */
#ifndef MESH_ROUTER_CONFIG_H
#define MESH_ROUTER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/ipam.h"
#include "mesh/addr.h"
#include "mesh/peer.h"
#include "router/allowfrom.h"
#include "router/ipam6.h"

#define MESH_MAX_PEERS_ARG 64
#define MESH_DEFAULT_BRIDGE "mesh"
#define MESH_DEFAULT_STATE_DIR "/var/lib/mesh"
#define MESH_DEFAULT_API_SOCKET "/run/mesh/meshd.sock"
#define MESH_DEFAULT_IPALLOC_RANGE "10.32.0.0/12"
#define MESH_DEFAULT_IPAM_RECLAIM_AFTER_MS (30ull * 60 * 1000)

enum mesh_log_level { MESH_LOG_ERROR, MESH_LOG_WARN, MESH_LOG_INFO, MESH_LOG_DEBUG };

struct mesh_peer_addr {
	char host[64];      /* IPv4 literal */
	uint16_t port;
};

/* Which fast path backend (DESIGN §7). */
enum mesh_fastdp_mode {
	MESH_FASTDP_AUTO = 0, /* the Open vSwitch datapath where it exists, else kernel VXLAN */
	MESH_FASTDP_ODP,
	MESH_FASTDP_VXLAN,
	MESH_FASTDP_OFF,      /* sleeve only */
};

struct mesh_config {
	bool have_name;
	struct mesh_peer_name name;
	char nickname[64];
	uint16_t port;
	char bridge[16];
	char state_dir[256];
	char api_socket[108];
	char *password;          /* from --password or MESH_PASSWORD (owned; wipe on free) */
	char password_file[256];
	char mesh_name[64];      /* salts the password's key; both ends must agree (default "mesh") */
	enum mesh_log_level log_level;
	bool keep_bridge;
	bool no_discovery;       /* connect only to the peers given, not to those gossip names */
	unsigned nallow;         /* --allow-from: control connections only from these (0: any) */
	struct mesh_cidr allow_from[MESH_ALLOW_FROM_MAX];
	bool expose;             /* the host gets an address on the bridge (router/expose.c) */
	bool masquerade;         /* NAT what containers send outside the subnet (router/expose.c) */
	unsigned conn_limit;     /* 0: default */
	bool metrics_off;
	struct mesh_peer_addr metrics; /* default 127.0.0.1:6782 */
	unsigned mtu;            /* 0: default */
	enum mesh_fastdp_mode fastdp;
	unsigned npeers;
	struct mesh_addr peers[MESH_MAX_PEERS_ARG]; /* either family (mesh/addr.h) */
	/* IPAM: --ipalloc-range, --ipalloc-default-subnet (the range when not given),
	 * --ipalloc-init (consensus=npeers+1 when not given), --ipam-reclaim-after (0 = never) */
	uint32_t ipalloc_start;
	uint8_t ipalloc_prefix;
	uint32_t ipalloc_subnet;
	uint8_t ipalloc_subnet_prefix;
	/* --ipalloc-range6 (default MESH_DEFAULT_IPALLOC_RANGE6; off): the IPv6 address of each
	 * allocation, derived from its IPv4 one (router/ipam6.h) */
	struct mesh_ipam6 ipalloc_range6;
	struct mesh_ipam_init ipalloc_init;
	char ipalloc_init_str[64];       /* as shown in the status: "consensus=2", "seed=..." */
	uint64_t ipam_reclaim_after_ms;
	/* Kubernetes (router/kube.c): the API server from --kubeconfig, else in-cluster when
	 * meshd runs in a pod, unless --no-kube */
	char kubeconfig[256];
	bool no_kube;
	char node_name[254];     /* this host's Node object (default: the nickname) */
	enum mesh_policy_mode { MESH_POLICY_ON = 0, MESH_POLICY_OFF } network_policy;
	enum mesh_policy_mcast { MESH_POLICY_MCAST_ALLOW = 0, MESH_POLICY_MCAST_DENY } policy_multicast;
	bool help, version;
};

enum mesh_config_result {
	MESH_CONFIG_OK = 0,
	MESH_CONFIG_USAGE = 2,   /* a bad flag or value: exit code 2 */
};

/* Parses argv (argv[0] is the program) and the environment value of MESH_PASSWORD (may be
 * NULL). --password's value is scrubbed from argv. On error returns MESH_CONFIG_USAGE with a
 * one-line message in err naming the flag and why. Call mesh_config_free() either way. */
int mesh_config_parse(struct mesh_config *cfg, int argc, char **argv, const char *env_password,
		      char *err, size_t errlen);
void mesh_config_free(struct mesh_config *cfg);
/* Parses "a.b.c.d" or "a.b.c.d:port" (the metrics address); 0 or -1. */
int mesh_parse_peer_addr(const char *s, uint16_t default_port, struct mesh_peer_addr *out);
const char *mesh_config_usage(void);
/* "90s", "30m", "1h", "2d" or plain seconds ("0" = 0) into ms; -1 when malformed or over 10
 * years. */
int mesh_parse_duration_ms(const char *s, uint64_t *ms);

#endif
