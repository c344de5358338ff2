/* tests/unit/test_policy_decode.c: the Kubernetes object decoders of policy/decode.c on
 * objects as `kubectl get -o json` prints them (tests/fixtures/policy/, written by hand after
 * the API reference) and on broken ones: each refused with an error naming the object, the
 * field and why; and the store (policy/store.c): changes, no-op updates, relist mark/sweep. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decode.h"
#include "policy/store.h"

#ifndef POLICY_FIXTURES
#error "POLICY_FIXTURES must name tests/fixtures/policy (Makefile.am defines it)"
#endif

static cJSON *fixture(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", POLICY_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	cr_assert(j, "%s is not JSON", path);
	return j;
}

Test(policy_decode, pod_as_kubectl_prints_it)
{
	cJSON *j = fixture("pod-web.json");
	struct np_pod p;
	char err[256];
	cr_assert_eq(np_pod_decode(j, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.ns, "shop");
	cr_assert_str_eq(p.name, "web-7d4b9c8f6-x2x9k");
	cr_assert_str_eq(p.uid, "a7c3f1d2-6b1e-4f0a-8f51-0c2b9a7e4d10");
	cr_assert_str_eq(p.node, "node-1");
	cr_assert_eq(p.labels.n, 3);
	cr_assert_str_eq(p.labels.v[0].key, "app");     /* sorted */
	cr_assert_str_eq(np_labels_get(&p.labels, "tier"), "frontend");
	cr_assert_null(np_labels_get(&p.labels, "nope"));
	cr_assert_eq(p.nips, 1, "one IPv4 address");
	cr_assert_eq(p.ips[0], 0x0a200002);
	static const uint8_t v6[16] = { 0xfd, 0, 0, 0x10, 0, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	cr_assert_eq(p.nips6, 1, "the IPv6 address is kept apart");
	cr_assert_eq(memcmp(p.ips6[0], v6, 16), 0);
	cr_assert_eq(p.phase, NP_PHASE_RUNNING);
	cr_assert_not(p.host_network);
	cr_assert_eq(p.ncports, 3, "named ports of both containers; 9090 has no name");
	cr_assert_str_eq(p.cports[0].name, "http");
	cr_assert_eq(p.cports[0].port, 8080);
	cr_assert_eq(p.cports[0].proto, NP_PROTO_TCP);
	cr_assert_str_eq(p.cports[1].name, "dns");
	cr_assert_eq(p.cports[1].proto, NP_PROTO_UDP);
	cr_assert_eq(p.cports[2].proto, NP_PROTO_TCP, "protocol defaults to TCP");
	np_pod_free(&p);
	cJSON_Delete(j);
}

