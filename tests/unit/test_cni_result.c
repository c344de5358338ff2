/* tests/unit/test_cni_result.c: cni/result.c: parsing IPAM results of every version, printing
 * the Result for each cniVersion, error and VERSION objects. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
