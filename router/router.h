/* router/router.h: the router of one host: its identity, its control connections to peers
 * (outbound with reconnect backoff, inbound from the listener), the overlay each connection
 * uses, the MAC table and the forwarding decision. */
#ifndef MESH_ROUTER_ROUTER_H
#define MESH_ROUTER_ROUTER_H

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/psk.h"
#include "mesh/peer.h"
#include "router/config.h"

#define MESH_VERSION_STRING PACKAGE_VERSION

struct mesh_router;

struct mesh_router_counters {
	uint64_t control_auth_failures;  /* handshakes refused for a password mismatch */
	uint64_t control_refused;        /* other handshake failures */
	uint64_t control_refused_unauth; /* of those: too many strangers in their handshake */
	uint64_t control_refused_allow;  /* of those: from outside --allow-from */
	uint64_t control_refused_limit;  /* of those: --conn-limit reached */
	uint64_t control_hs_timeouts;    /* handshakes not done by their deadline */
	uint64_t control_slow_peers;     /* connections dropped: the peer did not read */
	uint64_t drop_no_route;          /* frames for a peer we have no connection to */
	uint64_t frames_delivered;       /* frames written to the local bridge */
	uint64_t frames_relayed;         /* frames passed on for other peers */
	uint64_t gossip_tx_bytes, gossip_rx_bytes;
	uint64_t gossip_refused;         /* malformed gossip messages */
	uint64_t discovery_refused;      /* gossiped addresses not dialled: over the bounds */
	uint64_t ipam_requests_refused;  /* space requests for another peer, or too many */
	uint64_t ipam_range6_conflicts;  /* connections to a peer with another --ipalloc-range6 */
};

/* Sets up the bridge, the TAP, the sockets, and starts connecting to cfg->peers.
 * psk is NULL without a password. Returns NULL with err filled in. */
struct mesh_router *mesh_router_new(struct event_base *base, const struct mesh_config *cfg,
				    const struct mesh_peer_name *name, const uint8_t *psk,
				    char *err, size_t errlen);
/* The passwords' keys new handshakes use, after the password file was reread: psk seals, alt
 * (or NULL) is accepted too. Established connections keep their keys. -EINVAL when the router
 * has no password (a mesh does not turn encryption on or off while it runs). */
int mesh_router_set_passwords(struct mesh_router *r, const uint8_t *psk, const uint8_t *alt);
/* Closes every connection and removes what the router created (unless --keep-bridge). */
void mesh_router_free(struct mesh_router *r);

/* Adds IPv4[:port], [IPv6][:port] or IPv6 to the addresses we keep connected (as if given on
 * the command line); origin says who asked, for the log ("asked through the API", "Node h2"). 0 (msg says what
 * happened), -EINVAL for a bad address, -ENOMEM. */
int mesh_router_connect(struct mesh_router *r, const char *addr, const char *origin, char *msg,
			size_t msglen);
/* Stops keeping IPv4[:port], [IPv6][:port] or IPv6 connected (an established connection stays
 * up). 0, -EINVAL, or -ENOENT when it is not an address we connect to. */
int mesh_router_forget(struct mesh_router *r, const char *addr, const char *origin, char *msg,
		       size_t msglen);

/* The IPAM endpoints of the API (router/ipam.c): method and path of a request under /v1/ipam,
 * its body (len bytes, JSON). Returns the HTTP status code and sets *out to the JSON body to
 * answer with (caller frees). */
int mesh_router_ipam_api(struct mesh_router *r, const char *method, const char *path,
			 const char *body, size_t len, cJSON **out);

/* The whole status as JSON (caller frees with cJSON_Delete). */
cJSON *mesh_router_status(const struct mesh_router *r);

#endif
