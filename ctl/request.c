/* ctl/request.c: meshctl's side of a request to meshd: the shared client (meshapi/client.h)
 * with meshctl's messages: why meshd cannot be reached (with a hint), and meshd's errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autoconfig.h"
#include "ctl/meshctl.h"

#define TIMEOUT_S 10

static void unreachable(const char *sock, int err)
{
	const char *hint;
	struct stat st;
	if (err == ECONNREFUSED && stat(sock, &st) == 0 && !S_ISSOCK(st.st_mode))
		err = ENOTSOCK;
	switch (err) {
	case ENOENT:
		hint = "no such socket: is meshd running (systemctl status meshd)? is this the path "
		       "it serves (its --api-socket; choose with --socket or MESH_SOCKET)?";
		break;
	case ECONNREFUSED:
		hint = "nothing answers on it: meshd has stopped or crashed (systemctl status meshd, "
		       "journalctl -u meshd)";
		break;
	case EACCES:
	case EPERM:
		hint = "permission denied: run meshctl as root or as a member of the socket's group";
		break;
	case ENOTSOCK:
		hint = "this path is not a socket: check --socket or MESH_SOCKET";
		break;
	default:
		hint = "is meshd running, and is this the socket it serves (--socket or MESH_SOCKET)?";
		break;
	}
	fprintf(stderr, "meshctl: cannot reach meshd on %s: %s\n  %s\n", sock, strerror(err), hint);
}

int ctl_request(const char *sock, const char *method, const char *path, const char *body,
		struct meshapi_response *res)
{
	int ret = meshapi_request(sock, "meshctl/" PACKAGE_VERSION, method, path, body, TIMEOUT_S, res);
	if (ret == 0)
		return EXIT_OK;
	switch (res->stage) {
	case MESHAPI_SEND:
		fprintf(stderr, "meshctl: sending to meshd on %s failed: %s\n", sock,
			strerror(res->sys_errno));
		break;
	case MESHAPI_RECEIVE:
		fprintf(stderr, "meshctl: no answer from meshd on %s: %s\n", sock,
			res->sys_errno == ETIMEDOUT ? "timed out" : strerror(res->sys_errno));
		break;
	case MESHAPI_ANSWER:
		if (ret == -EMSGSIZE)
			fprintf(stderr, "meshctl: the answer of meshd on %s is too large\n", sock);
		else
			fprintf(stderr, "meshctl: %s answered something that is not HTTP: is it "
				"meshd's socket?\n", sock);
		break;
	default:
		unreachable(sock, res->sys_errno);
		break;
	}
	return EXIT_UNREACHABLE;
}

/* Exit code for a response: EXIT_OK for a 2xx with a JSON body, else prints the error. */
int ctl_check_response(const struct meshapi_response *res, const char *what)
{
	if (res->code >= 200 && res->code < 300 && res->json)
		return EXIT_OK;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(res->json, "error");
	if (cJSON_IsString(e))
		fprintf(stderr, "meshctl: %s: %s\n", what, e->valuestring);
	else if (res->code >= 200 && res->code < 300)
		fprintf(stderr, "meshctl: %s: meshd answered with something that is not JSON\n", what);
	else
		fprintf(stderr, "meshctl: %s: meshd answered HTTP %d%s%.200s\n", what, res->code,
			res->body && *res->body ? ": " : "", res->body ? res->body : "");
	return EXIT_DAEMON;
}

void ctl_print_json(const cJSON *o)
{
	char *text = cJSON_Print(o);
	if (text) {
		puts(text);
		free(text);
	}
}
