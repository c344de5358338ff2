/* router/metrics.h: the router's status (the JSON object mesh_router_status() builds) rendered
 * as Prometheus text exposition format 0.0.4, for GET /metrics on --metrics-addr. Pure: no
 * I/O, no router state; everything comes from the status object. */
#ifndef MESH_ROUTER_METRICS_H
#define MESH_ROUTER_METRICS_H

#include <cjson/cJSON.h>

/* Content-Type of the rendered text. */
#define MESH_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The metrics text, every family with HELP and TYPE lines, names prefixed mesh_, counters
 * ending in _total. Fields missing from status leave their samples out (fastdp flows default
 * to 0). Returns malloc'd text the caller frees, or NULL when out of memory. */
char *mesh_metrics_render(const cJSON *status);

#endif
