/* tests/tools/np_tool.c: a small command-line driver of policy/ for the real-kernel test
 * (tests/integration/test_policy_nft.sh) and for benchmarks: reads Kubernetes objects from JSON
 * files, compiles them, prints the nftables script; reads `nft -j list table` output for the
 * previous objects and for counters. No I/O in the library: all of it is here.
 *
 *   np_tool compile [--node N] [--local IP[,IP6]=NS/NAME]... [--local IP] [--no-multicast]
 *                   [--group G] [--gen N] [--prev LISTING.json] [--stats] FILE.json...
 *       FILE.json: one object or a List ({"items": [...]}); kinds Pod, Namespace,
 *       NetworkPolicy (items without "kind" take the List's "kind" minus "List").
 *       Prints the script on stdout; --stats prints sizes on stderr.
 *   np_tool counters LISTING.json      prints "name packets bytes" per counter
 *   np_tool explain SRC DST PROTO DPORT PREFIX FILE.json...   prints the explanation */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/compile.h"
#include "policy/nftjson.h"
#include "policy/store.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			char *p = realloc(buf, cap + 1);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int load_one(struct np_store *s, const cJSON *o, const char *kind)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
	char err[512];
	if (cJSON_IsString(k))
		kind = k->valuestring;
	enum np_kind nk = !strcmp(kind, "Pod") ? NP_KIND_POD
			: !strcmp(kind, "Namespace") ? NP_KIND_NAMESPACE : NP_KIND_POLICY;
	if (strcmp(kind, "Pod") && strcmp(kind, "Namespace") && strcmp(kind, "NetworkPolicy")) {
		fprintf(stderr, "np_tool: skipping an object of kind %s\n", kind);
		return 0;
	}
	int ret = np_store_update(s, nk, false, o, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "np_tool: %s\n", err);
	return ret < 0 ? ret : 0;
}

static int load_file(struct np_store *s, const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	if (!text) {
		fprintf(stderr, "np_tool: %s: %s\n", path, strerror(errno));
		return -1;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root) {
		fprintf(stderr, "np_tool: %s: not JSON\n", path);
		return -1;
	}
	int ret = 0;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (cJSON_IsArray(items)) {
		char kind[64] = "";
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kind");
		if (cJSON_IsString(k) && strlen(k->valuestring) > 4 && strlen(k->valuestring) < 60) {
			snprintf(kind, sizeof(kind), "%s", k->valuestring);
			kind[strlen(kind) - 4] = '\0';  /* PodList -> Pod */
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, items)
			if (load_one(s, it, kind) < 0)
				ret = -1;
	} else {
		ret = load_one(s, root, "");
	}
	cJSON_Delete(root);
	return ret;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmd_compile(int argc, char **argv)
{
	static struct np_local_view view;
	static char names[NP_LOCAL_MAX][2][256];
	struct np_compile_opts opts;
	struct np_store s;
	struct np_objects prev = { 0 };
	bool have_prev = false, stats = false;
	int i;
	np_compile_opts_init(&opts);
	np_store_init(&s);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--node") && i + 1 < argc) {
			view.node = argv[++i];
		} else if (!strcmp(argv[i], "--local") && i + 1 < argc && view.n < NP_LOCAL_MAX) {
			char *a = argv[++i], *eq = strchr(a, '='), *slash, *comma;
			struct in_addr ip;
			if (eq)
				*eq = '\0';
			if ((comma = strchr(a, ',')))
				*comma = '\0';
			if (inet_pton(AF_INET, a, &ip) != 1 ||
			    (comma && inet_pton(AF_INET6, comma + 1, view.addr[view.n].ip6) != 1)) {
				fprintf(stderr, "np_tool: --local %s: not an address\n", a);
				return 2;
			}
			view.addr[view.n].ip = ip.s_addr;
			view.addr[view.n].has_ip6 = comma != NULL;
			view.addr[view.n].ns = view.addr[view.n].name = "";
			if (eq && (slash = strchr(eq + 1, '/'))) {
				*slash = '\0';
				snprintf(names[view.n][0], 256, "%s", eq + 1);
				snprintf(names[view.n][1], 256, "%s", slash + 1);
				view.addr[view.n].ns = names[view.n][0];
				view.addr[view.n].name = names[view.n][1];
			}
			view.n++;
		} else if (!strcmp(argv[i], "--no-multicast")) {
			opts.multicast_allowed = false;
		} else if (!strcmp(argv[i], "--group") && i + 1 < argc) {
			opts.nflog_group = (uint16_t)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--gen") && i + 1 < argc) {
			opts.generation = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--stats")) {
			stats = true;
		} else if (!strcmp(argv[i], "--prev") && i + 1 < argc) {
			size_t len;
			char err[256], *text = slurp(argv[++i], &len);
			struct np_counter_values vals;
			if (!text) {
				fprintf(stderr, "np_tool: %s: %s\n", argv[i], strerror(errno));
				return 2;
			}
			/* an empty file: no table yet */
			if (len && np_nft_listing_parse(text, len, "mesh_policy", &vals, &prev, err,
							sizeof(err)) < 0) {
				fprintf(stderr, "np_tool: %s: %s\n", argv[i], err);
				free(text);
				return 2;
			}
			if (len)
				np_counter_values_free(&vals);
			have_prev = len != 0;
			free(text);
		} else if (load_file(&s, argv[i]) < 0) {
			return 2;
		}
	}
	struct np_compiled out;
	char err[256];
	double t0 = now_ms();
	int ret = np_compile(&s, &view, &opts, have_prev ? &prev : NULL, &out, err, sizeof(err));
	double t1 = now_ms();
	if (ret < 0) {
		fprintf(stderr, "np_tool: %s\n", err);
		return 1;
	}
	fwrite(out.script, 1, out.len, stdout);
	if (stats)
		fprintf(stderr, "np_tool: %zu pods, %zu policies (%zu here): script %zu bytes, %zu rules, "
			"%zu sets, %zu elements, %zu counters; compiled in %.1f ms\n",
			np_store_count(&s, NP_KIND_POD), np_store_count(&s, NP_KIND_POLICY),
			out.npolicies_here, out.len, out.nrules, out.nsets, out.nelements,
			out.objects.ncounters, t1 - t0);
	np_compiled_free(&out);
	np_objects_free(&prev);
	np_store_free(&s);
	return 0;
}

