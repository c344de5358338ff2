/* tests/unit/test_policy_compile.c: the nftables script of policy/compile.c for small states
 * (exact lines and set contents), named ports for ingress and egress, ipBlock except, stacked
 * policies, the node's view (unknown pods, reused addresses), the object list and what a
 * recompile deletes, determinism; the drop explanation (policy/explain.c); the nft JSON
 * listing parser and the status JSON (policy/nftjson.c). That the script loads and does what
 * it says in the kernel is tests/integration/test_policy_nft.sh. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile.h"
#include "policy/nftjson.h"
#include "policy/store.h"

static struct np_store S;
static struct np_local_view V;

static void setup(void)
{
	np_store_init(&S);
	memset(&V, 0, sizeof(V));
	V.node = "n1";
}

static void teardown(void)
{
	np_store_free(&S);
}

TestSuite(policy_compile, .init = setup, .fini = teardown);

static void add(enum np_kind kind, const char *json)
{
	char err[256];
	cJSON *j = cJSON_Parse(json);
	cr_assert(j, "not JSON: %s", json);
	int ret = np_store_update(&S, kind, false, j, err, sizeof(err));
	cr_assert_geq(ret, 0, "%s", err);
	cJSON_Delete(j);
}

static void del(enum np_kind kind, const char *json)
{
	char err[256];
	cJSON *j = cJSON_Parse(json);
	cr_assert_eq(np_store_update(&S, kind, true, j, err, sizeof(err)), 1, "%s", err);
	cJSON_Delete(j);
}

static void ns(const char *name, const char *labels)
{
	char b[512];
	snprintf(b, sizeof(b), "{\"metadata\":{\"name\":\"%s\",\"labels\":%s}}", name, labels);
	add(NP_KIND_NAMESPACE, b);
}

/* a pod on node (local when node is "n1"), with named ports ports (a JSON list) */
static void pod(const char *nsname, const char *name, const char *labels, const char *ip,
		const char *node, const char *ports)
{
	char b[2048];
	snprintf(b, sizeof(b), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":%s},"
		 "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"ports\":%s}]},"
		 "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\"}}", name, nsname, labels, node,
		 ports, ip);
	add(NP_KIND_POD, b);
}

static void pol(const char *nsname, const char *name, const char *uid, const char *spec)
{
	char b[4096];
	snprintf(b, sizeof(b), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\"},"
		 "\"spec\":%s}", name, nsname, uid, spec);
	add(NP_KIND_POLICY, b);
}

static void view_add(const char *ip, const char *nsname, const char *name)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, ip, &a), 1);
	V.addr[V.n].ip = a.s_addr;
	V.addr[V.n].ns = nsname;
	V.addr[V.n].name = name;
	V.n++;
}

