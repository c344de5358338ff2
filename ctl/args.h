/* ctl/args.h: meshctl's command line, parsed without I/O into what to ask meshd,
 * so that the grammar can be unit-tested (tests/unit/test_meshctl_args.c).
 *
 *   meshctl [OPTIONS] status [peers|connections|ipam|policy]
 *   meshctl [OPTIONS] connect HOST[:PORT]
 *   meshctl [OPTIONS] forget HOST[:PORT]
 *   meshctl --help | --version | help
 * OPTIONS may come before or after the command: --socket PATH (also --socket=PATH),
 * -o json (also -ojson, -o=json, --output json, --output=json), -h/--help, --version;
 * "--" ends the options. */
#ifndef MESH_CTL_ARGS_H
#define MESH_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESHCTL_DEFAULT_SOCKET "/run/mesh/meshd.sock"
#define MESHCTL_DEFAULT_PORT 6783
#define MESHCTL_SOCKET_MAX 107   /* sizeof(sockaddr_un.sun_path) - 1 */
#define MESHCTL_HOST_MAX 253     /* a DNS name; IPv4 literals are shorter */

enum meshctl_cmd {
	MESHCTL_HELP,
	MESHCTL_VERSION,
	MESHCTL_STATUS,
	MESHCTL_CONNECT,
	MESHCTL_FORGET,
};

enum meshctl_view {
	MESHCTL_VIEW_SUMMARY,      /* status */
	MESHCTL_VIEW_PEERS,        /* status peers */
	MESHCTL_VIEW_CONNECTIONS,  /* status connections */
	MESHCTL_VIEW_IPAM,         /* status ipam */
	MESHCTL_VIEW_POLICY,       /* status policy */
};

struct meshctl_args {
	enum meshctl_cmd cmd;
	enum meshctl_view view;               /* MESHCTL_STATUS only */
	char host[MESHCTL_HOST_MAX + 1];      /* MESHCTL_CONNECT/FORGET: as given, without :PORT */
	uint16_t port;                        /* the PORT given, 0 when none was */
	bool json;                            /* -o json */
	const char *socket;                   /* --socket, else env MESH_SOCKET, else the default;
					       * points into argv, env_socket or a literal */
};

/* Parses argv (argv[0] is the program) with env_socket the value of MESH_SOCKET (NULL or ""
 * when unset). Returns 0, or -EINVAL for a usage error with a one-line message in err (exit
 * code 2). --help and --version win as soon as they are seen. */
int meshctl_args_parse(struct meshctl_args *a, int argc, char *const *argv,
		       const char *env_socket, char *err, size_t errlen);

/* The usage text (--help). */
const char *meshctl_usage(void);

#endif
