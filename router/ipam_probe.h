/* router/ipam_probe.h: is this address in use on the mesh's layer 2? For a host that lost its
 * IPAM state (router/ipam.c "recovering"): before an address is handed out, an ARP probe for it
 * goes out on the bridge (and, flooded, across the mesh); a container that holds the address
 * answers. Owns a packet socket on the bridge and the recent probes. */
#ifndef MESH_ROUTER_IPAM_PROBE_H
#define MESH_ROUTER_IPAM_PROBE_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

/* How long a probe waits for an answer before its address counts as free. */
#define MESH_IPAM_PROBE_WAIT_MS 500
/* How long a probe's answer is taken as true. */
#define MESH_IPAM_PROBE_VALID_MS 10000

enum mesh_ipam_probe_result {
	MESH_IPAM_PROBE_FREE,     /* probed, nobody answered within the wait */
	MESH_IPAM_PROBE_PENDING,  /* a probe is out: ask again later */
	MESH_IPAM_PROBE_IN_USE,   /* someone answered: mac says who */
};

struct router_ipam_probe;

/* On the bridge named `bridge`. NULL with err filled in. */
struct router_ipam_probe *router_ipam_probe_new(struct event_base *base, const char *bridge,
						char *err, size_t errlen);
void router_ipam_probe_free(struct router_ipam_probe *p);
/* What is known of ip (host byte order) now; sends a probe when nothing recent is. */
enum mesh_ipam_probe_result router_ipam_probe_check(struct router_ipam_probe *p, uint32_t ip,
						    uint8_t mac[6]);
/* Probes sent and claims seen, for status. */
void router_ipam_probe_counts(const struct router_ipam_probe *p, uint64_t *sent, uint64_t *in_use);

#endif