static struct np_compiled compile_opts(const struct np_objects *prev, const struct np_compile_opts *o)
{
	struct np_compiled c;
	char err[256];
	cr_assert_eq(np_compile(&S, &V, o, prev, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(c.script), c.len);
	return c;
}

static struct np_compiled compile(const struct np_objects *prev)
{
	struct np_compile_opts o;
	np_compile_opts_init(&o);
	o.nflog_group = 5;
	o.generation = 7;
	return compile_opts(prev, &o);
}

static bool has_line(const char *script, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = script; (p = strstr(p, line)); p++)
		if ((p == script || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define ASSERT_LINE(script, line) cr_assert(has_line(script, line), "missing line: %s\n--- script:\n%s", line, script)
#define ASSERT_NO_LINE(script, line) cr_assert_not(has_line(script, line), "unexpected line: %s\n--- script:\n%s", line, script)

/* the line holding needle (a copy) or NULL */
static char *line_with(const char *script, const char *needle)
{
	const char *p = strstr(script, needle);
	if (!p)
		return NULL;
	const char *b = p, *e = strchr(p, '\n');
	while (b > script && b[-1] != '\n')
		b--;
	return strndup(b, e ? (size_t)(e - b) : strlen(b));
}

/* the set named right after token in line ("... ip saddr @NAME ...") */
static char *set_after(const char *line, const char *token)
{
	const char *p = strstr(line, token);
	cr_assert(p, "no %s in: %s", token, line);
	p += strlen(token);
	return strndup(p, strcspn(p, " "));
}

/* the elements of set name as the script adds them ("" when none), in one of a few static
 * buffers */
static const char *elems(const char *script, const char *name)
{
	static char bufs[4][4096];
	static unsigned next;
	char needle[256], *out = bufs[next++ % 4];
	snprintf(needle, sizeof(needle), "add element inet mesh_policy %s { ", name);
	const char *p = strstr(script, needle);
	if (!p)
		return "";
	p += strlen(needle);
	snprintf(out, sizeof(bufs[0]), "%.*s", (int)(strstr(p, " }\n") - p), p);
	return out;
}

Test(policy_compile, no_policy_is_the_fixed_frame)
{
	pod("a", "p", "{}", "10.32.0.2", "n1", "[]");
	struct np_compiled c = compile(NULL);
	ASSERT_LINE(c.script, "add table inet mesh_policy");
	ASSERT_LINE(c.script, "add set inet mesh_policy pending { type ipv4_addr; }");
	ASSERT_LINE(c.script, "add chain inet mesh_policy forward { type filter hook forward priority filter; policy accept; }");
	ASSERT_LINE(c.script, "flush chain inet mesh_policy forward");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip saddr @pending goto pend_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip daddr @pending goto pend_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ct state established,related accept comment \"mesh-policy generation 7;\"");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip daddr { 224.0.0.0/4, 255.255.255.255 } accept");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip saddr @isolated_out jump pol_out");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip daddr @isolated_in jump pol_in");
	ASSERT_LINE(c.script, "add rule inet mesh_policy pol_in limit rate 10/second burst 20 packets log prefix \"mesh-policy ingress \" group 5");
	ASSERT_LINE(c.script, "add rule inet mesh_policy pol_in counter name drop_ingress drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy pol_out counter name drop_egress drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy pend_drop counter name drop_pending drop");
	cr_assert_null(strstr(c.script, "flush set inet mesh_policy pending"), "the caller's set is never flushed");
	cr_assert_null(strstr(c.script, "delete "));
	/* pods no policy selects: nothing isolates them */
	cr_assert_str_eq(elems(c.script, "isolated_in"), "");
	cr_assert_str_eq(elems(c.script, "isolated_out"), "");
	cr_assert_eq(c.npolicies_here, 0);
	char marker[64];
	np_generation_marker(7, marker, sizeof(marker));
	cr_assert(strstr(c.script, marker));
	np_compiled_free(&c);
	/* the order of the forward chain: pending, conntrack, multicast, isolation */
	c = compile(NULL);
	const char *a = strstr(c.script, "@unknown goto"), *b = strstr(c.script, "ct state"),
		   *m = strstr(c.script, "224.0.0.0/4"), *i = strstr(c.script, "jump pol_out");
	cr_assert(a && b && m && i && a < b && b < m && m < i);
	np_compiled_free(&c);
}

Test(policy_compile, multicast_option)
{
	struct np_compile_opts o;
	np_compile_opts_init(&o);
	cr_assert(o.multicast_allowed, "allowed by default");
	o.multicast_allowed = false;
	struct np_compiled c = compile_opts(NULL, &o);
	cr_assert_null(strstr(c.script, "224.0.0.0/4"));
	np_compiled_free(&c);
}

Test(policy_compile, deny_all_isolates_local_pods_only)
{
	ns("a", "{}");
	pod("a", "here", "{}", "10.32.0.2", "n1", "[]");
	pod("a", "there", "{}", "10.32.0.3", "n2", "[]");
	pod("b", "other", "{}", "10.32.0.4", "n1", "[]");
	pol("a", "deny", "u-deny", "{\"podSelector\":{}}");
	struct np_compiled c = compile(NULL);
	cr_assert_str_eq(elems(c.script, "isolated_in"), "10.32.0.2", "only the pod of this node, of namespace a");
	cr_assert_str_eq(elems(c.script, "isolated_out"), "");
	cr_assert_eq(c.objects.ncounters, 0, "no rules: no rule counters");
	cr_assert_null(strstr(c.script, "add rule inet mesh_policy pol_in ip"), "nothing allowed");
	cr_assert_eq(c.npolicies_here, 1);
	cr_assert_eq(c.nisolated_in, 1);
	np_compiled_free(&c);
}

Test(policy_compile, ingress_rule_exact)
{
	ns("a", "{}");
	pod("a", "web", "{\"app\":\"web\"}", "10.32.0.2", "n1", "[]");
	pod("a", "c1", "{\"app\":\"client\"}", "10.32.0.5", "n2", "[]");
	pod("a", "c2", "{\"app\":\"client\"}", "10.32.0.6", "n1", "[]");
	pod("b", "c3", "{\"app\":\"client\"}", "10.32.0.7", "n1", "[]");
	pol("a", "web", "u-1", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
	    "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}],"
	    "\"ports\":[{\"port\":80},{\"port\":8000,\"endPort\":8010},{\"protocol\":\"UDP\"},{\"port\":81}]}]}");
	struct np_compiled c = compile(NULL);
	ASSERT_LINE(c.script, "add counter inet mesh_policy np_u-1_in_0");
	char *r = line_with(c.script, "counter name np_u-1_in_0");
	cr_assert(r);
	cr_assert(!strncmp(r, "add rule inet mesh_policy pol_in ip daddr @sel_", 47), "%s", r);
	cr_assert(strstr(r, " counter name np_u-1_in_0 accept"), "%s", r);
	char *sel = set_after(r, "ip daddr @"), *peer = set_after(r, "ip saddr @"),
	     *ports = set_after(r, "meta l4proto . th dport @");
	cr_assert_str_eq(elems(c.script, sel), "10.32.0.2");
	cr_assert_str_eq(elems(c.script, peer), "10.32.0.5-10.32.0.6", "clients of namespace a, both nodes");
	cr_assert_str_eq(elems(c.script, ports), "tcp . 80-81, tcp . 8000-8010, udp . 0-65535");
	char decl[256];
	snprintf(decl, sizeof(decl), "add set inet mesh_policy %s { type ipv4_addr; flags interval; }", peer);
	ASSERT_LINE(c.script, decl);
	snprintf(decl, sizeof(decl), "add set inet mesh_policy %s { type inet_proto . inet_service; flags interval; }", ports);
	ASSERT_LINE(c.script, decl);
	snprintf(decl, sizeof(decl), "flush set inet mesh_policy %s", peer);
	ASSERT_LINE(c.script, decl);
	cr_assert_eq(c.objects.ncounters, 1);
	cr_assert_str_eq(c.objects.counters[0].name, "np_u-1_in_0");
	cr_assert_str_eq(c.objects.counters[0].ns, "a");
	cr_assert_str_eq(c.objects.counters[0].policy, "web");
	cr_assert_eq(c.objects.counters[0].direction, NP_TYPE_INGRESS);
	cr_assert_eq(c.objects.counters[0].index, 0);
	cr_assert(np_objects_has(&c.objects, NP_OBJ_SET, peer));
	cr_assert(np_objects_has(&c.objects, NP_OBJ_COUNTER, "np_u-1_in_0"));
	cr_assert(np_objects_has(&c.objects, NP_OBJ_CHAIN, "pol_in"));
	free(r);
	free(sel);
	free(peer);
	free(ports);
	np_compiled_free(&c);
}

Test(policy_compile, empty_from_and_ports_mean_everything)
{
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");
	pol("a", "all", "u-2", "{\"podSelector\":{},\"ingress\":[{\"from\":[]}],\"egress\":[{}]}");
	struct np_compiled c = compile(NULL);
	char *r = line_with(c.script, "counter name np_u-2_in_0");
	cr_assert(r);
	cr_assert_null(strstr(r, "saddr"), "no source match: %s", r);
	cr_assert_null(strstr(r, "dport"), "no port match: %s", r);
	free(r);
	r = line_with(c.script, "counter name np_u-2_eg_0");
	cr_assert(r && strstr(r, " return"), "egress rules return to forward: %s", r);
	cr_assert(!strncmp(r, "add rule inet mesh_policy pol_out ip saddr @sel_", 48), "%s", r);
	cr_assert_null(strstr(r, "daddr"));
	free(r);
	cr_assert_str_eq(elems(c.script, "isolated_out"), "10.32.0.2");
	np_compiled_free(&c);
}

Test(policy_compile, rule_with_no_peer_yet_allows_nothing)
{
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");
	pol("a", "p", "u-3", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":"
	    "{\"matchLabels\":{\"app\":\"nobody\"}}}]}]}");
	struct np_compiled c = compile(NULL);
	ASSERT_LINE(c.script, "add counter inet mesh_policy np_u-3_in_0");
	cr_assert_null(strstr(c.script, "counter name np_u-3_in_0"), "no rule for an empty peer set");
	cr_assert_str_eq(elems(c.script, "isolated_in"), "10.32.0.2");
	np_compiled_free(&c);
}

Test(policy_compile, named_ports_ingress_resolve_on_the_selected_pod)
{
	pod("a", "w1", "{\"app\":\"web\"}", "10.32.0.2", "n1",
	    "[{\"name\":\"http\",\"containerPort\":8080},{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]");
	pod("a", "w2", "{\"app\":\"web\"}", "10.32.0.3", "n1", "[{\"name\":\"http\",\"containerPort\":9090}]");
	pod("a", "w3", "{\"app\":\"web\"}", "10.32.0.4", "n1", "[]");
	pol("a", "p", "u-4", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{"
	    "\"ports\":[{\"port\":\"http\"},{\"port\":\"dns\",\"protocol\":\"UDP\"},{\"port\":\"dns\"},{\"port\":443}]}]}");
	struct np_compiled c = compile(NULL);
	char *r = line_with(c.script, "ip daddr . meta l4proto . th dport @named_");
	cr_assert(r, "%s", c.script);
	cr_assert(strstr(r, "counter name np_u-4_in_0 accept"), "%s", r);
	char *named = set_after(r, "th dport @");
	cr_assert_str_eq(elems(c.script, named), "10.32.0.2 . tcp . 8080, 10.32.0.2 . udp . 53, 10.32.0.3 . tcp . 9090",
			 "dns/TCP resolves on no pod; w3 has no named ports");
	char decl[256];
	snprintf(decl, sizeof(decl), "add set inet mesh_policy %s { type ipv4_addr . inet_proto . inet_service; }", named);
	ASSERT_LINE(c.script, decl);
	/* the numeric port has its own rule with the same counter */
	char *n = line_with(c.script, "meta l4proto . th dport @port_");
	cr_assert(n && strstr(n, "counter name np_u-4_in_0 accept"));
	free(r);
	free(n);
	free(named);
	np_compiled_free(&c);
}

Test(policy_compile, named_ports_egress_resolve_on_the_destination)
{
	ns("a", "{}");
	ns("b", "{\"team\":\"db\"}");
	pod("a", "client", "{\"app\":\"client\"}", "10.32.0.2", "n1", "[]");
	pod("b", "db1", "{\"app\":\"db\"}", "10.32.1.1", "n2", "[{\"name\":\"pg\",\"containerPort\":5432}]");
	pod("b", "db2", "{\"app\":\"db\"}", "10.32.1.2", "n1", "[{\"name\":\"pg\",\"containerPort\":6432}]");
	pod("a", "db3", "{\"app\":\"db\"}", "10.32.1.3", "n2", "[{\"name\":\"pg\",\"containerPort\":7432}]");
	pol("a", "p", "u-5", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
	    "\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"db\"}}}],\"ports\":[{\"port\":\"pg\"}]}]}");
	struct np_compiled c = compile(NULL);
	char *r = line_with(c.script, "counter name np_u-5_eg_0");
	cr_assert(r);
	cr_assert(!strncmp(r, "add rule inet mesh_policy pol_out ip saddr @sel_", 48), "%s", r);
	cr_assert(strstr(r, " ip daddr . meta l4proto . th dport @named_"), "%s", r);
	cr_assert(strstr(r, " return"), "%s", r);
	char *named = set_after(r, "th dport @");
	cr_assert_str_eq(elems(c.script, named), "10.32.1.1 . tcp . 5432, 10.32.1.2 . tcp . 6432",
			 "db3 is not in a peer namespace");
	cr_assert_str_eq(elems(c.script, "isolated_out"), "10.32.0.2");
	cr_assert_str_eq(elems(c.script, "isolated_in"), "");
	free(r);
	free(named);
	np_compiled_free(&c);
}

Test(policy_compile, ip_block_except_as_interval_set)
{
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");
	pol("a", "p", "u-6", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"172.16.0.0/12\","
	    "\"except\":[\"172.16.0.0/24\",\"172.31.255.255/32\"]}},{\"ipBlock\":{\"cidr\":\"192.168.0.7/32\"}}]}]}");
	struct np_compiled c = compile(NULL);
	char *r = line_with(c.script, "counter name np_u-6_in_0");
	char *peer = set_after(r, "ip saddr @");
	cr_assert_str_eq(elems(c.script, peer), "172.16.1.0-172.31.255.254, 192.168.0.7");
	free(r);
	free(peer);
	np_compiled_free(&c);
}

Test(policy_compile, stacked_policies_add_up)
{
	pod("a", "web", "{\"app\":\"web\"}", "10.32.0.2", "n1", "[]");
	pod("a", "c", "{\"app\":\"c\"}", "10.32.0.3", "n2", "[]");
	pod("a", "d", "{\"app\":\"d\"}", "10.32.0.4", "n2", "[]");
	pol("a", "p1", "u-a", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}}}]}]}");
	pol("a", "p2", "u-b", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"d\"}}}]}]}");
	pol("a", "p3", "u-c", "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\"]}]},\"policyTypes\":[\"Ingress\"]}");
	struct np_compiled c = compile(NULL);
	char *r1 = line_with(c.script, "counter name np_u-a_in_0"), *r2 = line_with(c.script, "counter name np_u-b_in_0");
	cr_assert(r1 && r2);
	char *s1 = set_after(r1, "ip daddr @"), *s2 = set_after(r2, "ip daddr @");
	cr_assert_str_eq(s1, s2, "the same selected pods: one set");
	cr_assert_str_eq(elems(c.script, "isolated_in"), "10.32.0.2", "once");
	cr_assert(strstr(c.script, r1) < strstr(c.script, r2), "policies in (namespace, name) order");
	cr_assert_eq(c.npolicies_here, 3);
	cJSON *desc = c.objects.policies;
	cr_assert_eq(cJSON_GetArraySize(desc), 3);
	cJSON *p1 = cJSON_GetArrayItem(desc, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(p1, "name")->valuestring, "p1");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p1, "selects"), 0), "pod")->valuestring, "a/web");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p1, "rules"), 0), "counter")->valuestring, "np_u-a_in_0");
	free(r1);
	free(r2);
	free(s1);
	free(s2);
	np_compiled_free(&c);
}

