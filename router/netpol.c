/* router/netpol.c: owns NetworkPolicy enforcement on this node (see netpol.h): the Pods,
 * Namespaces and NetworkPolicies the API server's watches deliver (decoded by policy/), the
 * addresses the IPAM gives to pods here, the nftables table compiled from them (policy/
 * compile) and applied in one transaction, the guard that puts the table back when another
 * program removes it, and the drops the table logs to nflog: counted, kept for status, logged
 * (rate-limited) with the pods and the policies that isolated them. */
#include "router/netpol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh/clock.h"
#include "mesh/nft.h"
#include "policy/compile.h"
#include "policy/nftjson.h"
#include "policy/store.h"
#include "router/internal.h"
#include "router/log.h"
#include "router/nflog.h"
#include "router/ratelimit.h"

#define RECENT_DROPS 32
#define DEBOUNCE_MS 20          /* changes that come together are applied together */
#define RETRY_MS 1000           /* a failed apply is tried again */
#define LOG_RATE_PER_S 5        /* drop log lines */
#define LOG_BURST 20
#define MAX_LOCAL NP_LOCAL_MAX  /* addresses the IPAM gave here that we track */

enum { RES_PODS, RES_NAMESPACES, RES_POLICIES, RES_MAX };

struct local_addr {
	uint32_t ip;            /* network order */
	char ns[254], name[254];/* the pod mesh-cni named ("" when none) */
};

struct drop {
	time_t when;
	uint64_t packets;        /* retransmissions of the flow's first packet come again */
	char flow[128], from[300], to[300], direction[16], why[400];
};

struct router_netpol {
	struct mesh_router *r;
	struct np_store store;          /* pods, namespaces, policies (policy/compile.h) */
	bool synced[RES_MAX];           /* each watch's first list is complete */
	bool listing[RES_MAX];          /* between LIST_BEGIN and SYNCED */
	struct local_addr *local;
	size_t nlocal;
	struct np_local_view *view;     /* made from local for the compiler and the drop log */

	/* the table */
	struct np_objects prev;         /* what the last apply made (policy/compile.h) */
	bool installed;                 /* a generation is in the kernel */
	uint64_t generation, applies, apply_errors, restores;
	double last_apply_ms;
	uint64_t applied_at_ms;         /* wall clock (Unix ms) when the last apply was loaded */
	char last_error[256];
	struct event *apply_ev, *guard_ev;
	bool apply_scheduled;

	/* drops */
	int nflog_fd;
	struct event *nflog_ev;
	uint64_t drops_total, drops_ingress, drops_egress, drops_pending, drops_linklocal, drops_logged,
		 nflog_bad;
	struct drop recent[RECENT_DROPS];
	size_t nrecent, next_recent;
	struct mesh_ratelimit log_rl;
};

static struct router_netpol *get(const struct mesh_router *r)
{
	return r->own.netpol;
}

/* --- the pods' addresses here ------------------------------------------------------------ */

static struct local_addr *local_find(struct router_netpol *np, uint32_t ip)
{
	for (size_t i = 0; i < np->nlocal; i++)
		if (np->local[i].ip == ip)
			return &np->local[i];
	return NULL;
}

/* Whether every watch has listed once: before that the state is partial, and rules made from
 * it would drop what a policy not yet seen allows. */
static bool ready(const struct router_netpol *np)
{
	return np->synced[RES_PODS] && np->synced[RES_NAMESPACES] && np->synced[RES_POLICIES];
}

/* --- applying the table ------------------------------------------------------------------ */

/* The compiler's view of this node: which addresses are its pods', and the pod each was given
 * to (the API server may not show a new pod's address yet, or still show an old pod's). */