Test(policy_decode, namespace_and_node)
{
	cJSON *j = fixture("namespace-shop.json");
	struct np_namespace ns;
	struct np_node node;
	char err[256];
	cr_assert_eq(np_namespace_decode(j, &ns, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(ns.name, "shop");
	cr_assert_str_eq(np_labels_get(&ns.labels, "kubernetes.io/metadata.name"), "shop");
	cr_assert_str_eq(np_labels_get(&ns.labels, "team"), "retail");
	np_namespace_free(&ns);
	cr_assert_eq(np_node_decode(j, &node, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "kind: \"Namespace\", expected \"Node\""), "%s", err);
	cJSON_Delete(j);
	j = fixture("node-1.json");
	cr_assert_eq(np_node_decode(j, &node, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(node.name, "node-1");
	cr_assert_str_eq(node.uid, "9e8d7c6b-5a49-4382-7160-5f4e3d2c1b0a");
	cr_assert_eq(node.nips, 1);
	cr_assert_eq(node.ips[0], 0xc6120001);
	cJSON_Delete(j);
}

Test(policy_decode, policy_with_everything)
{
	cJSON *j = fixture("policy-full.json");
	struct np_policy p;
	char err[256];
	cr_assert_eq(np_policy_decode(j, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.ns, "shop");
	cr_assert_str_eq(p.name, "web-allow");
	cr_assert_eq(p.types, NP_TYPE_INGRESS | NP_TYPE_EGRESS);
	cr_assert_eq(p.pod_sel.match.n, 1);
	cr_assert_eq(p.pod_sel.nexprs, 1);
	cr_assert_eq(p.pod_sel.exprs[0].op, NP_OP_DOES_NOT_EXIST);
	cr_assert_eq(p.ningress, 2);
	const struct np_rule *r = &p.ingress[0];
	cr_assert_eq(r->npeers, 2);
	cr_assert(r->peers[0].has_pod_sel && !r->peers[0].has_ns_sel && !r->peers[0].is_block);
	cr_assert(!r->peers[1].has_pod_sel && r->peers[1].has_ns_sel);
	cr_assert_eq(r->peers[1].ns_sel.nexprs, 2);
	cr_assert_eq(r->peers[1].ns_sel.exprs[0].op, NP_OP_NOT_IN);
	cr_assert_eq(r->peers[1].ns_sel.exprs[1].op, NP_OP_EXISTS);
	cr_assert_eq(r->nports, 3);
	cr_assert_str_eq(r->ports[0].name, "http");
	cr_assert(r->ports[0].has_port);
	cr_assert_eq(r->ports[1].proto, NP_PROTO_TCP);
	cr_assert_eq(r->ports[1].port, 443);
	cr_assert_eq(r->ports[1].end_port, 443);
	cr_assert_eq(r->ports[2].proto, NP_PROTO_SCTP);
	cr_assert_not(r->ports[2].has_port, "protocol alone: every port");
	cr_assert_eq(p.ingress[1].npeers, 0, "{}: every source");
	cr_assert_eq(p.ingress[1].nports, 0, "{}: every port");
	cr_assert_eq(p.negress, 2);
	r = &p.egress[0];
	cr_assert(r->peers[0].is_block);
	cr_assert_eq(r->peers[0].cidr.addr, 0x0a000000);
	cr_assert_eq(r->peers[0].cidr.len, 8);
	cr_assert_eq(r->peers[0].nexcept, 2);
	cr_assert_eq(r->peers[0].except[1].addr, 0x0a630100);
	cr_assert_eq(r->ports[1].port, 32000);
	cr_assert_eq(r->ports[1].end_port, 32768);
	cr_assert(p.egress[1].peers[0].has_pod_sel && p.egress[1].peers[0].has_ns_sel);
	cr_assert_eq(p.egress[1].peers[0].pod_sel.exprs[0].nvalues, 2);
	np_policy_free(&p);
	cJSON_Delete(j);
}

static int decode_policy_str(const char *spec, struct np_policy *p, char *err, size_t errlen)
{
	char buf[8192];
	snprintf(buf, sizeof(buf), "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\","
		 "\"namespace\":\"ns\",\"uid\":\"u-1\"},\"spec\":%s}", spec);
	cJSON *j = cJSON_Parse(buf);
	cr_assert(j, "test input is not JSON: %s", buf);
	int ret = np_policy_decode(j, p, err, errlen);
	cJSON_Delete(j);
	return ret;
}

Test(policy_decode, policy_types_default_as_the_api_does)
{
	struct np_policy p;
	char err[256];
	cr_assert_eq(decode_policy_str("{\"podSelector\":{}}", &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.types, NP_TYPE_INGRESS, "no rules: Ingress (deny all ingress)");
	cr_assert_eq(p.ningress, 0);
	np_policy_free(&p);
	cr_assert_eq(decode_policy_str("{\"podSelector\":{},\"egress\":[{}]}", &p, err, sizeof(err)), 0);
	cr_assert_eq(p.types, NP_TYPE_INGRESS | NP_TYPE_EGRESS, "egress rules present: Egress too");
	np_policy_free(&p);
	cr_assert_eq(decode_policy_str("{\"podSelector\":{},\"egress\":[]}", &p, err, sizeof(err)), 0);
	cr_assert_eq(p.types, NP_TYPE_INGRESS, "an empty egress list is no egress rules");
	np_policy_free(&p);
	cr_assert_eq(decode_policy_str("{\"podSelector\":{},\"policyTypes\":[],\"ingress\":[{}]}", &p,
				       err, sizeof(err)), 0);
	cr_assert_eq(p.types, NP_TYPE_INGRESS, "an empty policyTypes is absent");
	np_policy_free(&p);
	cr_assert_eq(decode_policy_str("{\"podSelector\":{},\"policyTypes\":[\"Egress\"],"
				       "\"ingress\":[{}]}", &p, err, sizeof(err)), 0);
	cr_assert_eq(p.types, NP_TYPE_EGRESS, "policyTypes given: taken as is");
	np_policy_free(&p);
	/* absent podSelector: what {} means */
	cr_assert_eq(decode_policy_str("{}", &p, err, sizeof(err)), 0);
	cr_assert_eq(p.pod_sel.match.n + p.pod_sel.nexprs, 0);
	np_policy_free(&p);
}

struct bad_case {
	const char *spec, *want;
};

Test(policy_decode, bad_policies_are_refused_with_what_where_why)
{
	static const struct bad_case cases[] = {
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0/8\"}}]}]}",
		  "NetworkPolicy ns/p: spec.ingress[0].from[0].ipBlock.cidr: \"10.0.0/8\" is not a CIDR" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}",
		  "ipBlock.cidr: \"10.0.0.0/33\" is not a CIDR" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"11.0.0.0/16\"]}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: \"11.0.0.0/16\" is not strictly inside cidr" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/129\"}}]}]}",
		  "ipBlock.cidr: \"fd00::/129\" is not a CIDR" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/16\",\"except\":[\"fd01::/32\"]}}]}]}",
		  "spec.ingress[0].from[0].ipBlock.except[0]: \"fd01::/32\" is not strictly inside cidr" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/16\",\"except\":[\"fd00::/16\"]}}]}]}",
		  "ipBlock.except[0]: \"fd00::/16\" is not strictly inside cidr" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/16\",\"except\":[\"10.0.0.0/8\"]}}]}]}",
		  "ipBlock.except[0]: \"10.0.0.0/8\" is not of the family of cidr" },
		{ "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}",
		  "spec.ingress[0].from[0]: ipBlock cannot be combined" },
		{ "{\"egress\":[{\"to\":[{}]}]}", "spec.egress[0].to[0]: names none of" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":\"http\",\"endPort\":90}]}]}",
		  "spec.ingress[0].ports[0].endPort: needs a numeric port" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":100,\"endPort\":90}]}]}",
		  "spec.ingress[0].ports[0].endPort: 90 is below port 100" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":0}]}]}", "ports[0].port: must be a whole number in 1..65535" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":70000}]}]}", "in 1..65535" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":80.5}]}]}", "whole number" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":\"HTTP\"}]}]}", "\"HTTP\" is not a port number or name" },
		{ "{\"ingress\":[{\"ports\":[{\"port\":\"8080\"}]}]}", "\"8080\" is not a port number or name" },
		{ "{\"ingress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}]}",
		  "spec.ingress[0].ports[0].protocol: \"ICMP\" is not TCP, UDP or SCTP" },
		{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Has\"}]}}",
		  "spec.podSelector.matchExpressions[0].operator: \"Has\" is not In, NotIn, Exists" },
		{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}}",
		  "matchExpressions[0].values: must be non-empty for operator In" },
		{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}}",
		  "matchExpressions[0].values: must be empty for operator Exists" },
		{ "{\"podSelector\":{\"matchExpressions\":[{\"operator\":\"Exists\"}]}}",
		  "matchExpressions[0].key: missing" },
		{ "{\"podSelector\":{\"matchLabels\":{\"app\":7}}}",
		  "spec.podSelector.matchLabels[\"app\"]: must be a string, not a number" },
		{ "{\"podSelector\":[]}", "spec.podSelector: must be an object (a label selector), not a list" },
		{ "{\"policyTypes\":[\"Both\"]}", "spec.policyTypes[0]: \"Both\" is not Ingress or Egress" },
		{ "{\"ingress\":{}}", "spec.ingress: must be a list, not an object" },
		{ "{\"ingress\":[{\"from\":\"all\"}]}", "spec.ingress[0].from: must be a list, not a string" },
		{ "{\"ingress\":[7]}", "spec.ingress[0]: must be an object, not a number" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct np_policy p;
		char err[512] = "";
		cr_assert_eq(decode_policy_str(cases[i].spec, &p, err, sizeof(err)), -EINVAL,
			     "accepted: %s", cases[i].spec);
		cr_assert(strstr(err, cases[i].want), "%s\n  gave: %s\n  want: %s", cases[i].spec,
			  err, cases[i].want);
		cr_assert(!strncmp(err, "NetworkPolicy ns/p: ", 20), "%s", err);
	}
}

Test(policy_decode, bounds)
{
	/* 257 rules: one more than NP_MAX_RULES */
	static char spec[8192];
	size_t o = (size_t)snprintf(spec, sizeof(spec), "{\"ingress\":[");
	for (int i = 0; i <= NP_MAX_RULES; i++)
		o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%s{}", i ? "," : "");
	snprintf(spec + o, sizeof(spec) - o, "]}");
	struct np_policy p;
	char err[256];
	cr_assert_eq(decode_policy_str(spec, &p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spec.ingress: more than 256 entries (257)"), "%s", err);
	/* a name longer than 253 */
	char big[600];
	memset(big, 'a', 300);
	big[300] = '\0';
	char obj[1024];
	snprintf(obj, sizeof(obj), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"x\"}}", big);
	cJSON *j = cJSON_Parse(obj);
	struct np_pod pod;
	cr_assert_eq(np_pod_decode(j, &pod, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "metadata.name: longer than 253 characters (300)"), "%s", err);
	cJSON_Delete(j);
}

Test(policy_decode, bad_pods_and_objects)
{
	static const struct bad_case cases[] = {
		{ "{\"kind\":\"Pod\"}", "Pod (unnamed): metadata: missing" },
		{ "[]", "Pod (unnamed): (object): must be a JSON object, not a list" },
		{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}",
		  "kind: \"Service\", expected \"Pod\"" },
		{ "{\"metadata\":{\"name\":\"a\"}}", "metadata.namespace: missing" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"uid\":\"x y\"}}",
		  "Pod b/a: metadata.uid: \"x y\" has characters" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"labels\":{\"k\":null}}}",
		  "metadata.labels[\"k\"]: must be a string, not null" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"status\":{\"podIP\":\"10.1.2\"}}",
		  "Pod b/a: status.podIP: \"10.1.2\" is not an IP address" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"status\":{\"podIPs\":[{\"ip\":\"x\"}]}}",
		  "status.podIPs[0].ip: \"x\" is not an IP address" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"status\":{\"podIPs\":[{\"ip\":\"fd00::1::2\"}]}}",
		  "Pod b/a: status.podIPs[0].ip: \"fd00::1::2\" is not an IP address" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"status\":{\"phase\":\"Sleeping\"}}",
		  "status.phase: \"Sleeping\" is not a pod phase" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"spec\":{\"hostNetwork\":\"yes\"}}",
		  "spec.hostNetwork: must be true or false" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"x\"}]}]}}",
		  "spec.containers[0].ports[0].containerPort: missing" },
		{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"Web\",\"containerPort\":1}]}]}}",
		  "spec.containers[0].ports[0].name: \"Web\" is not a port name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = cJSON_Parse(cases[i].spec);
		struct np_pod p;
		char err[512] = "";
		cr_assert(j);
		cr_assert_eq(np_pod_decode(j, &p, err, sizeof(err)), -EINVAL, "accepted: %s", cases[i].spec);
		cr_assert(strstr(err, cases[i].want), "%s\n  gave: %s\n  want: %s", cases[i].spec, err,
			  cases[i].want);
		cJSON_Delete(j);
	}
}

Test(policy_decode, hostile_strings_are_shown_safely)
{
	cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"status\":"
			       "{\"podIP\":\"\\u001b[31mevil\\n\"}}");
	struct np_pod p;
	char err[512];
	cr_assert_eq(np_pod_decode(j, &p, err, sizeof(err)), -EINVAL);
	for (const char *c = err; *c; c++)
		cr_assert(*c >= 0x20 && *c < 0x7f, "control character in: %s", err);
	cJSON_Delete(j);
}

static cJSON *pod_json(const char *name, const char *labels, const char *ip, const char *phase)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"labels\":%s,"
		 "\"resourceVersion\":\"%d\"},\"status\":{\"phase\":\"%s\",\"podIP\":\"%s\"}}", name,
		 labels, rand(), phase, ip);
	cJSON *j = cJSON_Parse(buf);
	cr_assert(j);
	return j;
}

