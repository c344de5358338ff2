/* cni/meshd_client.c: minimal HTTP/1.1 GET /v1/status over meshd's unix API socket. */
#include "cni/meshd_client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define STATUS_MAX (4 << 20)

int cni_meshd_status(const char *socket_path, int *mtu)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char req[] = "GET /v1/status HTTP/1.1\r\nHost: meshd\r\nUser-Agent: mesh-cni\r\n"
				  "Accept: application/json\r\nConnection: close\r\n\r\n";
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ret;
	cJSON *j = NULL;

	*mtu = 0;
	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		goto out;
	}
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
		ret = -EIO;
		goto out;
	}
	for (;;) {
		if (len + 4097 > cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb = ncap <= STATUS_MAX ? realloc(buf, ncap) : NULL;
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
	int code = 0;
	char *body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12 || sscanf(buf + 8, " %3d", &code) != 1 ||
	    !body || code != 200) {
		ret = -EPROTO;
		goto out;
	}
	j = cJSON_Parse(body + 4);
	if (!cJSON_IsObject(j)) {
		ret = -EPROTO;
		goto out;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mtu");
	if (cJSON_IsNumber(m) && m->valuedouble >= 576 && m->valuedouble <= 65535)
		*mtu = (int)m->valuedouble;
	ret = 0;
out:
	cJSON_Delete(j);
	free(buf);
	close(fd);
	return ret;
}
