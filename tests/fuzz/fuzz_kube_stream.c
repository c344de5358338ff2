/* tests/fuzz/fuzz_kube_stream.c: the decoders of what the Kubernetes API server sends
 * (kube/stream.c): the watch stream's line framer and event decoder, the LIST body decoder and
 * the Status message extractor.
 *
 * Input: a selector byte; bits 0-1 pick the max line (64 B, 1 KiB, 4 MiB); the rest of the
 * byte is a chunk size 1..64 for cutting the remaining bytes. The bytes are fed to a stream in
 * those chunks, and the same bytes also go whole to kube_list_decode and kube_status_message.
 * Invariants: an event has a known type and an object; an ERROR's code is in 0..999; a
 * failed feed says why; feeding the same bytes in one piece or in chunks gives the same
 * events and the same result (the framing does not depend on where chunks end); a decoded
 * list has a non-empty resourceVersion. */
#include <errno.h>
#include <string.h>

#include "kube/stream.h"
#include "tests/fuzz/fuzz.h"

struct tally {
	unsigned events;
	unsigned long hash;
};

static int count(void *arg, const struct kube_stream_event *ev)
{
	struct tally *t = arg;
	FUZZ_CHECK(ev->type <= KUBE_EV_ERROR);
	FUZZ_CHECK(ev->object != NULL);
	FUZZ_CHECK(ev->message != NULL);
	FUZZ_CHECK(ev->code >= 0 && ev->code < 1000);
	FUZZ_CHECK(!ev->resource_version || ev->resource_version[0]);
	t->events++;
	t->hash = t->hash * 31 + ev->type + 1;
	if (ev->resource_version)
		for (const char *p = ev->resource_version; *p; p++)
			t->hash = t->hash * 31 + (unsigned char)*p;
	return 0;
}

FUZZ_ENTRY(kube_stream)(const uint8_t *data, size_t size)
{
	static const size_t max_lines[] = { 64, 1024, KUBE_STREAM_MAX_LINE, KUBE_STREAM_MAX_LINE };
	if (size < 1)
		return 0;
	size_t max_line = max_lines[data[0] & 3];
	size_t chunk = (size_t)(data[0] >> 2) + 1;
	char *text = (char *)fuzz_dup(data + 1, size - 1);
	size_t len = size - 1;
	if (!text)
		return 0;

	struct kube_stream whole, cut;
	struct tally tw = { 0 }, tc = { 0 };
	kube_stream_init(&whole, max_line);
	kube_stream_init(&cut, max_line);
	int rw = kube_stream_feed(&whole, text, len, count, &tw);
	int rc = 0;
	for (size_t off = 0; off < len && rc == 0; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		rc = kube_stream_feed(&cut, text + off, n, count, &tc);
	}
	FUZZ_CHECK(rw == 0 || rw == -E2BIG || rw == -EBADMSG || rw == -ENOMEM);
	FUZZ_CHECK(rc == 0 || rc == -E2BIG || rc == -EBADMSG || rc == -ENOMEM);
	if (rw)
		FUZZ_CHECK(whole.err[0]);
	if (rc)
		FUZZ_CHECK(cut.err[0]);
	if (rw != -ENOMEM && rc != -ENOMEM) { /* where chunks end changes nothing */
		FUZZ_CHECK(rw == rc);
		FUZZ_CHECK(tw.events == tc.events);
		FUZZ_CHECK(tw.hash == tc.hash);
	}
	kube_stream_free(&whole);
	kube_stream_free(&cut);

	cJSON *root = NULL;
	const cJSON *items = NULL;
	const char *rv = NULL, *cont = NULL;
	char err[200];
	err[0] = '\0';
	if (kube_list_decode(text, len, &root, &items, &rv, &cont, err, sizeof(err)) == 0) {
		FUZZ_CHECK(root && rv && rv[0]);
		FUZZ_CHECK(!items || cJSON_IsArray(items));
		FUZZ_CHECK(!cont || cont[0]);
		cJSON_Delete(root);
	} else {
		FUZZ_CHECK(!root && err[0]);
	}
	char msg[64];
	kube_status_message(text, len, msg, sizeof(msg));
	FUZZ_CHECK(strlen(msg) < sizeof(msg));
	free(text);
	return 0;
}
