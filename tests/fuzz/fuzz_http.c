/* tests/fuzz/fuzz_http.c: the API socket's HTTP request parser (router/http.c).
 *
 * Input: the bytes a client sends on the API socket. They are parsed whole, as router/api.c
 * does once they have arrived, and the answer is checked:
 *   - 0 (need more), a length, -EMSGSIZE or -EBADMSG, nothing else; an error says why;
 *   - a length is header_len + content_length and at most the input; the headers end in
 *     CRLFCRLF and are at most MESH_HTTP_HEADER_MAX, the body at most MESH_HTTP_BODY_MAX;
 *   - the method is 1-7 capital letters; the path starts with '/' and holds only printable
 *     ASCII without spaces, NUL-terminated within its buffer;
 *   - the parser answers the same for the same request whatever follows it (pipelining) and,
 *     fed the request a piece at a time as a socket delivers it, says "need more" until the
 *     whole request is there. */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "router/http.h"
#include "tests/fuzz/fuzz.h"

static void check_req(const struct mesh_http_req *req, const char *buf, size_t len, ssize_t n)
{
	FUZZ_CHECK((size_t)n <= len);
	FUZZ_CHECK(req->header_len >= 4 && req->header_len <= (size_t)n);
	FUZZ_CHECK(req->header_len <= MESH_HTTP_HEADER_MAX);
	FUZZ_CHECK(req->content_length <= MESH_HTTP_BODY_MAX);
	FUZZ_CHECK(req->header_len + req->content_length == (size_t)n);
	FUZZ_CHECK(memcmp(buf + req->header_len - 4, "\r\n\r\n", 4) == 0);

	size_t ml = strnlen(req->method, sizeof(req->method));
	FUZZ_CHECK(ml >= 1 && ml < sizeof(req->method));
	for (size_t i = 0; i < ml; i++)
		FUZZ_CHECK(req->method[i] >= 'A' && req->method[i] <= 'Z');
	FUZZ_CHECK(memcmp(buf, req->method, ml) == 0 && buf[ml] == ' ');

	size_t pl = strnlen(req->path, sizeof(req->path));
	FUZZ_CHECK(pl >= 1 && pl < sizeof(req->path));
	FUZZ_CHECK(req->path[0] == '/');
	for (size_t i = 0; i < pl; i++)
		FUZZ_CHECK(req->path[i] > ' ' && req->path[i] <= '~');
	FUZZ_CHECK(memcmp(buf + ml + 1, req->path, pl) == 0 && buf[ml + 1 + pl] == ' ');
}

FUZZ_ENTRY(http)(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct mesh_http_req req, again;
	const char *why = NULL;

	ssize_t n = mesh_http_parse(buf, size, &req, &why);
	FUZZ_CHECK(n >= 0 || n == -EMSGSIZE || n == -EBADMSG);
	if (n < 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		return 0;
	}
	if (n == 0)
		return 0;
	check_req(&req, buf, size, n);

	/* the same request alone (an exact-size copy, so a read past it is an ASan error) and
	 * a piece at a time: pieces before the whole request need more bytes */
	uint8_t *alone = fuzz_dup(data, (size_t)n);
	if (!alone)
		return 0;
	const char *abuf = (const char *)alone;
	const char *why2 = NULL;
	FUZZ_CHECK(mesh_http_parse(abuf, (size_t)n, &again, &why2) == n);
	FUZZ_CHECK(memcmp(&req, &again, sizeof(req)) == 0);
	size_t cuts[] = { 0, 1, req.header_len / 2, req.header_len - 1, req.header_len,
			  (size_t)n - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (cuts[i] >= (size_t)n)
			continue;
		ssize_t m = mesh_http_parse(abuf, cuts[i], &again, &why2);
		FUZZ_CHECK(m == 0);
	}
	free(alone);
	return 0;
}
