/* tests/unit/test_cni_result.c: cni/result.c: parsing IPAM results of every version, printing
 * the Result for each cniVersion, error and VERSION objects; cni/ipam_answer.c: meshd's mesh
 * IPAM answers (IPv4 and IPv6) into ips, and the default routes of both families. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cni/ipam_answer.h"
#include "cni/result.h"

static const char *HOSTLOCAL_040 =
	"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.32.1.2/12\","
	"\"gateway\":\"10.32.0.1\"},{\"version\":\"6\",\"address\":\"fd00::2/64\"}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"10.96.0.0/12\",\"gw\":\"10.32.0.9\"}],"
	"\"dns\":{\"nameservers\":[\"10.32.0.53\"]}}";

static void sample(struct cni_result *r)
{
	struct cni_error err;
	cJSON *j = cJSON_Parse(HOSTLOCAL_040);
	cr_assert_not_null(j);
	cr_assert_eq(cni_result_parse(j, r, &err), 0, "%s", err.details);
	cJSON_Delete(j);
	r->n_ifaces = 2;
	snprintf(r->ifaces[0].name, sizeof(r->ifaces[0].name), "vethmesh1234567");
	snprintf(r->ifaces[0].mac, sizeof(r->ifaces[0].mac), "aa:bb:cc:dd:ee:01");
	snprintf(r->ifaces[1].name, sizeof(r->ifaces[1].name), "eth0");
	snprintf(r->ifaces[1].mac, sizeof(r->ifaces[1].mac), "aa:bb:cc:dd:ee:02");
	snprintf(r->ifaces[1].sandbox, sizeof(r->ifaces[1].sandbox), "/run/netns/x");
	for (int i = 0; i < r->n_ips; i++)
		r->ips[i].iface = 1;
}

Test(cni_result, parse_ipam)
{
	struct cni_result r;
	sample(&r);
	cr_expect_eq(r.n_ips, 2);
	cr_expect_eq(r.ips[0].family, AF_INET);
	cr_expect_eq(r.ips[1].family, AF_INET6);
	cr_expect_str_eq(r.ips[0].gateway, "10.32.0.1");
	cr_expect_eq(r.n_routes, 2);
	cr_expect_str_eq(r.routes[1].gw, "10.32.0.9");
	cr_expect_not_null(r.dns);
	cni_result_free(&r);
}

static cJSON *print_parse(const struct cni_result *r, const char *v)
{
	char *s = cni_result_json(r, v);
	cr_assert_not_null(s);
	cJSON *j = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(j);
	return j;
}

Test(cni_result, each_version)
{
	struct cni_result r;
	sample(&r);
	for (int v = 0; v < CNI_V_COUNT; v++) {
		cJSON *j = print_parse(&r, cni_versions[v]);
		cr_expect_str_eq(cJSON_GetObjectItem(j, "cniVersion")->valuestring, cni_versions[v]);
		cJSON *ifs = cJSON_GetObjectItem(j, "interfaces");
		cr_expect_eq(cJSON_GetArraySize(ifs), 2);
		cJSON *c = cJSON_GetArrayItem(ifs, 1);
		cr_expect_str_eq(cJSON_GetObjectItem(c, "name")->valuestring, "eth0");
		cr_expect_str_eq(cJSON_GetObjectItem(c, "sandbox")->valuestring, "/run/netns/x");
		cr_expect_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ifs, 0), "sandbox"));
		cJSON *ip0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ips"), 0);
		cJSON *ip1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ips"), 1);
		cr_expect_eq(cJSON_GetObjectItem(ip0, "interface")->valueint, 1);
		cr_expect_str_eq(cJSON_GetObjectItem(ip0, "address")->valuestring, "10.32.1.2/12");
		cr_expect_str_eq(cJSON_GetObjectItem(ip0, "gateway")->valuestring, "10.32.0.1");
		cr_expect_null(cJSON_GetObjectItem(ip1, "gateway"));
		if (v < CNI_V100) {
			cr_expect_str_eq(cJSON_GetObjectItem(ip0, "version")->valuestring, "4");
			cr_expect_str_eq(cJSON_GetObjectItem(ip1, "version")->valuestring, "6");
		} else {
			cr_expect_null(cJSON_GetObjectItem(ip0, "version"), "%s has ips[].version", cni_versions[v]);
		}
		cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "routes")), 2);
		cr_expect_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "dns"), "nameservers"));
		/* What we print parses back the same. */
		struct cni_result back;
		struct cni_error err;
		cr_assert_eq(cni_result_parse(j, &back, &err), 0, "%s", err.details);
		cr_expect_eq(back.n_ifaces, 2);
		cr_expect_eq(back.n_ips, 2);
		cr_expect_eq(back.ips[0].iface, 1);
		cni_result_free(&back);
		cJSON_Delete(j);
	}
	cni_result_free(&r);
}

