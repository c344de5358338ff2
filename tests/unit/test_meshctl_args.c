/* tests/unit/test_meshctl_args.c: meshctl's command line (ctl/args.c): commands and
 * views, options before and after the command, the socket's precedence (flag, MESH_SOCKET,
 * default), HOST[:PORT], and every usage error. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/args.h"

#define MAXA 16

static char err[256];

/* Parses "meshctl" followed by the NULL-terminated arguments, with MESH_SOCKET env. */
static int parse(struct meshctl_args *a, const char *env, ...)
{
	static char store[MAXA][400];
	char *argv[MAXA + 1];
	int argc = 0;
	va_list ap;
	va_start(ap, env);
	snprintf(store[argc], sizeof(store[argc]), "meshctl");
	argv[argc] = store[argc];
	argc++;
	for (const char *s; (s = va_arg(ap, const char *));) {
		cr_assert_lt(argc, MAXA);
		snprintf(store[argc], sizeof(store[argc]), "%s", s);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 0, sizeof(err));
	return meshctl_args_parse(a, argc, argv, env, err, sizeof(err));
}

#define ok(a, env, ...)                                                                      \
	cr_assert_eq(parse(a, env, __VA_ARGS__, NULL), 0, "unexpected usage error: %s", err)

/* A usage error whose message contains want. */
#define bad(want, env, ...)                                                                  \
	do {                                                                                 \
		struct meshctl_args a_;                                                      \
		cr_assert_eq(parse(&a_, env, __VA_ARGS__, NULL), -EINVAL, "accepted");       \
		cr_assert(strstr(err, want), "message '%s' lacks '%s'", err, want);          \
	} while (0)

Test(meshctl_args, status_views)
{
	struct meshctl_args a;
	ok(&a, NULL, "status");
	cr_assert_eq(a.cmd, MESHCTL_STATUS);
	cr_assert_eq(a.view, MESHCTL_VIEW_SUMMARY);
	cr_assert_not(a.json);
	cr_assert_str_eq(a.socket, MESHCTL_DEFAULT_SOCKET);
	ok(&a, NULL, "status", "peers");
	cr_assert_eq(a.view, MESHCTL_VIEW_PEERS);
	ok(&a, NULL, "status", "connections");
	cr_assert_eq(a.view, MESHCTL_VIEW_CONNECTIONS);
	ok(&a, NULL, "status", "ipam");
	cr_assert_eq(a.view, MESHCTL_VIEW_IPAM);
	ok(&a, NULL, "status", "ipam", "-o", "json");
	cr_assert_eq(a.view, MESHCTL_VIEW_IPAM);
	cr_assert(a.json);
	ok(&a, NULL, "status", "policy", "-o", "json");
	cr_assert_eq(a.view, MESHCTL_VIEW_POLICY);
	cr_assert(a.json);
}

Test(meshctl_args, json_anywhere)
{
	struct meshctl_args a;
	ok(&a, NULL, "-o", "json", "status");
	cr_assert(a.json);
	cr_assert_eq(a.cmd, MESHCTL_STATUS);
	ok(&a, NULL, "status", "-o", "json");
	cr_assert(a.json);
	ok(&a, NULL, "status", "-o", "json", "peers");
	cr_assert(a.json);
	cr_assert_eq(a.view, MESHCTL_VIEW_PEERS);
	ok(&a, NULL, "status", "connections", "-ojson");
	cr_assert(a.json);
	cr_assert_eq(a.view, MESHCTL_VIEW_CONNECTIONS);
	ok(&a, NULL, "-o=json", "status");
	cr_assert(a.json);
	ok(&a, NULL, "--output", "json", "status");
	cr_assert(a.json);
	ok(&a, NULL, "--output=json", "status");
	cr_assert(a.json);
	ok(&a, NULL, "connect", "10.0.0.1", "-o", "json");
	cr_assert(a.json);
}

Test(meshctl_args, socket_precedence)
{
	struct meshctl_args a;
	ok(&a, NULL, "status");
	cr_assert_str_eq(a.socket, "/run/mesh/meshd.sock");
	ok(&a, "", "status");
	cr_assert_str_eq(a.socket, "/run/mesh/meshd.sock", "an empty MESH_SOCKET is unset");
	ok(&a, "/tmp/env.sock", "status");
	cr_assert_str_eq(a.socket, "/tmp/env.sock");
	ok(&a, "/tmp/env.sock", "--socket", "/tmp/flag.sock", "status");
	cr_assert_str_eq(a.socket, "/tmp/flag.sock");
	ok(&a, "/tmp/env.sock", "status", "--socket=/tmp/eq.sock");
	cr_assert_str_eq(a.socket, "/tmp/eq.sock");
	ok(&a, NULL, "--socket", "/a.sock", "--socket", "/b.sock", "status");
	cr_assert_str_eq(a.socket, "/b.sock", "the last --socket wins");
}

Test(meshctl_args, socket_length)
{
	struct meshctl_args a;
	char longest[MESHCTL_SOCKET_MAX + 1], too_long[MESHCTL_SOCKET_MAX + 2];
	memset(longest, 'a', MESHCTL_SOCKET_MAX);
	longest[0] = '/';
	longest[MESHCTL_SOCKET_MAX] = '\0';
	memset(too_long, 'a', MESHCTL_SOCKET_MAX + 1);
	too_long[0] = '/';
	too_long[MESHCTL_SOCKET_MAX + 1] = '\0';
	ok(&a, NULL, "--socket", longest, "status");
	cr_assert_eq(strlen(a.socket), 107);
	bad("longer than 107", NULL, "--socket", too_long, "status");
	bad("MESH_SOCKET is longer", too_long, "status");
	bad("empty", NULL, "--socket", "", "status");
	bad("empty", NULL, "--socket=", "status");
	bad("--socket needs a value", NULL, "status", "--socket");
}

