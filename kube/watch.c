/* kube/watch.c: the API client's list+watch state machine (see watch.h). Each watch runs one
 * HTTP request at a time through kube/http.c: LIST pages (limit/continue) until the last one,
 * then WATCH from the list's resourceVersion; the watch's body goes through the line framer of
 * kube/stream.c. Where to go after a request ended (its curl result, HTTP status, or why we
 * aborted it from the write callback) is decided in on_done; every (re)start goes through the
 * watch's retry timer, so no request starts inside a libcurl callback. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "gossip/backoff.h"
#include "kube/http.h"
#include "kube/stream.h"
#include "kube/watch.h"
#include "mesh/clock.h"
#include "router/log.h"

#define LIST_PAGE_LIMIT 500
#define LIST_MAX_BODY (256u << 20)      /* one LIST page */
#define ERROR_BODY_KEEP (64u << 10)     /* of a response that is not 200 */
#define AUTH_RETRY_MS 30000u            /* after 401/403 */
#define DEFAULT_WATCH_TIMEOUT_S 300u
#define RETRY_MAX_MS 30000u             /* gossip's backoff goes to 6 min: an API server is retried sooner */
#define SHORT_WATCH_MS 1000u            /* a watch that ended sooner, with no event, counts as failed */

enum wstate { W_WAITING, W_LISTING, W_WATCHING };
enum abort_reason { AB_NONE, AB_GONE, AB_BAD_STREAM, AB_ERROR_EVENT, AB_BODY_TOO_BIG, AB_NOMEM };

struct kube_client {
	struct event_base *base;
	struct kube_http *http;
	struct kube_config cfg;
	char identity[300];
	unsigned watch_timeout_s;
	unsigned page_limit;
	size_t max_line;
	uint32_t rng;
	struct kube_watch *watches;
};

struct kube_watch {
	struct kube_client *c;
	struct kube_watch *next, **pprev;
	char *path;
	kube_watch_cb cb;
	void *arg;

	enum wstate state;
	bool need_list;          /* the next request is a (re)list */
	bool list_begun;         /* LIST_BEGIN delivered for the list in progress */
	char *cont;              /* the continue token of the list in progress */
	char rv[64];             /* the last resourceVersion seen */

	CURL *easy;              /* the request in flight, or NULL */
	bool is_watch;           /* ... it is a WATCH (else a LIST page) */
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	char url[4096];
	long http_code;          /* known once the body starts */
	char *body;              /* LIST page, or the start of an error response */
	size_t body_len, body_cap;
	struct kube_stream stream;
	enum abort_reason abort;
	char abort_msg[256];
	uint64_t started_ms, events_this_conn;

	struct mesh_backoff backoff;
	struct event *timer;
	uint64_t retry_at_ms;

	char last_error[256];
	uint64_t lists, events, errors, gone_relists;
	double connected_since;
};

static void watch_schedule(struct kube_watch *w, uint32_t delay_ms);

const char *kube_event_name(enum kube_event ev)
{
	switch (ev) {
	case KUBE_LIST_BEGIN:
		return "LIST_BEGIN";
	case KUBE_ADDED:
		return "ADDED";
	case KUBE_MODIFIED:
		return "MODIFIED";
	case KUBE_DELETED:
		return "DELETED";
	case KUBE_SYNCED:
		return "SYNCED";
	}
	return "?";
}

static double wall_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static uint32_t next_rand(struct kube_client *c)
{
	/* xorshift32: jitter only, no secret */
	uint32_t x = c->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return c->rng = x;
}

/* --- the configuration, copied -------------------------------------------------------------- */
static int dupstr(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int config_copy(struct kube_config *dst, const struct kube_config *src)
{
	memset(dst, 0, sizeof(*dst));
	if (dupstr(&dst->server, src->server) || dupstr(&dst->ca_file, src->ca_file) ||
	    dupstr(&dst->ca_data, src->ca_data) || dupstr(&dst->token, src->token) ||
	    dupstr(&dst->token_file, src->token_file) || dupstr(&dst->cert_file, src->cert_file) ||
	    dupstr(&dst->key_file, src->key_file) || dupstr(&dst->cert_data, src->cert_data) ||
	    dupstr(&dst->key_data, src->key_data) || dupstr(&dst->namespace, src->namespace)) {
		kube_config_free(dst);
		return -ENOMEM;
	}
	dst->insecure = src->insecure;
	memcpy(dst->source, src->source, sizeof(dst->source));
	return 0;
}

/* The bearer token: token_file re-read on every (re)connect (projected service account tokens
 * rotate), else the one loaded with the configuration. NULL when there is none. */
static char *current_token(struct kube_client *c)
{
	if (c->cfg.token_file) {
		char buf[16384];
		int fd = open(c->cfg.token_file, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
					buf[--n] = '\0';
				if (n)
					return strdup(buf);
			}
		}
		log_warn("kube: cannot read the token file %s: %s%s", c->cfg.token_file,
			 fd < 0 ? strerror(errno) : "empty", c->cfg.token ? " (using the token read at start)" : "");
	}
	return c->cfg.token ? strdup(c->cfg.token) : NULL;
}