static void fill_local(struct router_netpol *np, struct np_local_view *view)
{
	view->n = 0;
	const struct mesh_ipam6 *r6 = &np->r->cfg->ipalloc_range6;
	for (size_t i = 0; i < np->nlocal && view->n < NP_LOCAL_MAX; i++) {
		view->addr[view->n].ip = np->local[i].ip;
		/* the pod's IPv6 address, when mesh-cni gives it one (its IPv4 one mapped) */
		view->addr[view->n].has_ip6 = mesh_ipam6_map(r6, ntohl(np->local[i].ip),
							     view->addr[view->n].ip6) == 0;
		view->addr[view->n].ns = np->local[i].ns;
		view->addr[view->n].name = np->local[i].name;
		view->n++;
	}
	view->node = router_node_name(np->r);
}

static int apply_now(struct router_netpol *np, bool restore)
{
	struct mesh_router *r = np->r;
	struct np_compile_opts opts;
	np_compile_opts_init(&opts);
	opts.table = MESH_POLICY_TABLE;
	opts.multicast_allowed = r->cfg->policy_multicast == MESH_POLICY_MCAST_ALLOW;
	opts.nflog_group = MESH_POLICY_NFLOG_GROUP;
	opts.generation = np->generation + 1;
	struct np_local_view *view = np->view;
	struct np_compiled out;
	char err[256];
	int ret;
	fill_local(np, view);
	uint64_t t0 = mesh_mono_us();
	/* after a restore the kernel holds nothing of ours: nothing to delete */
	ret = np_compile(&np->store, view, &opts, restore ? NULL : &np->prev, &out, err, sizeof(err));
	if (ret < 0) {
		snprintf(np->last_error, sizeof(np->last_error), "cannot compile the rules: %s", err);
		goto errout;
	}
	ret = mesh_nft_run(out.script, err, sizeof(err), NULL, 0);
	if (ret < 0) {
		snprintf(np->last_error, sizeof(np->last_error), "cannot load the rules: %s", err);
		np_compiled_free(&out);
		goto errout;
	}
	np->last_apply_ms = (double)(mesh_mono_us() - t0) / 1000.0;
	np->applied_at_ms = mesh_wall_ms();
	np_objects_free(&np->prev);
	np->prev = out.objects;
	out.objects = (struct np_objects){ 0 };
	np_compiled_free(&out);
	np->generation++;
	np->applies++;
	np->installed = true;
	if (np->last_error[0]) {
		log_info("NetworkPolicy: rules in place again (generation %llu)",
			 (unsigned long long)np->generation);
		np->last_error[0] = '\0';
	}
	log_debug("NetworkPolicy: generation %llu applied in %.1f ms",
		  (unsigned long long)np->generation, np->last_apply_ms);
	return 0;
errout:
	np->apply_errors++;
	log_error("NetworkPolicy: %s", np->last_error);
	return ret;
}

static void apply_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_netpol *np = arg;
	np->apply_scheduled = false;
	if (!ready(np))
		return;
	if (apply_now(np, false) < 0) {
		struct timeval tv = { .tv_sec = RETRY_MS / 1000, .tv_usec = (RETRY_MS % 1000) * 1000 };
		np->apply_scheduled = true;
		evtimer_add(np->apply_ev, &tv);
	}
}

/* Something changed: apply soon, together with whatever else changes meanwhile. */
static void changed(struct router_netpol *np)
{
	if (np->apply_scheduled || !ready(np))
		return;
	struct timeval tv = { .tv_sec = 0, .tv_usec = DEBOUNCE_MS * 1000 };
	np->apply_scheduled = true;
	evtimer_add(np->apply_ev, &tv);
}

/* Every MESH_POLICY_GUARD_MS: the table, its forward chain and this generation's marker are
 * where we put them, else (nft flush ruleset, another tool) everything is put back. */
