/* tests/fuzz/fuzz_policy_decode.c: the Kubernetes object decoders of policy/decode.c (Pod,
 * Namespace, NetworkPolicy, Node) and the store (policy/store.c) on arbitrary JSON. The input
 * is given to every decoder. A policy that decodes is compiled (policy/compile.c) together
 * with a few fixed pods and namespaces, and the script must stay bounded: at most
 * 16 KiB + 256 bytes per input byte. A decoded object passes the model's own bounds; a
 * refused one leaves an error message naming the kind. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "policy/compile.h"
#include "policy/decode.h"
#include "policy/select.h"
#include "policy/store.h"
#include "tests/fuzz/fuzz.h"

static const char *const fixed[] = {
	"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\",\"labels\":{\"team\":\"a\"}}}",
	"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"other\"}}",
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":80}]}]},"
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.32.0.2\"}}",
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"other\",\"labels\":{\"app\":\"db\"}},"
	"\"spec\":{\"nodeName\":\"n2\",\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":81}]}]},"
	"\"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"10.32.1.2\"},{\"ip\":\"fd00::a20:102\"}]}}",
};

static void check_labels(const struct np_labels *l)
{
	FUZZ_CHECK(l->n <= NP_MAX_LABELS);
	for (size_t i = 0; i < l->n; i++) {
		FUZZ_CHECK(strlen(l->v[i].key) >= 1 && strlen(l->v[i].key) <= NP_LABEL_KEY_MAX);
		FUZZ_CHECK(strlen(l->v[i].value) <= NP_LABEL_VALUE_MAX);
		FUZZ_CHECK(i == 0 || strcmp(l->v[i - 1].key, l->v[i].key) < 0);
		FUZZ_CHECK(np_labels_get(l, l->v[i].key) == l->v[i].value);
	}
}

static void check_err(int ret, const char *err, const char *kind)
{
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (ret == -EINVAL)
		FUZZ_CHECK(!strncmp(err, kind, strlen(kind)));
}

static void compile_with(struct np_policy *pol, size_t insize)
{
	struct np_store s;
	static struct np_local_view view;
	char err[256];
	np_store_init(&s);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		cJSON *j = cJSON_Parse(fixed[i]);
		FUZZ_CHECK(j);
		FUZZ_CHECK(np_store_update(&s, i < 2 ? NP_KIND_NAMESPACE : NP_KIND_POD, false, j, err,
					   sizeof(err)) == 1);
		cJSON_Delete(j);
	}
	/* the policy in namespace default, so that it selects pod a (local) */
	snprintf(pol->ns, sizeof(pol->ns), "default");
	FUZZ_CHECK(np_store_put_policy(&s, pol) == 1);
	view.n = 2;
	view.node = "n1";
	view.addr[0].ip = htonl(0x0a200002);
	view.addr[0].ns = "default";
	view.addr[0].name = "a";
	view.addr[0].has_ip6 = true; /* its IPv6 address, as the IPAM maps it */
	memcpy(view.addr[0].ip6, "\xfd\0\0\0\0\0\0\0\0\0\0\0\x0a\x20\0\x02", 16);
	view.addr[1].ip = htonl(0x0a200009);
	view.addr[1].ns = "default";
	view.addr[1].name = "unknown";
	struct np_compile_opts opts;
	np_compile_opts_init(&opts);
	struct np_compiled out;
	int ret = np_compile(&s, &view, &opts, NULL, &out, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -ENOMEM);
	if (ret == 0) {
		FUZZ_CHECK(out.len == strlen(out.script));
		FUZZ_CHECK(out.len <= 16384 + 256 * insize);
		/* a recompile given the first one's objects deletes nothing */
		struct np_compiled again;
		if (np_compile(&s, &view, &opts, &out.objects, &again, err, sizeof(err)) == 0) {
			FUZZ_CHECK(!strstr(again.script, "\ndelete "));
			np_compiled_free(&again);
		}
		np_compiled_free(&out);
	}
	np_store_free(&s);
}

FUZZ_ENTRY(policy_decode)(const uint8_t *data, size_t size)
{
	char err[512];
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	if (!j)
		return 0;
	struct np_pod pod;
	int ret = np_pod_decode(j, &pod, err, sizeof(err));
	check_err(ret, err, "Pod");
	if (ret == 0) {
		check_labels(&pod.labels);
		FUZZ_CHECK(pod.nips <= NP_MAX_POD_IPS && pod.ncports <= NP_MAX_CPORTS);
		np_pod_free(&pod);
	}
	struct np_namespace ns;
	ret = np_namespace_decode(j, &ns, err, sizeof(err));
	check_err(ret, err, "Namespace");
	if (ret == 0) {
		check_labels(&ns.labels);
		np_namespace_free(&ns);
	}
	struct np_node node;
	ret = np_node_decode(j, &node, err, sizeof(err));
	check_err(ret, err, "Node");
	struct np_policy pol;
	ret = np_policy_decode(j, &pol, err, sizeof(err));
	check_err(ret, err, "NetworkPolicy");
	if (ret == 0) {
		FUZZ_CHECK(pol.types && !(pol.types & ~3u));
		FUZZ_CHECK(pol.ningress <= NP_MAX_RULES && pol.negress <= NP_MAX_RULES);
		for (size_t i = 0; i < pol.ningress; i++)
			for (size_t k = 0; k < pol.ingress[i].nports; k++)
				FUZZ_CHECK(pol.ingress[i].ports[k].end_port >= pol.ingress[i].ports[k].port);
		compile_with(&pol, size);
	}
	/* the store: an update, the same again (no change), a delete */
	struct np_store s;
	np_store_init(&s);
	for (int k = 0; k < NP_KIND_MAX; k++) {
		int r1 = np_store_update(&s, (enum np_kind)k, false, j, err, sizeof(err));
		FUZZ_CHECK(r1 == 1 || r1 < 0);
		if (r1 == 1) {
			FUZZ_CHECK(np_store_update(&s, (enum np_kind)k, false, j, err, sizeof(err)) == 0);
			FUZZ_CHECK(np_store_count(&s, (enum np_kind)k) == 1);
			FUZZ_CHECK(np_store_update(&s, (enum np_kind)k, true, j, err, sizeof(err)) == 1);
			FUZZ_CHECK(np_store_count(&s, (enum np_kind)k) == 0);
		}
	}
	np_store_free(&s);
	cJSON_Delete(j);
	return 0;
}
