/* meshapi/client.h: the one client of meshd's API socket (DESIGN §8), shared by meshctl and
 * mesh-cni: one HTTP/1.1 request per connection over the unix socket, a JSON body out, the
 * status code and the (JSON) body back. Links only cJSON and libc. */
#ifndef MESH_MESHAPI_CLIENT_H
#define MESH_MESHAPI_CLIENT_H

#include <cjson/cJSON.h>

/* Where a request stopped. */
enum meshapi_stage {
	MESHAPI_DONE,
	MESHAPI_CONNECT,   /* no socket, or nobody accepts on it */
	MESHAPI_SEND,
	MESHAPI_RECEIVE,
	MESHAPI_ANSWER,    /* the answer is not HTTP, or too large */
};

struct meshapi_response {
	int code;                  /* HTTP status */
	char *body;                /* NUL-terminated */
	cJSON *json;               /* body parsed; NULL when it is not JSON */
	enum meshapi_stage stage;  /* MESHAPI_DONE, or where the request failed */
	int sys_errno;             /* the errno seen there (0 for a bad answer) */
};

/* One request on the unix socket socket_path: method, path and a JSON body (NULL: none), sent
 * with User-Agent user_agent, with a timeout of timeout_s seconds for each of connect, send
 * and every read. 0 with *res filled (free it with meshapi_response_free), or -errno with
 * res->stage and res->sys_errno saying what failed: -ENOENT/-ECONNREFUSED when meshd is not
 * there, -EAGAIN when its socket is too busy to accept, -ETIMEDOUT, -EIO for another send
 * failure, -EMSGSIZE for an answer over 16 MiB, -EPROTO for an answer that is not HTTP,
 * -ENAMETOOLONG for a socket path too long. */
int meshapi_request(const char *socket_path, const char *user_agent, const char *method,
		    const char *path, const char *body, int timeout_s, struct meshapi_response *res);
void meshapi_response_free(struct meshapi_response *res);

#endif
