/* tests/unit/test_kube_config.c: the kubeconfig parser, base64, the in-cluster URL and the
 * in-cluster configuration from a service account dir (kube/config.c). The in-cluster tests
 * write a service account dir under a temp dir and point MESH_KUBE_SA_DIR at it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/config.h"

static const char full[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"preferences: {}\n"
	"clusters:\n"
	"- name: prod\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443\n"
	"    certificate-authority-data: aGVsbG8gQ0E=\n" /* "hello CA" */
	"- name: dev\n"
	"  cluster:\n"
	"    server: https://dev.example:443/\n"
	"    certificate-authority: pki/ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n" /* "cert" */
	"    client-key-data: a2V5\n"             /* "key" */
	"- name: dev-user\n"
	"  user:\n"
	"    tokenFile: /run/tok\n"
	"    client-certificate: certs/me.crt\n"
	"    client-key: /abs/me.key\n"
	"- name: bob\n"
	"  user:\n"
	"    token: s3cret\n"
	"contexts:\n"
	"- name: prod-admin\n"
	"  context:\n"
	"    cluster: prod\n"
	"    user: admin\n"
	"- name: dev\n"
	"  context: {cluster: dev, user: dev-user, namespace: team}\n"
	"- name: bob\n"
	"  context: {cluster: prod, user: bob}\n"
	"current-context: prod-admin\n";

static int parse(const char *text, const char *ctx, struct kube_config *cfg, char *err)
{
	return kube_config_parse(text, strlen(text), "/home/u/.kube/config", ctx, cfg, err, 256);
}

Test(kubeconfig, current_context_with_embedded_data)
{
	struct kube_config cfg;
	char err[256] = "";
	cr_assert_eq(parse(full, NULL, &cfg, err), 0, "%s", err);
	cr_assert_str_eq(cfg.server, "https://10.0.0.1:6443");
	cr_assert_str_eq(cfg.ca_data, "hello CA");
	cr_assert_null(cfg.ca_file);
	cr_assert_str_eq(cfg.cert_data, "cert");
	cr_assert_str_eq(cfg.key_data, "key");
	cr_assert_null(cfg.token);
	cr_assert_not(cfg.insecure);
	cr_assert_null(cfg.namespace);
	cr_assert_str_eq(cfg.source, "kubeconfig /home/u/.kube/config (context prod-admin)");
	kube_config_free(&cfg);
}

Test(kubeconfig, named_context_files_relative_to_the_kubeconfig)
{
	struct kube_config cfg;
	char err[256] = "";
	cr_assert_eq(parse(full, "dev", &cfg, err), 0, "%s", err);
	cr_assert_str_eq(cfg.server, "https://dev.example:443/");
	cr_assert_str_eq(cfg.ca_file, "/home/u/.kube/pki/ca.crt");
	cr_assert_null(cfg.ca_data);
	cr_assert(cfg.insecure);
	cr_assert_str_eq(cfg.token_file, "/run/tok");
	cr_assert_str_eq(cfg.cert_file, "/home/u/.kube/certs/me.crt");
	cr_assert_str_eq(cfg.key_file, "/abs/me.key");
	cr_assert_str_eq(cfg.namespace, "team");
	cr_assert_str_eq(cfg.source, "kubeconfig /home/u/.kube/config (context dev)");
	kube_config_free(&cfg);

	/* a path without a directory: relative paths stay as they are */
	cr_assert_eq(kube_config_parse(full, strlen(full), "config", "dev", &cfg, err, sizeof(err)), 0);
	cr_assert_str_eq(cfg.ca_file, "pki/ca.crt");
	kube_config_free(&cfg);
}

Test(kubeconfig, token)
{
	struct kube_config cfg;
	char err[256] = "";
	cr_assert_eq(parse(full, "bob", &cfg, err), 0, "%s", err);
	cr_assert_str_eq(cfg.token, "s3cret");
	cr_assert_null(cfg.cert_file);
	cr_assert_null(cfg.cert_data);
	kube_config_free(&cfg);
}

