/* policy/model.h: the Kubernetes objects NetworkPolicy enforcement needs (networking.k8s.io/v1
 * NetworkPolicy, v1 Pod, Namespace, Node), as plain C structs, and their memory. Filled by
 * policy/decode.c, kept by policy/store.c, read by policy/select.c and policy/compile.c.
 * Pure: no I/O. Addresses are IPv4 in host byte order inside the model.
 *
 * Meaning of absent vs empty, exactly as the API reference says:
 *   - a rule's `from`/`to` absent or empty: every source/destination (npeers == 0);
 *   - a rule's `ports` absent or empty: every port of every protocol (nports == 0);
 *   - a port's `port` absent: every port of its protocol (has_port false);
 *   - an empty selector {} selects everything (in its scope); a peer's absent selector is not
 *     set (has_pod_sel / has_ns_sel false);
 *   - policyTypes absent (or empty): Ingress, plus Egress when spec.egress has rules;
 *   - Ingress in policyTypes with no ingress rules: all ingress to the selected pods denied
 *     (same for Egress).
 *
 * Bounds (an object over one is refused by the decoder with an error naming the field): */
#ifndef MESH_POLICY_MODEL_H
#define MESH_POLICY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_NAME_MAX 253          /* metadata.name, .namespace, spec.nodeName */
#define NP_UID_MAX 63            /* metadata.uid: [A-Za-z0-9-], 1..63 characters */
#define NP_LABEL_KEY_MAX 317     /* prefix (253) '/' name (63) */
#define NP_LABEL_VALUE_MAX 63
#define NP_PORT_NAME_MAX 15      /* IANA_SVC_NAME */
#define NP_MAX_LABELS 256        /* labels of one object, or matchLabels of one selector */
#define NP_MAX_EXPRS 64          /* matchExpressions of one selector */
#define NP_MAX_VALUES 256        /* values of one expression */
#define NP_MAX_RULES 256         /* ingress (or egress) rules of one policy */
#define NP_MAX_PEERS 256         /* from (or to) peers of one rule */
#define NP_MAX_PORTS 256         /* ports of one rule */
#define NP_MAX_EXCEPT 256        /* except entries of one ipBlock */
#define NP_MAX_POD_IPS 8         /* status.podIPs (each family at most this many) */
#define NP_MAX_CPORTS 1024       /* container ports of one pod (all containers) */
#define NP_MAX_NODE_IPS 16       /* InternalIP addresses of one node (IPv4 kept) */

struct np_label {
	char *key, *value;
};

/* Sorted by key, keys unique. */
struct np_labels {
	size_t n;
	struct np_label *v;
};

enum np_op { NP_OP_IN, NP_OP_NOT_IN, NP_OP_EXISTS, NP_OP_DOES_NOT_EXIST };

struct np_expr {
	char *key;
	enum np_op op;
	size_t nvalues;
	char **values;
};

/* metav1.LabelSelector: every matchLabels pair and every expression must hold (empty: all). */
struct np_selector {
	struct np_labels match;
	size_t nexprs;
	struct np_expr *exprs;
};

struct np_cidr {
	uint32_t addr;           /* network address (host bits cleared) */
	uint8_t len;
};

struct np_cidr6 {
	uint8_t addr[16];        /* network address, network order (host bits cleared) */
	uint8_t len;
};

/* One NetworkPolicyPeer: podSelector, namespaceSelector, both, or ipBlock. */
struct np_peer {
	bool has_pod_sel, has_ns_sel, is_block;
	struct np_selector pod_sel, ns_sel;
	bool block_v6;           /* an IPv6 ipBlock: cidr6 and except6, matches no IPv4 traffic */
	struct np_cidr cidr;     /* an IPv4 ipBlock */
	size_t nexcept;
	struct np_cidr *except;  /* of an IPv4 ipBlock */
	struct np_cidr6 cidr6;   /* an IPv6 ipBlock */
	size_t nexcept6;
	struct np_cidr6 *except6; /* of an IPv6 ipBlock */
};

#define NP_PROTO_TCP 6
#define NP_PROTO_UDP 17
#define NP_PROTO_SCTP 132

/* One NetworkPolicyPort. */
struct np_port {
	uint8_t proto;           /* NP_PROTO_*; TCP when absent */
	bool has_port;           /* absent: every port of proto */
	char name[NP_PORT_NAME_MAX + 1]; /* a named port ("" for a number) */
	uint16_t port, end_port; /* end_port == port unless endPort was given */
};

struct np_rule {
	size_t npeers;           /* 0: every peer */
	struct np_peer *peers;
	size_t nports;           /* 0: every port */
	struct np_port *ports;
};

#define NP_TYPE_INGRESS 1u
#define NP_TYPE_EGRESS 2u

struct np_policy {
	char ns[NP_NAME_MAX + 1], name[NP_NAME_MAX + 1], uid[NP_UID_MAX + 1];
	struct np_selector pod_sel;
	unsigned types;          /* NP_TYPE_* after the API's defaulting */
	size_t ningress, negress;
	struct np_rule *ingress, *egress;
};

enum np_phase { NP_PHASE_UNKNOWN, NP_PHASE_PENDING, NP_PHASE_RUNNING, NP_PHASE_SUCCEEDED,
		NP_PHASE_FAILED };

struct np_cport {
	char name[NP_PORT_NAME_MAX + 1];
	uint8_t proto;
	uint16_t port;
};

struct np_pod {
	char ns[NP_NAME_MAX + 1], name[NP_NAME_MAX + 1], uid[NP_UID_MAX + 1];
	char node[NP_NAME_MAX + 1]; /* spec.nodeName, "" before scheduling */
	struct np_labels labels;
	size_t nips;
	uint32_t ips[NP_MAX_POD_IPS]; /* IPv4 of status.podIPs (or status.podIP) */
	size_t nips6;
	uint8_t ips6[NP_MAX_POD_IPS][16]; /* IPv6 of status.podIPs (or status.podIP), network
					   * order */
	bool host_network;
	enum np_phase phase;
	size_t ncports;
	struct np_cport *cports; /* named container ports only (unnamed ones cannot be asked for) */
};

struct np_namespace {
	char name[NP_NAME_MAX + 1], uid[NP_UID_MAX + 1];
	struct np_labels labels;
};

struct np_node {
	char name[NP_NAME_MAX + 1], uid[NP_UID_MAX + 1];
	size_t nips;
	uint32_t ips[NP_MAX_NODE_IPS]; /* status.addresses of type InternalIP, IPv4 */
};

void np_labels_free(struct np_labels *l);
void np_selector_free(struct np_selector *s);
void np_policy_free(struct np_policy *p);
void np_pod_free(struct np_pod *p);
void np_namespace_free(struct np_namespace *n);

/* Whether two decoded objects mean the same to enforcement. */
bool np_pod_equal(const struct np_pod *a, const struct np_pod *b);
bool np_namespace_equal(const struct np_namespace *a, const struct np_namespace *b);
bool np_policy_equal(const struct np_policy *a, const struct np_policy *b);

/* The value of key in l, or NULL. */
const char *np_labels_get(const struct np_labels *l, const char *key);

/* Whether a pod takes part in policy (as selected pod or as peer): not hostNetwork, not
 * finished (Succeeded/Failed: its address may belong to another pod already). */
bool np_pod_active(const struct np_pod *p);

/* "TCP", "UDP", "SCTP" or "?" */
const char *np_proto_name(uint8_t proto);

#endif
