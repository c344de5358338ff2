/* router/http.c: HTTP/1.1 request line and header parsing (see http.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "router/http.h"

static const char *find_crlfcrlf(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

#define BAD(w) do { *why = (w); return -EBADMSG; } while (0)

ssize_t mesh_http_parse(const char *buf, size_t len, struct mesh_http_req *req, const char **why)
{
	const char *end = find_crlfcrlf(buf, len < MESH_HTTP_HEADER_MAX ? len : MESH_HTTP_HEADER_MAX);
	if (!end) {
		if (len >= MESH_HTTP_HEADER_MAX) {
			*why = "request headers over 8 KiB";
			return -EMSGSIZE;
		}
		return 0;
	}
	memset(req, 0, sizeof(*req));
	req->header_len = (size_t)(end - buf) + 4;

	/* request line: METHOD SP PATH SP HTTP/1.x CRLF */
	const char *line_end = memchr(buf, '\r', req->header_len);
	const char *sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
	if (!sp1 || sp1 == buf || (size_t)(sp1 - buf) >= sizeof(req->method))
		BAD("bad request line (method)");
	const char *path = sp1 + 1;
	const char *sp2 = memchr(path, ' ', (size_t)(line_end - path));
	if (!sp2 || sp2 == path || (size_t)(sp2 - path) >= sizeof(req->path))
		BAD("bad request line (path)");
	if ((size_t)(line_end - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		BAD("not an HTTP/1.0 or HTTP/1.1 request");
	/* checked on the wire bytes, not the copies: a NUL must not end them early */
	for (const char *p = buf; p < sp1; p++)
		if (*p < 'A' || *p > 'Z')
			BAD("bad request line (method)");
	if (path[0] != '/')
		BAD("request path must start with /");
	for (const char *p = path; p < sp2; p++)
		if (*p <= ' ' || *p > '~')
			BAD("request path has a control or non-ASCII character");
	memcpy(req->method, buf, (size_t)(sp1 - buf));
	memcpy(req->path, path, (size_t)(sp2 - path));

	/* headers: only Content-Length matters */
	const char *p = line_end + 2;
	while (p < end + 2) {
		const char *eol = memchr(p, '\r', (size_t)(end + 2 - p));
		if (!eol || eol[1] != '\n')
			BAD("header line not ended by CRLF");
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			BAD("header line without a colon");
		if ((size_t)(colon - p) == 14 && !strncasecmp(p, "Content-Length", 14)) {
			const char *v = colon + 1;
			while (v < eol && *v == ' ')
				v++;
			if (v == eol)
				BAD("empty Content-Length");
			size_t n = 0;
			for (; v < eol && *v != ' '; v++) {
				if (*v < '0' || *v > '9')
					BAD("Content-Length is not a number");
				n = n * 10 + (size_t)(*v - '0');
				if (n > MESH_HTTP_BODY_MAX) {
					*why = "request body over 64 KiB";
					return -EMSGSIZE;
				}
			}
			req->content_length = n;
		} else if ((size_t)(colon - p) == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
			BAD("chunked request bodies are not supported");
		}
		p = eol + 2;
	}
	size_t total = req->header_len + req->content_length;
	return len >= total ? (ssize_t)total : 0;
}
