/* policy/compile.h: NetworkPolicy state (policy/store.h) and this node's pods into one nftables
 * script (nft's own language, one atomic transaction, applied by the caller with libnftables)
 * for the table `inet <table>` (default mesh_policy), with a description of what it made.
 * Pure: no I/O. Deterministic: the same input gives the same script, byte for byte.
 *
 * What the table does, for IPv4 and IPv6 alike (each set below has an IPv6 twin named with a
 * trailing 6: pending6, unknown6, isolated_in6, sel6_..., peer6_..., named6_...), hook
 * forward, priority filter: pods' packets are bridged on the bridge or routed through the
 * host, and with br_netfilter (net.bridge.bridge-nf-call-iptables and -ip6tables = 1) bridged
 * packets also traverse the inet forward hook. In chain `forward`, in this order:
 *   0. IPv6 neighbour discovery (ICMPv6 router and neighbour solicitations and
 *      advertisements, redirects) accepted: it is to IPv6 what ARP is to IPv4;
 *   1. the set `pending` (declared with `add set`, never flushed: its elements belong to the
 *      caller, who adds and deletes them) and the set `unknown` (this node's addresses whose
 *      pod is not known yet, from the view): everything from and to them is logged (limited)
 *      and dropped, counted in counter drop_pending. Before conntrack's verdict, so an address
 *      reused by a new pod does not inherit the old pod's connections;
 *   2. `ct state established,related accept`: replies of allowed connections pass, and so do
 *      connections established before a policy isolated a pod: they keep going until they
 *      end (or until the caller deletes their conntrack entries);
 *   2b. a new flow (other than ICMPv6) from or to a link-local IPv6 address (fe80::/10) is
 *      logged ("mesh-policy link-local ") and dropped (counter drop_linklocal): every pod has
 *      one on the mesh's single link and no policy can tell whose it is;
 *   3. multicast and broadcast (224.0.0.0/4, 255.255.255.255, ff00::/8) accepted, unless
 *      multicast_allowed is false: then they are checked like any destination (an ipBlock
 *      covering them allows them);
 *   4. a new connection from a local pod that a policy of type Egress selects (set
 *      isolated_out) goes to chain pol_out: allowed if a rule of one of those policies allows
 *      it (destination peer and port; named ports resolved against the destination pod),
 *      which returns to forward, else logged to nflog group G with prefix "mesh-policy
 *      egress " (limited to log_rate/s), counted (counter drop_egress) and dropped;
 *   5. then a new connection to a local pod that a policy of type Ingress selects (set
 *      isolated_in) goes to chain pol_in the same way (source peer, port resolved against the
 *      pod itself), accepted or logged ("mesh-policy ingress ") and dropped (drop_ingress).
 *      A flow between two local pods is thus checked for the egress of one and the ingress of
 *      the other;
 *   6. anything else (pods no policy selects, remote pods) passes untouched.
 * Traffic between a pod and its own node does not traverse forward and is never checked.
 * A pod's IPv6 addresses are the view's (its IPv4 address mapped into the IPAM's range6) and
 * those of its status.podIPs; an IPv6 ipBlock matches IPv6 only, an IPv4 one IPv4 only.
 * Pods on other nodes are enforced by their own node; their addresses only appear in peer
 * sets. Selected pods and peers are sets (interval sets for ipBlocks, their except cut out;
 * concatenated `ipv4_addr . inet_proto . inet_service` sets for named ports), deduplicated by
 * content, so thousands of policies stay a few rules each.
 *
 * Each rule of a policy that selects a local pod has a named counter np_<uid>_in_<i> or
 * np_<uid>_eg_<i> (uid: the policy's metadata.uid; a hash of namespace/name when it has none)
 * declared with `add counter`, so reloading keeps its value. Every compile lists the objects
 * (chains, sets, counters) it made; given the previous compile's list, the script flushes the
 * chains and deletes what is no longer used, in the same transaction. */
#ifndef MESH_POLICY_COMPILE_H
#define MESH_POLICY_COMPILE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/model.h"
#include "policy/store.h"

#define NP_TABLE_DEFAULT "mesh_policy"
#define NP_OBJ_NAME_MAX 95
#define NP_LOCAL_MAX 4096
#define NP_LOG_PREFIX_INGRESS "mesh-policy ingress "
#define NP_LOG_PREFIX_EGRESS "mesh-policy egress "
#define NP_LOG_PREFIX_PENDING "mesh-policy pending "
#define NP_LOG_PREFIX_LINKLOCAL "mesh-policy link-local "

/* This node's view of its pods: the addresses the IPAM gave here (network byte order; an IPv6
 * one beside the IPv4 one when the IPAM maps them into a range6) and the
 * pod each was given to (ns/name "" when the CNI call named none). An address whose named pod
 * the store does not know yet is `unknown` (isolated completely until its pod is known); an
 * address with no name is the pod of the store that has it and runs on node, else it is no
 * pod and untouched. A store pod of this node not in the view with an address that no view
 * entry holds counts as local too (a restarted caller). */
