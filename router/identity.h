/* router/identity.h: this router's peer name (DESIGN §3): generated once, kept in the state
 * dir as "mesh-peer-name 1\n<name>\n", so it survives restarts. */
#ifndef MESH_ROUTER_IDENTITY_H
#define MESH_ROUTER_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "mesh/peer.h"

#define MESH_IDENTITY_FILE "peer-name"

/* Parses the file's content. 0 or -EBADMSG. */
int mesh_identity_parse(const char *buf, size_t len, struct mesh_peer_name *out);
/* A random locally administered unicast name. */
void mesh_identity_generate(struct mesh_peer_name *out);
/* Where else this host's name may be found when its file is missing or corrupt (the IPAM
 * state's writer): true with *out set. Asked only then. */
typedef bool (*mesh_identity_known_fn)(const char *state_dir, struct mesh_peer_name *out);

/* Loads the name from state_dir, or saves one: what `known` (may be NULL) finds (a host keeps
 * its name, and with it its address space and its containers' addresses, when the peer-name
 * file is lost), else a new random one. A corrupt file is set aside; note says what happened
 * when the file was not simply read (empty otherwise). 0 or -errno with err filled in. */
int mesh_identity_load(const char *state_dir, mesh_identity_known_fn known,
		       struct mesh_peer_name *out, char *note, size_t notelen, char *err,
		       size_t errlen);

#endif
