/* ctl/main.c: meshctl, the operator's client of meshd's API socket (HTTP/1.1 + JSON over a
 * unix socket): the command line (ctl/args.c), then one command (ctl/status.c, ctl/peer.c).
 * Exit codes: 0 ok, 1 meshd answered an error, 2 usage, 3 cannot reach meshd. */
#include <stdio.h>
#include <stdlib.h>

#include "autoconfig.h"
#include "ctl/meshctl.h"

int main(int argc, char **argv)
{
	struct meshctl_args a;
	char err[256];

	if (meshctl_args_parse(&a, argc, argv, getenv("MESH_SOCKET"), err, sizeof(err)) < 0) {
		fprintf(stderr, "meshctl: %s\n", err);
		return EXIT_USAGE;
	}
	switch (a.cmd) {
	case MESHCTL_HELP:
		fputs(meshctl_usage(), stdout);
		return EXIT_OK;
	case MESHCTL_VERSION:
		printf("meshctl %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case MESHCTL_STATUS:
		return ctl_cmd_status(&a);
	case MESHCTL_CONNECT:
	case MESHCTL_FORGET:
		return ctl_cmd_peer(&a);
	}
	return EXIT_USAGE;
}
