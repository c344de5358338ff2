/* tests/unit/test_kube_stream.c: the watch stream framer and event decoder, the LIST body
 * decoder and the Status message extractor (kube/stream.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube/stream.h"

struct got {
	int n;
	enum kube_stream_type type[16];
	char name[16][32];
	char rv[16][32];
	int code[16];
	char msg[16][64];
	int stop_at; /* return 1 at this event (1-based), 0 = never */
};

static int collect(void *arg, const struct kube_stream_event *ev)
{
	struct got *g = arg;
	cr_assert_lt(g->n, 16);
	int i = g->n++;
	g->type[i] = ev->type;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(ev->object, "metadata");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
	snprintf(g->name[i], sizeof(g->name[i]), "%s", cJSON_IsString(name) ? name->valuestring : "");
	snprintf(g->rv[i], sizeof(g->rv[i]), "%s", ev->resource_version ? ev->resource_version : "");
	g->code[i] = ev->code;
	snprintf(g->msg[i], sizeof(g->msg[i]), "%s", ev->message);
	return g->stop_at && g->n == g->stop_at ? 1 : 0;
}

#define EV(type, name, rv)                                                                         \
	"{\"type\":\"" type "\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name              \
	"\",\"resourceVersion\":\"" rv "\"}}}\n"

static const char three[] = EV("ADDED", "a", "10") EV("MODIFIED", "b", "11") EV("DELETED", "c", "12");

Test(kube_stream, whole_lines_in_one_chunk)
{
	struct kube_stream s;
	struct got g = { 0 };
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, three, strlen(three), collect, &g), 0);
	cr_assert_eq(g.n, 3);
	cr_assert_eq(g.type[0], KUBE_EV_ADDED);
	cr_assert_eq(g.type[1], KUBE_EV_MODIFIED);
	cr_assert_eq(g.type[2], KUBE_EV_DELETED);
	cr_assert_str_eq(g.name[1], "b");
	cr_assert_str_eq(g.rv[2], "12");
	cr_assert_eq(s.lines, 3);
	kube_stream_free(&s);
}

Test(kube_stream, lines_split_at_every_byte)
{
	/* every chunk size from 1 to the whole: the same three events */
	for (size_t chunk = 1; chunk <= strlen(three); chunk++) {
		struct kube_stream s;
		struct got g = { 0 };
		kube_stream_init(&s, 0);
		for (size_t off = 0; off < strlen(three); off += chunk) {
			size_t n = strlen(three) - off < chunk ? strlen(three) - off : chunk;
			cr_assert_eq(kube_stream_feed(&s, three + off, n, collect, &g), 0, "chunk %zu", chunk);
		}
		cr_assert_eq(g.n, 3, "chunk %zu: %d events", chunk, g.n);
		cr_assert_str_eq(g.name[0], "a");
		cr_assert_str_eq(g.name[2], "c");
		cr_assert_str_eq(g.rv[1], "11");
		kube_stream_free(&s);
	}
}

Test(kube_stream, incomplete_line_waits_for_its_newline)
{
	struct kube_stream s;
	struct got g = { 0 };
	const char *ev = EV("ADDED", "a", "1");
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, ev, strlen(ev) - 1, collect, &g), 0);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(kube_stream_feed(&s, "\n", 1, collect, &g), 0);
	cr_assert_eq(g.n, 1);
	kube_stream_free(&s);
}

Test(kube_stream, crlf_and_blank_lines)
{
	struct kube_stream s;
	struct got g = { 0 };
	const char in[] = "\n\r\n  \n{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}\r\n\n";
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, in, strlen(in), collect, &g), 0);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.name[0], "x");
	cr_assert_str_eq(g.rv[0], "");
	kube_stream_free(&s);
}

Test(kube_stream, bookmark_carries_only_a_resource_version)
{
	struct kube_stream s;
	struct got g = { 0 };
	const char in[] = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
			  "\"metadata\":{\"resourceVersion\":\"12345\",\"creationTimestamp\":null},"
			  "\"spec\":{\"containers\":null}}}\n";
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, in, strlen(in), collect, &g), 0);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.type[0], KUBE_EV_BOOKMARK);
	cr_assert_str_eq(g.rv[0], "12345");
	kube_stream_free(&s);
}

