/* fastdp/odp_path.h: the fast path on the Open vSwitch kernel datapath (DESIGN §7): datapath
 * `mesh-dp` with a netdev vport on a veth pair to the mesh bridge (`mesh-dpb` on the bridge,
 * an isolated port without learning, `mesh-dpd` in the datapath) and a VXLAN vport on UDP
 * 6784. Frames the datapath has no flow for come up as misses: heartbeat frames go to the
 * heartbeat handler, every other miss to the router's decision (which peers get it over VXLAN,
 * or the bridge), which this file turns into a flow (in_port + Ethernet addresses) and executes
 * for the packet at hand. Whenever the router's view changes, each flow is decided again and
 * those decided otherwise now are deleted (fastdp/flow_table.h); unused flows are swept every
 * 5 minutes. */
#ifndef MESH_FASTDP_ODP_PATH_H
#define MESH_FASTDP_ODP_PATH_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastdp/decide.h"

#define MESH_ODP_DP "mesh-dp"
#define MESH_ODP_BRIDGE_PORT "mesh-dpb"
#define MESH_ODP_DP_PORT "mesh-dpd"
#define MESH_ODP_SWEEP_S 300

struct mesh_odp_path_config {
	const char *bridge;
	uint16_t port;           /* VXLAN UDP port */
	uint32_t vni;
	unsigned mtu;            /* of the veth pair */
	void (*decide)(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d);
	void (*heartbeat)(void *arg, const uint8_t *frame, size_t len);
	void *arg;
};

struct mesh_odp_counters {
	uint64_t misses, flows_installed, flow_errors;
	uint64_t revalidations;  /* times the flows were decided again */
	uint64_t flows_stale;    /* flows deleted because they were decided otherwise */
	uint64_t flushes;        /* all flows deleted (more than were recorded) */
	uint64_t repairs;        /* datapath settings or vports another program changed, put back */
};

struct mesh_odp_path;

/* -ENOENT (err: "no openvswitch kernel module ...") where the datapath is not in the kernel. */
int mesh_odp_path_new(struct event_base *base, const struct mesh_odp_path_config *cfg,
		      struct mesh_odp_path **out, char *err, size_t errlen);
/* Removes the datapath and the veth pair. */
void mesh_odp_path_free(struct mesh_odp_path *p);
/* Sends a (heartbeat) frame to the host at remote_ip over the VXLAN vport. */
int mesh_odp_path_send(struct mesh_odp_path *p, const struct mesh_ip *remote_ip,
		       const uint8_t *frame, size_t len);
/* Makes bridge port ifname (the sleeve TAP) isolated from the datapath's port. */
int mesh_odp_path_isolate_port(struct mesh_odp_path *p, const char *ifname, char *err,
			       size_t errlen);
/* The bridge's sticky static entry for a remote MAC on the datapath's port. */
int mesh_odp_path_bridge_fdb(struct mesh_odp_path *p, bool add, const uint8_t mac[6], char *err,
			     size_t errlen);
/* Decisions may have changed: deletes the flows that are decided otherwise now (all of them
 * when there were more than could be recorded). */
void mesh_odp_path_revalidate(struct mesh_odp_path *p);
const struct mesh_odp_counters *mesh_odp_path_counters(const struct mesh_odp_path *p);
/* The last flow or execute failure, "" when none. */
const char *mesh_odp_path_last_error(const struct mesh_odp_path *p);
/* Flows in the datapath: the flows installed and not deleted since (a dump of the datapath
 * when more were installed than could be recorded), or a negative errno. */
int mesh_odp_path_flow_count(struct mesh_odp_path *p);

#endif
