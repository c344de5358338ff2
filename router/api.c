/* router/api.c: the API socket server and the metrics listener (see api.h): at most
 * API_CONN_MAX connections each, accepting paused when accept() fails (listener.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "router/api.h"
#include "router/expose.h"
#include "router/http.h"
#include "router/kube.h"
#include "router/listener.h"
#include "mesh/clock.h"
#include "router/log.h"
#include "router/metrics.h"
#include "router/netpol.h"
#include "router/statefile.h"

#define API_TIMEOUT_S 10
#define API_CONN_MAX 64          /* open connections per listener; more are closed at once */

struct mesh_api {
	struct evconnlistener *listener;
	struct router_accept_guard guard;
	struct mesh_router *r;
	bool metrics;            /* the metrics listener: GET /metrics only */
	unsigned nconns;
	uint64_t refused, refused_logged_ms;
	char path[108];          /* the unix socket's, to remove on exit */
};

static void conn_close(struct mesh_api *api, struct bufferevent *bev)
{
	bufferevent_free(bev);
	api->nconns--;
}

static void respond_text(struct bufferevent *bev, int code, const char *reason, const char *type,
			 const char *text)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t len = text ? strlen(text) : 0;
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    code, reason, type, len);
	if (text)
		evbuffer_add(out, text, len);
	bufferevent_disable(bev, EV_READ);
}

static void respond(struct bufferevent *bev, int code, const char *reason, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	size_t len = text ? strlen(text) : 0;
	char *line = text ? realloc(text, len + 2) : NULL;
	if (line) {
		line[len] = '\n';
		line[len + 1] = '\0';
		text = line;
	}
	respond_text(bev, code, reason, "application/json", text ? text : "{}\n");
	free(text);
	cJSON_Delete(body);
}

static void respond_error(struct bufferevent *bev, int code, const char *reason, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	respond(bev, code, reason, o);
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

/* POST /v1/connect and /v1/forget: body {"address": IPv4[:port], [IPv6][:port] or IPv6}. */
static void peer_command(struct mesh_api *api, struct bufferevent *bev, const char *body,
			 size_t len, bool connect)
{
	char err[256];
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "address");
	if (!cJSON_IsString(a)) {
		cJSON_Delete(j);
		return respond_error(bev, 400, "Bad Request",
				     "body must be a JSON object with a string \"address\" "
				     "(IPv4[:port], [IPv6][:port] or IPv6)");
	}
	int ret = connect ? mesh_router_connect(api->r, a->valuestring, "asked through the API", err,
						sizeof(err))
			  : mesh_router_forget(api->r, a->valuestring, "asked through the API", err,
					       sizeof(err));
	if (ret < 0) {
		cJSON_Delete(j);
		return respond_error(bev, ret == -ENOENT ? 404 : 400,
				     ret == -ENOENT ? "Not Found" : "Bad Request", err);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "message", err);
	cJSON_Delete(j);
	respond(bev, 200, "OK", o);
}

static void handle_metrics(struct mesh_api *api, struct bufferevent *bev,
			   const struct mesh_http_req *req)
{
	if (strcmp(req->path, "/metrics"))
		return respond_text(bev, 404, "Not Found", "text/plain", "try /metrics\n");
	if (strcmp(req->method, "GET"))
		return respond_text(bev, 405, "Method Not Allowed", "text/plain", "use GET\n");
	cJSON *st = mesh_router_status(api->r);
	cJSON_AddItemToObject(st, "policy", router_netpol_status_json(api->r));
	char *text = mesh_metrics_render(st);
	cJSON_Delete(st);
	if (!text)
		return respond_text(bev, 500, "Internal Server Error", "text/plain", "out of memory\n");
	respond_text(bev, 200, "OK", MESH_METRICS_CONTENT_TYPE, text);
	free(text);
}

