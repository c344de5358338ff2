/* ctl/meshctl.h: what meshctl's files share: exit codes, the request to meshd (over the
 * shared client meshapi/client.h) with meshctl's own messages, and readers of the JSON meshd
 * answers. One file per command group: ctl/status.c (status and its views), ctl/policy.c
 * (status policy), ctl/peer.c (connect, forget); ctl/args.c parses the command line,
 * ctl/main.c dispatches.
 * Exit codes: 0 ok, 1 meshd answered an error, 2 usage, 3 cannot reach meshd. */
#ifndef MESH_CTL_MESHCTL_H
#define MESH_CTL_MESHCTL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <string.h>

#include "ctl/args.h"
#include "meshapi/client.h"

enum { EXIT_OK = 0, EXIT_DAEMON = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

/* One request to meshd on sock; fills *res. Returns EXIT_OK, or EXIT_UNREACHABLE after
 * printing why. */
int ctl_request(const char *sock, const char *method, const char *path, const char *body,
		struct meshapi_response *res);
/* Exit code for a response: EXIT_OK for a 2xx with a JSON body, else prints the error. */
int ctl_check_response(const struct meshapi_response *res, const char *what);
void ctl_print_json(const cJSON *o);

/* The commands (a->cmd says which). */
int ctl_cmd_status(const struct meshctl_args *a);
int ctl_cmd_status_policy(const struct meshctl_args *a); /* ctl/policy.c */
int ctl_cmd_peer(const struct meshctl_args *a);

/* --- reading meshd's JSON ---------------------------------------------------------------- */

static inline const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static inline const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
}

static inline bool has_str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && v->valuestring[0];
}

static inline double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static inline bool is(const cJSON *o, const char *k, const char *val)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && !strcmp(v->valuestring, val);
}

#endif
