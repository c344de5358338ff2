/* router/http.h: the small HTTP/1.1 request parser behind the API socket. Pure: it looks at
 * the bytes received so far and says whether a whole request is there. */
#ifndef MESH_ROUTER_HTTP_H
#define MESH_ROUTER_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#define MESH_HTTP_HEADER_MAX 8192
#define MESH_HTTP_BODY_MAX 65536

struct mesh_http_req {
	char method[8];
	char path[256];
	size_t header_len;       /* request line and headers, with the blank line */
	size_t content_length;
};

/* 0: need more bytes; >0: the whole request (headers + body) is this many bytes;
 * -EMSGSIZE: headers or body too large; -EBADMSG: not an HTTP/1.x request, with *why set. */
ssize_t mesh_http_parse(const char *buf, size_t len, struct mesh_http_req *req, const char **why);

#endif
