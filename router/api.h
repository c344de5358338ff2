/* router/api.h: meshd's API on a unix socket (DESIGN §8): HTTP/1.1 + JSON, one request per
 * connection. GET /v1/status returns the router's status. */
#ifndef MESH_ROUTER_API_H
#define MESH_ROUTER_API_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "router/router.h"

struct mesh_api;

/* Creates the socket (and its directory), mode 0660. NULL with err filled in. */
struct mesh_api *mesh_api_new(struct event_base *base, const char *path, struct mesh_router *r,
			      char *err, size_t errlen);
/* Serves Prometheus metrics (GET /metrics) on TCP host:port. NULL with err filled in. */
struct mesh_api *mesh_metrics_new(struct event_base *base, const char *host, uint16_t port,
				  struct mesh_router *r, char *err, size_t errlen);
/* Closes the socket (and removes the unix socket's file). */
void mesh_api_free(struct mesh_api *api);

#endif