Test(policy_compile, recompile_deletes_only_what_is_gone)
{
	pod("a", "web", "{\"app\":\"web\"}", "10.32.0.2", "n1", "[]");
	pod("a", "c", "{\"app\":\"c\"}", "10.32.0.3", "n2", "[]");
	pol("a", "keep", "u-k", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}}}]}]}");
	pol("a", "gone", "u-g", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"1.2.3.0/24\"}}]}],"
	    "\"egress\":[{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}]}");
	struct np_compiled first = compile(NULL);
	char *rg = line_with(first.script, "counter name np_u-g_in_0");
	char *gone_peer = set_after(rg, "ip saddr @");
	char *rk = line_with(first.script, "counter name np_u-k_in_0");
	char *keep_peer = set_after(rk, "ip saddr @");
	/* the same state again: nothing deleted, same script but for nothing */
	struct np_compiled same = compile(&first.objects);
	cr_assert_null(strstr(same.script, "\ndelete "), "%s", same.script);
	cr_assert_str_eq(same.script, first.script, "deterministic");
	np_compiled_free(&same);
	del(NP_KIND_POLICY, "{\"metadata\":{\"name\":\"gone\",\"namespace\":\"a\"}}");
	struct np_compiled second = compile(&first.objects);
	char line[256];
	ASSERT_LINE(second.script, "delete counter inet mesh_policy np_u-g_in_0");
	ASSERT_LINE(second.script, "delete counter inet mesh_policy np_u-g_eg_0");
	snprintf(line, sizeof(line), "delete set inet mesh_policy %s", gone_peer);
	ASSERT_LINE(second.script, line);
	snprintf(line, sizeof(line), "delete set inet mesh_policy %s", keep_peer);
	ASSERT_NO_LINE(second.script, line);
	ASSERT_NO_LINE(second.script, "delete counter inet mesh_policy np_u-k_in_0");
	ASSERT_LINE(second.script, "add counter inet mesh_policy np_u-k_in_0");
	/* deletions come after every rule that could refer to them */
	const char *last_rule = strstr(second.script, "counter name drop_ingress drop");
	cr_assert(last_rule && last_rule < strstr(second.script, "\ndelete "));
	cr_assert_not(np_objects_has(&second.objects, NP_OBJ_COUNTER, "np_u-g_in_0"));
	/* a chain of an older compile: flushed at the start, deleted at the end; the caller's
	 * set pending is never deleted */
	struct np_object extra[2] = { { NP_OBJ_CHAIN, "old_chain" }, { NP_OBJ_SET, "pending" } };
	struct np_objects prev = { .n = 2, .v = extra };
	struct np_compiled third = compile(&prev);
	ASSERT_LINE(third.script, "flush chain inet mesh_policy old_chain");
	ASSERT_LINE(third.script, "delete chain inet mesh_policy old_chain");
	ASSERT_NO_LINE(third.script, "delete set inet mesh_policy pending");
	cr_assert(strstr(third.script, "flush chain inet mesh_policy old_chain") <
		  strstr(third.script, "add rule"));
	/* a name that is not ours is never put into the script */
	struct np_object evil[1] = { { NP_OBJ_SET, "x; delete table inet filter" } };
	prev = (struct np_objects){ .n = 1, .v = evil };
	struct np_compiled fourth = compile(&prev);
	cr_assert_null(strstr(fourth.script, "inet filter"));
	free(rg);
	free(rk);
	free(gone_peer);
	free(keep_peer);
	np_compiled_free(&first);
	np_compiled_free(&second);
	np_compiled_free(&third);
	np_compiled_free(&fourth);
}