/* --- the client ---------------------------------------------------------------------------- */
struct kube_client *kube_client_new(struct event_base *base, const struct kube_config *cfg, char *err,
				    size_t errlen)
{
	struct kube_client *c = NULL;

	if (!cfg->server || (strncmp(cfg->server, "https://", 8) && strncmp(cfg->server, "http://", 7))) {
		snprintf(err, errlen, "kube: the API server '%s' is not an http(s):// URL",
			 cfg->server ? cfg->server : "");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "kube: libcurl failed to initialize");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || config_copy(&c->cfg, cfg) < 0)
		goto nomem;
	c->base = base;
	c->http = kube_http_new(base);
	if (!c->http)
		goto nomem;
	c->watch_timeout_s = DEFAULT_WATCH_TIMEOUT_S;
	c->page_limit = LIST_PAGE_LIMIT;
	c->max_line = KUBE_STREAM_MAX_LINE;
	c->rng = (uint32_t)mesh_mono_ms() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;
	if (!c->rng)
		c->rng = 1;
	size_t l = strlen(c->cfg.server);
	while (l > 0 && c->cfg.server[l - 1] == '/')
		c->cfg.server[--l] = '\0';
	if (c->cfg.cert_file || c->cfg.cert_data)
		snprintf(c->identity, sizeof(c->identity), "client certificate %s",
			 c->cfg.cert_file ? c->cfg.cert_file : "(kubeconfig client-certificate-data)");
	else if (c->cfg.token_file)
		snprintf(c->identity, sizeof(c->identity), "bearer token from %s", c->cfg.token_file);
	else if (c->cfg.token)
		snprintf(c->identity, sizeof(c->identity), "bearer token of %s", c->cfg.source);
	else
		snprintf(c->identity, sizeof(c->identity), "anonymous (no credentials configured)");
	return c;
nomem:
	snprintf(err, errlen, "kube: out of memory");
	if (c) {
		kube_http_free(c->http);
		kube_config_free(&c->cfg);
		free(c);
	}
	curl_global_cleanup();
	return NULL;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	while (c->watches)
		kube_watch_stop(c->watches);
	kube_http_free(c->http);
	kube_config_free(&c->cfg);
	free(c);
	curl_global_cleanup();
}

const char *kube_client_source(const struct kube_client *c)
{
	return c->cfg.source;
}

const char *kube_client_identity(const struct kube_client *c)
{
	return c->identity;
}

void kube_client_set_watch_timeout(struct kube_client *c, unsigned seconds)
{
	c->watch_timeout_s = seconds;
}

void kube_client_set_page_limit(struct kube_client *c, unsigned items)
{
	c->page_limit = items ? items : LIST_PAGE_LIMIT;
}

void kube_client_set_max_line(struct kube_client *c, size_t bytes)
{
	c->max_line = bytes ? bytes : KUBE_STREAM_MAX_LINE;
}

/* --- one request --------------------------------------------------------------------------- */
static void request_cleanup(struct kube_watch *w)
{
	if (w->easy) {
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	curl_slist_free_all(w->headers);
	w->headers = NULL;
	free(w->body);
	w->body = NULL;
	w->body_len = w->body_cap = 0;
}

static void set_error(struct kube_watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct kube_watch *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->last_error, sizeof(w->last_error), fmt, ap);
	va_end(ap);
	w->errors++;
}

/* Tries again after the backoff's next delay; the error is already in last_error. */
static void retry_backoff(struct kube_watch *w)
{
	uint32_t delay = mesh_backoff_failed(&w->backoff, mesh_mono_ms(), next_rand(w->c));
	if (delay > RETRY_MAX_MS)
		delay = RETRY_MAX_MS - next_rand(w->c) % (RETRY_MAX_MS / 4);
	log_warn("kube: %s: %s; retrying in %.1f s", w->path, w->last_error, delay / 1000.0);
	watch_schedule(w, delay);
}