Test(cni_result, bad_results)
{
	static const char *bad[] = {
		"[]",
		"{\"ips\":{}}",
		"{\"ips\":[{\"address\":\"10.32.1.2\"}]}",
		"{\"ips\":[{\"address\":\"10.32.1.2/33\"}]}",
		"{\"ips\":[{\"address\":\"10.32.1.2/12\",\"gateway\":\"fd00::1\"}]}",
		"{\"ips\":[{\"address\":\"10.32.1.2/12\",\"interface\":0}]}",
		"{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.32.1.2/12\",\"interface\":1}]}",
		"{\"interfaces\":[{\"mac\":\"x\"}]}",
		"{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",
		"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"fd00::1\"}]}",
		"{\"dns\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cni_result r;
		struct cni_error err;
		cJSON *j = cJSON_Parse(bad[i]);
		cr_assert_not_null(j, "%s", bad[i]);
		cr_expect_eq(cni_result_parse(j, &r, &err), -1, "accepted %s", bad[i]);
		cr_expect_eq(err.code, CNI_ERR_DECODE);
		cni_result_free(&r);
		cJSON_Delete(j);
	}
}

Test(cni_result, error_and_version)
{
	struct cni_error e;
	cni_fail(&e, 7, "invalid network config", "\"%s\" is required", "name");
	char *s = cni_error_json("1.0.0", &e);
	cJSON *j = cJSON_Parse(s);
	cr_assert_not_null(j);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "cniVersion")->valuestring, "1.0.0");
	cr_expect_eq(cJSON_GetObjectItem(j, "code")->valueint, 7);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "invalid network config");
	cr_expect_str_eq(cJSON_GetObjectItem(j, "details")->valuestring, "\"name\" is required");
	cJSON_Delete(j);
	free(s);
	s = cni_version_json("1.0.0");
	j = cJSON_Parse(s);
	cr_assert_not_null(j);
	cJSON *sv = cJSON_GetObjectItem(j, "supportedVersions");
	cr_expect_eq(cJSON_GetArraySize(sv), CNI_V_COUNT);
	cr_expect_str_eq(cJSON_GetArrayItem(sv, 3)->valuestring, "1.0.0");
	cJSON_Delete(j);
	free(s);
}

/* --- meshd's answers (cni/ipam_answer.c) ------------------------------------------------------ */

static void mesh_cfg(struct cni_config *cfg, const char *json, const char *args)
{
	struct cni_error err;
	struct cni_env env = { "ADD", "c0ffee", "/run/netns/x", "eth0", args, "/usr/lib/cni" };
	cr_assert_eq(cni_config_parse(json, strlen(json), &env, cfg, &err), 0, "%s", err.details);
}

#define ANSWER_DUAL "{\"container_id\":\"c0ffee\",\"network\":\"mesh\",\"ip\":\"10.40.0.5\"," \
	"\"prefix\":12,\"subnet\":\"10.32.0.0/12\",\"ip6\":\"fd6d:6573:6800::5\",\"prefix6\":48," \
	"\"subnet6\":\"fd6d:6573:6800::/48\"}"
#define ANSWER_V4 "{\"container_id\":\"c0ffee\",\"ip\":\"10.40.0.5\",\"prefix\":12," \
	"\"subnet\":\"10.32.0.0/12\"}"

static void answer_ips(const char *answer, const struct cni_config *cfg, struct cni_result *r, int want)
{
	struct cni_error err;
	cJSON *j = cJSON_Parse(answer);
	cr_assert_not_null(j);
	memset(r, 0, sizeof(*r));
	cr_assert_eq(cni_ipam_answer_ips(j, cfg, true, 1, r, &err), want, "%s", err.details);
	cJSON_Delete(j);
}

