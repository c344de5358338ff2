/* router/kube.c: owns meshd's Kubernetes API client (kube/): where the server is and who we
 * are to it, the watches, and where their events go (the NetworkPolicy enforcer for Pods,
 * Namespaces and NetworkPolicies; the node lifecycle for Nodes). Nothing of it runs without
 * Kubernetes: meshd is then what it always was. */
#include "router/kube.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/config.h"
#include "kube/watch.h"
#include "router/internal.h"
#include "router/kube_nodes.h"
#include "router/log.h"
#include "router/netpol.h"

enum { W_NODES, W_NAMESPACES, W_PODS, W_POLICIES, W_MAX };

static const char *const watch_paths[W_MAX] = {
	[W_NODES] = "/api/v1/nodes",
	[W_NAMESPACES] = "/api/v1/namespaces",
	[W_PODS] = "/api/v1/pods",
	[W_POLICIES] = "/apis/networking.k8s.io/v1/networkpolicies",
};

struct router_kube {
	bool on;
	char why_not[256];            /* why meshd does not read the API ("" when it does) */
	struct kube_config cfg;
	bool have_cfg;
	struct kube_client *client;
	struct kube_watch *w[W_MAX];
};

static void on_nodes(void *arg, enum kube_event ev, const cJSON *obj)
{
	router_kube_nodes_event(arg, ev, obj);
}

static void on_namespaces(void *arg, enum kube_event ev, const cJSON *obj)
{
	router_netpol_namespace_event(arg, ev, obj);
}

static void on_pods(void *arg, enum kube_event ev, const cJSON *obj)
{
	router_netpol_pod_event(arg, ev, obj);
}

static void on_policies(void *arg, enum kube_event ev, const cJSON *obj)
{
	router_netpol_policy_event(arg, ev, obj);
}

static const kube_watch_cb watch_cbs[W_MAX] = {
	[W_NODES] = on_nodes,
	[W_NAMESPACES] = on_namespaces,
	[W_PODS] = on_pods,
	[W_POLICIES] = on_policies,
};

/* The configuration: --kubeconfig, else in-cluster. 1 when there is one, 0 when meshd is not
 * to read the API (why_not says why), a negative errno for a --kubeconfig that fails. */
static int load_config(struct mesh_router *r, struct router_kube *k, char *err, size_t errlen)
{
	const struct mesh_config *cfg = r->cfg;
	char why[256];
	if (cfg->no_kube) {
		snprintf(k->why_not, sizeof(k->why_not), "--no-kube");
		return 0;
	}
	if (cfg->kubeconfig[0]) {
		int ret = kube_config_load(cfg->kubeconfig, NULL, &k->cfg, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "--kubeconfig %s: %s", cfg->kubeconfig, why);
			return ret;
		}
		return 1;
	}
	int ret = kube_config_in_cluster(&k->cfg, why, sizeof(why));
	if (ret == -ENOENT) {
		snprintf(k->why_not, sizeof(k->why_not),
			 "not in a Kubernetes pod (no KUBERNETES_SERVICE_HOST) and no --kubeconfig");
		return 0;
	}
	if (ret < 0) {
		/* in a pod without a usable service account: the mesh still works */
		snprintf(k->why_not, sizeof(k->why_not), "in a pod, but %s", why);
		log_warn("Kubernetes: %s; meshd runs without the API server (no NetworkPolicy, "
			 "peers only from the command line)", k->why_not);
		return 0;
	}
	return 1;
}

int router_kube_start(struct mesh_router *r, char *err, size_t errlen)
{
	struct router_kube *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->own.kube = k;
	int ret = load_config(r, k, err, errlen);
	if (ret <= 0)
		return ret;
	k->have_cfg = true;
	char why[256];
	if (!(k->client = kube_client_new(r->base, &k->cfg, why, sizeof(why)))) {
		snprintf(err, errlen, "Kubernetes API client (%s): %s", k->cfg.source, why);
		return -EIO;
	}
	bool policy = r->cfg->network_policy == MESH_POLICY_ON;
	if (policy && (ret = router_netpol_start(r, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < W_MAX; i++) {
		if (i != W_NODES && !policy)
			continue;
		if (!(k->w[i] = kube_watch_start(k->client, watch_paths[i], watch_cbs[i], r))) {
			snprintf(err, errlen, "cannot watch %s", watch_paths[i]);
			return -ENOMEM;
		}
	}
	k->on = true;
	log_info("Kubernetes: reading the API server (%s) as node %s; NetworkPolicy %s", k->cfg.source,
		 router_node_name(r), policy ? "enforced" : "not enforced (--network-policy off)");
	return 0;
}

void router_kube_stop(struct mesh_router *r)
{
	struct router_kube *k = r->own.kube;
	if (!k)
		return;
	/* no callback after the client is gone */
	if (k->client)
		kube_client_free(k->client);
	router_netpol_stop(r);
	router_kube_nodes_free(r);
	if (k->have_cfg)
		kube_config_free(&k->cfg);
	free(k);
	r->own.kube = NULL;
}

bool router_kube_on(const struct mesh_router *r)
{
	return r->own.kube && r->own.kube->on;
}

cJSON *router_kube_status_json(const struct mesh_router *r)
{
	const struct router_kube *k = r->own.kube;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "configured", k && k->on);
	if (!k)
		return o;
	cJSON_AddStringToObject(o, "node", router_node_name(r));
	if (!k->on) {
		cJSON_AddStringToObject(o, "why_not", k->why_not);
		return o;
	}
	cJSON_AddStringToObject(o, "source", k->cfg.source);
	cJSON_AddBoolToObject(o, "network_policy", r->cfg->network_policy == MESH_POLICY_ON);
	cJSON *ws = cJSON_AddArrayToObject(o, "watches");
	for (int i = 0; i < W_MAX; i++) {
		if (!k->w[i])
			continue;
		struct kube_watch_status st;
		kube_watch_get_status(k->w[i], &st);
		cJSON *w = cJSON_CreateObject();
		cJSON_AddStringToObject(w, "resource", watch_paths[i]);
		cJSON_AddStringToObject(w, "state", st.state);
		cJSON_AddStringToObject(w, "resource_version", st.resource_version);
		cJSON_AddNumberToObject(w, "lists", (double)st.lists);
		cJSON_AddNumberToObject(w, "events", (double)st.events);
		cJSON_AddNumberToObject(w, "errors", (double)st.errors);
		cJSON_AddNumberToObject(w, "relists_after_gone", (double)st.gone_relists);
		if (st.last_error[0])
			cJSON_AddStringToObject(w, "last_error", st.last_error);
		cJSON_AddItemToArray(ws, w);
	}
	cJSON_AddItemToObject(o, "nodes", router_kube_nodes_status_json(r));
	return o;
}
