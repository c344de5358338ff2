/* router/netpol.h: Kubernetes NetworkPolicy, enforced by meshd on its own node
 * (router/netpol.c): the objects from the API server's watches, the pods' addresses from the
 * IPAM as mesh-cni asks for them, the nftables table `inet mesh_policy` compiled from both
 * (policy/), kept in place against other programs, and the drops it logs. */
#ifndef MESH_ROUTER_NETPOL_H
#define MESH_ROUTER_NETPOL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "kube/watch.h"

#define MESH_POLICY_TABLE "mesh_policy"   /* family inet */
#define MESH_POLICY_NFLOG_GROUP 6783
#define MESH_POLICY_GUARD_MS 1000         /* how often the table is checked */

struct mesh_router;

/* Called by router/kube.c when NetworkPolicy is to be enforced (before the watches start).
 * 0 or a negative errno with err filled in. */
int router_netpol_start(struct mesh_router *r, char *err, size_t errlen);
/* Stops; the table stays with --keep-bridge (a restarted meshd takes it over: no window
 * without isolation), else it is removed. */
void router_netpol_stop(struct mesh_router *r);

/* The watches' events (kube/watch.h), one function per resource. */
void router_netpol_pod_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj);
void router_netpol_namespace_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj);
void router_netpol_policy_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj);

/* From the IPAM (router/ipam.c): ip (network order) was just given to pod ns/name (both may be
 * NULL when mesh-cni did not name a pod); the rules for it are in place when this returns: a
 * pod a policy isolates is isolated before its first packet. */
void router_netpol_address_assigned(struct mesh_router *r, uint32_t ip, const char *ns,
				    const char *name);
/* ip was released: it no longer stands for that pod. */
void router_netpol_address_released(struct mesh_router *r, uint32_t ip);

/* GET /v1/policy (api.c adds "kubernetes"): {"enforcing", "why_not", "table", "generation",
 * "last_apply_ms", "applies", "apply_errors", "last_error", "restores", "multicast", "pending",
 * "policies": [{"namespace", "name", "types", "selects": [{"pod", "ip"}], "rules":
 * [{"direction", "index", "packets", "bytes"}]}], "drops": {"total", "ingress", "egress",
 * "pending", "logged", "recent": [{"time", "flow", "packets", "from", "to", "direction", "why"}]}}
 * (a flow is one drop however often its first packet comes; the newest first) */
cJSON *router_netpol_status_json(const struct mesh_router *r);

#endif
