/* policy/decode.h: Kubernetes objects as the API server sends them (JSON, one object of a list
 * or of a watch event, as cJSON) into the model of policy/model.h. Pure: no I/O.
 *
 * Every decoder takes hostile input: a wrong type, a missing required field, a list longer
 * than the bounds of model.h, a bad address, CIDR, port, protocol, selector operator ... is
 * refused with -EINVAL and err says what, where and why, e.g.
 *   NetworkPolicy default/web: spec.ingress[0].from[1].ipBlock.cidr: "10.0.0/8" is not a CIDR
 * and out holds nothing to free. -ENOMEM when memory runs out. Fields the enforcement does not
 * need are not looked at. A "kind" field, when present, must name the right kind (list items
 * have none). On success out must be freed with its np_*_free. */
#ifndef MESH_POLICY_DECODE_H
#define MESH_POLICY_DECODE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "policy/model.h"

/* v1 Pod: metadata (name, namespace, uid, labels), spec.nodeName, spec.hostNetwork,
 * spec.containers[].ports[] (named ones kept), status.phase, status.podIPs / status.podIP
 * (IPv4 into ips, IPv6 into ips6). */
int np_pod_decode(const cJSON *obj, struct np_pod *out, char *err, size_t errlen);

/* v1 Namespace: metadata (name, uid, labels). */
int np_namespace_decode(const cJSON *obj, struct np_namespace *out, char *err, size_t errlen);

/* networking.k8s.io/v1 NetworkPolicy, validated as the API server does (a peer names exactly
 * ipBlock or selectors; endPort only with a numeric port and not below it; except inside
 * cidr; operators and their values), and defaulted (protocol TCP, policyTypes). */
int np_policy_decode(const cJSON *obj, struct np_policy *out, char *err, size_t errlen);

/* v1 Node: metadata (name, uid), status.addresses[] of type InternalIP (IPv4 kept). Nothing
 * to free. */
int np_node_decode(const cJSON *obj, struct np_node *out, char *err, size_t errlen);

/* Just the key of an object of any of these kinds (metadata.namespace may be absent: ""):
 * what a DELETED event needs even when the rest does not decode. */
int np_meta_decode(const cJSON *obj, char ns[NP_NAME_MAX + 1], char name[NP_NAME_MAX + 1],
		   char *err, size_t errlen);

#endif
