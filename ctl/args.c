/* ctl/args.c: meshctl's argument parser (see args.h). Pure: no I/O. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/args.h"
#include "mesh/addr.h"

const char *meshctl_usage(void)
{
	return "usage: meshctl [OPTIONS] COMMAND\n"
	       "commands:\n"
	       "  status                  summary of this router: identity, encryption, peers,\n"
	       "                          connections by state, overlays, drops\n"
	       "  status peers            each peer: reachable, hops, next hop, its connections\n"
	       "  status connections      each connection: direction, address, peer, state,\n"
	       "                          overlay and why, encryption, MTU; failed targets with\n"
	       "                          their last error and next retry\n"
	       "  status ipam             mesh IPAM: range, seeding, each peer's share of the\n"
	       "                          range and its free addresses, our allocations\n"
	       "  status policy           Kubernetes NetworkPolicy on this node: the API server,\n"
	       "                          each policy, the pods it isolates here, its rules'\n"
	       "                          packet counters, and the last dropped flows and why\n"
	       "  connect HOST[:PORT]     connect to a peer (PORT: meshd's own port if omitted);\n"
	       "                          HOST: a name, IPv4, [IPv6] (with :PORT) or IPv6\n"
	       "  forget HOST[:PORT]      stop connecting to a peer given by flag or connect\n"
	       "options:\n"
	       "  --socket PATH           meshd's API socket (default $MESH_SOCKET, else "
	       MESHCTL_DEFAULT_SOCKET ")\n"
	       "  -o json                 print meshd's JSON instead of text\n"
	       "  -h, --help              this text\n"
	       "  --version               meshctl's version\n"
	       "exit codes: 0 ok, 1 meshd answered an error, 2 usage, 3 cannot reach meshd\n";
}

static int usage_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define USAGE(...) return usage_err(err, errlen, __VA_ARGS__)

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* HOST[:PORT] into a->host and a->port. */
static int parse_address(struct meshctl_args *a, const char *cmd, const char *s, char *err,
			 size_t errlen)
{
	if (s[0] == '[' || strchr(s, ':') != strrchr(s, ':')) {
		/* an IPv6 address: [addr][:PORT] or a bare addr (mesh/addr.h) */
		struct mesh_addr v6;
		const char *why;
		if (mesh_addr_parse(s, 0, &v6, &why) < 0)
			USAGE("%s '%.60s': %s ([IPv6][:PORT] or IPv6)", cmd, s, why);
		mesh_addr_format_host(&v6, a->host, sizeof(a->host));
		a->port = v6.port;
		return 0;
	}
	const char *colon = strchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	if (hl == 0)
		USAGE("%s '%.60s': the host is missing (HOST[:PORT])", cmd, s);
	if (hl > MESHCTL_HOST_MAX)
		USAGE("%s: the host is longer than %d characters", cmd, MESHCTL_HOST_MAX);
	for (size_t i = 0; i < hl; i++)
		if (!host_char(s[i]))
			USAGE("%s '%.60s': not a host name or IPv4 address (HOST[:PORT])", cmd, s);
	if (s[0] == '.' || s[0] == '-' || strstr(s, ".."))
		USAGE("%s '%.60s': not a host name or IPv4 address (HOST[:PORT])", cmd, s);
	unsigned long port = 0;
	if (colon) {
		const char *p = colon + 1;
		if (!*p || strlen(p) > 5)
			USAGE("%s '%.60s': PORT must be a number from 1 to 65535", cmd, s);
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				USAGE("%s '%.60s': PORT must be a number from 1 to 65535", cmd, s);
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535)
			USAGE("%s '%.60s': PORT must be a number from 1 to 65535", cmd, s);
	}
	memcpy(a->host, s, hl);
	a->host[hl] = '\0';
	a->port = (uint16_t)port;
	return 0;
}

static int set_output(struct meshctl_args *a, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "json"))
		USAGE("-o '%.40s': the only output format is json", v);
	a->json = true;
	return 0;
}

