/* cni/meshd_client.c: minimal HTTP/1.1 client over meshd's unix API socket. */
#include "cni/meshd_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (4 << 20)

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno == EAGAIN ? -ETIMEDOUT : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cni_meshd_request(const char *socket_path, const char *method, const char *path,
		      const char *body, int timeout_s, int *code, cJSON **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *buf = NULL, head[512];
	size_t len = 0, cap = 0, blen = body ? strlen(body) : 0;
	int fd, ret;

	*code = 0;
	*out = NULL;
	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		goto out;
	}
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: meshd\r\nUser-Agent: mesh-cni\r\n"
			  "Accept: application/json\r\nConnection: close\r\n%s"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, body ? "Content-Type: application/json\r\n" : "", blen);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		ret = -EINVAL;
		goto out;
	}
	if ((ret = send_all(fd, head, (size_t)hl)) < 0 || (blen && (ret = send_all(fd, body, blen)) < 0))
		goto out;
	for (;;) {
		if (len + 4097 > cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb = ncap <= ANSWER_MAX ? realloc(buf, ncap) : NULL;
			if (!nb) {
				ret = -EMSGSIZE;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (!buf) {
		ret = -EPROTO;
		goto out;
	}
	buf[len] = '\0';
	char *b = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12 || sscanf(buf + 8, " %3d", code) != 1 || !b) {
		ret = -EPROTO;
		goto out;
	}
	*out = cJSON_Parse(b + 4);
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int cni_meshd_status(const char *socket_path, int *mtu)
{
	cJSON *j = NULL;
	int code, ret;

	*mtu = 0;
	ret = cni_meshd_request(socket_path, "GET", "/v1/status", NULL, 2, &code, &j);
	if (ret < 0)
		return ret;
	if (code != 200 || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EPROTO;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mtu");
	if (cJSON_IsNumber(m) && m->valuedouble >= 576 && m->valuedouble <= 65535)
		*mtu = (int)m->valuedouble;
	cJSON_Delete(j);
	return 0;
}