/* full with one line replaced (first occurrence of from) */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(full, from);
	cr_assert_not_null(at, "%s", from);
	size_t n = strlen(full) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);
	snprintf(s, n, "%.*s%s%s", (int)(at - full), full, to, at + strlen(from));
	return s;
}

Test(kubeconfig, missing_pieces_and_bad_values)
{
	static const struct {
		const char *from, *to, *ctx;
		int ret;
		const char *why;
	} cases[] = {
		{ "current-context: prod-admin\n", "", NULL, -ENOENT, "no current-context" },
		{ "current-context: prod-admin\n", "current-context: nope\n", NULL, -ENOENT, "context 'nope' is not in 'contexts'" },
		{ "    cluster: prod\n    user: admin\n", "    user: admin\n", NULL, -EINVAL, "names no cluster" },
		{ "- name: prod\n", "- name: prod2\n", NULL, -ENOENT, "cluster 'prod' is not in 'clusters'" },
		{ "    server: https://10.0.0.1:6443\n", "", NULL, -EINVAL, "has no server" },
		{ "    server: https://10.0.0.1:6443\n", "    server: 10.0.0.1:6443\n", NULL, -EINVAL, "not an http(s):// URL" },
		{ "- name: admin\n", "- name: admin2\n", NULL, -ENOENT, "user 'admin' is not in 'users'" },
		{ "aGVsbG8gQ0E=", "not*base64", NULL, -EINVAL, "'certificate-authority-data' is not base64" },
		{ "    client-key-data: a2V5\n", "", NULL, -EINVAL, "client certificate but no client key" },
		{ "    insecure-skip-tls-verify: true\n", "    insecure-skip-tls-verify: maybe\n", "dev", -EINVAL,
		  "must be true or false" },
		{ "    token: s3cret\n", "    token: [a, b]\n", "bob", -EINVAL, "'token' must be a string" },
		{ "    token: s3cret\n",
		  "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n", "bob",
		  -ENOTSUP, "authenticates with 'exec', which meshd does not support" },
		{ "    token: s3cret\n", "    auth-provider:\n      name: gcp\n", "bob", -ENOTSUP, "'auth-provider'" },
		{ "    token: s3cret\n", "    username: a\n    password: b\n", "bob", -ENOTSUP, "'username'" },
		{ "kind: Config\n", "kind: Pod\n", NULL, -EINVAL, "kind is 'Pod', not Config" },
		{ "  cluster:\n    server: https://10.0.0.1:6443\n", "  cluster: 7\n    server: https://10.0.0.1:6443\n",
		  NULL, -EINVAL, "not YAML" },
		{ "contexts:\n", "contexts: 5\nx:\n", NULL, -EINVAL, "'contexts' is not a list" },
		{ "preferences: {}\n", "preferences: &a {}\nalias: *a\n", NULL, -EINVAL, "aliases are not supported" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = edit(cases[i].from, cases[i].to);
		struct kube_config cfg;
		char err[256] = "";
		int r = parse(text, cases[i].ctx, &cfg, err);
		cr_assert_eq(r, cases[i].ret, "case %zu: %d (%s)", i, r, err);
		cr_assert(strstr(err, cases[i].why), "case %zu: '%s' lacks '%s'", i, err, cases[i].why);
		cr_assert(strstr(err, "/home/u/.kube/config"), "case %zu: '%s' names no file", i, err);
		cr_assert_null(cfg.server, "case %zu", i);
		free(text);
	}
}

Test(kubeconfig, not_a_kubeconfig)
{
	static const char *const texts[] = { "", "- a\n- b\n", "just a string\n", "{", "a: [\n" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct kube_config cfg;
		char err[256] = "";
		cr_assert_lt(parse(texts[i], NULL, &cfg, err), 0, "text %zu", i);
		cr_assert(err[0]);
	}
}

Test(kubeconfig, deep_nesting_is_refused)
{
	char text[400];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		text[n++] = '[';
	text[n] = '\0';
	struct kube_config cfg;
	char err[256] = "";
	cr_assert_eq(parse(text, NULL, &cfg, err), -EINVAL);
	cr_assert(strstr(err, "deeper than") || strstr(err, "not YAML"), "%s", err);
}

Test(kube_base64, decodes_and_refuses)
{
	size_t n;
	bool bad;
	char *s = kube_base64_decode("aGVs\nbG8=", 9, &n, &bad);
	cr_assert_str_eq(s, "hello");
	cr_assert_eq(n, 5);
	free(s);
	s = kube_base64_decode("aGVsbG8", 7, &n, &bad); /* no padding */
	cr_assert_str_eq(s, "hello");
	free(s);
	cr_assert_null(kube_base64_decode("aGV*", 4, &n, &bad));
	cr_assert(bad);
	cr_assert_null(kube_base64_decode("aG=Vs", 5, &n, &bad)); /* data after padding */
	cr_assert(bad);
	cr_assert_null(kube_base64_decode("a", 1, &n, &bad)); /* a lone 6 bits */
	cr_assert(bad);
	s = kube_base64_decode("", 0, &n, &bad);
	cr_assert_str_eq(s, "");
	free(s);
}

Test(kube_in_cluster, url)
{
	char url[100];
	cr_assert_eq(kube_in_cluster_url("10.96.0.1", "443", url, sizeof(url)), 0);
	cr_assert_str_eq(url, "https://10.96.0.1:443");
	cr_assert_eq(kube_in_cluster_url("fd00::1", "6443", url, sizeof(url)), 0);
	cr_assert_str_eq(url, "https://[fd00::1]:6443");
	cr_assert_eq(kube_in_cluster_url("10.96.0.1", "44x", url, sizeof(url)), -EINVAL);
	cr_assert_eq(kube_in_cluster_url("a/b", "443", url, sizeof(url)), -EINVAL);
	cr_assert_eq(kube_in_cluster_url("", "443", url, sizeof(url)), -EINVAL);
	cr_assert_eq(kube_in_cluster_url("10.96.0.1", "443", url, 10), -ENAMETOOLONG);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(kube_in_cluster, service_account_dir)
{
	char dir[] = "/tmp/mesh-kube-sa.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct kube_config cfg;
	char err[256] = "";

	unsetenv("KUBERNETES_SERVICE_HOST");
	setenv("MESH_KUBE_SA_DIR", dir, 1);
	cr_assert_eq(kube_config_in_cluster(&cfg, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "KUBERNETES_SERVICE_HOST"), "%s", err);

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	cr_assert_eq(kube_config_in_cluster(&cfg, err, sizeof(err)), -EINVAL); /* in a pod, no token yet */
	cr_assert(strstr(err, "token"), "%s", err);
	cr_assert(strstr(err, dir), "%s", err);

	write_file(dir, "token", "eyJhbGc.tok\n");
	cr_assert_eq(kube_config_in_cluster(&cfg, err, sizeof(err)), -EINVAL); /* no CA yet */
	cr_assert(strstr(err, "ca.crt"), "%s", err);

	write_file(dir, "ca.crt", "-----BEGIN CERTIFICATE-----\n");
	write_file(dir, "namespace", "kube-system");
	cr_assert_eq(kube_config_in_cluster(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.server, "https://[fd00:10::1]:443");
	cr_assert_str_eq(cfg.token, "eyJhbGc.tok");
	cr_assert(strstr(cfg.token_file, "/token"));
	cr_assert(strstr(cfg.ca_file, "/ca.crt"));
	cr_assert_str_eq(cfg.namespace, "kube-system");
	cr_assert_str_eq(cfg.source, "in-cluster (KUBERNETES_SERVICE_HOST [fd00:10::1]:443)");
	kube_config_free(&cfg);

	char p[512];
	for (const char *const *n = (const char *const[]){ "token", "ca.crt", "namespace", NULL }; *n; n++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *n);
		unlink(p);
	}
	rmdir(dir);
}

Test(kubeconfig, load_names_the_file)
{
	struct kube_config cfg;
	char err[256] = "";
	cr_assert_eq(kube_config_load("/nonexistent/kubeconfig", NULL, &cfg, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/kubeconfig"), "%s", err);
}
