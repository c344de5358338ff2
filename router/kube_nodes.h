/* router/kube_nodes.h: the node lifecycle from the Kubernetes API (router/kube_nodes.c): each
 * Node's InternalIP is a peer meshd keeps connected; a Node that is deleted is forgotten and
 * its IPAM space reclaimed at once. */
#ifndef MESH_ROUTER_KUBE_NODES_H
#define MESH_ROUTER_KUBE_NODES_H

#include <cjson/cJSON.h>

#include "kube/watch.h"

struct mesh_router;

/* An event of the watch of /api/v1/nodes. */
void router_kube_nodes_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj);
void router_kube_nodes_free(struct mesh_router *r);
/* {"known": N, "peers_from_nodes": [{"node", "address", "peer"}], "removed": [...],
 *  "errors": N, "last_error"} */
cJSON *router_kube_nodes_status_json(const struct mesh_router *r);

#endif
