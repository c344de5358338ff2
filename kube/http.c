/* kube/http.c: the glue between libcurl's multi interface and libevent (see http.h), in the
 * manner of libcurl's hiperfifo example: CURLMOPT_SOCKETFUNCTION adds, changes and removes one
 * persistent event per socket; CURLMOPT_TIMERFUNCTION arms one evtimer; both end in
 * curl_multi_socket_action, then finished transfers are collected with curl_multi_info_read. */
#include <stdlib.h>

#include "kube/http.h"

struct kube_http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	int running;
	struct sock *socks; /* every socket watched, to free what curl_multi_cleanup leaves */
};

/* What a transfer's CURLOPT_PRIVATE points at. */
struct req {
	kube_http_done_fn done;
	void *arg;
};

/* One socket libcurl asked us to watch. */
struct sock {
	struct kube_http *h;
	struct event *ev;
	curl_socket_t fd;
	int what;
	struct sock *next, **pprev;
};

static void sock_free(struct sock *s)
{
	if (s->ev)
		event_free(s->ev);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	free(s);
}

static void check_done(struct kube_http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct req *r = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		curl_multi_remove_handle(h->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (r) {
			kube_http_done_fn done = r->done;
			void *arg = r->arg;
			free(r);
			done(arg, easy, result);
		}
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct kube_http *h = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(h->multi, fd, flags, &h->running);
	check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct kube_http *h = arg;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
	check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct kube_http *h = arg;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	evtimer_add(h->timer, &tv);
	return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct kube_http *h = arg;
	struct sock *s = sockp;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sock_free(s);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->h = h;
		s->fd = fd;
		s->next = h->socks;
		if (h->socks)
			h->socks->pprev = &s->next;
		s->pprev = &h->socks;
		h->socks = s;
		curl_multi_assign(h->multi, fd, s);
	} else {
		event_free(s->ev);
		s->ev = NULL;
	}
	short ev = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
	s->what = what;
	s->ev = event_new(h->base, fd, ev, on_socket_event, h);
	if (!s->ev || event_add(s->ev, NULL) < 0)
		return -1;
	return 0;
}

struct kube_http *kube_http_new(struct event_base *base)
{
	struct kube_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, on_timer, h);
	if (!h->multi || !h->timer) {
		kube_http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void kube_http_free(struct kube_http *h)
{
	if (!h)
		return;
	/* curl_multi_cleanup closes the cached connections, calling socket_cb(REMOVE) for them */
	if (h->multi)
		curl_multi_cleanup(h->multi);
	while (h->socks)
		sock_free(h->socks);
	if (h->timer)
		event_free(h->timer);
	free(h);
}

int kube_http_add(struct kube_http *h, CURL *easy, kube_http_done_fn done, void *arg)
{
	struct req *r = malloc(sizeof(*r));
	if (!r)
		return -1;
	r->done = done;
	r->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(r);
		return -1;
	}
	return 0;
}

void kube_http_remove(struct kube_http *h, CURL *easy)
{
	struct req *r = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	curl_multi_remove_handle(h->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(r);
}
