/* ctl/status.c: meshctl status [peers|connections|ipam]: GET /v1/status (or /v1/ipam) and
 * its views as text tables, or the JSON (-o json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/meshctl.h"
#include "ctl/table.h"

/* "3h 12m" for a number of seconds. */
static void duration(char *out, size_t n, double secs)
{
	long s = secs > 0 ? (long)secs : 0;
	if (s < 60)
		snprintf(out, n, "%lds", s);
	else if (s < 3600)
		snprintf(out, n, "%ldm %lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%ldh %ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, n, "%ldd %ldh", s / 86400, s % 86400 / 3600);
}

/* --- the views ----------------------------------------------------------------------------- */

static const struct {
	const char *key, *label;
} drop_reasons[] = {
	{ "sleeve_drop_replay", "replayed" },
	{ "sleeve_drop_auth", "failed authentication" },
	{ "sleeve_drop_malformed", "malformed" },
	{ "sleeve_drop_tx_full", "send buffer full" },
	{ "sleeve_drop_mtu", "over the MTU" },
	{ "sleeve_drop_tap", "TAP write failed" },
	{ "sleeve_drop_offload", "bad offload header" },
	{ "drop_no_route", "no route" },
};

static void print_summary(const cJSON *st)
{
	const cJSON *c, *ctr = get(st, "counters");
	int established = 0, connecting = 0, failed = 0, standby = 0, sleeve = 0, fastdp = 0;
	int npeers = 0, reachable = 0;
	char up[32];

	cJSON_ArrayForEach(c, get(st, "connections")) {
		if (is(c, "state", "established")) {
			established++;
			if (is(c, "overlay", "sleeve"))
				sleeve++;
			else if (has_str(c, "overlay") && !strncmp(str(c, "overlay"), "fastdp", 6))
				fastdp++;
		} else {
			connecting++;
		}
	}
	cJSON_ArrayForEach(c, get(st, "targets"))
		if (is(c, "state", "retry-wait"))
			failed++;
		else if (is(c, "state", "standby"))
			standby++;
	cJSON_ArrayForEach(c, get(st, "peers")) {
		npeers++;
		if (cJSON_IsTrue(get(c, "reachable")))
			reachable++;
	}
	duration(up, sizeof(up), num(st, "started") > 0 ? (double)time(NULL) - num(st, "started") : 0);

	printf("        Version: %s (protocol %d)\n", str(st, "version"), (int)num(st, "protocol"));
	printf("           Peer: %s (%s)\n", str(st, "name"), str(st, "nickname"));
	if (has_str(st, "mesh_name"))
		printf("           Mesh: %s\n", str(st, "mesh_name"));
	if (cJSON_IsTrue(get(st, "encryption")) && num(st, "passwords") == 2)
		printf("     Encryption: enabled (2 passwords: sealing with the first, accepting both "
		       "while the password changes)\n");
	else
		printf("     Encryption: %s\n", cJSON_IsTrue(get(st, "encryption")) ? "enabled" : "disabled");
	printf("           Port: %d (TCP control, UDP sleeve)\n", (int)num(st, "port"));
	printf("         Bridge: %s (MTU %d)\n", str(st, "bridge"), (int)num(st, "mtu"));
	if (cJSON_IsTrue(get(st, "partial_mesh")) && cJSON_IsTrue(get(st, "discovery")))
		printf("      Discovery: on (a partial mesh: more peers than --conn-limit %d; dials at "
		       "most %d, the rest reached through relays)\n", (int)num(st, "conn_limit"),
		       (int)num(st, "dial_limit"));
	else if (get(st, "discovery"))
		printf("      Discovery: %s\n", cJSON_IsTrue(get(st, "discovery")) ? "on" : "off");
	printf("         Uptime: %s\n", up);
	printf("          Peers: %d (%d reachable)\n", npeers, reachable);
	if (standby)
		printf("    Connections: %d (%d established, %d connecting, %d failed, %d on standby)\n",
		       established + connecting + failed + standby, established, connecting, failed,
		       standby);
	else
		printf("    Connections: %d (%d established, %d connecting, %d failed)\n",
		       established + connecting + failed, established, connecting, failed);
	if (has_str(st, "fastdp") && cJSON_IsTrue(get(st, "encryption")))
		printf("      Fast path: %s (UDP 6784 in kernel IPsec ESP, AES-GCM; %.0f unencrypted "
		       "VXLAN packets dropped)\n", str(st, "fastdp"),
		       num(ctr, "fastdp_unencrypted_dropped"));
	else if (has_str(st, "fastdp"))
		printf("      Fast path: %s (UDP 6784)\n", str(st, "fastdp"));
	else if (has_str(st, "fastdp_reason"))
		printf("      Fast path: none (%s)\n", str(st, "fastdp_reason"));
	printf("       Overlays: fastdp %d, sleeve %d\n", fastdp, sleeve);
	printf("      MAC table: %.0f entries\n", num(ctr, "mac_table_size"));
	double mfull = num(ctr, "mac_refused_full"), mpeer = num(ctr, "mac_refused_peer"),
	       mport = num(ctr, "mac_refused_port"), mrate = num(ctr, "mac_refused_rate");
	if (mfull + mpeer + mport + mrate > 0)
		printf("   MAC refused: %.0f table full, %.0f over a peer's cap, %.0f over a bridge "
		       "port's cap, %.0f over the learning rate\n", mfull, mpeer, mport, mrate);
	const cJSON *host = get(st, "host");
	if (cJSON_IsTrue(get(host, "expose")) || cJSON_IsTrue(get(host, "masquerade"))) {
		char addr[256];
		if (has_str(host, "address") && has_str(host, "address6"))
			snprintf(addr, sizeof(addr), "%s and %s on bridge %s (the containers' gateway)",
				 str(host, "address"), str(host, "address6"), str(st, "bridge"));
		else if (has_str(host, "address") && has_str(host, "waiting6"))
			snprintf(addr, sizeof(addr), "%s on bridge %s (the containers' gateway; no "
				 "IPv6: %s)", str(host, "address"), str(st, "bridge"),
				 str(host, "waiting6"));
		else if (has_str(host, "address"))
			snprintf(addr, sizeof(addr), "%s on bridge %s (the containers' gateway)",
				 str(host, "address"), str(st, "bridge"));
		else if (cJSON_IsTrue(get(host, "expose")))
			snprintf(addr, sizeof(addr), "no address yet (%s)", str(host, "waiting"));
		else
			snprintf(addr, sizeof(addr), "no address on the bridge");
		printf("           Host: %s; masquerade %s\n", addr,
		       cJSON_IsTrue(get(host, "masquerade")) ? "on" : "off");
	}
	const cJSON *k = get(st, "kubernetes");
	if (cJSON_IsTrue(get(k, "configured"))) {
		const cJSON *kn = get(k, "nodes");
		printf("     Kubernetes: %s, node %s; peers also from %d Node object%s; NetworkPolicy "
		       "%s\n", str(k, "source"), str(k, "node"), cJSON_GetArraySize(get(kn, "peers")),
		       cJSON_GetArraySize(get(kn, "peers")) == 1 ? "" : "s",
		       cJSON_IsTrue(get(k, "network_policy")) ? "enforced (meshctl status policy)"
							      : "off");
	} else if (has_str(k, "why_not")) {
		printf("     Kubernetes: not used (%s); peers from the command line and gossip\n",
		       str(k, "why_not"));
	}
	const cJSON *im = get(st, "ipam");
	if (cJSON_IsObject(im)) {
		if (cJSON_IsTrue(get(im, "ready")))
			printf("           IPAM: %s%s%s, %.0f allocations here, %.0f free addresses of ours\n",
			       str(im, "range"), has_str(im, "range6") ? " and " : "",
			       has_str(im, "range6") ? str(im, "range6") : "",
			       num(im, "allocation_count"), num(im, "free"));
		else
			printf("           IPAM: %s, not ready: %s\n", str(im, "range"),
			       str(im, "why_not_ready"));
	}
	printf("        Traffic: sleeve sent %.0f frames (%.0f bytes), received %.0f frames (%.0f bytes)\n",
	       num(ctr, "sleeve_tx_frames"), num(ctr, "sleeve_tx_bytes"),
	       num(ctr, "sleeve_rx_frames"), num(ctr, "sleeve_rx_bytes"));
	if (get(st, "sleeve_coalescing"))
		printf("   Sleeve to TAP: %.0f writes, %.0f UDP frames of them coalesced (%s)\n",
		       num(ctr, "sleeve_tap_writes"), num(ctr, "sleeve_rx_coalesced"),
		       cJSON_IsTrue(get(st, "sleeve_coalescing"))
			       ? "runs of one UDP flow go as one GSO write"
			       : "off: this kernel takes no UDP GSO from a TAP");
	printf("          Drops: ");
	bool any = false;
	for (size_t i = 0; i < sizeof(drop_reasons) / sizeof(drop_reasons[0]); i++) {
		double v = num(ctr, drop_reasons[i].key);
		if (v > 0) {
			printf("%s%.0f %s", any ? ", " : "", v, drop_reasons[i].label);
			any = true;
		}
	}
	printf("%s\n", any ? "" : "none");
	/* a peer's first sleeve datagrams often arrive before its handshake ends here: normal
	 * while connections come up, so not among the drops above */
	double early = num(ctr, "sleeve_drop_unknown_conn");
	if (early > 0)
		printf("Early datagrams: %.0f for connections not set up yet (normal while peers "
		       "connect; dropped)\n", early);
	double authfail = num(ctr, "control_auth_failures");
	if (authfail > 0)
		printf("  Control auth.: %.0f failed handshakes (wrong password?)\n", authfail);
	double unauth = num(ctr, "control_refused_unauth"), limit = num(ctr, "control_refused_limit"),
	       hsto = num(ctr, "control_hs_timeouts"), slow = num(ctr, "control_slow_peers");
	if (unauth + limit + hsto + slow > 0)
		printf("Control refused: %.0f strangers over the handshake budget, %.0f over "
		       "--conn-limit, %.0f handshakes past the deadline, %.0f peers not reading\n",
		       unauth, limit, hsto, slow);
	double ipamref = num(ctr, "ipam_requests_refused");
	if (ipamref > 0)
		printf("  IPAM refused: %.0f space requests (for another peer, or too many)\n", ipamref);
}

/* One row per peer, its connections (as it gossips them) indented under it; the connection
 * rows are a table of their own so that they line up with each other. */
static void print_peers(const cJSON *st)
{
	const cJSON *p, *c;
	struct table pt, ct;
	table_init(&pt, 6);
	table_init(&ct, 4);
	table_row(&pt, "PEER\tNICKNAME\tREACHABLE\tHOPS\tNEXT HOP\tCONNECTIONS");
	cJSON_ArrayForEach(p, get(st, "peers")) {
		bool self = !strcmp(str(p, "name"), str(st, "name"));
		const cJSON *hops = get(p, "hops");
		char hopbuf[16] = "-", next[64] = "-";
		if (cJSON_IsNumber(hops))
			snprintf(hopbuf, sizeof(hopbuf), "%d", hops->valueint);
		if (has_str(p, "next_hop"))
			snprintf(next, sizeof(next), "%s", has_str(p, "next_hop_nickname")
				 ? str(p, "next_hop_nickname") : str(p, "next_hop"));
		table_row(&pt, "%s\t%s%s\t%s\t%s\t%s\t%d", str(p, "name"), str(p, "nickname"),
			  self ? " (self)" : "", cJSON_IsTrue(get(p, "reachable")) ? "yes" : "no",
			  hopbuf, next, cJSON_GetArraySize(get(p, "connections")));
		cJSON_ArrayForEach(c, get(p, "connections"))
			table_row(&ct, "%s %s\t%s\t%s\t%s",
				  cJSON_IsTrue(get(c, "outbound")) ? "->" : "<-", str(c, "nickname"),
				  str(c, "peer"), str(c, "address"),
				  cJSON_IsTrue(get(c, "established")) ? "established" : "connecting");
	}
	table_print_row(&pt, 0, "");
	size_t r = 1, cr = 0;
	cJSON_ArrayForEach(p, get(st, "peers")) {
		if (r < pt.nrows)
			table_print_row(&pt, r++, "");
		int n = cJSON_GetArraySize(get(p, "connections"));
		for (int k = 0; k < n && cr < ct.nrows; k++)
			table_print_row(&ct, cr++, "    ");
	}
	if (pt.nrows > 1)
		printf("(-> the peer dialled the connection, <- it accepted it)\n");
	table_free(&pt);
	table_free(&ct);
}

#define INFO_MAX 80

/* The INFO column of a connection: text, with the host-wide reason for no fast path (said once
 * in `meshctl status`) replaced by a pointer to it, cut to INFO_MAX characters (*cut set). */
static void short_info(char out[INFO_MAX + 1], const char *text, const char *host_reason,
		       bool *cut)
{
	char buf[1024];
	size_t hl = host_reason ? strlen(host_reason) : 0;
	if (hl && !strncmp(text, host_reason, hl))
		snprintf(buf, sizeof(buf), "no fast path on this host (meshctl status says why)%s",
			 text + hl);
	else
		snprintf(buf, sizeof(buf), "%s", text);
	if (strlen(buf) > INFO_MAX) {
		snprintf(out, INFO_MAX + 1, "%.*s...", INFO_MAX - 3, buf);
		*cut = true;
	} else {
		snprintf(out, INFO_MAX + 1, "%s", buf);
	}
}

static void print_connections(const cJSON *st)
{
	bool cut = false;
	const cJSON *c;
	struct table t;
	time_t now = time(NULL);
	table_init(&t, 9);
	table_row(&t, "DIR\tADDRESS\tPEER\tNAME\tSTATE\tOVERLAY\tENCRYPTED\tMTU\tINFO");
	cJSON_ArrayForEach(c, get(st, "connections")) {
		char overlay[64] = "-", mtu[16] = "-";
		/* yes/no, and how when the daemon says (ipsec-esp on the fast path, secretbox on
		 * the sleeve) */
		char enc[48] = "no";
		if (cJSON_IsTrue(get(c, "encrypted")))
			snprintf(enc, sizeof(enc), has_str(c, "encryption") ? "yes (%s)" : "yes",
				 str(c, "encryption"));
		if (has_str(c, "overlay")) {
			if (has_str(c, "overlay_state"))
				snprintf(overlay, sizeof(overlay), "%s (%s)", str(c, "overlay"),
					 str(c, "overlay_state"));
			else
				snprintf(overlay, sizeof(overlay), "%s", str(c, "overlay"));
		}
		if (cJSON_IsNumber(get(c, "mtu")))
			snprintf(mtu, sizeof(mtu), "%d", get(c, "mtu")->valueint);
		/* why this overlay (or none), or what went wrong; short: the host-wide reason for
		 * no fast path is in `meshctl status`, the whole text in -o json */
		char info[INFO_MAX + 1];
		if (!has_str(c, "overlay") && !has_str(c, "last_error"))
			snprintf(info, sizeof(info), "no overlay yet (handshake)");
		else
			short_info(info, has_str(c, "last_error") ? str(c, "last_error")
								  : str(c, "overlay_reason"),
				   str(st, "fastdp_reason"), &cut);
		table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			  is(c, "direction", "outbound") ? "->" : "<-", str(c, "address"),
			  str(c, "nickname"), str(c, "peer"), str(c, "state"), overlay, enc, mtu, info);
	}
	/* Outbound targets without a connection: waiting to retry after a failure, or idle
	 * because their peer is reached through another connection. */
	cJSON_ArrayForEach(c, get(st, "targets")) {
		char info[512];
		if (is(c, "state", "retry-wait")) {
			double next = num(c, "next_retry");
			long in = next > 0 ? (long)(next - (double)now) : 0;
			snprintf(info, sizeof(info), "%s (attempt %d, retry in %lds)",
				 has_str(c, "last_error") ? str(c, "last_error") : "failed",
				 (int)num(c, "attempts"), in < 0 ? 0 : in);
			table_row(&t, "->\t%s\t-\t-\tfailed\t-\t-\t-\t%s", str(c, "address"), info);
		} else if (is(c, "state", "standby")) {
			table_row(&t, "->\t%s\t-\t-\tstandby\t-\t-\t-\t%s", str(c, "address"),
				  has_str(c, "last_error") ? str(c, "last_error") : "not dialled");
		} else if (is(c, "state", "idle")) {
			table_row(&t, "->\t%s\t-\t-\tidle\t-\t-\t-\t%s", str(c, "address"),
				  is(c, "last_error", "connected to ourselves")
					  ? "this host's own address"
					  : "its peer is connected another way");
		}
	}
	table_print(&t);
	if (cut)
		printf("(INFO cut to %d characters: meshctl status connections -o json has it whole)\n",
		       INFO_MAX);
	cJSON_ArrayForEach(c, get(st, "connections"))
		if (has_str(c, "ipv6_range_conflict"))
			printf("Warning: %s's IPv6 range is %s, not this host's: their containers "
			       "cannot reach ours over IPv6 (give every host the same "
			       "--ipalloc-range6)\n", str(c, "nickname"), str(c, "ipv6_range_conflict"));
}

