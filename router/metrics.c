/* router/metrics.c: the status JSON as Prometheus text exposition format 0.0.4 (see metrics.h).
 * Owns the metric names, their HELP texts and label sets; the values all come from the status
 * object router/status.c builds. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/textbuf.h"
#include "router/metrics.h"

/* A label value with \, " and newline escaped, as the format requires. */
static void add_label_value(struct textbuf *b, const char *v)
{
	tb_printf(b, "\"");
	for (; *v; v++) {
		if (*v == '\\')
			tb_printf(b, "\\\\");
		else if (*v == '"')
			tb_printf(b, "\\\"");
		else if (*v == '\n')
			tb_printf(b, "\\n");
		else
			tb_printf(b, "%c", *v);
	}
	tb_printf(b, "\"");
}

/* Integers as integers (counters are integral; a double holds them exactly up to 2^53). */
static void add_value(struct textbuf *b, double v)
{
	if (v != v)
		tb_printf(b, "NaN");
	else if (v > 1e300 * 1e300)
		tb_printf(b, "+Inf");
	else if (v < -1e300 * 1e300)
		tb_printf(b, "-Inf");
	else if (v > -1e15 && v < 1e15 && (double)(long long)v == v)
		tb_printf(b, "%lld", (long long)v);
	else
		tb_printf(b, "%.17g", v);
}

static void family(struct textbuf *b, const char *name, const char *type, const char *help)
{
	tb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; labels is a NULL-terminated list of name, value pairs (may be NULL). */
static void sample(struct textbuf *b, const char *name, const char *const *labels, double v)
{
	tb_printf(b, "%s", name);
	if (labels && labels[0]) {
		tb_printf(b, "{");
		for (size_t i = 0; labels[i]; i += 2) {
			tb_printf(b, "%s%s=", i ? "," : "", labels[i]);
			add_label_value(b, labels[i + 1] ? labels[i + 1] : "");
		}
		tb_printf(b, "}");
	}
	tb_printf(b, " ");
	add_value(b, v);
	tb_printf(b, "\n");
}

/* --- reading the status -------------------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str_or(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : dflt;
}

static bool number(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = get(o, k);
	if (!cJSON_IsNumber(v))
		return false;
	*out = v->valuedouble;
	return true;
}

/* A counter family from counters.<key> per label value; samples whose key is missing are left
 * out (and the family too when all are). */
struct counter_sample {
	const char *key, *label_value;
};

static void counter_family(struct textbuf *b, const cJSON *ctr, const char *name, const char *help,
			   const char *fixed_label, const char *fixed_value, const char *label,
			   const struct counter_sample *s, size_t n)
{
	bool any = false;
	double v;
	for (size_t i = 0; i < n; i++)
		any |= number(ctr, s[i].key, &v);
	if (!any)
		return;
	family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		if (!number(ctr, s[i].key, &v))
			continue;
		const char *labels[] = { fixed_label, fixed_value, label, s[i].label_value, NULL };
		sample(b, name, fixed_label ? labels : labels + 2, v);
	}
}

static void single(struct textbuf *b, const cJSON *ctr, const char *key, const char *name,
		   const char *type, const char *help)
{
	double v;
	if (!number(ctr, key, &v))
		return;
	family(b, name, type, help);
	sample(b, name, NULL, v);
}

/* --- NetworkPolicy (the object GET /v1/policy answers, as status.policy) ------------------- */