Test(kube_stream, bookmark_without_resource_version_is_bad)
{
	struct kube_stream s;
	struct got g = { 0 };
	const char in[] = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}\n";
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, in, strlen(in), collect, &g), -EBADMSG);
	cr_assert(strstr(s.err, "BOOKMARK"), "%s", s.err);
	cr_assert_eq(g.n, 0);
	kube_stream_free(&s);
}

Test(kube_stream, error_410_gone)
{
	struct kube_stream s;
	struct got g = { 0 };
	/* what kube-apiserver 1.20 sends when the watch's resourceVersion was compacted */
	const char in[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
			  "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 5 (9)\","
			  "\"reason\":\"Expired\",\"code\":410}}\n";
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, in, strlen(in), collect, &g), 0);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.type[0], KUBE_EV_ERROR);
	cr_assert_eq(g.code[0], 410);
	cr_assert_str_eq(g.msg[0], "too old resource version: 5 (9)");
	cr_assert_str_eq(g.rv[0], "");
	kube_stream_free(&s);
}

Test(kube_stream, callback_stops_the_feed)
{
	struct kube_stream s;
	struct got g = { .stop_at = 2 };
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, three, strlen(three), collect, &g), 1);
	cr_assert_eq(g.n, 2);
	kube_stream_free(&s);
}

Test(kube_stream, oversize_line_is_refused)
{
	struct kube_stream s;
	struct got g = { 0 };
	char big[300];
	memset(big, 'x', sizeof(big));
	kube_stream_init(&s, 100);
	/* a complete short event first, then a line that grows past the cap across chunks */
	const char *ok = EV("ADDED", "a", "1");
	cr_assert_eq(kube_stream_feed(&s, ok, strlen(ok), collect, &g), 0);
	cr_assert_eq(kube_stream_feed(&s, big, 60, collect, &g), 0);
	cr_assert_eq(kube_stream_feed(&s, big, 60, collect, &g), -E2BIG);
	cr_assert(strstr(s.err, "longer than 100 bytes"), "%s", s.err);
	cr_assert_eq(g.n, 1);
	/* and in one chunk with its newline */
	kube_stream_reset(&s);
	big[200] = '\n';
	cr_assert_eq(kube_stream_feed(&s, big, 201, collect, &g), -E2BIG);
	kube_stream_free(&s);
}

Test(kube_stream, line_of_exactly_the_cap_is_fine)
{
	struct kube_stream s;
	struct got g = { 0 };
	const char *ev = EV("ADDED", "a", "1");
	size_t len = strlen(ev) - 1; /* without the newline */
	kube_stream_init(&s, len);
	cr_assert_eq(kube_stream_feed(&s, ev, 10, collect, &g), 0);
	cr_assert_eq(kube_stream_feed(&s, ev + 10, strlen(ev) - 10, collect, &g), 0);
	cr_assert_eq(g.n, 1);
	kube_stream_free(&s);
}

