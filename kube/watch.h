/* kube/watch.h: the Kubernetes API client of meshd: list+watch of API collections on a
 * libevent event_base, through libcurl (no threads, nothing blocks).
 *
 * A watch lists its collection (paged), then watches it from the list's resourceVersion,
 * reconnecting from the last resourceVersion seen (events and BOOKMARKs) when the watch ends,
 * relisting when the server says that version is gone (410), and retrying with a jittered
 * exponential backoff after errors (slowly, every 30 s, after 401/403). */
#ifndef MESH_KUBE_WATCH_H
#define MESH_KUBE_WATCH_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include <event2/event.h>

#include "kube/config.h"

struct kube_client;
struct kube_watch;

/* A client for one API server; cfg is copied. NULL with err saying why. */
struct kube_client *kube_client_new(struct event_base *base, const struct kube_config *cfg, char *err,
				    size_t errlen);
/* Stops every watch and frees everything; no callback comes after it. Not from a callback. */
void kube_client_free(struct kube_client *c);

enum kube_event { KUBE_LIST_BEGIN, KUBE_ADDED, KUBE_MODIFIED, KUBE_DELETED, KUBE_SYNCED };
const char *kube_event_name(enum kube_event ev);

/* obj: the object (a cJSON the callee must not keep; NULL for LIST_BEGIN/SYNCED). A (re)list
 * delivers LIST_BEGIN, then ADDED for every item, then SYNCED: objects the consumer holds that
 * were not delivered since LIST_BEGIN are gone. After SYNCED come the watch's
 * ADDED/MODIFIED/DELETED. A callback must not free the client or stop a watch. */
typedef void (*kube_watch_cb)(void *arg, enum kube_event ev, const cJSON *obj);

/* Starts watching path ("/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies", may
 * carry a query such as "?labelSelector=a%3Db"). The first request starts from the event loop,
 * never inside this call. NULL when out of memory. */
struct kube_watch *kube_watch_start(struct kube_client *c, const char *path, kube_watch_cb cb, void *arg);
/* Stops and frees one watch (not from its callback). */
void kube_watch_stop(struct kube_watch *w);

struct kube_watch_status {
	const char *path;
	const char *state;             /* "listing" "watching" "waiting to retry" */
	char last_error[256];          /* "" when none yet */
	char resource_version[64];     /* the last one seen */
	uint64_t lists;                /* LIST_BEGINs delivered */
	uint64_t events;               /* watch events delivered (not list items) */
	uint64_t errors, gone_relists; /* failed requests; relists forced by 410 Gone */
	double connected_since;        /* wall clock (s) the current watch connection was answered, 0 if none */
	double retry_in;               /* s until the next attempt while waiting to retry */
};
void kube_watch_get_status(const struct kube_watch *w, struct kube_watch_status *st);

/* Where the client's configuration came from (cfg->source) and who it authenticates as
 * ("bearer token from FILE", "client certificate FILE", ...). */
const char *kube_client_source(const struct kube_client *c);
const char *kube_client_identity(const struct kube_client *c);

/* Tuning, for tests: the server-side watch timeout (default 300 s), the items per LIST page
 * (default 500) and the longest line a watch accepts (default 4 MiB). */
void kube_client_set_watch_timeout(struct kube_client *c, unsigned seconds);
void kube_client_set_page_limit(struct kube_client *c, unsigned items);
void kube_client_set_max_line(struct kube_client *c, size_t bytes);

#endif