/* GET /v1/ipam: the range and its seeding, then one row per owner of a share of the range. */
static void print_ipam(const cJSON *im)
{
	const cJSON *o;
	struct table t;
	printf("          Range: %s, in default subnet %s\n", str(im, "range"),
	       str(im, "default_subnet"));
	if (has_str(im, "range6"))
		printf("     IPv6 range: %s (each allocation's IPv6 address ends in the 32 bits of "
		       "its IPv4 one)\n", str(im, "range6"));
	else
		printf("     IPv6 range: off (IPv4 only)\n");
	if (cJSON_IsTrue(get(im, "seeded")))
		printf("         Seeded: yes (seed %s, %s)\n", str(im, "seed"), str(im, "init"));
	else
		printf("         Seeded: no (%s)\n", str(im, "init"));
	if (cJSON_IsTrue(get(im, "ready")))
		printf("          Ready: yes\n");
	else
		printf("          Ready: no: %s\n", str(im, "why_not_ready"));
	double after = num(im, "reclaim_after_s");
	if (after > 0) {
		char d[32];
		duration(d, sizeof(d), after);
		printf("  Reclaim after: %s gone, by the reachable majority%s\n", d,
		       cJSON_IsTrue(get(im, "majority")) ? "" : " (we are not in it now)");
	} else {
		printf("  Reclaim after: never\n");
	}
	printf("    Allocations: %.0f here, %.0f free addresses of ours\n",
	       num(im, "allocation_count"), num(im, "free"));
	table_init(&t, 7);
	table_row(&t, "PEER\tNICKNAME\tREACHABLE\tOWNED\tFREE\tRANGES\tSHARE");
	double total = 0;
	cJSON_ArrayForEach(o, get(im, "owners"))
		total += num(o, "owned");
	cJSON_ArrayForEach(o, get(im, "owners")) {
		double owned = num(o, "owned");
		table_row(&t, "%s\t%s%s\t%s\t%.0f\t%.0f\t%.0f\t%.1f%%", str(o, "name"),
			  has_str(o, "nickname") ? str(o, "nickname") : "?",
			  cJSON_IsTrue(get(o, "self")) ? " (self)" : "",
			  cJSON_IsTrue(get(o, "reachable")) ? "yes" : "no", owned, num(o, "free"),
			  num(o, "ranges"), total > 0 ? 100.0 * owned / total : 0.0);
	}
	if (t.nrows > 1)
		table_print(&t);
	else
		table_free(&t);
	/* our allocations, both families */
	table_init(&t, 4);
	table_row(&t, "CONTAINER\tNETWORK\tIP\tIP6");
	cJSON_ArrayForEach(o, get(im, "allocations"))
		table_row(&t, "%s\t%s\t%s\t%s", str(o, "container_id"),
			  has_str(o, "network") ? str(o, "network") : "-", str(o, "ip"),
			  has_str(o, "ip6") ? str(o, "ip6") : "-");
	if (t.nrows > 1) {
		printf("\n");
		table_print(&t);
	} else {
		table_free(&t);
	}
}