static void policy_metrics(struct textbuf *b, const cJSON *p)
{
	double v;
	if (!cJSON_IsObject(p) || !number(p, "generation", &v))
		return;
	family(b, "mesh_policy_enforcing", "gauge",
	       "1 while this node's NetworkPolicy rules are in the kernel.");
	sample(b, "mesh_policy_enforcing", NULL, cJSON_IsTrue(get(p, "enforcing")));
	single(b, p, "applies", "mesh_policy_applies_total", "counter",
	       "Times the NetworkPolicy table was compiled and loaded.");
	single(b, p, "apply_errors", "mesh_policy_apply_errors_total", "counter",
	       "Times the NetworkPolicy table could not be compiled or loaded.");
	single(b, p, "restores", "mesh_policy_restores_total", "counter",
	       "Times the NetworkPolicy table was put back after another program removed it.");
	single(b, p, "last_apply_ms", "mesh_policy_last_apply_milliseconds", "gauge",
	       "Time the last compile and load of the NetworkPolicy table took.");
	static const struct counter_sample drops[] = {
		{ "ingress", "ingress" }, { "egress", "egress" }, { "pending", "pending" },
		{ "linklocal", "link-local" } };
	counter_family(b, get(p, "drops"), "mesh_policy_drops_total",
		       "New flows dropped by NetworkPolicy, by the side that isolated them (pending: "
		       "a new pod whose labels were not known yet; link-local: to or from an IPv6 "
		       "link-local address).", NULL, NULL, "direction", drops, 4);
	const cJSON *pol, *rule;
	bool any = false;
	for (int pass = 0; pass < 2; pass++) {
		const char *name = pass ? "mesh_policy_rule_bytes_total" : "mesh_policy_rule_packets_total";
		any = false;
		cJSON_ArrayForEach(pol, get(p, "policies")) {
			cJSON_ArrayForEach(rule, get(pol, "rules")) {
				if (!number(rule, pass ? "bytes" : "packets", &v))
					continue;
				if (!any)
					family(b, name, "counter", pass
					       ? "Bytes of new flows a NetworkPolicy rule allowed on this node."
					       : "New flows (first packets) a NetworkPolicy rule allowed on this node.");
				any = true;
				char idx[16];
				snprintf(idx, sizeof(idx), "%d", (int)cJSON_GetNumberValue(get(rule, "index")));
				const char *l[] = { "namespace", str_or(pol, "namespace", ""),
						    "policy", str_or(pol, "name", ""),
						    "direction", str_or(rule, "direction", ""),
						    "rule", idx, NULL };
				sample(b, name, l, v);
			}
		}
	}
}

/* --- the mesh IPAM (status.ipam) ----------------------------------------------------------- */

static void ipam_metrics(struct textbuf *b, const cJSON *im)
{
	if (!cJSON_IsObject(im) || !cJSON_IsString(get(im, "range")))
		return;
	family(b, "mesh_ipam_range_info", "gauge",
	       "The address ranges the mesh IPAM hands out, by family (ipv6: each allocation's IPv4 "
	       "address mapped into --ipalloc-range6); always 1.");
	const char *v4[] = { "family", "ipv4", "range", str_or(im, "range", ""), NULL };
	sample(b, "mesh_ipam_range_info", v4, 1);
	if (cJSON_IsString(get(im, "range6"))) {
		const char *v6[] = { "family", "ipv6", "range", str_or(im, "range6", ""), NULL };
		sample(b, "mesh_ipam_range_info", v6, 1);
	}
	single(b, im, "allocation_count", "mesh_ipam_allocations", "gauge",
	       "Containers this host holds addresses for (one IPv4 address each, and its IPv6 one "
	       "with --ipalloc-range6).");
	single(b, im, "free", "mesh_ipam_free_addresses", "gauge",
	       "Free IPv4 addresses in this host's part of the IPAM range.");
}

/* --- connections by state, overlay and encryption ------------------------------------------ */

struct conn_key {
	const char *state, *overlay, *encrypted;
	unsigned count;
};

static int conn_key_cmp(const void *pa, const void *pb)
{
	const struct conn_key *a = pa, *b = pb;
	int c = strcmp(a->state, b->state);
	if (!c)
		c = strcmp(a->overlay, b->overlay);
	if (!c)
		c = strcmp(a->encrypted, b->encrypted);
	return c;
}

/* Counts of the items of array by (up to) three string fields; sorted; NULL only when out of
 * memory (an empty array gives a non-NULL result with *n 0). */
static struct conn_key *count_connections(const cJSON *conns, size_t *n)
{
	size_t cap = (size_t)cJSON_GetArraySize(conns), k = 0;
	struct conn_key *keys = calloc(cap ? cap : 1, sizeof(*keys));
	const cJSON *c;
	if (!keys)
		return NULL;
	cJSON_ArrayForEach(c, conns) {
		struct conn_key key = {
			.state = str_or(c, "state", "unknown"),
			.overlay = str_or(c, "overlay", "none"),
			.encrypted = cJSON_IsTrue(get(c, "encrypted")) ? "true" : "false",
		};
		size_t i;
		for (i = 0; i < k; i++)
			if (!conn_key_cmp(&keys[i], &key))
				break;
		if (i == k && k < cap)
			keys[k++] = key;
		if (i < k)
			keys[i].count++;
	}
	qsort(keys, k, sizeof(*keys), conn_key_cmp);
	*n = k;
	return keys;
}

/* --- the exposition ------------------------------------------------------------------------ */