Test(meshctl_args, connect_and_forget)
{
	struct meshctl_args a;
	ok(&a, NULL, "connect", "198.18.0.2");
	cr_assert_eq(a.cmd, MESHCTL_CONNECT);
	cr_assert_str_eq(a.host, "198.18.0.2");
	cr_assert_eq(a.port, 0, "no port given: meshctl uses meshd's own");
	ok(&a, NULL, "connect", "198.18.0.2:7000");
	cr_assert_str_eq(a.host, "198.18.0.2");
	cr_assert_eq(a.port, 7000);
	ok(&a, NULL, "forget", "host-2.example.org:1");
	cr_assert_eq(a.cmd, MESHCTL_FORGET);
	cr_assert_str_eq(a.host, "host-2.example.org");
	cr_assert_eq(a.port, 1);
	ok(&a, NULL, "forget", "h2:65535");
	cr_assert_eq(a.port, 65535);
	ok(&a, NULL, "--", "connect", "10.1.2.3");
	cr_assert_eq(a.cmd, MESHCTL_CONNECT);
	ok(&a, NULL, "connect", "[2001:2:0:6d::2]:7000");
	cr_assert_str_eq(a.host, "2001:2:0:6d::2");
	cr_assert_eq(a.port, 7000);
	ok(&a, NULL, "forget", "[2001:2:0:6d::2]");
	cr_assert_str_eq(a.host, "2001:2:0:6d::2");
	cr_assert_eq(a.port, 0);
	ok(&a, NULL, "connect", "::1");
	cr_assert_str_eq(a.host, "::1");
	cr_assert_eq(a.port, 0);
}

Test(meshctl_args, bad_addresses)
{
	bad("needs exactly one", NULL, "connect");
	bad("needs exactly one", NULL, "forget", "1.2.3.4", "5.6.7.8");
	bad("PORT must be", NULL, "connect", "1.2.3.4:");
	bad("PORT must be", NULL, "connect", "1.2.3.4:0");
	bad("PORT must be", NULL, "connect", "1.2.3.4:65536");
	bad("PORT must be", NULL, "connect", "1.2.3.4:99999999");
	bad("PORT must be", NULL, "connect", "1.2.3.4:+80");
	bad("PORT must be", NULL, "connect", "1.2.3.4:8o");
	bad("host is missing", NULL, "connect", ":6783");
	bad("closing ']'", NULL, "connect", "[2001:db8::1:6783");
	bad("zone", NULL, "connect", "[fe80::1%eth0]:6783");
	bad("not an IPv6 address", NULL, "connect", "[1.2.3.4]:6783");
	bad("above 65535", NULL, "connect", "[2001:db8::1]:70000");
	bad("nor an IPv6", NULL, "connect", "2001:db8::1::2");
	bad("not a host name", NULL, "connect", "a b");
	bad("not a host name", NULL, "connect", "x/y");
	bad("not a host name", NULL, "connect", "a..b");
	bad("not a host name", NULL, "connect", ".a");
	bad("not a host name", NULL, "forget", "h\xc3\xa9");
	char long_host[300];
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	bad("longer than 253", NULL, "connect", long_host);
}

Test(meshctl_args, help_and_version)
{
	struct meshctl_args a;
	ok(&a, NULL, "--help");
	cr_assert_eq(a.cmd, MESHCTL_HELP);
	ok(&a, NULL, "-h");
	cr_assert_eq(a.cmd, MESHCTL_HELP);
	ok(&a, NULL, "help");
	cr_assert_eq(a.cmd, MESHCTL_HELP);
	ok(&a, NULL, "status", "--help");
	cr_assert_eq(a.cmd, MESHCTL_HELP, "--help wins over the command");
	ok(&a, NULL, "bogus", "--help");
	cr_assert_eq(a.cmd, MESHCTL_HELP, "--help wins even over a bad command");
	ok(&a, NULL, "--version");
	cr_assert_eq(a.cmd, MESHCTL_VERSION);
	ok(&a, NULL, "status", "--version");
	cr_assert_eq(a.cmd, MESHCTL_VERSION);
	cr_assert(strstr(meshctl_usage(), "status connections"));
	cr_assert(strstr(meshctl_usage(), "--socket PATH"));
}

Test(meshctl_args, usage_errors)
{
	bad("no command", NULL, NULL);
	bad("no command", NULL, "-o", "json");
	bad("unknown command 'stats'", NULL, "stats");
	bad("unknown option '--bogus'", NULL, "--bogus", "status");
	bad("unknown option '-x'", NULL, "status", "-x");
	bad("the views are peers, connections, ipam and policy", NULL, "status", "conns");
	bad("the views are peers, connections, ipam and policy", NULL, "status", "IPAM");
	bad("one view at most", NULL, "status", "ipam", "peers");
	bad("one view at most", NULL, "status", "peers", "connections");
	bad("the only output format is json", NULL, "-o", "yaml", "status");
	bad("the only output format is json", NULL, "-oyaml", "status");
	bad("the only output format is json", NULL, "--output=text", "status");
	bad("-o needs a value", NULL, "status", "-o");
	bad("help takes no arguments", NULL, "help", "status");
	bad("too many arguments", NULL, "status", "peers", "x", "y");
	/* after "--" everything is an argument, even what looks like an option */
	bad("unknown command '--help'", NULL, "--", "--help");
}

Test(meshctl_args, stdin_dash_is_an_argument)
{
	bad("unknown command '-'", NULL, "-");
}