static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_netpol *np = arg;
	if (!np->installed)
		return;
	char cmd[128], marker[64], *out = malloc(64 * 1024);
	if (!out)
		return;
	snprintf(cmd, sizeof(cmd), "list chain inet %s forward", MESH_POLICY_TABLE);
	np_generation_marker(np->generation, marker, sizeof(marker));
	int ret = mesh_nft_run(cmd, NULL, 0, out, 64 * 1024);
	bool intact = ret == 0 && strstr(out, marker);
	free(out);
	if (intact)
		return;
	np->restores++;
	log_warn("NetworkPolicy: table inet %s %s (another program, or `nft flush ruleset`); "
		 "putting it back (restore %llu)", MESH_POLICY_TABLE,
		 ret < 0 ? "is gone" : "was changed", (unsigned long long)np->restores);
	/* a changed table is replaced whole: deleting it first makes the restore one clean load */
	if (ret == 0) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s", MESH_POLICY_TABLE);
		mesh_nft_run(cmd, NULL, 0, NULL, 0);
	}
	if (apply_now(np, true) < 0)
		changed(np);
}

/* --- the watches ------------------------------------------------------------------------- */

static void watch_event(struct mesh_router *r, int res, enum kube_event ev, const cJSON *obj)
{
	struct router_netpol *np = get(r);
	char err[256];
	if (!np)
		return;
	switch (ev) {
	case KUBE_LIST_BEGIN:
		np_store_mark(&np->store, (enum np_kind)res);
		np->listing[res] = true;
		return;
	case KUBE_SYNCED: {
		size_t gone = np_store_sweep(&np->store, (enum np_kind)res);
		np->listing[res] = false;
		if (!np->synced[res]) {
			np->synced[res] = true;
			if (ready(np))
				log_info("NetworkPolicy: the API server's pods, namespaces and policies are "
					 "listed: enforcing (%zu policies)", np_store_count(&np->store,
											NP_KIND_POLICY));
		}
		if (gone || ready(np))
			changed(np);
		return;
	}
	case KUBE_ADDED:
	case KUBE_MODIFIED:
	case KUBE_DELETED:
		break;
	}
	int ret = np_store_update(&np->store, (enum np_kind)res, ev == KUBE_DELETED, obj, err,
				  sizeof(err));
	if (ret < 0) {
		log_warn("NetworkPolicy: ignored: %s", err);
		return;
	}
	if (ret > 0)
		changed(np);
}

void router_netpol_pod_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj)
{
	watch_event(r, RES_PODS, ev, obj);
}

void router_netpol_namespace_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj)
{
	watch_event(r, RES_NAMESPACES, ev, obj);
}

void router_netpol_policy_event(struct mesh_router *r, enum kube_event ev, const cJSON *obj)
{
	watch_event(r, RES_POLICIES, ev, obj);
}

/* --- the IPAM's addresses ---------------------------------------------------------------- */

void router_netpol_address_assigned(struct mesh_router *r, uint32_t ip, const char *ns,
				    const char *name)
{
	struct router_netpol *np = get(r);
	if (!np)
		return;
	struct local_addr *a = local_find(np, ip);
	if (a && !strcmp(a->ns, ns ? ns : "") && !strcmp(a->name, name ? name : ""))
		return; /* the same address for the same pod again (an idempotent ADD): nothing new */
	if (!a) {
		if (np->nlocal == MAX_LOCAL)
			memmove(np->local, np->local + 1, --np->nlocal * sizeof(*np->local));
		a = &np->local[np->nlocal++];
		a->ip = ip;
	}
	snprintf(a->ns, sizeof(a->ns), "%s", ns ? ns : "");
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	/* the rules for the pod are in place before mesh-cni answers kubelet */
	if (ready(np)) {
		if (np->apply_scheduled) {
			event_del(np->apply_ev);
			np->apply_scheduled = false;
		}
		if (apply_now(np, false) < 0)
			changed(np);
	}
}

void router_netpol_address_released(struct mesh_router *r, uint32_t ip)
{
	struct router_netpol *np = get(r);
	struct local_addr *a = np ? local_find(np, ip) : NULL;
	if (!a)
		return;
	*a = np->local[--np->nlocal];
	changed(np);
}

/* --- drops ------------------------------------------------------------------------------- */

