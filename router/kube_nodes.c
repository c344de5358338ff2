/* router/kube_nodes.c: owns what meshd knows of the cluster's Node objects. Every other Node's
 * InternalIP addresses are peers to keep connected (no peer list to edit); a Node deleted (or
 * gone from a relist) is no longer dialled, and its meshd's IPAM space is reclaimed as soon as
 * it is unreachable, instead of after --ipam-reclaim-after. A node's meshd is the topology peer
 * whose nickname is the node's name (the DaemonSet passes --nickname $NODE_NAME). */
#include "router/kube_nodes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/decode.h"
#include "router/internal.h"
#include "router/log.h"

#define MAX_NODES 10000
#define MAX_RECENT 8

struct kn_node {
	struct np_node n;
	bool seen;                     /* in the current (re)list */
	bool have_peer;
	struct mesh_peer_name peer;    /* its meshd, once the topology names it */
};

struct kn_removed {
	char name[254];
	char peer[MESH_PEER_NAME_STRLEN];
	time_t when;
};

struct router_kube_nodes {
	struct kn_node *v;
	size_t n, cap;
	uint64_t errors, removed_total;
	char last_error[256];
	struct kn_removed recent[MAX_RECENT];
	size_t nrecent;
};

static struct router_kube_nodes *get(struct mesh_router *r)
{
	if (!r->own.kube_nodes)
		r->own.kube_nodes = calloc(1, sizeof(struct router_kube_nodes));
	return r->own.kube_nodes;
}

static struct kn_node *find(struct router_kube_nodes *kn, const char *name)
{
	for (size_t i = 0; i < kn->n; i++)
		if (!strcmp(kn->v[i].n.name, name))
			return &kn->v[i];
	return NULL;
}

static bool has_ip(const struct np_node *n, uint32_t ip)
{
	for (size_t i = 0; i < n->nips; i++)
		if (n->ips[i] == ip)
			return true;
	return false;
}

static bool is_self(struct mesh_router *r, const char *name)
{
	return !strcmp(name, router_node_name(r));
}

/* The topology's peer for node (by nickname), remembered for when it is gone. */
static void learn_peer(struct mesh_router *r, struct kn_node *k)
{
	for (size_t i = 1; i < r->topo.n; i++)
		if (!strcmp(r->topo.peers[i].nickname, k->n.name)) {
			k->peer = r->topo.peers[i].name;
			k->have_peer = true;
			return;
		}
}

/* ip: host order, as in the model */
static void dial(struct mesh_router *r, const char *node, uint32_t ip, bool connect)
{
	char a[INET_ADDRSTRLEN], origin[300], msg[200];
	uint32_t be = htonl(ip);
	inet_ntop(AF_INET, &be, a, sizeof(a));
	snprintf(origin, sizeof(origin), connect ? "InternalIP of Node %s" : "Node %s is gone", node);
	if (connect)
		mesh_router_connect(r, a, origin, msg, sizeof(msg));
	else
		mesh_router_forget(r, a, origin, msg, sizeof(msg));
}

static void upsert(struct mesh_router *r, struct router_kube_nodes *kn, const cJSON *obj)
{
	struct np_node n;
	char err[256];
	if (np_node_decode(obj, &n, err, sizeof(err)) < 0) {
		kn->errors++;
		snprintf(kn->last_error, sizeof(kn->last_error), "%s", err);
		log_warn("Kubernetes: a Node object is ignored: %s", err);
		return;
	}
	struct kn_node *k = find(kn, n.name);
	if (!k) {
		if (kn->n == MAX_NODES) {
			kn->errors++;
			snprintf(kn->last_error, sizeof(kn->last_error),
				 "more than %d Node objects: Node %s ignored", MAX_NODES, n.name);
			return;
		}
		if (kn->n == kn->cap) {
			size_t cap = kn->cap ? kn->cap * 2 : 16;
			struct kn_node *v = realloc(kn->v, cap * sizeof(*v));
			if (!v)
				return;
			kn->v = v;
			kn->cap = cap;
		}
		k = &kn->v[kn->n++];
		memset(k, 0, sizeof(*k));
		snprintf(k->n.name, sizeof(k->n.name), "%s", n.name);
		if (!is_self(r, n.name))
			log_info("Kubernetes: Node %s (%zu InternalIP address%s) is a peer", n.name,
				 n.nips, n.nips == 1 ? "" : "es");
	}
	if (!is_self(r, n.name)) {
		for (size_t i = 0; i < k->n.nips; i++)
			if (!has_ip(&n, k->n.ips[i]))
				dial(r, n.name, k->n.ips[i], false);
		for (size_t i = 0; i < n.nips; i++)
			if (!has_ip(&k->n, n.ips[i]))
				dial(r, n.name, n.ips[i], true);
	}
	k->n = n;
	k->seen = true;
	learn_peer(r, k);
}