Test(policy_store, update_delete_and_relist)
{
	struct np_store s;
	char err[256];
	np_store_init(&s);
	cJSON *a = pod_json("a", "{\"app\":\"x\"}", "10.32.0.2", "Running");
	cJSON *b = pod_json("b", "{}", "10.32.0.3", "Running");
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, b, err, sizeof(err)), 1);
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, a, err, sizeof(err)), 1);
	cr_assert_eq(np_store_count(&s, NP_KIND_POD), 2);
	cr_assert_str_eq(np_store_pod(&s, 0)->name, "a", "sorted by key");
	cJSON_Delete(a);
	/* another resourceVersion, nothing enforcement sees: no change */
	a = pod_json("a", "{\"app\":\"x\"}", "10.32.0.2", "Running");
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, a, err, sizeof(err)), 0);
	cJSON_Delete(a);
	a = pod_json("a", "{\"app\":\"y\"}", "10.32.0.2", "Running");
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, a, err, sizeof(err)), 1, "labels changed");
	cr_assert(np_store_pod_known(&s, "ns", "a"));
	/* relist: b is gone */
	np_store_mark(&s, NP_KIND_POD);
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, a, err, sizeof(err)), 0);
	cr_assert_eq(np_store_sweep(&s, NP_KIND_POD), 1);
	cr_assert_not(np_store_pod_known(&s, "ns", "b"));
	cr_assert(np_store_pod_known(&s, "ns", "a"));
	/* a bad update removes what was known of the object */
	cJSON *bad = pod_json("a", "{\"app\":\"y\"}", "300.1.1.1", "Running");
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, bad, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "Pod ns/a: status.podIP"), "%s", err);
	cr_assert_not(np_store_pod_known(&s, "ns", "a"));
	/* delete */
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, false, b, err, sizeof(err)), 1);
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, true, b, err, sizeof(err)), 1);
	cr_assert_eq(np_store_update(&s, NP_KIND_POD, true, b, err, sizeof(err)), 0, "unknown: no change");
	cr_assert_eq(np_store_count(&s, NP_KIND_POD), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(bad);
	np_store_free(&s);
}