Test(policy_compile, the_same_state_in_any_order_gives_the_same_script)
{
	pod("a", "p2", "{\"x\":\"1\"}", "10.32.0.3", "n1", "[]");
	pod("a", "p1", "{\"x\":\"1\"}", "10.32.0.2", "n1", "[]");
	pol("a", "z", "u-z", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}");
	pol("a", "y", "u-y", "{\"podSelector\":{}}");
	struct np_compiled one = compile(NULL);
	np_store_free(&S);
	np_store_init(&S);
	pol("a", "y", "u-y", "{\"podSelector\":{}}");
	pol("a", "z", "u-z", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}");
	pod("a", "p1", "{\"x\":\"1\"}", "10.32.0.2", "n1", "[]");
	pod("a", "p2", "{\"x\":\"1\"}", "10.32.0.3", "n1", "[]");
	struct np_compiled two = compile(NULL);
	cr_assert_str_eq(one.script, two.script);
	np_compiled_free(&one);
	np_compiled_free(&two);
}

Test(policy_compile, the_view_decides_whose_address_it_is)
{
	ns("a", "{}");
	/* the API still shows old (labels app=old) at 10.32.0.2; the IPAM gave it to new */
	pod("a", "old", "{\"app\":\"old\"}", "10.32.0.2", "n1", "[]");
	pod("a", "new", "{\"app\":\"new\"}", "", "n1", "[]");
	pol("a", "iso-old", "u-o", "{\"podSelector\":{\"matchLabels\":{\"app\":\"old\"}}}");
	pol("a", "iso-new", "u-n", "{\"podSelector\":{\"matchLabels\":{\"app\":\"new\"}},\"policyTypes\":[\"Egress\"]}");
	view_add("10.32.0.2", "a", "new");
	view_add("10.32.0.9", "a", "not-seen-yet");
	view_add("10.32.0.10", "", "");     /* no pod named, none has it: not a pod */
	struct np_compiled c = compile(NULL);
	cr_assert_str_eq(elems(c.script, "isolated_in"), "", "the old pod's policy does not follow its address");
	cr_assert_str_eq(elems(c.script, "isolated_out"), "10.32.0.2", "the new pod is isolated before the API shows its address");
	cr_assert_str_eq(elems(c.script, "unknown"), "10.32.0.9");
	cr_assert_eq(c.nunknown, 1);
	np_compiled_free(&c);
}