static int on_stream_event(void *arg, const struct kube_stream_event *ev)
{
	struct kube_watch *w = arg;
	if (ev->resource_version && ev->type != KUBE_EV_ERROR)
		snprintf(w->rv, sizeof(w->rv), "%s", ev->resource_version);
	switch (ev->type) {
	case KUBE_EV_ADDED:
	case KUBE_EV_MODIFIED:
	case KUBE_EV_DELETED:
		w->events++;
		w->events_this_conn++;
		w->cb(w->arg,
		      ev->type == KUBE_EV_ADDED      ? KUBE_ADDED
		      : ev->type == KUBE_EV_MODIFIED ? KUBE_MODIFIED
						     : KUBE_DELETED,
		      ev->object);
		return 0;
	case KUBE_EV_BOOKMARK:
		w->events_this_conn++;
		return 0;
	case KUBE_EV_ERROR:
		snprintf(w->abort_msg, sizeof(w->abort_msg), "%d: %s", ev->code, ev->message);
		w->abort = ev->code == 410 ? AB_GONE : AB_ERROR_EVENT;
		return 1;
	}
	return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct kube_watch *w = arg;
	size_t len = size * n;

	if (!w->http_code) {
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_code);
		if (w->http_code == 200 && w->is_watch) {
			w->connected_since = wall_now();
			mesh_backoff_up(&w->backoff, mesh_mono_ms());
		}
	}
	if (w->http_code == 200 && w->is_watch) {
		int r = kube_stream_feed(&w->stream, data, len, on_stream_event, w);
		if (r == 0)
			return len;
		if (r < 0) {
			w->abort = r == -ENOMEM ? AB_NOMEM : AB_BAD_STREAM;
			snprintf(w->abort_msg, sizeof(w->abort_msg), "%s", w->stream.err);
		}
		return 0; /* aborts the transfer: on_done decides what next */
	}
	size_t cap = w->http_code == 200 ? LIST_MAX_BODY : ERROR_BODY_KEEP;
	if (w->body_len + len > cap) {
		if (w->http_code != 200) { /* keep the start of an error body, drop the rest */
			len = cap - w->body_len;
			if (!len)
				return size * n;
		} else {
			w->abort = AB_BODY_TOO_BIG;
			snprintf(w->abort_msg, sizeof(w->abort_msg), "list response larger than %u MiB",
				 LIST_MAX_BODY >> 20);
			return 0;
		}
	}
	if (w->body_len + len > w->body_cap) {
		size_t ncap = w->body_cap ? w->body_cap : 16384;
		while (ncap < w->body_len + len)
			ncap *= 2;
		char *nb = realloc(w->body, ncap);
		if (!nb) {
			w->abort = AB_NOMEM;
			snprintf(w->abort_msg, sizeof(w->abort_msg), "out of memory for a %zu byte response",
				 w->body_len + len);
			return 0;
		}
		w->body = nb;
		w->body_cap = ncap;
	}
	memcpy(w->body + w->body_len, data, len);
	w->body_len += len;
	return size * n;
}

static void on_done(void *arg, CURL *easy, CURLcode result);