static void handle(struct mesh_api *api, struct bufferevent *bev, const struct mesh_http_req *req,
		   const char *body)
{
	if (api->metrics)
		return handle_metrics(api, bev, req);
	if (!strcmp(req->path, "/v1/status")) {
		if (strcmp(req->method, "GET"))
			return respond_error(bev, 405, "Method Not Allowed", "use GET for /v1/status");
		return respond(bev, 200, "OK", mesh_router_status(api->r));
	}
	if (!strcmp(req->path, "/v1/policy")) {
		if (strcmp(req->method, "GET"))
			return respond_error(bev, 405, "Method Not Allowed", "use GET for /v1/policy");
		cJSON *o = router_netpol_status_json(api->r);
		cJSON_AddItemToObject(o, "kubernetes", router_kube_status_json(api->r));
		return respond(bev, 200, "OK", o);
	}
	if (!strcmp(req->path, "/v1/connect") || !strcmp(req->path, "/v1/forget")) {
		if (strcmp(req->method, "POST"))
			return respond_error(bev, 405, "Method Not Allowed", "use POST");
		return peer_command(api, bev, body, req->content_length,
				    !strcmp(req->path, "/v1/connect"));
	}
	if (!strcmp(req->path, "/v1/ipam") || !strncmp(req->path, "/v1/ipam/", 9)) {
		cJSON *out = NULL;
		int code = mesh_router_ipam_api(api->r, req->method, req->path, body,
						req->content_length, &out);
		/* an address comes with the containers' gateway when this host has one (--expose) */
		const char *gw = router_expose_gateway(api->r);
		if (code == 200 && gw && cJSON_GetObjectItemCaseSensitive(out, "ip"))
			cJSON_AddStringToObject(out, "gateway", gw);
		const char *gw6 = router_expose_gateway6(api->r);
		if (code == 200 && gw6 && cJSON_GetObjectItemCaseSensitive(out, "ip6"))
			cJSON_AddStringToObject(out, "gateway6", gw6);
		return respond(bev, code, reason_phrase(code), out);
	}
	respond_error(bev, 404, "Not Found",
		      "no such endpoint (GET /v1/status, POST /v1/connect, POST /v1/forget, "
		      "GET /v1/ipam, POST /v1/ipam/allocate|release|gc|lookup)");
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	/* The response is out once the output drains (reading is disabled after responding). */
	if (!(bufferevent_get_enabled(bev) & EV_READ))
		conn_close(arg, bev);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct mesh_api *api = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	size_t look = len < MESH_HTTP_HEADER_MAX + MESH_HTTP_BODY_MAX ? len
								      : MESH_HTTP_HEADER_MAX + MESH_HTTP_BODY_MAX;
	const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
	struct mesh_http_req req;
	const char *why = "";
	ssize_t n = mesh_http_parse(buf, look, &req, &why);
	if (n == 0)
		return;
	if (n == -EMSGSIZE)
		return respond_error(bev, 413, "Payload Too Large", why);
	if (n < 0)
		return respond_error(bev, 400, "Bad Request", why);
	handle(api, bev, &req, buf + req.header_len);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	conn_close(arg, bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct mesh_api *api = arg;
	struct event_base *base = evconnlistener_get_base(l);
	if (api->nconns >= API_CONN_MAX) {
		evutil_closesocket(fd);
		api->refused++;
		uint64_t now = mesh_mono_ms();
		if (now - api->refused_logged_ms >= 1000) {
			log_warn("%s: %u connections open, closing new ones (%llu so far)",
				 api->metrics ? "metrics" : "API socket", API_CONN_MAX,
				 (unsigned long long)api->refused);
			api->refused_logged_ms = now;
		}
		return;
	}
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	api->nconns++;
	struct timeval tv = { API_TIMEOUT_S, 0 };
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, arg);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct mesh_api *api = arg;
	router_accept_failed(&api->guard);
}

/* The listener made: pause it when accept() fails. 0 or -ENOMEM. */
static int api_guard(struct mesh_api *api)
{
	if (router_accept_guard_init(&api->guard, api->listener, api->metrics ? "metrics" : "API") < 0)
		return -ENOMEM;
	evconnlistener_set_error_cb(api->listener, on_accept_error);
	return 0;
}

static struct mesh_api *api_alloc(struct mesh_router *r, char *err, size_t errlen)
{
	struct mesh_api *api = calloc(1, sizeof(*api));
	if (!api) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	api->r = r;
	return api;
}

struct mesh_api *mesh_api_new(struct event_base *base, const char *path, struct mesh_router *r,
			      char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	int fd = -1, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "API socket path %s is too long", path);
		return NULL;
	}
	struct mesh_api *api = api_alloc(r, err, errlen);
	if (!api)
		return NULL;
	snprintf(api->path, sizeof(api->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	ret = mesh_mkdir_p(dirname(dir), 0755);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create the directory of API socket %s: %s", path,
			 strerror(-ret));
		goto errout;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the API socket: %s", strerror(errno));
		goto errout;
	}
	/* A socket file left by a meshd that died: replace it unless someone answers on it. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		snprintf(err, errlen, "another meshd is serving API socket %s", path);
		goto errout;
	}
	unlink(path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot serve the API on %s: %s", path, strerror(errno));
		goto errout;
	}
	api->listener = evconnlistener_new(base, on_accept, api, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!api->listener) {
		snprintf(err, errlen, "cannot listen on API socket %s", path);
		goto errout;
	}
	if (api_guard(api) < 0) {
		snprintf(err, errlen, "out of memory");
		mesh_api_free(api);
		return NULL;
	}
	return api;
errout:
	if (fd >= 0)
		close(fd);
	free(api);
	return NULL;
}

struct mesh_api *mesh_metrics_new(struct event_base *base, const char *host, uint16_t port,
				  struct mesh_router *r, char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		snprintf(err, errlen, "metrics address %s is not IPv4", host);
		return NULL;
	}
	struct mesh_api *api = api_alloc(r, err, errlen);
	if (!api)
		return NULL;
	api->metrics = true;
	api->listener = evconnlistener_new_bind(base, on_accept, api,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						LEV_OPT_CLOSE_ON_EXEC, 16,
						(struct sockaddr *)&sin, sizeof(sin));
	if (!api->listener) {
		snprintf(err, errlen, "cannot serve metrics on %s:%u: %s (use --metrics-addr off, or "
			 "another address)", host, port, strerror(errno));
		free(api);
		return NULL;
	}
	if (api_guard(api) < 0) {
		snprintf(err, errlen, "out of memory");
		mesh_api_free(api);
		return NULL;
	}
	return api;
}

void mesh_api_free(struct mesh_api *api)
{
	if (!api)
		return;
	router_accept_guard_free(&api->guard);
	evconnlistener_free(api->listener);
	if (api->path[0])
		unlink(api->path);
	free(api);
}
