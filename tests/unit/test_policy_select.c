/* tests/unit/test_policy_select.c: what selectors and peers mean (policy/select.c): every
 * matchExpressions operator with the key present and absent, matchLabels, empty selectors,
 * the scope of podSelector / namespaceSelector / both, ipBlock except as ranges, named
 * ports and port matching. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/decode.h"
#include "policy/select.h"

static struct np_policy policy(const char *ns, const char *spec)
{
	char buf[4096], err[256];
	struct np_policy p;
	snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"p\",\"namespace\":\"%s\"},\"spec\":%s}",
		 ns, spec);
	cJSON *j = cJSON_Parse(buf);
	cr_assert(j, "%s", buf);
	cr_assert_eq(np_policy_decode(j, &p, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return p;
}

static struct np_pod pod(const char *ns, const char *labels, const char *extra)
{
	char buf[2048], err[256];
	struct np_pod p;
	snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"x\",\"namespace\":\"%s\",\"labels\":%s}%s}",
		 ns, labels, extra);
	cJSON *j = cJSON_Parse(buf);
	cr_assert(j, "%s", buf);
	cr_assert_eq(np_pod_decode(j, &p, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return p;
}

static struct np_namespace nspace(const char *name, const char *labels)
{
	char buf[1024], err[256];
	struct np_namespace n;
	snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"%s\",\"labels\":%s}}", name, labels);
	cJSON *j = cJSON_Parse(buf);
	cr_assert_eq(np_namespace_decode(j, &n, err, sizeof(err)), 0, "%s", err);
	cJSON_Delete(j);
	return n;
}

/* whether the policy's podSelector matches the labels */
static bool sel(const char *selector, const char *labels)
{
	char spec[2048];
	snprintf(spec, sizeof(spec), "{\"podSelector\":%s}", selector);
	struct np_policy p = policy("ns", spec);
	struct np_pod x = pod("ns", labels, "");
	bool r = np_selector_matches(&p.pod_sel, &x.labels);
	cr_assert_eq(r, np_policy_selects(&p, &x));
	np_policy_free(&p);
	np_pod_free(&x);
	return r;
}

#define EXPR(op, vals) "{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"" op "\"" vals "}]}"

Test(policy_select, every_operator_key_present_and_absent)
{
	cr_assert(sel(EXPR("In", ",\"values\":[\"prod\",\"qa\"]"), "{\"env\":\"qa\"}"));
	cr_assert_not(sel(EXPR("In", ",\"values\":[\"prod\",\"qa\"]"), "{\"env\":\"dev\"}"));
	cr_assert_not(sel(EXPR("In", ",\"values\":[\"prod\"]"), "{}"), "In: an absent key does not match");
	cr_assert_not(sel(EXPR("NotIn", ",\"values\":[\"prod\"]"), "{\"env\":\"prod\"}"));
	cr_assert(sel(EXPR("NotIn", ",\"values\":[\"prod\"]"), "{\"env\":\"dev\"}"));
	cr_assert(sel(EXPR("NotIn", ",\"values\":[\"prod\"]"), "{}"), "NotIn: an absent key matches");
	cr_assert(sel(EXPR("Exists", ""), "{\"env\":\"\"}"), "Exists: an empty value exists");
	cr_assert_not(sel(EXPR("Exists", ""), "{\"other\":\"x\"}"));
	cr_assert(sel(EXPR("DoesNotExist", ""), "{\"other\":\"x\"}"));
	cr_assert_not(sel(EXPR("DoesNotExist", ""), "{\"env\":\"x\"}"));
}

