/* ctl/peer.c: meshctl connect|forget HOST[:PORT]: HOST resolved to an IPv4 or IPv6 address,
 * PORT defaulting to the one meshd listens on, then POST /v1/connect or /v1/forget. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "ctl/meshctl.h"
#include "mesh/addr.h"

/* HOST resolved to an address (a literal as it is; a name to its first address, IPv4 or IPv6);
 * EXIT_OK or EXIT_USAGE after printing why. */
static int resolve(const char *cmd, const char *host, struct mesh_addr *out)
{
	if (mesh_addr_parse(host, 0, out, NULL) == 0)
		return EXIT_OK;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0 || !ai || mesh_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, out) < 0) {
		fprintf(stderr, "meshctl: %s: cannot resolve '%s' to an address: %s\n", cmd, host,
			rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		return EXIT_USAGE;
	}
	freeaddrinfo(ai);
	return EXIT_OK;
}

int ctl_cmd_peer(const struct meshctl_args *a)
{
	const char *cmd = a->cmd == MESHCTL_CONNECT ? "connect" : "forget";
	char addr[MESH_ADDR_STRLEN], path[32];
	struct mesh_addr ip;
	struct meshapi_response res;
	int rc = resolve(cmd, a->host, &ip);
	if (rc != EXIT_OK)
		return rc;

	unsigned port = a->port;
	if (!port) {
		/* no PORT: the one meshd itself listens on, as for peers on its command line */
		rc = ctl_request(a->socket, "GET", "/v1/status", NULL, &res);
		if (rc != EXIT_OK)
			return rc;
		rc = ctl_check_response(&res, "status");
		double p = num(res.json, "port");
		port = p >= 1 && p <= 65535 ? (unsigned)p : MESHCTL_DEFAULT_PORT;
		meshapi_response_free(&res);
		if (rc != EXIT_OK)
			return rc;
	}
	ip.port = (uint16_t)port;
	mesh_addr_format(&ip, addr, sizeof(addr));
	snprintf(path, sizeof(path), "/v1/%s", cmd);

	cJSON *req = cJSON_CreateObject();
	char *body = req && cJSON_AddStringToObject(req, "address", addr)
			     ? cJSON_PrintUnformatted(req) : NULL;
	cJSON_Delete(req);
	if (!body) {
		fprintf(stderr, "meshctl: out of memory\n");
		return EXIT_DAEMON;
	}
	rc = ctl_request(a->socket, "POST", path, body, &res);
	free(body);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_check_response(&res, cmd);
	if (rc == EXIT_OK) {
		if (a->json)
			ctl_print_json(res.json);
		else if (has_str(res.json, "message"))
			printf("%s\n", str(res.json, "message"));
		else if (a->cmd == MESHCTL_CONNECT)
			printf("connecting to %s (see meshctl status connections)\n", addr);
		else
			printf("forgot %s: meshd no longer connects to it\n", addr);
	}
	meshapi_response_free(&res);
	return rc;
}
