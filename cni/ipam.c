/* cni/ipam.c: runs the delegated IPAM plugin (ipam.type found in CNI_PATH) per the CNI spec:
 * same environment with CNI_COMMAND set, the network config on stdin, result or error object
 * on stdout. */
#include "cni/ipam.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IPAM_OUT_MAX (1 << 20)

extern char **environ;

/* First dir of CNI_PATH holding an executable regular file named type. */
static int find_plugin(const char *path, const char *type, char *out, size_t cap)
{
	const char *p = path;
	while (p && *p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n > 0 && n + 1 + strlen(type) < cap) {
			struct stat st;
			snprintf(out, cap, "%.*s/%s", (int)n, p, type);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return -ENOENT;
}

int cni_ipam_exec(const struct cni_config *cfg, const char *command, const char *stdin_data,
		  size_t stdin_len, cJSON **out, struct cni_error *err)
{
	char exe[CNI_PATH_MAX];
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, status = 0, ret = -1;
	char *buf = NULL;
	size_t len = 0;
	pid_t pid;

	if (out)
		*out = NULL;
	if (find_plugin(cfg->path, cfg->ipam_type, exe, sizeof(exe)) < 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "IPAM plugin not found",
				"no executable \"%s\" in CNI_PATH=%s", cfg->ipam_type,
				cfg->path ? cfg->path : "");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "cannot run the IPAM plugin", "pipe: %s", strerror(errno));
		goto out;
	}
	if (!(buf = malloc(IPAM_OUT_MAX + 1))) {
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "cannot run the IPAM plugin", "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(op[1], 1) < 0)
			_exit(127);
		setenv("CNI_COMMAND", command, 1);
		char *argv[] = { exe, NULL };
		execve(exe, argv, environ);
		_exit(127);
	}
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	/* The config is small (< pipe buffer in practice); write it all, then read to EOF. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < stdin_len;) {
		ssize_t w = write(in[1], stdin_data + off, stdin_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(in[1]);
	in[1] = -1;
	for (;;) {
		ssize_t r = read(op[0], buf + len, IPAM_OUT_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == IPAM_OUT_MAX)
			break;
	}
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cJSON *j = len ? cJSON_ParseWithLength(buf, len) : NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "msg");
		const cJSON *det = cJSON_GetObjectItemCaseSensitive(j, "details");
		if (cJSON_IsNumber(code) && cJSON_IsString(msg)) {
			cni_fail(err, (int)code->valuedouble, "IPAM plugin failed", "%s %s: %s%s%s",
				 cfg->ipam_type, command, msg->valuestring,
				 cJSON_IsString(det) ? ": " : "",
				 cJSON_IsString(det) ? det->valuestring : "");
			snprintf(err->msg, sizeof(err->msg), "%s", msg->valuestring);
		} else {
			cni_fail(err, CNI_ERR_INTERNAL, "IPAM plugin failed",
				 "%s %s exited with status %d: %.300s", cfg->ipam_type, command,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), buf);
		}
		cJSON_Delete(j);
		goto out;
	}
	if (len && !j) {
		cni_fail(err, CNI_ERR_DECODE, "IPAM plugin printed no valid JSON", "%s %s: %.300s",
			 cfg->ipam_type, command, buf);
		goto out;
	}
	if (out)
		*out = j;
	else
		cJSON_Delete(j);
	ret = 0;
out:
	free(buf);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	return ret;
}
