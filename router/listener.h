/* router/listener.h: what keeps meshd's listening sockets (control, API, metrics) from
 * spinning when accept() fails: a failing accept (EMFILE, ENFILE, ENOBUFS, ...) leaves the
 * connection in the backlog, so the level-triggered loop would call it again at once, for
 * ever. The listener is paused instead, and accepting resumes after ROUTER_ACCEPT_PAUSE_MS. */
#ifndef MESH_ROUTER_LISTENER_H
#define MESH_ROUTER_LISTENER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stdint.h>

#define ROUTER_ACCEPT_PAUSE_MS 500

struct router_accept_guard {
	struct evconnlistener *l;
	struct event *resume;
	const char *what;            /* "control", "API", "metrics": for the log */
	uint64_t pauses;
};

/* Guards l; the caller's evconnlistener error callback calls router_accept_failed. 0 or
 * -ENOMEM. */
int router_accept_guard_init(struct router_accept_guard *g, struct evconnlistener *l,
			     const char *what);
void router_accept_guard_free(struct router_accept_guard *g);
/* From the error callback (errno still the accept's): logs and pauses the listener. */
void router_accept_failed(struct router_accept_guard *g);

#endif