Test(policy_compile, bad_options)
{
	struct np_compile_opts o;
	struct np_compiled c;
	char err[128];
	np_compile_opts_init(&o);
	o.table = "x y";
	cr_assert_eq(np_compile(&S, &V, &o, NULL, &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "table name"), "%s", err);
}

Test(policy_compile, explain_drop)
{
	ns("a", "{}");
	pod("a", "web", "{\"app\":\"web\"}", "10.32.0.2", "n1", "[{\"name\":\"http\",\"containerPort\":8080}]");
	pod("a", "c", "{\"app\":\"c\"}", "10.32.0.3", "n1", "[]");
	pol("a", "web-in", "u-w", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}}}],\"ports\":[{\"port\":\"http\"}]}]}");
	pol("a", "c-out", "u-c", "{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}},\"policyTypes\":[\"Egress\"]}");
	struct np_drop_explained ex;
	uint32_t web = htonl(0x0a200002), c = htonl(0x0a200003), far = htonl(0x08080808);
	np_explain_drop(&S, NULL, c, web, 6, 8080, "mesh-policy egress ", &ex);
	cr_assert_eq(ex.direction, NP_DROP_EGRESS);
	cr_assert_str_eq(ex.from, "a/c (10.32.0.3)");
	cr_assert_str_eq(ex.to, "a/web (10.32.0.2)");
	cr_assert_eq(ex.negress_policies, 1);
	cr_assert_not(ex.egress_allowed);
	cr_assert(ex.ingress_allowed, "web-in allows c on http (8080)");
	cr_assert(strstr(ex.why, "egress of a/c is isolated by 1 policy of namespace a (c-out)"), "%s", ex.why);
	np_explain_drop(&S, NULL, far, web, 6, 9999, "mesh-policy ingress ", &ex);
	cr_assert_eq(ex.direction, NP_DROP_INGRESS);
	cr_assert_str_eq(ex.from, "8.8.8.8 (no pod)");
	cr_assert_not(ex.ingress_allowed);
	cr_assert(strstr(ex.why, "ingress to a/web is isolated by 1 policy of namespace a (web-in) and none"), "%s", ex.why);
	cr_assert_str_eq(np_drop_direction_name(ex.direction), "ingress");
	view_add("10.32.0.9", "a", "later");
	np_explain_drop(&S, &V, htonl(0x0a200009), web, 17, 53, "mesh-policy pending ", &ex);
	cr_assert_eq(ex.direction, NP_DROP_PENDING);
	cr_assert_str_eq(ex.from, "10.32.0.9 (pod not known yet)");
	cr_assert(strstr(ex.why, "labels are not known yet"), "%s", ex.why);
}

