/* policy/select.h: what NetworkPolicy selectors and peers mean (networking.k8s.io/v1): label
 * selectors against labels, the pods a policy selects, the pods and addresses a rule's peers
 * are, named ports. Pure: no I/O; IPv4 addresses in host byte order, IPv6 ones in network
 * order. */
#ifndef MESH_POLICY_SELECT_H
#define MESH_POLICY_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/model.h"

/* Every matchLabels pair present with that value, and every expression true:
 * In (key present, value among values), NotIn (key absent, or value not among values),
 * Exists, DoesNotExist. The empty selector matches everything. */
bool np_selector_matches(const struct np_selector *s, const struct np_labels *labels);

/* pol selects pod: same namespace, podSelector matches the pod's labels (pods that take no part
 * in policy, np_pod_active false, are never selected). */
bool np_policy_selects(const struct np_policy *pol, const struct np_pod *pod);

/* A selector peer (not ipBlock) of a rule of pol covers pod, whose namespace is ns (NULL when
 * the namespace is unknown: its labels count as empty):
 *   podSelector alone: pods of pol's namespace matching it;
 *   namespaceSelector alone: every pod of the namespaces matching it;
 *   both: pods matching podSelector in namespaces matching namespaceSelector. */
bool np_peer_covers_pod(const struct np_peer *peer, const struct np_policy *pol,
			const struct np_pod *pod, const struct np_namespace *ns);

/* An IPv4 ipBlock peer covers ip: inside cidr, outside every except (IPv6 blocks: never). */
bool np_peer_covers_ip(const struct np_peer *peer, uint32_t ip);

/* An inclusive range of addresses. */
struct np_range {
	uint32_t lo, hi;
};

/* The addresses of an ipBlock peer, cidr minus except, as sorted disjoint ranges into out (at
 * most NP_MAX_EXCEPT + 1 of them, the caller gives room for that many). Returns the count. */
size_t np_block_ranges(const struct np_peer *peer, struct np_range *out);

/* Sorts ranges and merges overlapping or adjacent ones; returns the new count. */
size_t np_ranges_normalize(struct np_range *r, size_t n);

/* 128-bit arithmetic on addresses: an IPv6 address (16 bytes, network order) as a number and
 * back; an IPv4 one fits in the low 32 bits. */
typedef unsigned __int128 np_u128;
np_u128 np_a6_get(const uint8_t a[16]);
void np_a6_put(np_u128 v, uint8_t out[16]);

/* An inclusive range of such numbers, and their order (by lo, then hi) for qsort. */
struct np_r128 {
	np_u128 lo, hi;
};
int np_r128_cmp(const void *a, const void *b);

/* An inclusive range of IPv6 addresses, network order. */
struct np_range6 {
	uint8_t lo[16], hi[16];
};

/* An IPv6 ipBlock peer covers ip (network order): inside cidr6, outside every except6 (IPv4
 * blocks: never). */
bool np_peer_covers_ip6(const struct np_peer *peer, const uint8_t ip[16]);

/* np_block_ranges for an IPv6 ipBlock (cidr6 minus except6, 128-bit ranges; IPv4 blocks: 0). */
size_t np_block_ranges6(const struct np_peer *peer, struct np_range6 *out);

/* The number of pod's container port named name with protocol proto, into *port: 0, or
 * -ENOENT when the pod has no such port. */
int np_named_port(const struct np_pod *pod, const char *name, uint8_t proto, uint16_t *port);

/* Whether (proto, dport) of a flow to pod dst_pod (NULL when the destination is no pod) is
 * among a rule's ports (nports == 0: every port; a named port is resolved against dst_pod). */
bool np_ports_match(const struct np_rule *rule, const struct np_pod *dst_pod, uint8_t proto,
		    uint16_t dport);

#endif