static void remove_at(struct mesh_router *r, struct router_kube_nodes *kn, size_t i)
{
	struct kn_node *k = &kn->v[i];
	if (!is_self(r, k->n.name)) {
		for (size_t j = 0; j < k->n.nips; j++)
			dial(r, k->n.name, k->n.ips[j], false);
		learn_peer(r, k);
		if (kn->nrecent == MAX_RECENT) /* the oldest gives way; the newest is last */
			memmove(kn->recent, kn->recent + 1, --kn->nrecent * sizeof(kn->recent[0]));
		struct kn_removed *rm = &kn->recent[kn->nrecent++];
		snprintf(rm->name, sizeof(rm->name), "%s", k->n.name);
		rm->when = time(NULL);
		rm->peer[0] = '\0';
		kn->removed_total++;
		if (k->have_peer) {
			mesh_peer_name_format(&k->peer, rm->peer);
			log_info("Kubernetes: Node %s was deleted: no longer a peer; its IPAM space "
				 "(peer %s) is reclaimed as soon as it is unreachable", k->n.name, rm->peer);
			router_ipam_peer_removed(r, &k->peer);
		} else {
			log_info("Kubernetes: Node %s was deleted: no longer a peer (its meshd was "
				 "never seen, so there is no IPAM space to reclaim)", k->n.name);
		}
	}
	kn->v[i] = kn->v[--kn->n];
}

void router_kube_nodes_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj)
{
	struct router_kube_nodes *kn = get(r);
	if (!kn)
		return;
	switch (ev) {
	case KUBE_LIST_BEGIN:
		for (size_t i = 0; i < kn->n; i++)
			kn->v[i].seen = false;
		break;
	case KUBE_ADDED:
	case KUBE_MODIFIED:
		upsert(r, kn, obj);
		break;
	case KUBE_DELETED: {
		struct np_node n;
		char err[256];
		if (np_node_decode(obj, &n, err, sizeof(err)) < 0)
			break;
		for (size_t i = 0; i < kn->n; i++)
			if (!strcmp(kn->v[i].n.name, n.name)) {
				remove_at(r, kn, i);
				break;
			}
		break;
	}
	case KUBE_SYNCED:
		for (size_t i = kn->n; i-- > 0;)
			if (!kn->v[i].seen)
				remove_at(r, kn, i);
		break;
	}
}

void router_kube_nodes_free(struct mesh_router *r)
{
	struct router_kube_nodes *kn = r->own.kube_nodes;
	if (!kn)
		return;
	free(kn->v);
	free(kn);
	r->own.kube_nodes = NULL;
}

cJSON *router_kube_nodes_status_json(const struct mesh_router *r)
{
	const struct router_kube_nodes *kn = r->own.kube_nodes;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "known", kn ? (double)kn->n : 0);
	cJSON *peers = cJSON_AddArrayToObject(o, "peers");
	cJSON *rm = cJSON_AddArrayToObject(o, "removed");
	if (!kn)
		return o;
	for (size_t i = 0; i < kn->n; i++) {
		const struct kn_node *k = &kn->v[i];
		if (!strcmp(k->n.name, router_node_name(r)))
			continue;
		for (size_t j = 0; j < k->n.nips; j++) {
			char a[INET_ADDRSTRLEN];
			uint32_t be = htonl(k->n.ips[j]);
			inet_ntop(AF_INET, &be, a, sizeof(a));
			cJSON *p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "node", k->n.name);
			cJSON_AddStringToObject(p, "address", a);
			cJSON_AddItemToArray(peers, p);
		}
	}
	for (size_t i = 0; i < kn->nrecent; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "node", kn->recent[i].name);
		cJSON_AddStringToObject(x, "peer", kn->recent[i].peer);
		cJSON_AddNumberToObject(x, "when", (double)kn->recent[i].when);
		cJSON_AddItemToArray(rm, x);
	}
	cJSON_AddNumberToObject(o, "removed_total", (double)kn->removed_total);
	cJSON_AddNumberToObject(o, "errors", (double)kn->errors);
	if (kn->last_error[0])
		cJSON_AddStringToObject(o, "last_error", kn->last_error);
	return o;
}