/* a listing as `nft -j list table inet mesh_policy` prints it (nftables 1.0.6) */
static const char listing[] =
	"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, "
	"{\"table\": {\"family\": \"inet\", \"name\": \"mesh_policy\", \"handle\": 12}}, "
	"{\"counter\": {\"family\": \"inet\", \"name\": \"np_u-k_in_0\", \"table\": \"mesh_policy\", \"handle\": 4, \"packets\": 12, \"bytes\": 960}}, "
	"{\"counter\": {\"family\": \"inet\", \"name\": \"drop_ingress\", \"table\": \"mesh_policy\", \"handle\": 2, \"packets\": 3, \"bytes\": 180}}, "
	"{\"counter\": {\"family\": \"ip\", \"name\": \"other\", \"table\": \"mesh_policy\", \"handle\": 2, \"packets\": 3, \"bytes\": 180}}, "
	"{\"set\": {\"family\": \"inet\", \"name\": \"pending\", \"table\": \"mesh_policy\", \"type\": \"ipv4_addr\", \"handle\": 5}}, "
	"{\"chain\": {\"family\": \"inet\", \"table\": \"mesh_policy\", \"name\": \"forward\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"accept\"}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"mesh_policy\", \"chain\": \"forward\", \"handle\": 9, \"expr\": [{\"accept\": null}]}}]}";

Test(policy_compile, nft_listing_counters_and_status)
{
	struct np_counter_values vals;
	struct np_objects objs;
	char err[256];
	cr_assert_eq(np_nft_listing_parse(listing, strlen(listing), "mesh_policy", &vals, &objs, err,
					  sizeof(err)), 0, "%s", err);
	cr_assert_eq(vals.n, 2, "the ip family's counter is not ours");
	cr_assert_str_eq(vals.v[0].name, "drop_ingress");
	cr_assert_eq(np_counter_values_get(&vals, "np_u-k_in_0")->packets, 12);
	cr_assert_eq(np_counter_values_get(&vals, "np_u-k_in_0")->bytes, 960);
	cr_assert_null(np_counter_values_get(&vals, "nope"));
	cr_assert_eq(objs.n, 4);
	cr_assert(np_objects_has(&objs, NP_OBJ_CHAIN, "forward"));
	cr_assert(np_objects_has(&objs, NP_OBJ_SET, "pending"));
	/* the status of a compile, with these values */
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");
	pol("a", "keep", "u-k", "{\"podSelector\":{},\"ingress\":[{}]}");
	struct np_compiled c = compile(&objs);
	ASSERT_NO_LINE(c.script, "delete set inet mesh_policy pending");
	cJSON *st = np_status_policies_json(&c.objects, &vals);
	char *txt = cJSON_PrintUnformatted(st);
	cr_assert_str_eq(txt, "[{\"namespace\":\"a\",\"name\":\"keep\",\"types\":[\"Ingress\"],"
			 "\"selects\":[{\"pod\":\"a/web\",\"ip\":\"10.32.0.2\"}],\"rules\":[{\"direction\":"
			 "\"ingress\",\"index\":0,\"counter\":\"np_u-k_in_0\",\"packets\":12,\"bytes\":960}]}]");
	free(txt);
	cJSON_Delete(st);
	np_compiled_free(&c);
	np_counter_values_free(&vals);
	np_objects_free(&objs);
}