Test(policy_select, match_labels_and_empty_selectors)
{
	cr_assert(sel("{}", "{}"), "{} selects every pod");
	cr_assert(sel("{}", "{\"a\":\"b\"}"));
	cr_assert(sel("{\"matchLabels\":{}}", "{\"a\":\"b\"}"));
	cr_assert(sel("{\"matchLabels\":{\"a\":\"b\"}}", "{\"a\":\"b\",\"c\":\"d\"}"));
	cr_assert_not(sel("{\"matchLabels\":{\"a\":\"b\"}}", "{\"a\":\"B\"}"));
	cr_assert_not(sel("{\"matchLabels\":{\"a\":\"b\",\"c\":\"d\"}}", "{\"a\":\"b\"}"), "all pairs");
	/* matchLabels and matchExpressions together: both */
	cr_assert(sel("{\"matchLabels\":{\"a\":\"b\"},\"matchExpressions\":[{\"key\":\"c\","
		      "\"operator\":\"DoesNotExist\"}]}", "{\"a\":\"b\"}"));
	cr_assert_not(sel("{\"matchLabels\":{\"a\":\"b\"},\"matchExpressions\":[{\"key\":\"c\","
			  "\"operator\":\"DoesNotExist\"}]}", "{\"a\":\"b\",\"c\":\"\"}"));
}

Test(policy_select, policy_selects_only_its_namespace_and_live_pods)
{
	struct np_policy p = policy("ns", "{\"podSelector\":{}}");
	struct np_pod other = pod("other", "{}", "");
	struct np_pod host = pod("ns", "{}", ",\"spec\":{\"hostNetwork\":true}");
	struct np_pod done = pod("ns", "{}", ",\"status\":{\"phase\":\"Succeeded\"}");
	struct np_pod live = pod("ns", "{}", ",\"status\":{\"phase\":\"Pending\"}");
	cr_assert_not(np_policy_selects(&p, &other));
	cr_assert_not(np_policy_selects(&p, &host), "hostNetwork pods take no part");
	cr_assert_not(np_policy_selects(&p, &done), "a finished pod's address may be another's");
	cr_assert(np_policy_selects(&p, &live));
	np_policy_free(&p);
	np_pod_free(&other);
	np_pod_free(&host);
	np_pod_free(&done);
	np_pod_free(&live);
}

Test(policy_select, peer_scopes)
{
	struct np_policy p = policy("ns", "{\"ingress\":[{\"from\":["
		"{\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}}},"
		"{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t\"}}},"
		"{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t\"}},\"podSelector\":{\"matchLabels\":{\"app\":\"c\"}}},"
		"{\"namespaceSelector\":{}}]}]}");
	const struct np_peer *pods = &p.ingress[0].peers[0], *nss = &p.ingress[0].peers[1],
			     *both = &p.ingress[0].peers[2], *all = &p.ingress[0].peers[3];
	struct np_namespace ns = nspace("ns", "{}"), tns = nspace("tns", "{\"team\":\"t\"}");
	struct np_pod c_here = pod("ns", "{\"app\":\"c\"}", ""), c_t = pod("tns", "{\"app\":\"c\"}", ""),
		      d_t = pod("tns", "{\"app\":\"d\"}", ""), c_far = pod("far", "{\"app\":\"c\"}", "");
	cr_assert(np_peer_covers_pod(pods, &p, &c_here, &ns));
	cr_assert_not(np_peer_covers_pod(pods, &p, &c_t, &tns), "podSelector alone: the policy's namespace");
	cr_assert(np_peer_covers_pod(nss, &p, &c_t, &tns));
	cr_assert(np_peer_covers_pod(nss, &p, &d_t, &tns), "namespaceSelector alone: every pod there");
	cr_assert_not(np_peer_covers_pod(nss, &p, &c_here, &ns));
	cr_assert(np_peer_covers_pod(both, &p, &c_t, &tns));
	cr_assert_not(np_peer_covers_pod(both, &p, &d_t, &tns));
	cr_assert_not(np_peer_covers_pod(both, &p, &c_here, &ns));
	cr_assert(np_peer_covers_pod(all, &p, &c_far, NULL), "namespaceSelector {}: every namespace");
	cr_assert_not(np_peer_covers_pod(nss, &p, &c_far, NULL), "an unknown namespace has no labels");
	np_policy_free(&p);
	np_namespace_free(&ns);
	np_namespace_free(&tns);
	np_pod_free(&c_here);
	np_pod_free(&c_t);
	np_pod_free(&d_t);
	np_pod_free(&c_far);
}

