/* fastdp/fastdp.h: the kernel fast path (DESIGN §7) as one overlay with two backends: the
 * Open vSwitch datapath (odp mode, fastdp/odp_path.h) or, where that module is missing, a
 * kernel VXLAN device on the bridge (fastdp/vxlan_dev.h). Frames between containers and peers
 * never pass through meshd: the device's FDB, or the datapath's flows, say which peer's
 * underlay address gets a remote MAC's frames (programmed by the router through
 * mesh_fastdp_program). What this file does itself is tell, per connection, whether that
 * path works: MTU-sized heartbeat frames sent through it to the peer and acknowledged over
 * TCP (fastdp/heartbeat.h). Implements struct overlay_ops; send and deliver are NULL.
 * This header is all the router sees of the fast path: the backends' own headers stay
 * inside fastdp/. */
#ifndef MESH_FASTDP_FASTDP_H
#define MESH_FASTDP_FASTDP_H

#include <event2/event.h>
#include <stdint.h>

#include "fastdp/decide.h"
#include "fastdp/fdb_plan.h"
#include "mesh/overlay.h"

#define MESH_VXLAN_DEFAULT_PORT 6784
#define MESH_VXLAN_DEV "mesh-vxlan"
#define MESH_VXLAN6_DEV "mesh-vxlan6"   /* peers reached over IPv6 (issue 18) */
#define MESH_VXLAN_VNI 0x6d6573          /* "mes" */
/* outer IPv4 + UDP + VXLAN header + inner Ethernet header */
#define MESH_VXLAN_OVERHEAD (20 + 8 + 8 + 14)
/* the same over an IPv6 underlay: the IPv6 header is 20 bytes longer */
#define MESH_VXLAN6_OVERHEAD (40 + 8 + 8 + 14)
/* the heartbeats' pace: fastdp/heartbeat.h */
#define MESH_FASTDP_HEALTH_TIMEOUT_MS 3500
#define MESH_FASTDP_GUARD_MS 2000          /* encrypted: the filter table and block policy checked */

struct mesh_fastdp;

struct mesh_fastdp_config {
	const char *bridge;       /* the mesh bridge, which the device joins */
	const char *tap_name;     /* the sleeve's TAP port, isolated from the device */
	uint16_t port;            /* UDP port (6784) */
	unsigned mtu;             /* the device's MTU: the most any container may use */
	struct mesh_peer_name local_name;
	uint64_t local_uid;
	/* The Open vSwitch datapath instead of a VXLAN device (fastdp/odp_path.h): misses are
	 * decided by `decide` (with the callbacks' arg); the FDB entries programmed become the
	 * bridge's entries towards the datapath, and any change flushes the flows. */
	bool odp;
	/* An encrypted mesh: every connection's VXLAN goes through kernel IPsec ESP with keys of
	 * its own (fastdp/xfrm.h), and VXLAN that did not come through ESP is dropped
	 * (fastdp/ipsec_filter.h). Creation fails with -EPROTONOSUPPORT where the kernel has no
	 * IPsec ESP with AES-GCM. */
	bool encrypt;
	void (*decide)(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d);
};

struct mesh_fastdp_counters {
	uint64_t hb_tx, hb_rx, hb_bad, hb_unknown, fdb_changes, fdb_errors;
	uint64_t fdb_entries;     /* container MACs and flood entries programmed now */
	uint64_t xfrm_purged;     /* IPsec SAs and policies a killed meshd left, deleted at start */
	uint64_t ipsec_repairs;   /* the unencrypted-VXLAN filter found missing and put back */
	uint64_t ipsec_repair_errors;
};

/* A peer's tunnel address from its socket address: IPv4, IPv6, or IPv4 mapped into IPv6 (a
 * peer on the dual-stack socket) as IPv4. 0, or -EAFNOSUPPORT / -EADDRNOTAVAIL (unspecified). */
int mesh_fastdp_tunnel_addr(const struct sockaddr_storage *ss, struct mesh_ip *out);

/* Creates the device and the heartbeat socket (or the datapath). NULL with err filled in, and
 * *errnum the negative errno (-ENOENT: no openvswitch module, in odp mode). */
struct mesh_fastdp *mesh_fastdp_new(struct event_base *base, const struct mesh_fastdp_config *cfg,
				  const struct overlay_callbacks *cb, int *errnum, char *err,
				  size_t errlen);
/* In an encrypted mesh: how many VXLAN packets arrived outside ESP and were dropped (read
 * from the kernel). -ENOENT without a password. */
int mesh_fastdp_unencrypted_drops(const struct mesh_fastdp *v, uint64_t *packets);
/* Whether the backend is the Open vSwitch datapath (else the kernel VXLAN device). */
bool mesh_fastdp_is_odp(const struct mesh_fastdp *v);
/* "" when the IPsec filter drops VXLAN from any SA but mesh's own; else why it only drops VXLAN
 * outside ESP (a kernel without nft_xfrm), for the log. */
const char *mesh_fastdp_filter_note(const struct mesh_fastdp *v);
/* "" when peers reached over IPv6 can use the fast path too; else why not (no IPv6 VXLAN
 * device, or no IPsec block policy for IPv6), for the log. Those connections stay on the
 * sleeve and say the same. */
const char *mesh_fastdp_ipv6_note(const struct mesh_fastdp *v);
/* The backend's kernel object (the datapath, or the VXLAN device), for logs. */
const char *mesh_fastdp_device(const struct mesh_fastdp *v);
/* The backend's port on the bridge (the datapath's veth end, or the VXLAN device). */
const char *mesh_fastdp_bridge_port(const struct mesh_fastdp *v);

/* The datapath's figures (odp mode). */
struct mesh_fastdp_odp_stats {
	int flows;                /* installed now, or a negative errno */
	uint64_t misses, flow_errors;
	uint64_t flushes;         /* all flows deleted (more than were recorded) */
	uint64_t revalidations;   /* times the flows were decided again */
	uint64_t flows_stale;     /* flows deleted because they were decided otherwise */
	uint64_t repairs;         /* datapath settings or vports another program changed, put back */
	const char *last_error;   /* the last flow or execute failure, "" when none */
};
/* 0, or -ENOENT when the backend is not the datapath. */
int mesh_fastdp_odp_stats(struct mesh_fastdp *v, struct mesh_fastdp_odp_stats *out);
/* Removes the device (and with it every FDB entry). */
void mesh_fastdp_free(struct mesh_fastdp *v);
struct overlay *mesh_fastdp_overlay(struct mesh_fastdp *v);
const struct mesh_fastdp_counters *mesh_fastdp_counters(const struct mesh_fastdp *v);

/* The MTU containers are given now (a path may carry less than the device's): heartbeats are
 * that size. The device keeps its MTU, so that containers attached earlier are not cut off;
 * their larger frames leave as fragmented VXLAN packets. */
void mesh_fastdp_set_mtu(struct mesh_fastdp *v, unsigned mtu);
/* Makes the device's FDB hold exactly `want` (container MACs and flood entries; sorted and
 * de-duplicated in place), changing only what differs from what was programmed before.
 * Returns the number of entries that could not be changed (0: all done); err holds the last
 * failure. */
size_t mesh_fastdp_program(struct mesh_fastdp *v, struct mesh_fdb_entry *want, size_t n,
			  char *err, size_t errlen);

#endif