struct np_local_view {
	size_t n;
	struct {
		uint32_t ip;
		bool has_ip6;      /* ip6: the same pod's IPv6 address (IPAM range6) */
		uint8_t ip6[16];   /* network order */
		const char *ns, *name;
	} addr[NP_LOCAL_MAX];
	const char *node;      /* this node's name (spec.nodeName of its pods), NULL: none */
};

struct np_compile_opts {
	const char *table;      /* NULL: NP_TABLE_DEFAULT; [A-Za-z0-9_], at most 63 */
	bool multicast_allowed; /* set it: np_compile_opts_init makes it true */
	uint16_t nflog_group;
	unsigned log_rate;      /* logged drops per second and direction; 0: 10 */
	unsigned log_burst;     /* 0: 20 */
	uint64_t generation;    /* written into the forward chain, see np_generation_marker */
};

/* The defaults: table mesh_policy, multicast allowed, group 0, rates as above. */
void np_compile_opts_init(struct np_compile_opts *o);

enum np_obj_kind { NP_OBJ_CHAIN, NP_OBJ_SET, NP_OBJ_COUNTER };

struct np_object {
	enum np_obj_kind kind;
	char name[NP_OBJ_NAME_MAX + 1];
};

/* A policy rule's counter. */
struct np_rule_counter {
	char name[NP_OBJ_NAME_MAX + 1];
	char ns[NP_NAME_MAX + 1], policy[NP_NAME_MAX + 1];
	unsigned direction;     /* NP_TYPE_INGRESS or NP_TYPE_EGRESS */
	size_t index;           /* in spec.ingress / spec.egress */
};

/* What a compile made: its objects (sorted by kind, then name), the counters of its policy
 * rules, and the policies in force here as JSON:
 * [{"namespace", "name", "types": ["Ingress", ...], "selects": [{"pod": "ns/name", "ip"}],
 *   "rules": [{"direction": "ingress", "index", "counter"}]}]. */
struct np_objects {
	size_t n;
	struct np_object *v;
	size_t ncounters;
	struct np_rule_counter *counters;
	cJSON *policies;
};

struct np_compiled {
	char *script;           /* NUL-terminated */
	size_t len;
	struct np_objects objects;
	/* sizes, for logs and benchmarks */
	size_t nrules, nsets, nelements, npolicies_here, nisolated_in, nisolated_out, nunknown;
};

/* Compiles. prev: the objects of the compile whose script is in the kernel now (NULL when the
 * table holds nothing of ours, or only the caller's pending set). 0, or a negative errno
 * (-ENOMEM, -EINVAL for bad options) with err filled in. */
int np_compile(const struct np_store *s, const struct np_local_view *view,
	       const struct np_compile_opts *opts, const struct np_objects *prev,
	       struct np_compiled *out, char *err, size_t errlen);

void np_compiled_free(struct np_compiled *c);
void np_objects_free(struct np_objects *o);

/* Whether name can be an object's name in the script: a letter, then letters, digits, '_',
 * '-'; at most NP_OBJ_NAME_MAX. */
bool np_obj_name_ok(const char *name);

/* Whether o holds an object of that kind and name. */
bool np_objects_has(const struct np_objects *o, enum np_obj_kind kind, const char *name);

/* The text the forward chain of generation gen holds (in a rule comment), for a guard that
 * lists the chain and checks that its rules are still there. */
void np_generation_marker(uint64_t gen, char *out, size_t cap);

/* The counter name for rule index of direction (NP_TYPE_*) of pol, as np_compile names it. */
void np_counter_name(const struct np_policy *pol, unsigned direction, size_t index,
		     char out[NP_OBJ_NAME_MAX + 1]);

/* --- why a packet was dropped ------------------------------------------------------------- */

enum np_drop_dir { NP_DROP_UNKNOWN, NP_DROP_INGRESS, NP_DROP_EGRESS, NP_DROP_PENDING,
		   NP_DROP_LINKLOCAL };

struct np_drop_explained {
	enum np_drop_dir direction;  /* from the log prefix */
	char from[300], to[300];     /* "ns/name (10.32.0.2)" or "10.32.0.2 (no pod)" */
	char why[400];
	/* the policies that isolate the source for egress / the destination for ingress, and
	 * whether any of their rules allows the flow (the model's verdict) */
	size_t negress_policies, ningress_policies;
	bool egress_allowed, ingress_allowed;
};

/* For the drop log: who src and dst (network byte order) are (the view's pod first, else a
 * store pod with that address; view may be NULL), which policies isolate them, and why the
 * flow (proto, dport host order; 0 when unknown) was dropped. prefix: the nflog prefix. */
void np_explain_drop(const struct np_store *s, const struct np_local_view *view, uint32_t src,
		     uint32_t dst, uint8_t proto, uint16_t dport, const char *prefix,
		     struct np_drop_explained *ex);

/* The same for either family: src and dst point to 4 (AF_INET) or 16 (AF_INET6) bytes. */
void np_explain_drop_af(const struct np_store *s, const struct np_local_view *view, int family,
			const void *src, const void *dst, uint8_t proto, uint16_t dport,
			const char *prefix, struct np_drop_explained *ex);

const char *np_drop_direction_name(enum np_drop_dir d);

#endif
