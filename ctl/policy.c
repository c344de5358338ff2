/* ctl/policy.c: meshctl status policy: GET /v1/policy, Kubernetes NetworkPolicy as this node
 * enforces it. First where the API server is and whether the rules are in place (and how often
 * they had to be put back), then one row per policy with the pods it isolates here and each
 * rule's packet counter, then the last flows dropped, each with its pods and the policies that
 * isolated them. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl/meshctl.h"
#include "ctl/table.h"

static void print_api(const cJSON *k)
{
	if (!cJSON_IsTrue(get(k, "configured"))) {
		printf("     Kubernetes: not read (%s)\n", str(k, "why_not"));
		return;
	}
	printf("     Kubernetes: %s, as node %s\n", str(k, "source"), str(k, "node"));
	const cJSON *w;
	cJSON_ArrayForEach(w, get(k, "watches")) {
		printf("  %13s  %s (resourceVersion %s, %.0f list%s, %.0f event%s", "",
		       str(w, "resource"), str(w, "resource_version"), num(w, "lists"),
		       num(w, "lists") == 1 ? "" : "s", num(w, "events"), num(w, "events") == 1 ? "" : "s");
		if (num(w, "errors") > 0)
			printf(", %.0f error%s, last: %s", num(w, "errors"), num(w, "errors") == 1 ? "" : "s",
			       str(w, "last_error"));
		printf("): %s\n", str(w, "state"));
	}
}

/* HH:MM:SS of a Unix time in seconds, or "-". */
static void clock_of(time_t at, char *out, size_t len)
{
	struct tm tm;
	snprintf(out, len, "-");
	if (at && localtime_r(&at, &tm))
		strftime(out, len, "%H:%M:%S", &tm);
}

static void print_rules(const cJSON *p)
{
	if (!cJSON_IsTrue(get(p, "enforcing"))) {
		printf("  NetworkPolicy: not enforced (%s)\n", str(p, "why_not"));
		return;
	}
	char loaded[16];
	clock_of((time_t)(num(p, "applied_at_ms") / 1000), loaded, sizeof(loaded));
	printf("  NetworkPolicy: enforced in nftables table %s, generation %.0f (loaded at %s, %.0f ms "
	       "to apply)\n",
	       str(p, "table"), num(p, "generation"), loaded, num(p, "last_apply_ms"));
	if (has_str(p, "last_error"))
		printf("     Last error: %s\n", str(p, "last_error"));
	printf("      Multicast: %s\n", is(p, "multicast", "deny")
		? "denied to and from isolated pods, like other traffic"
		: "allowed (not subject to NetworkPolicy)");
	if (num(p, "restores") > 0)
		printf("       Restored: %.0f time%s (something removed the table; it was put back)\n",
		       num(p, "restores"), num(p, "restores") == 1 ? "" : "s");
	const cJSON *pend = get(p, "pending"), *x;
	if (cJSON_GetArraySize(pend) > 0) {
		printf("        Pending: ");
		int i = 0;
		cJSON_ArrayForEach(x, pend)
			printf("%s%s", i++ ? ", " : "", cJSON_IsString(x) ? x->valuestring : "?");
		printf(" (new pods whose labels are not known yet: all their traffic dropped)\n");
	}
}

static void print_policies(const cJSON *p)
{
	struct table t;
	const cJSON *pol, *sel, *rule;
	table_init(&t, 6);
	table_row(&t, "POLICY\tTYPES\tISOLATES HERE\tRULE\tPACKETS\tBYTES");
	cJSON_ArrayForEach(pol, get(p, "policies")) {
		char types[32] = "", pods[160] = "";
		const cJSON *ty;
		size_t off = 0;
		cJSON_ArrayForEach(ty, get(pol, "types"))
			off += (size_t)snprintf(types + off, off < sizeof(types) ? sizeof(types) - off : 0,
						"%s%s", off ? "," : "",
						cJSON_IsString(ty) ? ty->valuestring : "?");
		off = 0;
		int n = 0;
		cJSON_ArrayForEach(sel, get(pol, "selects")) {
			if (n++ < 3 && off < sizeof(pods))
				off += (size_t)snprintf(pods + off, sizeof(pods) - off, "%s%s",
							off ? " " : "", str(sel, "pod"));
		}
		if (n > 3 && off < sizeof(pods))
			snprintf(pods + off, sizeof(pods) - off, " +%d", n - 3);
		char name[300];
		snprintf(name, sizeof(name), "%s/%s", str(pol, "namespace"), str(pol, "name"));
		int r = 0;
		cJSON_ArrayForEach(rule, get(pol, "rules")) {
			char which[48];
			snprintf(which, sizeof(which), "%s #%.0f", str(rule, "direction"), num(rule, "index"));
			table_row(&t, "%s\t%s\t%s\t%s\t%.0f\t%.0f", r ? "" : name, r ? "" : types,
				  r ? "" : (n ? pods : "-"), which, num(rule, "packets"), num(rule, "bytes"));
			r++;
		}
		if (!r)
			table_row(&t, "%s\t%s\t%s\t%s\t-\t-", name, types, n ? pods : "-",
				  "(none: all denied)");
	}
	if (t.nrows > 1)
		table_print(&t);
	else {
		table_free(&t);
		printf("       Policies: none select pods\n");
	}
}

static void print_drops(const cJSON *p)
{
	const cJSON *d = get(p, "drops"), *x;
	printf("\n        Dropped: %.0f new flow%s (%.0f to isolated pods, %.0f from them, %.0f of "
	       "pods not known yet, %.0f to or from IPv6 link-local addresses)\n", num(d, "total"),
	       num(d, "total") == 1 ? "" : "s", num(d, "ingress"), num(d, "egress"),
	       num(d, "pending"), num(d, "linklocal"));
	if (cJSON_GetArraySize(get(d, "recent")) == 0)
		return;
	struct table t;
	table_init(&t, 5);
	table_row(&t, "WHEN\tFLOW\tFROM\tTO\tWHY");
	cJSON_ArrayForEach(x, get(d, "recent")) {
		char when[16];
		clock_of((time_t)num(x, "time"), when, sizeof(when));
		table_row(&t, "%s\t%s\t%s\t%s\t%s", when, str(x, "flow"), str(x, "from"), str(x, "to"),
			  str(x, "why"));
	}
	table_print(&t);
}

int ctl_cmd_status_policy(const struct meshctl_args *a)
{
	struct meshapi_response res;
	int rc = ctl_request(a->socket, "GET", "/v1/policy", NULL, &res);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_check_response(&res, "status policy");
	if (rc == EXIT_OK) {
		if (a->json) {
			ctl_print_json(res.json);
		} else {
			print_api(get(res.json, "kubernetes"));
			print_rules(res.json);
			if (cJSON_IsTrue(get(res.json, "enforcing"))) {
				printf("\n");
				print_policies(res.json);
				print_drops(res.json);
			}
		}
	}
	meshapi_response_free(&res);
	if (rc != EXIT_OK)
		return rc;
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_DAEMON;
}
