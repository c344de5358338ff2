/* router/log.h: meshd's log: one line per event on stderr, with time and level. */
#ifndef MESH_ROUTER_LOG_H
#define MESH_ROUTER_LOG_H

#include "router/config.h"

void mesh_log_set_level(enum mesh_log_level level);
void mesh_log(enum mesh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) mesh_log(MESH_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) mesh_log(MESH_LOG_WARN, __VA_ARGS__)
#define log_info(...) mesh_log(MESH_LOG_INFO, __VA_ARGS__)
#define log_debug(...) mesh_log(MESH_LOG_DEBUG, __VA_ARGS__)

#endif