Test(cni_ipam_answer, dual_stack_answer_gives_two_ips_in_every_version)
{
	struct cni_config cfg;
	struct cni_result r;
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}", NULL);
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_assert_eq(r.n_ips, 2);
	cr_expect_eq(r.ips[0].family, AF_INET);
	cr_expect_str_eq(r.ips[0].address, "10.40.0.5/12");
	cr_expect_eq(r.ips[0].iface, 1);
	cr_expect_eq(r.ips[1].family, AF_INET6);
	cr_expect_str_eq(r.ips[1].address, "fd6d:6573:6800::5/48");
	cr_expect_eq(r.ips[1].iface, 1);
	cr_expect_str_eq(r.ips[1].gateway, "");
	cr_expect_eq(r.n_routes, 0, "the on-link prefixes come with the addresses");
	r.n_ifaces = 2;
	snprintf(r.ifaces[0].name, sizeof(r.ifaces[0].name), "vethmesh1234567");
	snprintf(r.ifaces[1].name, sizeof(r.ifaces[1].name), "eth0");
	snprintf(r.ifaces[1].sandbox, sizeof(r.ifaces[1].sandbox), "/run/netns/x");
	static const char *const vers[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
	for (size_t v = 0; v < sizeof(vers) / sizeof(vers[0]); v++) {
		bool legacy = vers[v][0] == '0';
		cJSON *j = print_parse(&r, vers[v]);
		const cJSON *ips = cJSON_GetObjectItem(j, "ips");
		cr_assert_eq(cJSON_GetArraySize(ips), 2, "%s", vers[v]);
		const cJSON *a = cJSON_GetArrayItem(ips, 0), *b = cJSON_GetArrayItem(ips, 1);
		cr_expect_str_eq(cJSON_GetObjectItem(a, "address")->valuestring, "10.40.0.5/12");
		cr_expect_str_eq(cJSON_GetObjectItem(b, "address")->valuestring, "fd6d:6573:6800::5/48");
		cr_expect_eq(cJSON_GetObjectItem(b, "interface")->valuedouble, 1);
		if (legacy) {
			cr_expect_str_eq(cJSON_GetObjectItem(a, "version")->valuestring, "4", "%s", vers[v]);
			cr_expect_str_eq(cJSON_GetObjectItem(b, "version")->valuestring, "6", "%s", vers[v]);
		} else {
			cr_expect_null(cJSON_GetObjectItem(b, "version"), "%s", vers[v]);
		}
		/* and it parses back (a prevResult) */
		struct cni_result back;
		struct cni_error err;
		cr_assert_eq(cni_result_parse(j, &back, &err), 0, "%s: %s", vers[v], err.details);
		cr_expect_eq(back.n_ips, 2);
		cr_expect_eq(back.ips[1].family, AF_INET6);
		cni_result_free(&back);
		cJSON_Delete(j);
	}
	cni_result_free(&r);
	cni_config_free(&cfg);
}

Test(cni_ipam_answer, ipv4_only_when_meshd_or_the_config_says_so)
{
	struct cni_config cfg;
	struct cni_result r;
	/* an older meshd, or --ipalloc-range6 off: no ip6 */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}", NULL);
	answer_ips(ANSWER_V4, &cfg, &r, 0);
	cr_expect_eq(r.n_ips, 1);
	cr_expect_eq(r.ips[0].family, AF_INET);
	cni_config_free(&cfg);
	/* "ipv6": false */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipv6\":false}", NULL);
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_expect_eq(r.n_ips, 1);
	cni_config_free(&cfg);
	/* a Kubernetes pod, unless "ipv6": true */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}",
		 "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p");
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_expect_eq(r.n_ips, 1);
	cni_config_free(&cfg);
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipv6\":true}",
		 "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p");
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_expect_eq(r.n_ips, 2);
	cni_config_free(&cfg);
	/* a kernel without IPv6: left out by default, kept (ADD then fails saying why) when asked */
	struct cni_error err;
	cJSON *j = cJSON_Parse(ANSWER_DUAL);
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}", NULL);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(cni_ipam_answer_ips(j, &cfg, false, 1, &r, &err), 0);
	cr_expect_eq(r.n_ips, 1);
	cni_config_free(&cfg);
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipv6\":true}", NULL);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(cni_ipam_answer_ips(j, &cfg, false, 1, &r, &err), 0);
	cr_expect_eq(r.n_ips, 2);
	cni_config_free(&cfg);
	cJSON_Delete(j);
}

Test(cni_ipam_answer, malformed_answers_are_refused)
{
	struct cni_config cfg;
	struct cni_result r;
	static const char *const bad[] = {
		"{}",
		"{\"ip\":\"10.40.0.5\"}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":33}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":12.5}",
		"{\"ip\":\"fd00::5\",\"prefix\":12}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":12,\"ip6\":\"10.40.0.5\",\"prefix6\":48}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":12,\"ip6\":\"fd00::5\"}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":12,\"ip6\":\"fd00::5\",\"prefix6\":129}",
		"{\"ip\":\"10.40.0.5\",\"prefix\":12,\"ip6\":5,\"prefix6\":48}",
	};
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cni_error err;
		cJSON *j = cJSON_Parse(bad[i]);
		cr_assert_not_null(j);
		memset(&r, 0, sizeof(r));
		cr_expect_eq(cni_ipam_answer_ips(j, &cfg, true, 1, &r, &err), -1, "accepted %s", bad[i]);
		cr_expect_eq(err.code, 6, "%s", bad[i]);
		cJSON_Delete(j);
	}
	cni_config_free(&cfg);
}