static int start_request(struct kube_watch *w)
{
	struct kube_client *c = w->c;
	const char *sep = strchr(w->path, '?') ? "&" : "?";
	char *token = NULL;
	int n;

	w->is_watch = !w->need_list;
	w->easy = curl_easy_init();
	if (!w->easy)
		return -ENOMEM;
	if (w->is_watch) {
		n = snprintf(w->url, sizeof(w->url),
			     "%s%s%swatch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%u",
			     c->cfg.server, w->path, sep, w->rv, c->watch_timeout_s);
	} else if (w->cont) {
		char *esc = curl_easy_escape(w->easy, w->cont, 0);
		if (!esc) {
			request_cleanup(w);
			return -ENOMEM;
		}
		n = snprintf(w->url, sizeof(w->url), "%s%s%slimit=%u&continue=%s", c->cfg.server, w->path, sep,
			     c->page_limit, esc);
		curl_free(esc);
	} else {
		n = snprintf(w->url, sizeof(w->url), "%s%s%slimit=%u", c->cfg.server, w->path, sep,
			     c->page_limit);
	}
	if (n < 0 || (size_t)n >= sizeof(w->url)) {
		request_cleanup(w);
		return -ENAMETOOLONG;
	}

	w->http_code = 0;
	w->abort = AB_NONE;
	w->abort_msg[0] = '\0';
	w->curl_err[0] = '\0';
	w->events_this_conn = 0;
	w->started_ms = mesh_mono_ms();
	kube_stream_reset(&w->stream);
	w->stream.max_line = c->max_line;

	w->headers = curl_slist_append(NULL, "Accept: application/json");
	token = current_token(c);
	if (token) {
		size_t tl = strlen(token) + 32;
		char *h = malloc(tl);
		if (h) {
			snprintf(h, tl, "Authorization: Bearer %s", token);
			struct curl_slist *l = curl_slist_append(w->headers, h);
			if (l)
				w->headers = l;
			explicit_bzero(h, tl);
			free(h);
		}
		explicit_bzero(token, strlen(token));
		free(token);
	}
	CURL *e = w->easy;
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "meshd");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->curl_err);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	/* a watch the server forgot to end, or a list that hangs, ends here */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, w->is_watch ? (long)c->watch_timeout_s + 60L : 120L);
	if (c->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cfg.ca_file);
	else if (c->cfg.ca_data) {
		struct curl_blob b = { .data = c->cfg.ca_data, .len = strlen(c->cfg.ca_data), .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->cfg.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cfg.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cfg.cert_file);
	else if (c->cfg.cert_data) {
		struct curl_blob b = { .data = c->cfg.cert_data, .len = strlen(c->cfg.cert_data), .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (c->cfg.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->cfg.key_file);
	else if (c->cfg.key_data) {
		struct curl_blob b = { .data = c->cfg.key_data, .len = strlen(c->cfg.key_data), .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (kube_http_add(c->http, e, on_done, w) < 0) {
		request_cleanup(w);
		return -ENOMEM;
	}
	w->state = w->is_watch ? W_WATCHING : W_LISTING;
	log_debug("kube: GET %s", w->url);
	return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct kube_watch *w = arg;
	int r = start_request(w);
	if (r < 0) {
		set_error(w, "cannot start a request: %s", strerror(-r));
		retry_backoff(w);
	}
}

static void watch_schedule(struct kube_watch *w, uint32_t delay_ms)
{
	struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };
	w->state = W_WAITING;
	w->connected_since = 0;
	w->retry_at_ms = mesh_mono_ms() + delay_ms;
	evtimer_add(w->timer, &tv);
}

/* The next request is a fresh list (LIST_BEGIN again, no continue token). */
static void reset_list(struct kube_watch *w)
{
	w->need_list = true;
	w->list_begun = false;
	free(w->cont);
	w->cont = NULL;
}

/* Back to a fresh list, now. */
static void relist(struct kube_watch *w)
{
	reset_list(w);
	watch_schedule(w, 0);
}

/* Back to a fresh list after the backoff (the request went wrong). */
static void relist_after_backoff(struct kube_watch *w)
{
	reset_list(w);
	retry_backoff(w);
}

/* A LIST page answered 200: deliver it, then the next page or SYNCED and the watch. */
static void list_page(struct kube_watch *w)
{
	cJSON *root = NULL;
	const cJSON *items = NULL, *it;
	const char *rv = NULL, *cont = NULL;
	char err[200];

	if (kube_list_decode(w->body, w->body_len, &root, &items, &rv, &cont, err, sizeof(err)) < 0) {
		set_error(w, "LIST: %s", err);
		relist_after_backoff(w);
		return;
	}
	if (!w->list_begun) {
		w->list_begun = true;
		w->lists++;
		w->cb(w->arg, KUBE_LIST_BEGIN, NULL);
	}
	cJSON_ArrayForEach(it, items)
		w->cb(w->arg, KUBE_ADDED, it);
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	free(w->cont);
	w->cont = NULL;
	if (cont) {
		w->cont = strdup(cont);
		cJSON_Delete(root);
		if (!w->cont) {
			set_error(w, "LIST: out of memory");
			w->list_begun = false;
			retry_backoff(w);
			return;
		}
		watch_schedule(w, 0);
		return;
	}
	cJSON_Delete(root);
	w->list_begun = false;
	w->need_list = false;
	mesh_backoff_up(&w->backoff, mesh_mono_ms());
	log_info("kube: %s: listed at resourceVersion %s, watching", w->path, w->rv);
	w->cb(w->arg, KUBE_SYNCED, NULL);
	watch_schedule(w, 0);
}

static void on_done(void *arg, CURL *easy, CURLcode result)
{
	struct kube_watch *w = arg;
	long code = w->http_code;
	char msg[200];
	const char *what = w->is_watch ? "WATCH" : "LIST";

	if (!code)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	w->connected_since = 0;
	switch (w->abort) {
	case AB_GONE:
		w->gone_relists++;
		log_info("kube: %s: resourceVersion %s is gone (%s): relisting", w->path, w->rv, w->abort_msg);
		request_cleanup(w);
		relist(w);
		return;
	case AB_BAD_STREAM:
	case AB_NOMEM:
		set_error(w, "WATCH stream dropped: %s", w->abort_msg);
		log_error("kube: %s: %s; relisting", w->path, w->last_error);
		request_cleanup(w);
		relist_after_backoff(w);
		return;
	case AB_ERROR_EVENT:
		/* as client-go's reflector does: any other error ends the watch and lists again */
		set_error(w, "WATCH: the server sent an ERROR event (%s); relisting", w->abort_msg);
		request_cleanup(w);
		relist_after_backoff(w);
		return;
	case AB_BODY_TOO_BIG:
		set_error(w, "LIST: %s", w->abort_msg);
		request_cleanup(w);
		relist_after_backoff(w);
		return;
	case AB_NONE:
		break;
	}
	if (result != CURLE_OK) {
		set_error(w, "%s %s: %s%s%s", what, w->url, curl_easy_strerror(result), w->curl_err[0] ? ": " : "",
			  w->curl_err);
		request_cleanup(w);
		if (!w->is_watch) { /* a list broken in the middle starts over */
			w->list_begun = false;
			free(w->cont);
			w->cont = NULL;
		}
		retry_backoff(w);
		return;
	}
	if (code == 200) {
		if (!w->is_watch) {
			list_page(w);
			request_cleanup(w);
			return;
		}
		/* the watch ended (timeoutSeconds): again from the last resourceVersion */
		bool quick = mesh_mono_ms() - w->started_ms < SHORT_WATCH_MS && !w->events_this_conn;
		request_cleanup(w);
		if (quick) {
			set_error(w, "WATCH ended at once without an event");
			retry_backoff(w);
		} else {
			log_debug("kube: %s: watch ended, resuming at resourceVersion %s", w->path, w->rv);
			watch_schedule(w, 0);
		}
		return;
	}
	kube_status_message(w->body, w->body_len, msg, sizeof(msg));
	request_cleanup(w);
	if (code == 410) {
		w->gone_relists++;
		log_info("kube: %s: %s answered 410 Gone (%s): relisting", w->path, what, msg);
		relist(w);
		return;
	}
	if (!w->is_watch) {
		w->list_begun = false;
		free(w->cont);
		w->cont = NULL;
	}
	if (code == 401 || code == 403) {
		set_error(w, "%s %s: HTTP %ld %s as %s: %s", what, w->path, code,
			  code == 401 ? "Unauthorized" : "Forbidden", w->c->identity, msg);
		log_error("kube: %s; retrying in %u s", w->last_error, AUTH_RETRY_MS / 1000);
		watch_schedule(w, AUTH_RETRY_MS);
		return;
	}
	set_error(w, "%s %s: HTTP %ld: %s", what, w->path, code, msg);
	retry_backoff(w);
}

/* --- watches ------------------------------------------------------------------------------- */
struct kube_watch *kube_watch_start(struct kube_client *c, const char *path, kube_watch_cb cb, void *arg)
{
	struct kube_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->c = c;
	w->cb = cb;
	w->arg = arg;
	w->path = strdup(path);
	w->timer = evtimer_new(c->base, on_timer, w);
	if (!w->path || !w->timer) {
		if (w->timer)
			event_free(w->timer);
		free(w->path);
		free(w);
		return NULL;
	}
	kube_stream_init(&w->stream, c->max_line);
	mesh_backoff_init(&w->backoff);
	w->need_list = true;
	w->next = c->watches;
	if (c->watches)
		c->watches->pprev = &w->next;
	w->pprev = &c->watches;
	c->watches = w;
	watch_schedule(w, 0);
	w->state = W_LISTING;
	return w;
}

void kube_watch_stop(struct kube_watch *w)
{
	if (!w)
		return;
	if (w->easy)
		kube_http_remove(w->c->http, w->easy);
	request_cleanup(w);
	event_free(w->timer);
	kube_stream_free(&w->stream);
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	free(w->cont);
	free(w->path);
	free(w);
}

void kube_watch_get_status(const struct kube_watch *w, struct kube_watch_status *st)
{
	memset(st, 0, sizeof(*st));
	st->path = w->path;
	st->state = w->state == W_LISTING ? "listing" : w->state == W_WATCHING ? "watching" : "waiting to retry";
	memcpy(st->last_error, w->last_error, sizeof(st->last_error));
	memcpy(st->resource_version, w->rv, sizeof(st->resource_version));
	st->lists = w->lists;
	st->events = w->events;
	st->errors = w->errors;
	st->gone_relists = w->gone_relists;
	st->connected_since = w->connected_since;
	if (w->state == W_WAITING) {
		uint64_t now = mesh_mono_ms();
		st->retry_in = w->retry_at_ms > now ? (double)(w->retry_at_ms - now) / 1000.0 : 0;
	}
}