Test(policy_compile, nft_listing_refused)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "nope", "not JSON" },
		{ "{\"x\":[]}", "no \"nftables\" list" },
		{ "{\"nftables\":[{\"counter\":{\"family\":\"inet\",\"table\":\"mesh_policy\",\"name\":\"a\",\"packets\":-1,\"bytes\":0}}]}",
		  "nftables[0]: counter without whole packets and bytes" },
		{ "{\"nftables\":[{\"counter\":{\"family\":\"inet\",\"table\":\"mesh_policy\",\"name\":\"a b\",\"packets\":1,\"bytes\":0}}]}",
		  "not a name of ours" },
		{ "{\"nftables\":[{\"set\":{\"table\":\"mesh_policy\",\"name\":\"a\"}}]}", "no family or table" },
		{ "{\"nftables\":[{\"counter\":{\"family\":\"inet\",\"table\":\"mesh_policy\",\"name\":\"a\",\"packets\":1,\"bytes\":0}},"
		  "{\"counter\":{\"family\":\"inet\",\"table\":\"mesh_policy\",\"name\":\"a\",\"packets\":1,\"bytes\":0}}]}",
		  "a counter listed twice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct np_counter_values vals;
		char err[256] = "";
		cr_assert_eq(np_nft_listing_parse(cases[i].text, strlen(cases[i].text), "mesh_policy",
						  &vals, NULL, err, sizeof(err)), -EBADMSG, "%s", cases[i].text);
		cr_assert(strstr(err, cases[i].want), "%s: %s", cases[i].text, err);
	}
}

Test(policy_compile, several_peers_covering_the_same_pods)
{
	ns("a", "{}");
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");
	pod("a", "x", "{}", "10.32.0.4", "n2", "[]");
	pod("a", "y", "{}", "10.32.0.9", "n2", "[]");
	pol("a", "p", "u-m", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{}},"
	    "{\"podSelector\":{}},{\"namespaceSelector\":{}},{\"ipBlock\":{\"cidr\":\"10.32.0.8/30\"}},"
	    "{\"namespaceSelector\":{}}]}]}");
	struct np_compiled c = compile(NULL);
	char *r = line_with(c.script, "counter name np_u-m_in_0");
	char *peer = set_after(r, "ip saddr @");
	cr_assert_str_eq(elems(c.script, peer), "10.32.0.2, 10.32.0.4, 10.32.0.8-10.32.0.11");
	free(r);
	free(peer);
	np_compiled_free(&c);
}

/* --- IPv6 ------------------------------------------------------------------------------------ */

/* a dual-stack pod (status.podIPs of both families; ip6 NULL: IPv4 only) */
static void pod46(const char *nsname, const char *name, const char *labels, const char *ip,
		  const char *ip6, const char *node)
{
	char b[2048], ips[256];
	if (ip6)
		snprintf(ips, sizeof(ips), "[{\"ip\":\"%s\"},{\"ip\":\"%s\"}]", ip, ip6);
	else
		snprintf(ips, sizeof(ips), "[{\"ip\":\"%s\"}]", ip);
	snprintf(b, sizeof(b), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":%s},"
		 "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"ports\":"
		 "[{\"name\":\"http\",\"containerPort\":8080}]}]},"
		 "\"status\":{\"phase\":\"Running\",\"podIPs\":%s}}", name, nsname, labels, node, ips);
	add(NP_KIND_POD, b);
}

Test(policy_compile, ipv6_frame)
{
	struct np_compiled c = compile(NULL);
	ASSERT_LINE(c.script, "add set inet mesh_policy pending6 { type ipv6_addr; }");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 saddr @pending6 goto pend_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 daddr @unknown6 goto pend_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 saddr fe80::/10 meta l4proto != 58 goto ll_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 daddr fe80::/10 meta l4proto != 58 goto ll_drop");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 daddr ff00::/8 accept");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 saddr @isolated_out6 jump pol_out");
	ASSERT_LINE(c.script, "add rule inet mesh_policy forward ip6 daddr @isolated_in6 jump pol_in");
	ASSERT_LINE(c.script, "add rule inet mesh_policy ll_drop counter name drop_linklocal drop");
	cr_assert_null(strstr(c.script, "flush set inet mesh_policy pending6"), "the caller's set");
	cr_assert(np_objects_has(&c.objects, NP_OBJ_SET, "isolated_in6"));
	cr_assert(np_objects_has(&c.objects, NP_OBJ_COUNTER, "drop_linklocal"));
	/* neighbour discovery before everything; link-local after conntrack, before isolation */
	const char *nd = strstr(c.script, "nd-neighbor-solicit"), *pend = strstr(c.script, "@pending goto"),
		   *ct = strstr(c.script, "ct state"), *ll = strstr(c.script, "fe80::/10"),
		   *iso = strstr(c.script, "jump pol_out");
	cr_assert(nd && pend && ct && ll && iso && nd < pend && ct < ll && ll < iso);
	np_compiled_free(&c);
	struct np_compile_opts o;
	np_compile_opts_init(&o);
	o.multicast_allowed = false;
	c = compile_opts(NULL, &o);
	cr_assert_null(strstr(c.script, "ff00::/8"));
	cr_assert(strstr(c.script, "nd-neighbor-advert"), "neighbour discovery passes without multicast");
	np_compiled_free(&c);
}