static int set_socket(struct meshctl_args *a, const char *v, char *err, size_t errlen)
{
	if (!*v)
		USAGE("--socket: the path is empty");
	if (strlen(v) > MESHCTL_SOCKET_MAX)
		USAGE("--socket: the path is longer than %d bytes (a unix socket path limit)",
		      MESHCTL_SOCKET_MAX);
	a->socket = v;
	return 0;
}

int meshctl_args_parse(struct meshctl_args *a, int argc, char *const *argv,
		       const char *env_socket, char *err, size_t errlen)
{
	const char *pos[3];
	int npos = 0, ret;
	bool options_done = false;

	memset(a, 0, sizeof(*a));
	a->cmd = MESHCTL_HELP;
	a->socket = MESHCTL_DEFAULT_SOCKET;
	if (err && errlen)
		err[0] = '\0';
	if (env_socket && *env_socket) {
		if (strlen(env_socket) > MESHCTL_SOCKET_MAX)
			USAGE("MESH_SOCKET is longer than %d bytes (a unix socket path limit)",
			      MESHCTL_SOCKET_MAX);
		a->socket = env_socket;
	}

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (options_done || s[0] != '-' || s[1] == '\0') {
			if (npos == (int)(sizeof(pos) / sizeof(pos[0])))
				USAGE("too many arguments ('%.40s'); see meshctl --help", s);
			pos[npos++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			options_done = true;
		} else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->cmd = MESHCTL_HELP;
			return 0;
		} else if (!strcmp(s, "--version")) {
			a->cmd = MESHCTL_VERSION;
			return 0;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (i + 1 >= argc)
				USAGE("%s needs a value (json)", s);
			if ((ret = set_output(a, argv[++i], err, errlen)) < 0)
				return ret;
		} else if (!strncmp(s, "-o", 2) || !strncmp(s, "--output=", 9)) {
			const char *v = s[1] == 'o' ? s + 2 : s + 9;
			if (s[1] == 'o' && *v == '=')
				v++;
			if ((ret = set_output(a, v, err, errlen)) < 0)
				return ret;
		} else if (!strcmp(s, "--socket")) {
			if (i + 1 >= argc)
				USAGE("--socket needs a value (the path of meshd's API socket)");
			if ((ret = set_socket(a, argv[++i], err, errlen)) < 0)
				return ret;
		} else if (!strncmp(s, "--socket=", 9)) {
			if ((ret = set_socket(a, s + 9, err, errlen)) < 0)
				return ret;
		} else {
			USAGE("unknown option '%.40s'; see meshctl --help", s);
		}
	}

	if (npos == 0)
		USAGE("no command given; see meshctl --help");
	const char *cmd = pos[0];
	if (!strcmp(cmd, "help")) {
		if (npos > 1)
			USAGE("help takes no arguments");
		a->cmd = MESHCTL_HELP;
	} else if (!strcmp(cmd, "status")) {
		a->cmd = MESHCTL_STATUS;
		a->view = MESHCTL_VIEW_SUMMARY;
		if (npos > 2)
			USAGE("status: one view at most (peers, connections, ipam or policy)");
		if (npos == 2) {
			if (!strcmp(pos[1], "peers"))
				a->view = MESHCTL_VIEW_PEERS;
			else if (!strcmp(pos[1], "connections"))
				a->view = MESHCTL_VIEW_CONNECTIONS;
			else if (!strcmp(pos[1], "ipam"))
				a->view = MESHCTL_VIEW_IPAM;
			else if (!strcmp(pos[1], "policy"))
				a->view = MESHCTL_VIEW_POLICY;
			else
				USAGE("status '%.40s': the views are peers, connections, ipam and policy",
				      pos[1]);
		}
	} else if (!strcmp(cmd, "connect") || !strcmp(cmd, "forget")) {
		a->cmd = cmd[0] == 'c' ? MESHCTL_CONNECT : MESHCTL_FORGET;
		if (npos != 2)
			USAGE("%s needs exactly one HOST[:PORT]", cmd);
		if ((ret = parse_address(a, cmd, pos[1], err, errlen)) < 0)
			return ret;
	} else {
		USAGE("unknown command '%.40s' (status, connect, forget); see meshctl --help", cmd);
	}
	return 0;
}
