/* meshapi/client.c: the HTTP/1.1 client of meshd's unix API socket (see client.h). */
#include "meshapi/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (16u << 20)

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fail(struct meshapi_response *res, enum meshapi_stage stage, int err, int ret)
{
	res->stage = stage;
	res->sys_errno = err;
	return ret;
}

int meshapi_request(const char *socket_path, const char *user_agent, const char *method,
		    const char *path, const char *body, int timeout_s, struct meshapi_response *res)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *buf = NULL, head[512];
	size_t len = 0, cap = 0, blen = body ? strlen(body) : 0;
	int fd, ret;

	memset(res, 0, sizeof(*res));
	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return fail(res, MESHAPI_CONNECT, ENAMETOOLONG, -ENAMETOOLONG);
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(res, MESHAPI_CONNECT, errno, -errno);
	struct timeval tv = { timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = fail(res, MESHAPI_CONNECT, errno, -errno);
		goto out;
	}
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: meshd\r\nUser-Agent: %s\r\n"
			  "Accept: application/json\r\nConnection: close\r\n%s"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, user_agent,
			  body ? "Content-Type: application/json\r\n" : "", blen);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		ret = fail(res, MESHAPI_SEND, EINVAL, -EINVAL);
		goto out;
	}
	if ((ret = send_all(fd, head, (size_t)hl)) < 0 || (blen && (ret = send_all(fd, body, blen)) < 0)) {
		ret = fail(res, MESHAPI_SEND, -ret, ret == -EAGAIN ? -ETIMEDOUT : -EIO);
		goto out;
	}
	for (;;) {
		if (len + 4097 > cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = ncap <= ANSWER_MAX ? realloc(buf, ncap) : NULL;
			if (!nb) {
				ret = fail(res, MESHAPI_ANSWER, EMSGSIZE, -EMSGSIZE);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
			ret = fail(res, MESHAPI_RECEIVE, e, -e);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	char *sep = strstr(buf, "\r\n\r\n");
	int code = 0;
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !sep || sscanf(buf + 8, " %3d", &code) != 1 ||
	    code < 100 || code > 599) {
		ret = fail(res, MESHAPI_ANSWER, 0, -EPROTO);
		goto out;
	}
	memmove(buf, sep + 4, strlen(sep + 4) + 1);
	res->code = code;
	res->body = buf;
	res->json = cJSON_Parse(buf);
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

void meshapi_response_free(struct meshapi_response *res)
{
	free(res->body);
	cJSON_Delete(res->json);
	memset(res, 0, sizeof(*res));
}