Test(policy_select, ip_block_except_as_ranges)
{
	struct np_policy p = policy("ns", "{\"ingress\":[{\"from\":["
		"{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.32.0.0/16\",\"10.99.1.0/24\",\"10.32.5.0/24\"]}},"
		"{\"ipBlock\":{\"cidr\":\"192.168.1.77/24\",\"except\":[\"192.168.1.0/25\"]}},"
		"{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\",\"except\":[\"255.255.255.255/32\"]}},"
		"{\"ipBlock\":{\"cidr\":\"fd00::/8\",\"except\":[\"fd00::/16\"]}}]}]}");
	struct np_range r[NP_MAX_EXCEPT + 1];
	size_t n = np_block_ranges(&p.ingress[0].peers[0], r);
	cr_assert_eq(n, 3);
	cr_assert_eq(r[0].lo, 0x0a000000);
	cr_assert_eq(r[0].hi, 0x0a1fffff);
	cr_assert_eq(r[1].lo, 0x0a210000, "the /24 inside the /16 except changes nothing");
	cr_assert_eq(r[1].hi, 0x0a6300ff);
	cr_assert_eq(r[2].lo, 0x0a630200);
	cr_assert_eq(r[2].hi, 0x0affffff);
	cr_assert(np_peer_covers_ip(&p.ingress[0].peers[0], 0x0a010203));
	cr_assert_not(np_peer_covers_ip(&p.ingress[0].peers[0], 0x0a200001));
	cr_assert_not(np_peer_covers_ip(&p.ingress[0].peers[0], 0x0b000001));
	n = np_block_ranges(&p.ingress[0].peers[1], r);
	cr_assert_eq(n, 1, "host bits of the cidr are cleared");
	cr_assert_eq(r[0].lo, 0xc0a80180);
	cr_assert_eq(r[0].hi, 0xc0a801ff);
	n = np_block_ranges(&p.ingress[0].peers[2], r);
	cr_assert_eq(n, 1);
	cr_assert_eq(r[0].lo, 0);
	cr_assert_eq(r[0].hi, 0xfffffffe);
	cr_assert_eq(np_block_ranges(&p.ingress[0].peers[3], r), 0, "IPv6: nothing for IPv4");
	struct np_range6 r6[NP_MAX_EXCEPT + 1];
	cr_assert_eq(np_block_ranges6(&p.ingress[0].peers[0], r6), 0, "IPv4: nothing for IPv6");
	n = np_block_ranges6(&p.ingress[0].peers[3], r6);
	cr_assert_eq(n, 1, "fd00::/8 minus fd00::/16");
	static const uint8_t lo[16] = { 0xfd, 0x01 };
	static const uint8_t hi[16] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	cr_assert_eq(memcmp(r6[0].lo, lo, 16), 0);
	cr_assert_eq(memcmp(r6[0].hi, hi, 16), 0);
	static const uint8_t in[16] = { 0xfd, 0x6d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t ex[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t out[16] = { 0xfe, 0x80 };
	cr_assert(np_peer_covers_ip6(&p.ingress[0].peers[3], in));
	cr_assert_not(np_peer_covers_ip6(&p.ingress[0].peers[3], ex), "inside the except");
	cr_assert_not(np_peer_covers_ip6(&p.ingress[0].peers[3], out), "outside cidr");
	cr_assert_not(np_peer_covers_ip6(&p.ingress[0].peers[0], in), "an IPv4 block");
	np_policy_free(&p);
	struct np_policy q = policy("ns", "{\"ingress\":[{\"from\":["
		"{\"ipBlock\":{\"cidr\":\"::/0\",\"except\":[\"::/1\",\"ffff::/16\",\"fd00::/16\",\"fd00:1::/32\"]}}]}]}");
	n = np_block_ranges6(&q.ingress[0].peers[0], r6);
	cr_assert_eq(n, 2, "::/0 minus ::/1, fd00::/16 (with a nested except) and ffff::/16");
	static const uint8_t a_lo[16] = { 0x80 };
	static const uint8_t a_hi[16] = { 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t b_lo[16] = { 0xfd, 0x01 };
	static const uint8_t b_hi[16] = { 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	cr_assert_eq(memcmp(r6[0].lo, a_lo, 16), 0);
	cr_assert_eq(memcmp(r6[0].hi, a_hi, 16), 0);
	cr_assert_eq(memcmp(r6[1].lo, b_lo, 16), 0);
	cr_assert_eq(memcmp(r6[1].hi, b_hi, 16), 0, "the except at the very top ends the last range");
	np_policy_free(&q);
	struct np_range m[] = { { 5, 9 }, { 1, 3 }, { 4, 4 }, { 20, 30 }, { 25, 26 } };
	cr_assert_eq(np_ranges_normalize(m, 5), 2);
	cr_assert_eq(m[0].lo, 1);
	cr_assert_eq(m[0].hi, 9);
	cr_assert_eq(m[1].lo, 20);
	cr_assert_eq(m[1].hi, 30);
}

Test(policy_select, named_ports_and_port_matching)
{
	struct np_pod web = pod("ns", "{}", ",\"spec\":{\"containers\":[{\"ports\":["
				"{\"name\":\"http\",\"containerPort\":8080},"
				"{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]}]}");
	uint16_t port;
	cr_assert_eq(np_named_port(&web, "http", NP_PROTO_TCP, &port), 0);
	cr_assert_eq(port, 8080);
	cr_assert_eq(np_named_port(&web, "http", NP_PROTO_UDP, &port), -ENOENT, "protocol matters");
	cr_assert_eq(np_named_port(&web, "dns", NP_PROTO_UDP, &port), 0);
	cr_assert_eq(port, 53);
	struct np_policy p = policy("ns", "{\"ingress\":[{\"ports\":[{\"port\":\"http\"},"
		"{\"port\":1000,\"endPort\":1010,\"protocol\":\"UDP\"},{\"protocol\":\"SCTP\"}]},{}]}");
	const struct np_rule *r = &p.ingress[0];
	cr_assert(np_ports_match(r, &web, NP_PROTO_TCP, 8080));
	cr_assert_not(np_ports_match(r, &web, NP_PROTO_TCP, 80));
	cr_assert_not(np_ports_match(r, NULL, NP_PROTO_TCP, 8080), "no pod: a name resolves to nothing");
	cr_assert(np_ports_match(r, NULL, NP_PROTO_UDP, 1000));
	cr_assert(np_ports_match(r, NULL, NP_PROTO_UDP, 1010));
	cr_assert_not(np_ports_match(r, NULL, NP_PROTO_UDP, 1011));
	cr_assert_not(np_ports_match(r, NULL, NP_PROTO_TCP, 1005));
	cr_assert(np_ports_match(r, NULL, NP_PROTO_SCTP, 9), "protocol alone: every port");
	cr_assert(np_ports_match(&p.ingress[1], NULL, NP_PROTO_UDP, 9), "no ports: everything");
	np_policy_free(&p);
	np_pod_free(&web);
}

Test(policy_select, ipv6_pod_covered_by_ipv6_block)
{
	struct np_policy p = policy("ns", "{\"ingress\":[{\"from\":["
		"{\"ipBlock\":{\"cidr\":\"fd6d:6573:6800::/48\",\"except\":[\"fd6d:6573:6800::a20:5/128\"]}},"
		"{\"ipBlock\":{\"cidr\":\"10.32.0.0/12\"}}]}]}");
	struct np_pod in = pod("ns", "{}", ",\"status\":{\"podIPs\":[{\"ip\":\"10.32.0.2\"},"
			       "{\"ip\":\"fd6d:6573:6800::a20:2\"}]}");
	struct np_pod ex = pod("ns", "{}", ",\"status\":{\"podIPs\":[{\"ip\":\"10.32.0.5\"},"
			       "{\"ip\":\"fd6d:6573:6800::a20:5\"}]}");
	cr_assert_eq(in.nips6, 1);
	cr_assert(np_peer_covers_ip6(&p.ingress[0].peers[0], in.ips6[0]));
	cr_assert_not(np_peer_covers_ip6(&p.ingress[0].peers[0], ex.ips6[0]), "its except");
	cr_assert_not(np_peer_covers_ip6(&p.ingress[0].peers[1], in.ips6[0]), "an IPv4 block");
	cr_assert(np_peer_covers_ip(&p.ingress[0].peers[1], ex.ips[0]), "IPv4 as before");
	cr_assert_not(np_peer_covers_ip(&p.ingress[0].peers[0], in.ips[0]), "an IPv6 block");
	np_pod_free(&in);
	np_pod_free(&ex);
	np_policy_free(&p);
}
