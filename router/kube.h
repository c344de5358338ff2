/* router/kube.h: meshd's link to the Kubernetes API server (router/kube.c). Which server and
 * identity (--kubeconfig, else the in-cluster service account when meshd runs in a pod, never
 * with --no-kube), the watches of Pods, Namespaces and NetworkPolicies (for the NetworkPolicy
 * enforcer, router/netpol.c) and of Nodes (for the node lifecycle, router/kube_nodes.c). */
#ifndef MESH_ROUTER_KUBE_H
#define MESH_ROUTER_KUBE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct mesh_router;

/* Starts the client when Kubernetes is configured (nothing otherwise). 0, or a negative errno
 * with err filled in: a --kubeconfig that cannot be used. In a pod whose service account
 * cannot be read, meshd runs without Kubernetes and says why (status and log). */
int router_kube_start(struct mesh_router *r, char *err, size_t errlen);
void router_kube_stop(struct mesh_router *r);
/* Whether meshd reads the API server. */
bool router_kube_on(const struct mesh_router *r);
/* {"configured", "source", "node", "why_not", "watches": [{"resource", "state", ...}]} */
cJSON *router_kube_status_json(const struct mesh_router *r);

#endif
