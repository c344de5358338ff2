/* router/fdbevent.h: bridge forwarding-database events (RTM_NEWNEIGH / RTM_DELNEIGH of family
 * AF_BRIDGE) parsed from raw rtnetlink bytes without I/O, so that the router learns at once
 * which container MACs appear on and leave its bridge. */
#ifndef MESH_ROUTER_FDBEVENT_H
#define MESH_ROUTER_FDBEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mesh_fdb_event {
	bool added;          /* RTM_NEWNEIGH; false: RTM_DELNEIGH */
	uint8_t mac[6];
	int ifindex;         /* the bridge port */
	int master;          /* the bridge (NDA_MASTER), 0 when absent */
	uint16_t state;      /* NUD_* */
	uint8_t flags;       /* NTF_* */
};

/* Parses the message at buf (len bytes available; the message's own length is in its header).
 * Returns 1 for a bridge FDB event (ev filled), 0 for any other message, -EBADMSG with *why
 * for a malformed one. *msg_len is set to the bytes the message takes (aligned), or 0 when
 * nothing more can be read from buf. */
int mesh_fdb_event_parse(const uint8_t *buf, size_t len, struct mesh_fdb_event *ev,
			 size_t *msg_len, const char **why);

#endif