Test(kube_stream, garbage_is_refused_with_a_reason)
{
	static const struct {
		const char *in;
		const char *why;
	} cases[] = {
		{ "not json\n", "not JSON" },
		{ "{\"type\":\"ADDED\"\n", "not JSON" },
		{ "{\"object\":{}}\n", "no \"type\"" },
		{ "{\"type\":7,\"object\":{}}\n", "no \"type\"" },
		{ "{\"type\":\"EXPLODED\",\"object\":{}}\n", "unknown type" },
		{ "{\"type\":\"ADDED\"}\n", "no \"object\"" },
		{ "{\"type\":\"ADDED\",\"object\":[1]}\n", "no \"object\"" },
		{ "[]\n", "no \"type\"" },
		{ "{\"type\":\"ADDED\",\"object\":{}} trailing\n", "not JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kube_stream s;
		struct got g = { 0 };
		kube_stream_init(&s, 0);
		cr_assert_eq(kube_stream_feed(&s, cases[i].in, strlen(cases[i].in), collect, &g), -EBADMSG,
			     "case %zu", i);
		cr_assert(strstr(s.err, cases[i].why), "case %zu: '%s' lacks '%s'", i, s.err, cases[i].why);
		cr_assert_eq(g.n, 0);
		kube_stream_free(&s);
	}
}

Test(kube_stream, events_before_a_bad_line_are_delivered)
{
	struct kube_stream s;
	struct got g = { 0 };
	char in[512];
	snprintf(in, sizeof(in), "%s%s", EV("ADDED", "a", "1"), "garbage\n" EV("ADDED", "b", "2"));
	kube_stream_init(&s, 0);
	cr_assert_eq(kube_stream_feed(&s, in, strlen(in), collect, &g), -EBADMSG);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.name[0], "a");
	kube_stream_free(&s);
}

Test(kube_list, a_page_with_continue)
{
	const char body[] = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"77\","
			    "\"continue\":\"tok\"},\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}";
	cJSON *root;
	const cJSON *items;
	const char *rv, *cont;
	char err[128];
	cr_assert_eq(kube_list_decode(body, strlen(body), &root, &items, &rv, &cont, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cJSON_GetArraySize(items), 2);
	cr_assert_str_eq(rv, "77");
	cr_assert_str_eq(cont, "tok");
	cJSON_Delete(root);
}

Test(kube_list, last_page_and_empty_list)
{
	const char body[] = "{\"kind\":\"NamespaceList\",\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"\"},\"items\":[]}";
	const char empty[] = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"6\"}}";
	cJSON *root;
	const cJSON *items;
	const char *rv, *cont;
	char err[128];
	cr_assert_eq(kube_list_decode(body, strlen(body), &root, &items, &rv, &cont, err, sizeof(err)), 0);
	cr_assert_null(cont);
	cr_assert_eq(cJSON_GetArraySize(items), 0);
	cJSON_Delete(root);
	cr_assert_eq(kube_list_decode(empty, strlen(empty), &root, &items, &rv, &cont, err, sizeof(err)), 0);
	cr_assert_null(items);
	cr_assert_str_eq(rv, "6");
	cJSON_Delete(root);
}

Test(kube_list, bad_lists)
{
	static const struct {
		const char *in;
		const char *why;
	} cases[] = {
		{ "", "not JSON" },
		{ "{\"items\":[],\"metadata\":{}}", "resourceVersion" },
		{ "{\"items\":{},\"metadata\":{\"resourceVersion\":\"1\"}}", "not an array" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"1\"}}", "no \"items\"" },
		{ "{\"items\":[],\"metadata\":{\"resourceVersion\":\"\"}}", "resourceVersion" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *root = (cJSON *)1;
		const cJSON *items;
		const char *rv, *cont;
		char err[128] = "";
		cr_assert_eq(kube_list_decode(cases[i].in, strlen(cases[i].in), &root, &items, &rv, &cont, err,
					      sizeof(err)),
			     -EBADMSG, "case %zu", i);
		cr_assert_null(root);
		cr_assert(strstr(err, cases[i].why), "case %zu: '%s' lacks '%s'", i, err, cases[i].why);
	}
}

Test(kube_status, message_or_printable_body)
{
	char out[64];
	const char st[] = "{\"kind\":\"Status\",\"message\":\"pods is forbidden: User \\\"x\\\" cannot list\",\"code\":403}";
	kube_status_message(st, strlen(st), out, sizeof(out));
	cr_assert_str_eq(out, "pods is forbidden: User \"x\" cannot list");
	kube_status_message("Bad\r\nGateway\x01 ", 15, out, sizeof(out));
	cr_assert_str_eq(out, "Bad  Gateway");
	kube_status_message(NULL, 0, out, sizeof(out));
	cr_assert_str_eq(out, "");
	char small[8];
	kube_status_message(st, strlen(st), small, sizeof(small));
	cr_assert_str_eq(small, "pods is");
}