static void on_drop(void *arg, const struct mesh_nflog_pkt *pkt)
{
	struct router_netpol *np = arg;
	struct np_drop_explained ex;
	char flow[128];
	time_t now = time(NULL);
	mesh_nflog_flow_format(pkt, flow, sizeof(flow));
	/* the same flow again within a minute (a SYN retransmitted): one drop, one log line */
	for (size_t k = 0; k < np->nrecent; k++) {
		struct drop *x = &np->recent[(np->next_recent + RECENT_DROPS - 1 - k) % RECENT_DROPS];
		if (now - x->when < 60 && !strcmp(x->flow, flow)) {
			x->packets++;
			return;
		}
	}
	np->drops_total++;
	struct np_local_view *view = np->view;
	fill_local(np, view);
	np_explain_drop_af(&np->store, view, pkt->family, &pkt->src, &pkt->dst, pkt->proto,
			   pkt->dport, pkt->prefix, &ex);
	if (ex.direction == NP_DROP_INGRESS)
		np->drops_ingress++;
	else if (ex.direction == NP_DROP_EGRESS)
		np->drops_egress++;
	else if (ex.direction == NP_DROP_PENDING)
		np->drops_pending++;
	else if (ex.direction == NP_DROP_LINKLOCAL)
		np->drops_linklocal++;
	struct drop *d = &np->recent[np->next_recent];
	np->next_recent = (np->next_recent + 1) % RECENT_DROPS;
	if (np->nrecent < RECENT_DROPS)
		np->nrecent++;
	d->when = now;
	d->packets = 1;
	snprintf(d->flow, sizeof(d->flow), "%s", flow);
	snprintf(d->from, sizeof(d->from), "%s", ex.from);
	snprintf(d->to, sizeof(d->to), "%s", ex.to);
	snprintf(d->direction, sizeof(d->direction), "%s", np_drop_direction_name(ex.direction));
	snprintf(d->why, sizeof(d->why), "%s", ex.why);
	if (mesh_ratelimit_take(&np->log_rl, mesh_mono_ms())) {
		np->drops_logged++;
		log_info("NetworkPolicy: dropped %s from %s to %s: %s", d->flow, d->from, d->to, d->why);
	}
}

static void nflog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_netpol *np = arg;
	int n = mesh_nflog_read(fd, on_drop, np, 256, &np->nflog_bad);
	if (n < 0 && n != -EAGAIN)
		log_warn("NetworkPolicy: reading the drop log: %s", strerror(-n));
}

/* --- setup ------------------------------------------------------------------------------- */

