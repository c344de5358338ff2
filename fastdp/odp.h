/* fastdp/odp.h: a client of the Open vSwitch kernel datapath over generic netlink (libnl-genl
 * sockets; messages from fastdp/odp_codec.h): resolve the four families, create or adopt a
 * datapath, add, look up and remove vports, install, delete, flush and dump flows, execute a
 * packet, and receive miss upcalls on a socket of their own. Each call is synchronous and
 * returns 0 or a negative errno with err naming the family, the command and the kernel's
 * answer. No event loop: the router watches odp_upcall_fd(). */
#ifndef MESH_FASTDP_ODP_H
#define MESH_FASTDP_ODP_H

#include <stddef.h>
#include <stdint.h>

#include <linux/openvswitch.h>

#include "fastdp/odp_codec.h"

struct odp_client {
	struct nl_sock *sk;          /* requests and their replies */
	struct nl_sock *upcall_sk;   /* miss upcalls (its port is the vports' upcall PID) */
	int fam_dp, fam_vport, fam_flow, fam_packet;
	int dp_ifindex;
	char dp_name[ODP_NAME_MAX];
	/* optional: sees every reply message before it is parsed (tests capture kernel bytes) */
	void (*trace)(void *arg, const struct nlmsghdr *h);
	void *trace_arg;
};

/* Resolves the families. -ENOENT (err: "no openvswitch kernel module") when the datapath is
 * not in this kernel. */
int odp_open(struct odp_client *c, char *err, size_t errlen);
void odp_close(struct odp_client *c);

#define ODP_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS)

/* Adopts datapath `name` if it exists, else creates it (features ODP_FEATURES: unaligned
 * attributes and per-vport upcall PIDs). */
int odp_dp_ensure(struct odp_client *c, const char *name, char *err, size_t errlen);
int odp_dp_delete(struct odp_client *c, char *err, size_t errlen);
/* Reads our datapath's settings back. */
int odp_dp_get(struct odp_client *c, struct odp_dp *out, char *err, size_t errlen);
/* Sets its user features (OVS_DP_F_*). */
int odp_dp_set_features(struct odp_client *c, uint32_t features, char *err, size_t errlen);
/* Points vport port_no's upcalls at our upcall socket again. */
int odp_vport_set_upcall(struct odp_client *c, uint32_t port_no, char *err, size_t errlen);

/* Adds a vport (v->name, v->type, and for VXLAN v->dst_port); its upcalls go to our upcall
 * socket. On success v holds what the kernel made (port number). A VXLAN port whose UDP port
 * is busy (-EADDRINUSE) is retried a few times, 100 ms apart. */
int odp_vport_add(struct odp_client *c, struct odp_vport *v, char *err, size_t errlen);
int odp_vport_get(struct odp_client *c, const char *name, struct odp_vport *out, char *err,
		  size_t errlen);
int odp_vport_del(struct odp_client *c, uint32_t port_no, char *err, size_t errlen);

/* Installs (creating or replacing) a flow: f->key, f->mask and f->actions. */
int odp_flow_put(struct odp_client *c, const struct odp_flow *f, char *err, size_t errlen);
/* Deletes the flow with exactly this key (and mask); with key NULL, every flow. */
int odp_flow_del(struct odp_client *c, const struct odp_flow_key *key,
		 const struct odp_flow_key *mask, char *err, size_t errlen);
/* Calls fn for every flow of the datapath; fn returns 0 to go on. Returns the number of flows
 * or a negative errno. */
int odp_flow_dump(struct odp_client *c, int (*fn)(void *arg, const struct odp_flow *f),
		  void *arg, char *err, size_t errlen);
int odp_execute(struct odp_client *c, const uint8_t *packet, size_t len,
		const struct odp_flow_key *key, const struct odp_actions *act, char *err,
		size_t errlen);

/* The upcall socket's fd (non-blocking) and its netlink port id. */
int odp_upcall_fd(const struct odp_client *c);
uint32_t odp_upcall_pid(const struct odp_client *c);
/* Reads what is queued on the upcall socket (at most `max` upcalls), calling fn for each miss.
 * Returns the number handled, 0 when none was waiting, or a negative errno. */
int odp_upcall_recv(struct odp_client *c, int max,
		    void (*fn)(void *arg, const struct odp_upcall *up), void *arg);

#endif