char *mesh_metrics_render(const cJSON *st)
{
	struct textbuf b = { 0 };
	const cJSON *ctr = get(st, "counters"), *c;
	double v;

	/* identity */
	family(&b, "mesh_info", "gauge", "Identity of this router; always 1.");
	const char *info[] = { "version", str_or(st, "version", ""), "name", str_or(st, "name", ""),
			       "nickname", str_or(st, "nickname", ""), NULL };
	sample(&b, "mesh_info", info, 1);
	if (cJSON_IsBool(get(st, "encryption"))) {
		family(&b, "mesh_encryption_enabled", "gauge",
		       "1 when traffic between hosts is encrypted with the shared password.");
		sample(&b, "mesh_encryption_enabled", NULL, cJSON_IsTrue(get(st, "encryption")));
	}
	if (number(st, "started", &v)) {
		family(&b, "mesh_start_time_seconds", "gauge",
		       "Start time of meshd since the Unix epoch in seconds.");
		sample(&b, "mesh_start_time_seconds", NULL, v);
	}

	/* peers */
	unsigned npeers = 0, reachable = 0;
	cJSON_ArrayForEach(c, get(st, "peers")) {
		npeers++;
		reachable += cJSON_IsTrue(get(c, "reachable"));
	}
	family(&b, "mesh_peers", "gauge", "Peers in the mesh as this router knows it, itself included.");
	sample(&b, "mesh_peers", NULL, npeers);
	family(&b, "mesh_peers_reachable", "gauge",
	       "Peers this router has a route to, itself included.");
	sample(&b, "mesh_peers_reachable", NULL, reachable);

	/* connections */
	size_t nkeys = 0;
	struct conn_key *keys = count_connections(get(st, "connections"), &nkeys);
	if (!keys)
		b.oom = true;
	family(&b, "mesh_connections", "gauge",
	       "Control connections of this router by state, overlay in use and encryption.");
	for (size_t i = 0; keys && i < nkeys; i++) {
		const char *l[] = { "state", keys[i].state, "overlay", keys[i].overlay,
				    "encrypted", keys[i].encrypted, NULL };
		sample(&b, "mesh_connections", l, keys[i].count);
	}
	free(keys);

	/* outbound targets: the same counting, by state only */
	keys = count_connections(get(st, "targets"), &nkeys);
	if (!keys)
		b.oom = true;
	family(&b, "mesh_targets", "gauge",
	       "Peer addresses this router connects to (command line, connect, discovery) by state.");
	for (size_t i = 0; keys && i < nkeys; i++) {
		/* count_connections keyed on overlay and encryption too; they are constant here */
		const char *l[] = { "state", keys[i].state, NULL };
		sample(&b, "mesh_targets", l, keys[i].count);
	}
	free(keys);

	/* data path */
	static const struct counter_sample frames[] = {
		{ "sleeve_tx_frames", "tx" }, { "sleeve_rx_frames", "rx" } };
	static const struct counter_sample bytes[] = {
		{ "sleeve_tx_bytes", "tx" }, { "sleeve_rx_bytes", "rx" } };
	static const struct counter_sample datagrams[] = {
		{ "sleeve_tx_datagrams", "tx" }, { "sleeve_rx_datagrams", "rx" } };
	counter_family(&b, ctr, "mesh_frames_total", "Ethernet frames sent and received per overlay.",
		       "overlay", "sleeve", "direction", frames, 2);
	counter_family(&b, ctr, "mesh_bytes_total",
		       "Bytes of Ethernet frames sent and received per overlay.", "overlay",
		       "sleeve", "direction", bytes, 2);
	counter_family(&b, ctr, "mesh_datagrams_total",
		       "UDP datagrams sent and received by the sleeve overlay.", "overlay", "sleeve",
		       "direction", datagrams, 2);
	static const struct counter_sample forwarded[] = {
		{ "frames_delivered", "delivered" }, { "frames_relayed", "relayed" } };
	counter_family(&b, ctr, "mesh_forwarded_frames_total",
		       "Frames from peers delivered to the local bridge or relayed to other peers.",
		       NULL, NULL, "action", forwarded, 2);
	static const struct counter_sample drops[] = {
		{ "sleeve_drop_replay", "replay" },
		{ "sleeve_drop_auth", "auth" },
		{ "sleeve_drop_malformed", "malformed" },
		{ "sleeve_drop_unknown_conn", "unknown_conn" },
		{ "sleeve_drop_tx_full", "tx_full" },
		{ "sleeve_drop_mtu", "mtu" },
		{ "sleeve_drop_tap", "tap" },
		{ "sleeve_drop_offload", "offload" },
		{ "drop_no_route", "no_route" },
	};
	counter_family(&b, ctr, "mesh_drops_total", "Frames or datagrams dropped, by reason.", NULL,
		       NULL, "reason", drops, sizeof(drops) / sizeof(drops[0]));
	single(&b, ctr, "sleeve_tap_writes", "mesh_sleeve_tap_writes_total", "counter",
	       "Writes of received frames to the sleeve's TAP device (a coalesced run is one).");
	single(&b, ctr, "sleeve_rx_coalesced", "mesh_sleeve_coalesced_frames_total", "counter",
	       "Received UDP frames written to the TAP as part of a coalesced run (one GSO write).");
	single(&b, ctr, "mac_table_size", "mesh_mac_table_entries", "gauge",
	       "Entries in the MAC table (local and learned from peers).");
	static const struct counter_sample macref[] = {
		{ "mac_refused_full", "table_full" }, { "mac_refused_peer", "peer_limit" },
		{ "mac_refused_port", "port_limit" }, { "mac_refused_rate", "learning_rate" } };
	counter_family(&b, ctr, "mesh_mac_refused_total",
		       "MAC locations not learned: the table, a peer or a bridge port at its cap, or "
		       "new MACs coming faster than the learning rate limit.", NULL, NULL, "reason",
		       macref, sizeof(macref) / sizeof(macref[0]));
	family(&b, "mesh_fastdp_flows", "gauge", "Flows installed in the kernel fast path.");
	sample(&b, "mesh_fastdp_flows", NULL, number(ctr, "fastdp_flows", &v) ? v : 0);
	single(&b, ctr, "fastdp_fdb_entries", "mesh_fastdp_fdb_entries", "gauge",
	       "Entries the VXLAN fast path has in the kernel FDB (remote MACs and flood targets).");
	static const struct counter_sample hbs[] = {
		{ "fastdp_heartbeats_tx", "tx" }, { "fastdp_heartbeats_rx", "rx" },
		{ "fastdp_heartbeats_bad", "bad" } };
	counter_family(&b, ctr, "mesh_fastdp_heartbeats_total",
		       "Fast path heartbeat frames sent, received, and refused.", NULL, NULL,
		       "direction", hbs, 3);

	/* control plane */
	static const struct counter_sample gossip[] = {
		{ "gossip_tx_bytes", "tx" }, { "gossip_rx_bytes", "rx" } };
	counter_family(&b, ctr, "mesh_gossip_bytes_total", "Bytes of gossip sent and received.",
		       NULL, NULL, "direction", gossip, 2);
	single(&b, ctr, "gossip_refused", "mesh_gossip_refused_total", "counter",
	       "Gossip messages refused as malformed or inconsistent.");
	single(&b, ctr, "ipam_requests_refused", "mesh_ipam_requests_refused_total", "counter",
	       "IPAM space requests refused: asking for another peer, or more than one a second.");
	single(&b, ctr, "ipam_range6_conflicts", "mesh_ipam_range6_conflicts_total", "counter",
	       "Connections established to a peer whose --ipalloc-range6 is not ours.");
	single(&b, ctr, "discovery_refused", "mesh_discovery_refused_total", "counter",
	       "Addresses learned through gossip not dialled: over 128 in all or 2 per peer.");
	single(&b, ctr, "control_auth_failures", "mesh_control_auth_failures_total", "counter",
	       "Control connections refused because authentication failed (wrong password).");
	single(&b, ctr, "control_refused", "mesh_control_refused_total", "counter",
	       "Control connections refused or failed for other reasons (limits, protocol).");
	static const struct counter_sample limited[] = {
		{ "control_refused_unauth", "unauthenticated_budget" },
		{ "control_refused_allow", "allow_from" },
		{ "control_refused_limit", "conn_limit" },
		{ "control_hs_timeouts", "handshake_deadline" },
		{ "control_slow_peers", "peer_not_reading" } };
	counter_family(&b, ctr, "mesh_control_limited_total",
		       "Control connections refused or closed by a limit against hostile peers: "
		       "outside --allow-from, too many strangers in their handshake, --conn-limit, the handshake "
		       "deadline, output to a peer that does not read.", NULL, NULL, "reason",
		       limited, sizeof(limited) / sizeof(limited[0]));

	ipam_metrics(&b, get(st, "ipam"));
	policy_metrics(&b, get(st, "policy"));

	if (b.oom) {
		free(b.p);
		return NULL;
	}
	if (!b.p)
		return strdup("");
	return b.p;
}