/* net.bridge.bridge-nf-call-<what> set to 1: 0, or a negative errno with err filled in */
static int bridge_nf_sysctl(const char *what, char *err, size_t errlen)
{
	char path[96];
	int ret;
	snprintf(path, sizeof(path), "/proc/sys/net/bridge/bridge-nf-call-%s", what);
	FILE *f = fopen(path, "r+");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "NetworkPolicy needs br_netfilter (modprobe br_netfilter): "
			 "%s: %s", path, strerror(-ret));
		return ret;
	}
	int c = fgetc(f);
	if (c != '1') {
		rewind(f);
		fputs("1\n", f);
		log_info("NetworkPolicy: net.bridge.bridge-nf-call-%s set to 1 (pods on one node "
			 "talk through the bridge; their packets must pass the rules)", what);
	}
	if (fclose(f) != 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot set net.bridge.bridge-nf-call-%s: %s", what,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int router_netpol_start(struct mesh_router *r, char *err, size_t errlen)
{
	struct router_netpol *np = calloc(1, sizeof(*np));
	int ret;
	if (!np || !(np->local = calloc(MAX_LOCAL, sizeof(*np->local))) ||
	    !(np->view = calloc(1, sizeof(*np->view)))) {
		if (np)
			free(np->local);
		free(np);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	np->r = r;
	np->nflog_fd = -1;
	r->own.netpol = np;
	np_store_init(&np->store);
	mesh_ratelimit_init(&np->log_rl, LOG_RATE_PER_S, LOG_BURST, mesh_mono_ms());
	np->apply_ev = evtimer_new(r->base, apply_cb, np);
	np->guard_ev = event_new(r->base, -1, EV_PERSIST, guard_cb, np);
	if (!np->apply_ev || !np->guard_ev) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct timeval tv = { .tv_sec = MESH_POLICY_GUARD_MS / 1000,
			      .tv_usec = (MESH_POLICY_GUARD_MS % 1000) * 1000 };
	event_add(np->guard_ev, &tv);
	/* bridged packets go through the inet forward hook only with br_netfilter's sysctls */
	if ((ret = bridge_nf_sysctl("iptables", err, errlen)) < 0 ||
	    (ret = bridge_nf_sysctl("ip6tables", err, errlen)) < 0)
		return ret;
	/* a meshd restarted with --keep-bridge finds its predecessor's table: what it holds is the
	 * previous generation, so the first apply deletes what is no longer needed */
	char *listing = NULL, lerr[256];
	snprintf(lerr, sizeof(lerr), "list table inet %s", MESH_POLICY_TABLE);
	if (mesh_nft_list_json(lerr, &listing, NULL, 0) == 0) {
		struct np_counter_values vals;
		if (np_nft_listing_parse(listing, strlen(listing), MESH_POLICY_TABLE, &vals, &np->prev,
					 lerr, sizeof(lerr)) == 0) {
			np_counter_values_free(&vals);
			log_info("NetworkPolicy: table inet %s is still here (%zu objects): isolation "
				 "holds until the first update replaces it", MESH_POLICY_TABLE,
				 np->prev.n);
		} else {
			log_warn("NetworkPolicy: the table left by the previous meshd cannot be read "
				 "(%s); it is replaced whole", lerr);
			snprintf(lerr, sizeof(lerr), "delete table inet %s", MESH_POLICY_TABLE);
			mesh_nft_run(lerr, NULL, 0, NULL, 0);
		}
	}
	free(listing);
	char why[256];
	np->nflog_fd = mesh_nflog_open(MESH_POLICY_NFLOG_GROUP, why, sizeof(why));
	if (np->nflog_fd < 0) {
		/* enforcement works without it; drops are then counted by nft only */
		log_warn("NetworkPolicy: %s; dropped flows are not shown", why);
	} else {
		np->nflog_ev = event_new(r->base, np->nflog_fd, EV_READ | EV_PERSIST, nflog_cb, np);
		if (!np->nflog_ev || event_add(np->nflog_ev, NULL) < 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

void router_netpol_stop(struct mesh_router *r)
{
	struct router_netpol *np = get(r);
	if (!np)
		return;
	if (np->apply_ev)
		event_free(np->apply_ev);
	if (np->guard_ev)
		event_free(np->guard_ev);
	if (np->nflog_ev)
		event_free(np->nflog_ev);
	if (np->nflog_fd >= 0)
		close(np->nflog_fd);
	if (np->installed && !r->cfg->keep_bridge) {
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "delete table inet %s", MESH_POLICY_TABLE);
		mesh_nft_run(cmd, NULL, 0, NULL, 0);
	}
	np_objects_free(&np->prev);
	np_store_free(&np->store);
	free(np->view);
	free(np->local);
	free(np);
	r->own.netpol = NULL;
}

/* --- status -------------------------------------------------------------------------------- */

cJSON *router_netpol_status_json(const struct mesh_router *r)
{
	const struct router_netpol *np = get(r);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "enforcing", np && np->installed);
	if (!np) {
		/* router/kube.c starts enforcement whenever it reads the API server, but with
		 * --network-policy off */
		cJSON_AddStringToObject(o, "why_not", r->cfg->network_policy == MESH_POLICY_OFF
			? "--network-policy off"
			: "meshd does not read the Kubernetes API server");
		return o;
	}
	if (!np->installed)
		cJSON_AddStringToObject(o, "why_not", !ready(np)
			? "waiting for the first list of pods, namespaces and policies"
			: np->last_error[0] ? np->last_error : "not applied yet");
	char table[64];
	snprintf(table, sizeof(table), "inet %s", MESH_POLICY_TABLE);
	cJSON_AddStringToObject(o, "table", table);
	cJSON_AddNumberToObject(o, "generation", (double)np->generation);
	cJSON_AddNumberToObject(o, "last_apply_ms", np->last_apply_ms);
	cJSON_AddNumberToObject(o, "applied_at_ms", (double)np->applied_at_ms);
	cJSON_AddNumberToObject(o, "applies", (double)np->applies);
	cJSON_AddNumberToObject(o, "apply_errors", (double)np->apply_errors);
	cJSON_AddStringToObject(o, "last_error", np->last_error);
	cJSON_AddNumberToObject(o, "restores", (double)np->restores);
	cJSON_AddStringToObject(o, "multicast",
				r->cfg->policy_multicast == MESH_POLICY_MCAST_ALLOW ? "allow" : "deny");
	cJSON *pend = cJSON_AddArrayToObject(o, "pending");
	for (size_t i = 0; i < np->nlocal; i++) {
		const struct local_addr *a = &np->local[i];
		/* an address without a pod name is no pod's (the host's on the bridge) or a pod the
		 * API server shows with it: not pending */
		if (!a->name[0] || np_store_pod_known(&np->store, a->ns, a->name))
			continue;
		char ip[INET_ADDRSTRLEN], s[600];
		inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
		snprintf(s, sizeof(s), "%s (%s/%s)", ip, a->ns[0] ? a->ns : "?", a->name[0] ? a->name : "?");
		cJSON_AddItemToArray(pend, cJSON_CreateString(s));
	}
	/* each rule's counter as the kernel has it now */
	struct np_counter_values vals = { 0 };
	char cmd[96], err[256], *listing = NULL;
	snprintf(cmd, sizeof(cmd), "list counters table inet %s", MESH_POLICY_TABLE);
	if (np->installed && mesh_nft_list_json(cmd, &listing, err, sizeof(err)) == 0 &&
	    np_nft_listing_parse(listing, strlen(listing), MESH_POLICY_TABLE, &vals, NULL, err,
				 sizeof(err)) < 0)
		log_debug("NetworkPolicy: the counters could not be read: %s", err);
	free(listing);
	cJSON *pols = np_status_policies_json(&np->prev, &vals);
	np_counter_values_free(&vals);
	cJSON_AddItemToObject(o, "policies", pols ? pols : cJSON_CreateArray());
	cJSON *d = cJSON_AddObjectToObject(o, "drops");
	cJSON_AddNumberToObject(d, "total", (double)np->drops_total);
	cJSON_AddNumberToObject(d, "ingress", (double)np->drops_ingress);
	cJSON_AddNumberToObject(d, "egress", (double)np->drops_egress);
	cJSON_AddNumberToObject(d, "pending", (double)np->drops_pending);
	cJSON_AddNumberToObject(d, "linklocal", (double)np->drops_linklocal);
	cJSON_AddNumberToObject(d, "logged", (double)np->drops_logged);
	cJSON_AddNumberToObject(d, "unreadable", (double)np->nflog_bad);
	cJSON *rec = cJSON_AddArrayToObject(d, "recent");
	for (size_t k = 0; k < np->nrecent; k++) { /* newest first */
		const struct drop *x = &np->recent[(np->next_recent + RECENT_DROPS - 1 - k) % RECENT_DROPS];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "time", (double)x->when);
		cJSON_AddStringToObject(e, "flow", x->flow);
		cJSON_AddNumberToObject(e, "packets", (double)x->packets);
		cJSON_AddStringToObject(e, "from", x->from);
		cJSON_AddStringToObject(e, "to", x->to);
		cJSON_AddStringToObject(e, "direction", x->direction);
		cJSON_AddStringToObject(e, "why", x->why);
		cJSON_AddItemToArray(rec, e);
	}
	return o;
}
