/* tests/unit/test_cni_config.c: cni/config.c. A table of malformed configs and environments,
 * each with the CNI error code mesh-cni documents for it, plus the accepted shapes real callers
 * send (podman, containerd: CNI_ARGS in any order, unknown keys, runtimeConfig, prevResult). */
#include <errno.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cni/config.h"

#define IPAM "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.32.0.0/12\"}"
#define OK_CONF "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "}"
#define CONF(extra) "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "," extra "}"
#define PREV "\"prevResult\":{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/run/netns/x\"}],\"ips\":[{\"address\":\"10.32.1.2/12\",\"interface\":0}]}"

static const struct cni_env ADD_ENV = { "ADD", "c0ffee", "/run/netns/x", "eth0", "IgnoreUnknown=1", "/usr/lib/cni" };

struct bad_case {
	const char *what;
	struct cni_env env;
	const char *json;
	int code;
};

#define E(cmd, cid, ns, ifn, args, path) { cmd, cid, ns, ifn, args, path }
#define ADDE E("ADD", "c0ffee", "/run/netns/x", "eth0", NULL, "/usr/lib/cni")

static const struct bad_case bad[] = {
	{ "no CNI_COMMAND", E(NULL, "c", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "empty CNI_COMMAND", E("", "c", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "unknown CNI_COMMAND", E("ATTACH", "c", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "lowercase command", E("add", "c", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "no CNI_CONTAINERID", E("ADD", NULL, "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "empty CNI_CONTAINERID", E("ADD", "", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "CNI_CONTAINERID with slash", E("ADD", "a/b", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "CNI_CONTAINERID starting with dash", E("DEL", "-x", "/n", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "no CNI_IFNAME", E("ADD", "c", "/n", NULL, NULL, "/p"), OK_CONF, 4 },
	{ "CNI_IFNAME too long", E("ADD", "c", "/n", "eth0123456789abc", NULL, "/p"), OK_CONF, 4 },
	{ "CNI_IFNAME with slash", E("ADD", "c", "/n", "et/h0", NULL, "/p"), OK_CONF, 4 },
	{ "CNI_IFNAME dot-dot", E("CHECK", "c", "/n", "..", NULL, "/p"), CONF(PREV), 4 },
	{ "no CNI_NETNS on ADD", E("ADD", "c", NULL, "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "empty CNI_NETNS on CHECK", E("CHECK", "c", "", "eth0", NULL, "/p"), CONF(PREV), 4 },
	{ "relative CNI_NETNS", E("ADD", "c", "netns/x", "eth0", NULL, "/p"), OK_CONF, 4 },
	{ "no CNI_PATH", E("ADD", "c", "/n", "eth0", NULL, NULL), OK_CONF, 4 },
	{ "no CNI_PATH on DEL", E("DEL", "c", "/n", "eth0", NULL, ""), OK_CONF, 4 },
	{ "CNI_ARGS pair without =", { "ADD", "c", "/n", "eth0", "IgnoreUnknown=1;garbage", "/p" }, OK_CONF, 4 },
	{ "CNI_ARGS empty key", { "ADD", "c", "/n", "eth0", "=1", "/p" }, OK_CONF, 4 },
	{ "empty stdin", ADDE, "", 6 },
	{ "not JSON", ADDE, "cniVersion: 1.0.0", 6 },
	{ "truncated JSON", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":", 6 },
	{ "JSON array", ADDE, "[1,2]", 6 },
	{ "JSON string", ADDE, "\"mesh\"", 6 },
	{ "trailing garbage", ADDE, OK_CONF "x", 6 },
	{ "no cniVersion", ADDE, "{\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "}", 7 },
	{ "numeric cniVersion", ADDE, "{\"cniVersion\":1,\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "}", 7 },
	{ "cniVersion 0.2.0", ADDE, "{\"cniVersion\":\"0.2.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "}", 1 },
	{ "cniVersion 2.0.0", ADDE, "{\"cniVersion\":\"2.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "}", 1 },
	{ "CHECK on 0.3.1", E("CHECK", "c", "/n", "eth0", NULL, "/p"),
	  "{\"cniVersion\":\"0.3.1\",\"name\":\"mesh\",\"type\":\"mesh-cni\"," IPAM "," PREV "}", 1 },
	{ "GC on 1.0.0", E("GC", NULL, NULL, NULL, NULL, "/p"), OK_CONF, 1 },
	{ "STATUS on 1.0.0", E("STATUS", NULL, NULL, NULL, NULL, "/p"), OK_CONF, 1 },
	{ "no name", ADDE, "{\"cniVersion\":\"1.0.0\",\"type\":\"mesh-cni\"," IPAM "}", 7 },
	{ "bad name", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":\"me sh\",\"type\":\"mesh-cni\"," IPAM "}", 7 },
	{ "name not a string", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":5,\"type\":\"mesh-cni\"," IPAM "}", 7 },
	{ "no type", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\"," IPAM "}", 7 },
	{ "bridge not a string", ADDE, CONF("\"bridge\":true"), 7 },
	{ "bridge name too long", ADDE, CONF("\"bridge\":\"abcdefghijklmnopq\""), 7 },
	{ "bridge name with slash", ADDE, CONF("\"bridge\":\"a/b\""), 7 },
	{ "mtu as string", ADDE, CONF("\"mtu\":\"1400\""), 7 },
	{ "mtu too small", ADDE, CONF("\"mtu\":100"), 7 },
	{ "mtu too large", ADDE, CONF("\"mtu\":70000"), 7 },
	{ "mtu fractional", ADDE, CONF("\"mtu\":1400.5"), 7 },
	{ "socket relative", ADDE, CONF("\"socket\":\"run/meshd.sock\""), 7 },
	{ "socket too long", ADDE, CONF("\"socket\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""), 7 },
	{ "isDefaultGateway as string", ADDE, CONF("\"isDefaultGateway\":\"yes\""), 7 },
	{ "ipMasq true", ADDE, CONF("\"ipMasq\":true"), 2 },
	{ "hairpinMode false", ADDE, CONF("\"hairpinMode\":false"), 2 },
	{ "isGateway true", ADDE, CONF("\"isGateway\":true"), 2 },
	{ "ipam not an object", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipam\":\"host-local\"}", 7 },
	{ "ipam without type", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipam\":{}}", 7 },
	{ "ipam type with slash", ADDE, "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipam\":{\"type\":\"../bin/sh\"}}", 7 },
	{ "gateway not an address", ADDE, CONF("\"gateway\":\"10.32.0.300\""), 7 },
	{ "gateway IPv6", ADDE, CONF("\"gateway\":\"fd00::1\""), 7 },
	{ "gateway a number", ADDE, CONF("\"gateway\":10"), 7 },
	{ "ipv6 a string", ADDE, CONF("\"ipv6\":\"yes\""), 7 },
	{ "ipv6 a number", ADDE, CONF("\"ipv6\":1"), 7 },
	{ "gateway6 IPv4", ADDE, CONF("\"gateway6\":\"10.32.0.1\""), 7 },
	{ "gateway6 with a prefix", ADDE, CONF("\"gateway6\":\"fd00::1/64\""), 7 },
	{ "gateway6 a number", ADDE, CONF("\"gateway6\":6"), 7 },
	{ "prevResult not an object", ADDE, CONF("\"prevResult\":[]"), 7 },
	{ "CHECK without prevResult", E("CHECK", "c", "/n", "eth0", NULL, "/p"), OK_CONF, 7 },
	{ "runtimeConfig not an object", ADDE, CONF("\"runtimeConfig\":3"), 7 },
};

Test(cni_config, malformed_table)
{
	size_t n = sizeof(bad) / sizeof(bad[0]);
	cr_assert_geq(n, 30);
	for (size_t i = 0; i < n; i++) {
		struct cni_config cfg;
		struct cni_error err;
		int r = cni_config_parse(bad[i].json, strlen(bad[i].json), &bad[i].env, &cfg, &err);
		cr_expect_eq(r, -1, "%s: accepted", bad[i].what);
		cr_expect_eq(err.code, bad[i].code, "%s: code %d, want %d (%s: %s)", bad[i].what,
			     err.code, bad[i].code, err.msg, err.details);
		cr_expect(err.msg[0], "%s: empty msg", bad[i].what);
		cni_config_free(&cfg);
	}
}

Test(cni_config, no_ipam_is_mesh_ipam)
{
	struct cni_config cfg;
	struct cni_error err;
	const char *j = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}";
	cr_assert_eq(cni_config_parse(j, strlen(j), &ADD_ENV, &cfg, &err), 0, "%s", err.msg);
	cr_expect(!cfg.has_ipam);
	cr_expect_str_eq(cfg.gateway, "");
	cni_config_free(&cfg);
	/* a default route via the gateway named in the config */
	const char *gw = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
			 "\"isDefaultGateway\":true,\"gateway\":\"10.32.0.1\"}";
	cr_assert_eq(cni_config_parse(gw, strlen(gw), &ADD_ENV, &cfg, &err), 0, "%s", err.msg);
	cr_expect(cfg.is_default_gw);
	cr_expect_str_eq(cfg.gateway, "10.32.0.1");
	cni_config_free(&cfg);
	const char *nogw = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\","
			   "\"isDefaultGateway\":true}";
	/* without one, meshd's host address (--expose) is the gateway: decided at ADD */
	cr_assert_eq(cni_config_parse(nogw, strlen(nogw), &ADD_ENV, &cfg, &err), 0, "%s", err.msg);
	cr_expect(cfg.is_default_gw);
	cr_expect_str_eq(cfg.gateway, "");
	cni_config_free(&cfg);
	/* DEL needs no IPAM: it must clean up whatever there is. */
	struct cni_env del = ADD_ENV;
	del.command = "DEL";
	del.netns = "";
	cr_assert_eq(cni_config_parse(j, strlen(j), &del, &cfg, &err), 0, "%s", err.msg);
	cr_expect_null(cfg.netns);
	cr_expect(!cfg.has_ipam);
	cni_config_free(&cfg);
}

Test(cni_config, ipv6_key_and_kubernetes_pods)
{
	struct cni_config cfg;
	struct cni_error err;
	struct cni_env pod = ADD_ENV;
	pod.args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p";
	const char *j = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}";
	/* absent: on, except for a Kubernetes pod (IPv6 for pods only in a dual-stack cluster) */
	cr_assert_eq(cni_config_parse(j, strlen(j), &ADD_ENV, &cfg, &err), 0, "%s", err.msg);
	cr_expect_eq(cfg.ipv6, CNI_IPV6_AUTO);
	cr_expect(cni_config_wants_ipv6(&cfg));
	cr_expect_str_eq(cfg.gateway6, "");
	cni_config_free(&cfg);
	cr_assert_eq(cni_config_parse(j, strlen(j), &pod, &cfg, &err), 0, "%s", err.msg);
	cr_expect_not(cni_config_wants_ipv6(&cfg));
	cni_config_free(&cfg);
	const char *off = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipv6\":false}";
	cr_assert_eq(cni_config_parse(off, strlen(off), &ADD_ENV, &cfg, &err), 0, "%s", err.msg);
	cr_expect_eq(cfg.ipv6, CNI_IPV6_OFF);
	cr_expect_not(cni_config_wants_ipv6(&cfg));
	cni_config_free(&cfg);
	const char *on = "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"ipv6\":true,"
			 "\"isDefaultGateway\":true,\"gateway\":\"10.32.0.1\",\"gateway6\":\"fd6d:6573:6800::1\"}";
	cr_assert_eq(cni_config_parse(on, strlen(on), &pod, &cfg, &err), 0, "%s", err.msg);
	cr_expect_eq(cfg.ipv6, CNI_IPV6_ON);
	cr_expect(cni_config_wants_ipv6(&cfg), "asked for explicitly, a pod gets IPv6 too");
	cr_expect_str_eq(cfg.gateway6, "fd6d:6573:6800::1");
	cni_config_free(&cfg);
}

Test(cni_config, defaults_and_fields)
{
	struct cni_config cfg;
	struct cni_error err;
	const char *j = CONF("\"mtu\":1400,\"isDefaultGateway\":true,\"bridge\":\"br9\","
			     "\"socket\":\"/run/x.sock\",\"unknownKey\":{\"a\":[1]},\"hairpinMode\":true,"
			     "\"runtimeConfig\":{\"portMappings\":[]},\"capabilities\":{\"portMappings\":true}");
	cr_assert_eq(cni_config_parse(j, strlen(j), &ADD_ENV, &cfg, &err), 0, "%s: %s", err.msg, err.details);
	cr_expect_eq(cfg.cmd, CNI_CMD_ADD);
	cr_expect_eq(cfg.ver, CNI_V100);
	cr_expect_str_eq(cfg.name, "mesh");
	cr_expect_str_eq(cfg.bridge, "br9");
	cr_expect_str_eq(cfg.socket, "/run/x.sock");
	cr_expect_eq(cfg.mtu, 1400);
	cr_expect(cfg.is_default_gw);
	cr_expect_str_eq(cfg.ipam_type, "host-local");
	cni_config_free(&cfg);

	cr_assert_eq(cni_config_parse(OK_CONF, strlen(OK_CONF), &ADD_ENV, &cfg, &err), 0);
	cr_expect_str_eq(cfg.bridge, "mesh");
	cr_expect_str_eq(cfg.socket, "/run/mesh/meshd.sock");
	cr_expect_eq(cfg.mtu, 0);
	cr_expect(!cfg.is_default_gw);
	cni_config_free(&cfg);
}

Test(cni_config, callers_as_captured)
{
	struct cni_config cfg;
	struct cni_error err;
	/* containerd: CNI_ARGS keys in any order; DEL with an empty netns and no prevResult. */
	struct cni_env e = { "DEL", "ed06ec3be2519b7f", "", "eth0",
			     "K8S_POD_UID=b2f6;IgnoreUnknown=1;K8S_POD_NAMESPACE=cp-ns;K8S_POD_NAME=cp-pod", "/opt/cni/bin" };
	cr_assert_eq(cni_config_parse(OK_CONF, strlen(OK_CONF), &e, &cfg, &err), 0, "%s", err.msg);
	cni_config_free(&cfg);
	/* podman: ;MAC=..;IP=.. and a trailing ';' */
	e = (struct cni_env){ "ADD", "9a8e16bb", "/run/netns/netns-8762", "eth1",
			      "IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:00:c0:ff:ee;IP=10.32.1.77;", "/a:/b" };
	cr_assert_eq(cni_config_parse(OK_CONF, strlen(OK_CONF), &e, &cfg, &err), 0, "%s", err.msg);
	cni_config_free(&cfg);
	/* CHECK with prevResult */
	const char *c = CONF(PREV);
	e.command = "CHECK";
	cr_assert_eq(cni_config_parse(c, strlen(c), &e, &cfg, &err), 0, "%s", err.msg);
	cr_expect_not_null(cfg.prev_result);
	cni_config_free(&cfg);
	/* GC and STATUS on 1.1.0 need only CNI_PATH. */
	const char *g = "{\"cniVersion\":\"1.1.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\"}";
	e = (struct cni_env){ "STATUS", NULL, NULL, NULL, NULL, "/p" };
	cr_assert_eq(cni_config_parse(g, strlen(g), &e, &cfg, &err), 0, "%s", err.msg);
	cni_config_free(&cfg);
	e.command = "GC";
	cr_assert_eq(cni_config_parse(g, strlen(g), &e, &cfg, &err), 0, "%s", err.msg);
	cni_config_free(&cfg);
}

Test(cni_config, version_probe)
{
	struct cni_config cfg;
	struct cni_error err;
	/* podman's probe: dummy env, {"cniVersion":"1.0.0"} */
	struct cni_env e = { "VERSION", "", "dummy", "dummy", NULL, "dummy" };
	const char *j = "{\"cniVersion\":\"1.0.0\"}";
	cr_assert_eq(cni_config_parse(j, strlen(j), &e, &cfg, &err), 0);
	cr_expect_str_eq(cfg.version, "1.0.0");
	cni_config_free(&cfg);
	cr_assert_eq(cni_config_parse("", 0, &e, &cfg, &err), 0);
	cr_expect_str_eq(cfg.version, "1.1.0");
	cni_config_free(&cfg);
	j = "{\"cniVersion\":\"9.9.9\"}";
	cr_assert_eq(cni_config_parse(j, strlen(j), &e, &cfg, &err), 0);
	cr_expect_str_eq(cfg.version, "1.1.0");
	cni_config_free(&cfg);
}

Test(cni_config, veth_name)
{
	char a[CNI_IFNAME_MAX], b[CNI_IFNAME_MAX], c[CNI_IFNAME_MAX];
	cni_host_veth_name("c0ffee", "eth0", a);
	cni_host_veth_name("c0ffee", "eth0", b);
	cni_host_veth_name("c0ffee", "eth1", c);
	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, c);
	cr_expect_eq(strlen(a), 15);
	cr_expect_eq(strncmp(a, "vethmesh", 8), 0);
	cr_expect(cni_valid_ifname(a));
}

Test(cni_config, veth_owner)
{
	char o[CNI_OWNER_MAX], big[400];
	cni_veth_owner("abc123", "eth0", o);
	cr_expect_str_eq(o, "mesh-cni eth0 abc123");
	/* a very long container id is cut where the kernel would cut the alias */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cni_veth_owner(big, "eth0", o);
	cr_expect_eq(strlen(o), CNI_OWNER_MAX - 1);
}

Test(cni_args, get_finds_values_and_refuses_what_does_not_fit)
{
	const char *a = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
			"K8S_POD_INFRA_CONTAINER_ID=abc";
	char v[16];
	cr_assert_eq(cni_args_get(a, "K8S_POD_NAMESPACE", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "default");
	cr_assert_eq(cni_args_get(a, "K8S_POD_NAME", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "web-0");
	cr_assert_eq(cni_args_get(a, "K8S_POD", v, sizeof(v)), -ENOENT);
	cr_assert_eq(cni_args_get(a, "K8S_POD_INFRA_CONTAINER_ID", v, 3), -E2BIG);
	cr_assert_eq(cni_args_get(NULL, "K8S_POD_NAME", v, sizeof(v)), -ENOENT);
	cr_assert_eq(cni_args_get("K8S_POD_NAME=", "K8S_POD_NAME", v, sizeof(v)), -ENOENT);
}