Test(policy_store, delete_event_of_an_object_with_kind)
{
	struct np_store s;
	char err[256];
	np_store_init(&s);
	cJSON *j = cJSON_Parse("{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}");
	cr_assert_eq(np_store_update(&s, NP_KIND_NAMESPACE, false, j, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(np_store_update(&s, NP_KIND_NAMESPACE, true, j, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(np_store_count(&s, NP_KIND_NAMESPACE), 0);
	cJSON_Delete(j);
	np_store_free(&s);
}

Test(policy_decode, pod_ipv6_only_podip)
{
	cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
			       "\"status\":{\"podIP\":\"fd6d:6573:6800::a20:3\"}}");
	struct np_pod p, q;
	char err[256];
	cr_assert_eq(np_pod_decode(j, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nips, 0);
	cr_assert_eq(p.nips6, 1);
	cr_assert_eq(p.ips6[0][0], 0xfd);
	cr_assert_eq(p.ips6[0][13], 0x20);
	cr_assert_eq(p.ips6[0][15], 0x03);
	cr_assert_eq(np_pod_decode(j, &q, err, sizeof(err)), 0, "%s", err);
	cr_assert(np_pod_equal(&p, &q));
	q.ips6[0][15] = 4;
	cr_assert_not(np_pod_equal(&p, &q), "the IPv6 address counts in equality");
	np_pod_free(&p);
	np_pod_free(&q);
	cJSON_Delete(j);
}

Test(policy_decode, ipv6_ipblock_with_except)
{
	struct np_policy p, q;
	char err[256];
	const char *spec = "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd6d:6573:6800::1/44\","
			   "\"except\":[\"fd6d:6573:6800::a20:0/120\",\"fd6d:6573:6801::/48\"]}}]}]}";
	cr_assert_eq(decode_policy_str(spec, &p, err, sizeof(err)), 0, "%s", err);
	const struct np_peer *b = &p.ingress[0].peers[0];
	static const uint8_t net[16] = { 0xfd, 0x6d, 0x65, 0x73, 0x68, 0 };
	static const uint8_t ex0[16] = { 0xfd, 0x6d, 0x65, 0x73, 0x68, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0x20 };
	cr_assert(b->is_block && b->block_v6);
	cr_assert_eq(b->cidr6.len, 44);
	cr_assert_eq(memcmp(b->cidr6.addr, net, 16), 0, "host bits cleared");
	cr_assert_eq(b->nexcept, 0);
	cr_assert_eq(b->nexcept6, 2);
	cr_assert_eq(b->except6[0].len, 120);
	cr_assert_eq(memcmp(b->except6[0].addr, ex0, 16), 0);
	cr_assert_eq(b->except6[1].addr[5], 0x01);
	cr_assert_eq(decode_policy_str(spec, &q, err, sizeof(err)), 0, "%s", err);
	cr_assert(np_policy_equal(&p, &q));
	q.ingress[0].peers[0].except6[1].addr[5] = 0x02;
	cr_assert_not(np_policy_equal(&p, &q), "IPv6 excepts count in equality");
	np_policy_free(&q);
	cr_assert_eq(decode_policy_str("{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
				       "\"fd6d:6573:6900::/40\"}}]}]}", &q, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(np_policy_equal(&p, &q), "two IPv6 blocks differ by their cidr");
	np_policy_free(&q);
	np_policy_free(&p);
}
