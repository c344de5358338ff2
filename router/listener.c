/* router/listener.c: pausing a listener whose accept() fails (see listener.h). */
#include <errno.h>
#include <string.h>

#include "router/listener.h"
#include "router/log.h"

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_accept_guard *g = arg;
	evconnlistener_enable(g->l);
}

int router_accept_guard_init(struct router_accept_guard *g, struct evconnlistener *l,
			     const char *what)
{
	g->l = l;
	g->what = what;
	g->pauses = 0;
	g->resume = evtimer_new(evconnlistener_get_base(l), resume_cb, g);
	return g->resume ? 0 : -ENOMEM;
}

void router_accept_guard_free(struct router_accept_guard *g)
{
	if (g->resume)
		event_free(g->resume);
	g->resume = NULL;
}

void router_accept_failed(struct router_accept_guard *g)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { ROUTER_ACCEPT_PAUSE_MS / 1000, (ROUTER_ACCEPT_PAUSE_MS % 1000) * 1000 };
	/* the first time, and then every 100th, at warning level: a pause every 0.5 s is news once */
	if (g->pauses++ % 100 == 0)
		log_warn("accepting %s connections: %s; not accepting any for %d ms (%llu pauses so far)",
			 g->what, evutil_socket_error_to_string(err), ROUTER_ACCEPT_PAUSE_MS,
			 (unsigned long long)g->pauses);
	else
		log_debug("accepting %s connections: %s; pausing", g->what,
			  evutil_socket_error_to_string(err));
	evconnlistener_disable(g->l);
	evtimer_add(g->resume, &tv);
}
