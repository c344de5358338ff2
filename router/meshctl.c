/* router/meshctl.c: meshctl, the operator's client of meshd's API socket.
 *   meshctl [--socket PATH] [-o json] status [connections]
 * Exit codes: 0 ok, 1 the daemon answered an error, 2 usage, 3 cannot reach the daemon. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"

#define DEFAULT_SOCKET "/run/mesh/meshd.sock"
#define RESPONSE_MAX (8u << 20)

enum { EXIT_OK = 0, EXIT_DAEMON = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void usage(FILE *f)
{
	fputs("usage: meshctl [--socket PATH] [-o json] COMMAND\n"
	      "commands:\n"
	      "  status                 summary of this router\n"
	      "  status connections     each connection: peer, address, state, overlay, encryption\n"
	      "options:\n"
	      "  --socket PATH          meshd's API socket (default $MESH_SOCKET or " DEFAULT_SOCKET ")\n"
	      "  -o json                print the daemon's JSON\n"
	      "  --version, --help\n", f);
}

/* Sends one request and returns the body; *code gets the HTTP status. NULL when unreachable. */
static char *request(const char *sock, const char *method, const char *path, int *code)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "meshctl: socket path %s is too long\n", sock);
		return NULL;
	}
	strcpy(sun.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "meshctl: cannot reach meshd on %s: %s\n"
				"  is meshd running? is this the right socket (--socket or MESH_SOCKET)? "
				"do you have permission (root or the socket's group)?\n",
			sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[512];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: meshd\r\nConnection: close\r\n\r\n",
			 method, path);
	if (write(fd, req, (size_t)n) != n)
		goto unreachable;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 16384;
			if (cap > RESPONSE_MAX)
				goto unreachable;
			char *nb = realloc(buf, cap);
			if (!nb)
				goto unreachable;
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto unreachable;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !body || sscanf(buf + 8, " %d", code) != 1) {
		fprintf(stderr, "meshctl: meshd on %s sent a malformed response\n", sock);
		free(buf);
		return NULL;
	}
	memmove(buf, body + 4, strlen(body + 4) + 1);
	return buf;
unreachable:
	fprintf(stderr, "meshctl: no complete answer from meshd on %s: %s\n", sock,
		errno ? strerror(errno) : "response too large");
	close(fd);
	free(buf);
	return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_summary(const cJSON *st)
{
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(st, "connections");
	const cJSON *c;
	int established = 0, connecting = 0, sleeve = 0;
	cJSON_ArrayForEach(c, conns) {
		if (!strcmp(str(c, "state"), "established")) {
			established++;
			if (!strcmp(str(c, "overlay"), "sleeve"))
				sleeve++;
		} else {
			connecting++;
		}
	}
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(st, "encryption");
	printf("        Version: %s (protocol %d)\n", str(st, "version"), (int)num(st, "protocol"));
	printf("           Peer: %s (%s)\n", str(st, "name"), str(st, "nickname"));
	printf("     Encryption: %s\n", cJSON_IsTrue(enc) ? "enabled" : "disabled");
	printf("           Port: %d (TCP control, UDP sleeve)\n", (int)num(st, "port"));
	printf("         Bridge: %s (MTU %d)\n", str(st, "bridge"), (int)num(st, "mtu"));
	printf("    Connections: %d (%d established, %d connecting)\n", established + connecting,
	       established, connecting);
	printf("       Overlays: %d sleeve\n", sleeve);
	const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(st, "counters");
	printf("         Frames: %.0f sent, %.0f received; dropped: %.0f replayed, %.0f failed "
	       "authentication\n",
	       num(ctr, "sleeve_tx_frames"), num(ctr, "sleeve_rx_frames"),
	       num(ctr, "sleeve_drop_replay"), num(ctr, "sleeve_drop_auth"));
}

static void print_connections(const cJSON *st)
{
	const cJSON *c;
	printf("%-4s %-22s %-10s %-18s %-12s %-8s %-9s %s\n", "DIR", "ADDRESS", "PEER", "NAME",
	       "STATE", "OVERLAY", "ENCRYPTED", "INFO");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "connections")) {
		const char *info = str(c, "overlay_reason");
		if (strcmp(str(c, "last_error"), "-"))
			info = str(c, "last_error");
		char overlay[40];
		snprintf(overlay, sizeof(overlay), "%s", str(c, "overlay"));
		printf("%-4s %-22s %-10s %-18s %-12s %-8s %-9s %s\n",
		       !strcmp(str(c, "direction"), "outbound") ? "->" : "<-", str(c, "address"),
		       str(c, "nickname"), str(c, "peer"), str(c, "state"), overlay,
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "encrypted")) ? "yes" : "no",
		       info);
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "targets")) {
		if (strcmp(str(c, "state"), "retry-wait"))
			continue;
		double next = num(c, "next_retry");
		long in = next > 0 ? (long)(next - (double)time(NULL)) : 0;
		printf("%-4s %-22s %-10s %-18s %-12s %-8s %-9s %s (retry in %ld s)\n", "->",
		       str(c, "address"), "-", "-", "failed", "-", "-", str(c, "last_error"),
		       in < 0 ? 0 : in);
	}
}

int main(int argc, char **argv)
{
	const char *sock = getenv("MESH_SOCKET");
	bool json = false;
	int i;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("meshctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (strcmp(argv[++i], "json")) {
				fprintf(stderr, "meshctl: -o %s: the only output format is json\n", argv[i]);
				return EXIT_USAGE;
			}
			json = true;
		} else {
			fprintf(stderr, "meshctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* -o json may also follow the command */
	int nargs = 0;
	const char *args[4];
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc && !strcmp(argv[i + 1], "json")) {
			json = true;
			i++;
		} else if (nargs < 4) {
			args[nargs++] = argv[i];
		} else {
			nargs++;
		}
	}
	if (nargs < 1 || strcmp(args[0], "status") || nargs > 2 ||
	    (nargs == 2 && strcmp(args[1], "connections"))) {
		usage(stderr);
		return EXIT_USAGE;
	}

	int code = 0;
	char *body = request(sock, "GET", "/v1/status", &code);
	if (!body)
		return EXIT_UNREACHABLE;
	cJSON *st = cJSON_Parse(body);
	if (code != 200 || !st) {
		const char *msg = st ? str(st, "error") : body;
		fprintf(stderr, "meshctl: meshd answered %d: %s\n", code, msg);
		cJSON_Delete(st);
		free(body);
		return EXIT_DAEMON;
	}
	if (json)
		fputs(body, stdout);
	else if (nargs == 2)
		print_connections(st);
	else
		print_summary(st);
	cJSON_Delete(st);
	free(body);
	return EXIT_OK;
}