Test(policy_compile, ipv6_pods_get_the_same_rules)
{
	ns("a", "{}");
	pod46("a", "web", "{\"app\":\"web\"}", "10.32.0.2", "fd00::2", "n1");
	pod46("a", "c1", "{\"app\":\"client\"}", "10.32.0.5", "fd00::5", "n2");
	pod46("a", "c2", "{\"app\":\"client\"}", "10.32.0.6", "fd00::6", "n1");
	pod46("a", "c3", "{\"app\":\"client\"}", "10.32.0.7", NULL, "n1");
	pol("a", "web", "u-6", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
	    "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}],"
	    "\"ports\":[{\"port\":80},{\"port\":\"http\"}]}]}");
	struct np_compiled c = compile(NULL);
	cr_assert_str_eq(elems(c.script, "isolated_in"), "10.32.0.2");
	cr_assert_str_eq(elems(c.script, "isolated_in6"), "fd00::2");
	char *r4 = line_with(c.script, "pol_in ip daddr @sel_"), *r6 = line_with(c.script, "pol_in ip6 daddr @sel6_");
	cr_assert(r4 && r6, "%s", c.script);
	cr_assert(strstr(r6, " counter name np_u-6_in_0 accept"), "one counter for both families: %s", r6);
	char *sel6 = set_after(r6, "ip6 daddr @"), *peer6 = set_after(r6, "ip6 saddr @"),
	     *peer4 = set_after(r4, "ip saddr @");
	cr_assert_str_eq(elems(c.script, sel6), "fd00::2");
	cr_assert_str_eq(elems(c.script, peer6), "fd00::5-fd00::6");
	cr_assert_str_eq(elems(c.script, peer4), "10.32.0.5-10.32.0.7");
	cr_assert(strstr(c.script, "{ type ipv6_addr; flags interval; }"));
	/* the named port http of web over IPv6 */
	char *n6 = line_with(c.script, "ip6 daddr . meta l4proto . th dport @named6_");
	cr_assert(n6, "%s", c.script);
	char *named6 = set_after(n6, "th dport @");
	cr_assert_str_eq(elems(c.script, named6), "fd00::2 . tcp . 8080");
	/* the status JSON: one entry per pod, both addresses */
	char *js = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(c.objects.policies, 0), "selects"));
	cr_assert_str_eq(js, "[{\"pod\":\"a/web\",\"ip\":\"10.32.0.2\",\"ip6\":\"fd00::2\"}]");
	free(js);
	free(r4);
	free(r6);
	free(sel6);
	free(peer6);
	free(peer4);
	free(n6);
	free(named6);
	np_compiled_free(&c);
}

Test(policy_compile, ipv6_blocks_match_ipv6_only)
{
	ns("a", "{}");
	pod46("a", "db", "{\"app\":\"db\"}", "10.32.0.2", "fd00::2", "n1");
	pol("a", "db", "u-b6", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":"
	    "{\"cidr\":\"fd00::/16\",\"except\":[\"fd00:1::/32\"]}}]}]}");
	struct np_compiled c = compile(NULL);
	char *r6 = line_with(c.script, "pol_in ip6 daddr @sel6_");
	cr_assert(r6, "%s", c.script);
	char *peer6 = set_after(r6, "ip6 saddr @");
	cr_assert_str_eq(elems(c.script, peer6), "fd00::-fd00:0:ffff:ffff:ffff:ffff:ffff:ffff, "
			 "fd00:2::-fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	cr_assert_null(strstr(c.script, "pol_in ip daddr"), "an IPv6 block allows no IPv4: %s", c.script);
	cr_assert_str_eq(elems(c.script, "isolated_in"), "10.32.0.2", "IPv4 is isolated all the same");
	free(r6);
	free(peer6);
	np_compiled_free(&c);
}

Test(policy_compile, ipv6_of_the_view)
{
	ns("a", "{}");
	pod("a", "web", "{}", "10.32.0.2", "n1", "[]");     /* its status shows no IPv6 yet */
	pol("a", "deny", "u-d", "{\"podSelector\":{}}");
	view_add("10.32.0.2", "a", "web");
	V.addr[0].has_ip6 = true;
	cr_assert_eq(inet_pton(AF_INET6, "fd00::a20:2", V.addr[0].ip6), 1);
	view_add("10.32.0.9", "a", "not-yet");
	V.addr[1].has_ip6 = true;
	cr_assert_eq(inet_pton(AF_INET6, "fd00::a20:9", V.addr[1].ip6), 1);
	struct np_compiled c = compile(NULL);
	cr_assert_str_eq(elems(c.script, "isolated_in6"), "fd00::a20:2");
	cr_assert_str_eq(elems(c.script, "unknown6"), "fd00::a20:9");
	cr_assert_str_eq(elems(c.script, "unknown"), "10.32.0.9");
	cr_assert_eq(c.nunknown, 2);
	np_compiled_free(&c);
	/* explain an IPv6 drop */
	struct np_drop_explained ex;
	uint8_t s6[16], d6[16];
	inet_pton(AF_INET6, "fd00::a20:9", s6);
	inet_pton(AF_INET6, "fd00::a20:2", d6);
	np_explain_drop_af(&S, &V, AF_INET6, s6, d6, 6, 80, "mesh-policy ingress ", &ex);
	cr_assert_eq(ex.direction, NP_DROP_INGRESS);
	cr_assert_str_eq(ex.to, "a/web (fd00::a20:2)");
	cr_assert_str_eq(ex.from, "fd00::a20:9 (pod not known yet)");
	cr_assert(strstr(ex.why, "isolated by 1 policy"), "%s", ex.why);
	np_explain_drop_af(&S, &V, AF_INET6, s6, d6, 6, 80, "mesh-policy link-local ", &ex);
	cr_assert_eq(ex.direction, NP_DROP_LINKLOCAL);
	cr_assert_str_eq(np_drop_direction_name(ex.direction), "link-local");
}