Test(cni_ipam_answer, default_routes_of_both_families)
{
	struct cni_config cfg;
	struct cni_result r;
	struct cni_error err;
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
		 "\"isDefaultGateway\":true,\"gateway\":\"10.32.0.1\",\"gateway6\":\"fd6d:6573:6800::1\"}", NULL);
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_expect_str_eq(r.ips[1].gateway, "fd6d:6573:6800::1");
	cr_assert_eq(cni_default_routes(&r, false, &err), 0, "%s", err.details);
	cr_assert_eq(r.n_routes, 2);
	cr_expect_str_eq(r.routes[0].dst, "0.0.0.0/0");
	cr_expect_str_eq(r.routes[0].gw, "10.32.0.1");
	cr_expect_str_eq(r.routes[1].dst, "::/0");
	cr_expect_str_eq(r.routes[1].gw, "fd6d:6573:6800::1");
	cr_assert_eq(cni_default_routes(&r, false, &err), 0);
	cr_expect_eq(r.n_routes, 2, "not added twice");
	cni_config_free(&cfg);
	/* no gateway6: IPv6 keeps only its on-link prefix */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
		 "\"isDefaultGateway\":true,\"gateway\":\"10.32.0.1\"}", NULL);
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_assert_eq(cni_default_routes(&r, false, &err), 0);
	cr_expect_eq(r.n_routes, 1);
	cni_config_free(&cfg);
	/* no IPv4 gateway at all: an error naming the way out */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
		 "\"isDefaultGateway\":true,\"gateway6\":\"fd6d:6573:6800::1\"}", NULL);
	answer_ips(ANSWER_DUAL, &cfg, &r, 0);
	cr_expect_eq(cni_default_routes(&r, false, &err), -1);
	cr_expect_eq(err.code, 7);
	cr_expect(strstr(err.details, "--expose"), "%s", err.details);
	cni_config_free(&cfg);
}

/* meshd's answer names the gateways when its host is on the bridge (--expose, and with range6
 * its IPv6 too): taken when the config names none; an address of the wrong family is not a
 * gateway */
Test(cni_ipam_answer, gateways_from_meshd)
{
	struct cni_config cfg;
	struct cni_result r;
	struct cni_error err;
	static const char answer[] =
		"{\"container_id\":\"c0ffee\",\"network\":\"mesh\",\"ip\":\"10.40.0.5\",\"prefix\":12,"
		"\"subnet\":\"10.32.0.0/12\",\"ip6\":\"fd6d:6573:6800::a28:5\",\"prefix6\":48,"
		"\"subnet6\":\"fd6d:6573:6800::/48\",\"gateway\":\"10.40.0.1\","
		"\"gateway6\":\"fd6d:6573:6800::a28:1\"}";
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
		 "\"isDefaultGateway\":true}", NULL);
	answer_ips(answer, &cfg, &r, 0);
	cr_expect_str_eq(r.ips[0].gateway, "10.40.0.1");
	cr_expect_str_eq(r.ips[1].gateway, "fd6d:6573:6800::a28:1");
	cr_assert_eq(cni_default_routes(&r, false, &err), 0, "%s", err.details);
	cr_assert_eq(r.n_routes, 2);
	cr_expect_str_eq(r.routes[1].dst, "::/0");
	cr_expect_str_eq(r.routes[1].gw, "fd6d:6573:6800::a28:1");
	cni_config_free(&cfg);
	/* the config's gateway6 wins */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
		 "\"isDefaultGateway\":true,\"gateway6\":\"fd6d:6573:6800::1\"}", NULL);
	answer_ips(answer, &cfg, &r, 0);
	cr_expect_str_eq(r.ips[1].gateway, "fd6d:6573:6800::1");
	cni_config_free(&cfg);
	/* an IPv4 gateway6 from meshd is ignored */
	mesh_cfg(&cfg, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}", NULL);
	answer_ips("{\"ip\":\"10.40.0.5\",\"prefix\":12,\"ip6\":\"fd6d:6573:6800::a28:5\","
		   "\"prefix6\":48,\"gateway6\":\"10.40.0.1\"}", &cfg, &r, 0);
	cr_expect_str_eq(r.ips[1].gateway, "");
	cni_config_free(&cfg);
}