static int cmd_status_ipam(const struct meshctl_args *a)
{
	struct meshapi_response res;
	int rc = ctl_request(a->socket, "GET", "/v1/ipam", NULL, &res);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_check_response(&res, "status ipam");
	if (rc == EXIT_OK) {
		if (a->json) {
			char *text = cJSON_Print(res.json);
			if (text) {
				puts(text);
				free(text);
			}
		} else {
			print_ipam(res.json);
		}
	}
	meshapi_response_free(&res);
	if (rc != EXIT_OK)
		return rc;
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_DAEMON;
}

int ctl_cmd_status(const struct meshctl_args *a)
{
	struct meshapi_response res;
	if (a->view == MESHCTL_VIEW_IPAM)
		return cmd_status_ipam(a);
	if (a->view == MESHCTL_VIEW_POLICY)
		return ctl_cmd_status_policy(a);
	int rc = ctl_request(a->socket, "GET", "/v1/status", NULL, &res);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_check_response(&res, "status");
	if (rc != EXIT_OK) {
		meshapi_response_free(&res);
		return rc;
	}
	cJSON *st = res.json;
	if (a->json) {
		if (a->view == MESHCTL_VIEW_SUMMARY) {
			ctl_print_json(st);
		} else if (a->view == MESHCTL_VIEW_PEERS) {
			cJSON *p = cJSON_GetObjectItemCaseSensitive(st, "peers");
			if (p)
				ctl_print_json(p);
			else
				puts("[]");
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON *conns = cJSON_DetachItemFromObjectCaseSensitive(st, "connections");
			cJSON *targets = cJSON_DetachItemFromObjectCaseSensitive(st, "targets");
			cJSON_AddItemToObject(o, "connections", conns ? conns : cJSON_CreateArray());
			cJSON_AddItemToObject(o, "targets", targets ? targets : cJSON_CreateArray());
			ctl_print_json(o);
			cJSON_Delete(o);
		}
	} else if (a->view == MESHCTL_VIEW_PEERS) {
		print_peers(st);
	} else if (a->view == MESHCTL_VIEW_CONNECTIONS) {
		print_connections(st);
	} else {
		print_summary(st);
	}
	meshapi_response_free(&res);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_DAEMON;
}
