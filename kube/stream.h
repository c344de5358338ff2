/* kube/stream.h: the pure decoders of what the API server sends: the line framing of a watch
 * stream (one JSON event per line, lines split anywhere across chunks), the watch event
 * envelope {"type":..., "object":...}, a LIST response (items, resourceVersion, continue) and
 * the Status object of an error. No I/O; fuzzed by tests/fuzz/fuzz_kube_stream.c. */
#ifndef MESH_KUBE_STREAM_H
#define MESH_KUBE_STREAM_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define KUBE_STREAM_MAX_LINE (4u << 20) /* a watch event longer than this drops the connection */

enum kube_stream_type { KUBE_EV_ADDED, KUBE_EV_MODIFIED, KUBE_EV_DELETED, KUBE_EV_BOOKMARK, KUBE_EV_ERROR };

struct kube_stream_event {
	enum kube_stream_type type;
	const cJSON *object;            /* the event's object (for ERROR: the Status) */
	const char *resource_version;   /* object.metadata.resourceVersion, or NULL */
	int code;                       /* ERROR: the Status's code (e.g. 410), else 0 */
	const char *message;            /* ERROR: the Status's message, or "" */
};

/* Called for every decoded event; a nonzero return stops kube_stream_feed, which returns it. */
typedef int (*kube_stream_fn)(void *arg, const struct kube_stream_event *ev);

struct kube_stream {
	char *buf;        /* the incomplete last line */
	size_t len, cap;
	size_t max_line;
	size_t lines;     /* lines decoded so far */
	char err[256];    /* why the last feed failed */
};

void kube_stream_init(struct kube_stream *s, size_t max_line);
/* Forgets the partial line (a new connection). */
void kube_stream_reset(struct kube_stream *s);
void kube_stream_free(struct kube_stream *s);
/* Feeds len bytes. Returns 0; what fn returned when nonzero; -E2BIG (a line longer than
 * max_line), -EBADMSG (a line that is not a watch event) or -ENOMEM, with s->err saying why.
 * After an error the stream is unusable until kube_stream_reset. */
int kube_stream_feed(struct kube_stream *s, const char *data, size_t len, kube_stream_fn fn, void *arg);
/* Decodes one line (no newline) into an event and calls fn. Same returns as kube_stream_feed. */
int kube_event_decode(const char *line, size_t len, kube_stream_fn fn, void *arg, char *err, size_t errlen);

/* A LIST response body. On success *root is the parsed document (cJSON_Delete it), *items its
 * "items" array, *rv its metadata.resourceVersion (never NULL or empty) and *cont its
 * metadata.continue (NULL when it is the last page). -EBADMSG with err saying why otherwise. */
int kube_list_decode(const char *body, size_t len, cJSON **root, const cJSON **items, const char **rv,
		     const char **cont, char *err, size_t errlen);

/* The "message" of a Status body (an error response) into out; else the body's start, made
 * printable. Always NUL-terminates out. */
void kube_status_message(const char *body, size_t len, char *out, size_t outlen);

#endif