static int cmd_counters(const char *path)
{
	size_t len;
	char err[256], *text = slurp(path, &len);
	struct np_counter_values vals;
	if (!text || np_nft_listing_parse(text, len, "mesh_policy", &vals, NULL, err,
					  sizeof(err)) < 0) {
		fprintf(stderr, "np_tool: %s: %s\n", path, text ? err : strerror(errno));
		free(text);
		return 1;
	}
	for (size_t i = 0; i < vals.n; i++)
		printf("%s %llu %llu\n", vals.v[i].name, (unsigned long long)vals.v[i].packets,
		       (unsigned long long)vals.v[i].bytes);
	np_counter_values_free(&vals);
	free(text);
	return 0;
}

static int cmd_explain(int argc, char **argv)
{
	struct np_store s;
	struct in6_addr a, b;
	struct np_drop_explained ex;
	int af = argc >= 2 && strchr(argv[0], ':') ? AF_INET6 : AF_INET;
	if (argc < 5 || inet_pton(af, argv[0], &a) != 1 || inet_pton(af, argv[1], &b) != 1)
		return 2;
	np_store_init(&s);
	for (int i = 5; i < argc; i++)
		if (load_file(&s, argv[i]) < 0)
			return 2;
	np_explain_drop_af(&s, NULL, af, &a, &b, (uint8_t)atoi(argv[2]), (uint16_t)atoi(argv[3]),
			   argv[4], &ex);
	printf("direction=%s\nfrom=%s\nto=%s\nwhy=%s\n", np_drop_direction_name(ex.direction),
	       ex.from, ex.to, ex.why);
	np_store_free(&s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "compile"))
		return cmd_compile(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "counters"))
		return cmd_counters(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "explain"))
		return cmd_explain(argc - 2, argv + 2);
	fprintf(stderr, "usage: np_tool compile|counters|explain ... (see tests/tools/np_tool.c)\n");
	return 2;
}
