/* tests/unit/test_config.c: meshd flag and environment parsing (router/config.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "router/config.h"

#define MAXA 32

static int parse(struct mesh_config *c, const char *env, char *err, size_t errlen, ...)
{
	char *argv[MAXA];
	static char store[MAXA][128];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	strcpy(store[argc], "meshd");
	argv[argc] = store[argc];
	argc++;
	for (const char *a; (a = va_arg(ap, const char *));) {
		snprintf(store[argc], sizeof(store[argc]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	return mesh_config_parse(c, argc, argv, env, err, errlen);
}

Test(config, defaults)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), NULL), MESH_CONFIG_OK);
	cr_assert_eq(c.port, 6783);
	cr_assert_str_eq(c.bridge, "mesh");
	cr_assert_str_eq(c.mesh_name, "mesh", "the documented default mesh name");
	cr_assert_str_eq(c.state_dir, "/var/lib/mesh");
	cr_assert_str_eq(c.api_socket, "/run/mesh/meshd.sock");
	cr_assert_null(c.password);
	cr_assert_eq(c.log_level, MESH_LOG_INFO);
	cr_assert_eq(c.npeers, 0);
	cr_assert_eq(c.fastdp, MESH_FASTDP_AUTO);
	mesh_config_free(&c);
}

Test(config, fastdp_modes)
{
	static const struct { const char *arg; enum mesh_fastdp_mode want; } cases[] = {
		{ "--fastdp=auto", MESH_FASTDP_AUTO }, { "--fastdp=vxlan", MESH_FASTDP_VXLAN },
		{ "--fastdp=odp", MESH_FASTDP_ODP }, { "--fastdp=off", MESH_FASTDP_OFF },
		{ "--no-fastdp", MESH_FASTDP_OFF },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mesh_config c;
		char err[256];
		cr_assert_eq(parse(&c, NULL, err, sizeof(err), cases[i].arg, NULL), MESH_CONFIG_OK,
			     "%s: %s", cases[i].arg, err);
		cr_assert_eq(c.fastdp, cases[i].want, "%s", cases[i].arg);
		mesh_config_free(&c);
	}
}

Test(config, ipv6_peers)
{
	struct mesh_config c;
	char err[256], txt[MESH_ADDR_STRLEN];
	int r = parse(&c, NULL, err, sizeof(err), "--port=7000", "[2001:2:0:6d::1]",
		      "2001:2:0:6d::2", "[2001:2:0:6d::3]:9000", NULL);
	cr_assert_eq(r, MESH_CONFIG_OK, "%s", err);
	cr_assert_eq(c.npeers, 3);
	const char *want[] = { "[2001:2:0:6d::1]:7000", "[2001:2:0:6d::2]:7000", "[2001:2:0:6d::3]:9000" };
	for (unsigned i = 0; i < 3; i++) {
		mesh_addr_format(&c.peers[i], txt, sizeof(txt));
		cr_assert_str_eq(txt, want[i]);
	}
	mesh_config_free(&c);
	r = parse(&c, NULL, err, sizeof(err), "[2001:2:0:6d::1", NULL);
	cr_assert_eq(r, MESH_CONFIG_USAGE);
	cr_assert(strstr(err, "peer '[2001:2:0:6d::1'") && strstr(err, "closing"), "%s", err);
	mesh_config_free(&c);
}

Test(config, every_flag)
{
	struct mesh_config c;
	char err[256];
	int r = parse(&c, NULL, err, sizeof(err), "--name", "0a:bb:cc:dd:ee:0f", "--nickname", "h1",
		      "--port=7000", "198.18.0.1", "--bridge", "br-x", "--state-dir", "/tmp/s",
		      "--api-socket", "/tmp/a.sock", "--log-level", "debug", "--keep-bridge",
		      "--mtu", "1400", "198.18.0.2:9000", NULL);
	cr_assert_eq(r, MESH_CONFIG_OK, "%s", err);
	cr_assert(c.have_name);
	cr_assert_eq(c.name.b[0], 0x0a);
	cr_assert_eq(c.name.b[5], 0x0f);
	cr_assert_str_eq(c.nickname, "h1");
	cr_assert_eq(c.port, 7000);
	cr_assert_str_eq(c.bridge, "br-x");
	cr_assert_eq(c.log_level, MESH_LOG_DEBUG);
	cr_assert(c.keep_bridge);
	cr_assert_eq(c.mtu, 1400);
	cr_assert_eq(c.npeers, 2);
	cr_assert_eq(c.peers[0].family, AF_INET);
	cr_assert_eq(mesh_addr_ipv4(&c.peers[0]), inet_addr("198.18.0.1"));
	cr_assert_eq(c.peers[0].port, 7000, "a peer without a port uses --port");
	cr_assert_eq(c.peers[1].port, 9000);
	mesh_config_free(&c);
}

Test(config, password_sources)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, "env-password-0123", err, sizeof(err), NULL), MESH_CONFIG_OK);
	cr_assert_str_eq(c.password, "env-password-0123");
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, "env-password-0123", err, sizeof(err), "--password", "flag-password-0123", NULL), MESH_CONFIG_OK);
	cr_assert_str_eq(c.password, "flag-password-0123", "the flag wins over the environment");
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, "env-password-0123", err, sizeof(err), "--password-file", "/f", NULL), MESH_CONFIG_OK);
	cr_assert_null(c.password, "the file (read later) wins over the environment");
	mesh_config_free(&c);
}

Test(config, mesh_name)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--mesh-name", "prod-eu", NULL), MESH_CONFIG_OK,
		     "%s", err);
	cr_assert_str_eq(c.mesh_name, "prod-eu");
	mesh_config_free(&c);
}

Test(config, password_scrubbed_from_argv)
{
	struct mesh_config c;
	char err[256];
	char a0[] = "meshd", a1[] = "--password", a2[] = "secret-secret-secret",
	     a3[] = "--password=other-other-other";
	char *argv[] = { a0, a1, a2 };
	cr_assert_eq(mesh_config_parse(&c, 3, argv, NULL, err, sizeof(err)), MESH_CONFIG_OK);
	cr_assert_str_eq(c.password, "secret-secret-secret");
	cr_assert_str_eq(a2, "xxxxxxxxxxxxxxxxxxxx");
	mesh_config_free(&c);
	char *argv2[] = { a0, a3 };
	cr_assert_eq(mesh_config_parse(&c, 2, argv2, NULL, err, sizeof(err)), MESH_CONFIG_OK);
	cr_assert_str_eq(c.password, "other-other-other");
	cr_assert_str_eq(a3, "--password=xxxxxxxxxxxxxxxxx");
	mesh_config_free(&c);
}

struct bad {
	const char *args[4];
	const char *env;
	const char *says;
};

Test(config, bad_input_is_a_usage_error_naming_the_flag)
{
	static const struct bad cases[] = {
		{ { "--port", "0" }, NULL, "--port '0'" },
		{ { "--port", "70000" }, NULL, "--port '70000'" },
		{ { "--port", "abc" }, NULL, "--port 'abc'" },
		{ { "--port", "-1" }, NULL, "--port '-1'" },
		{ { "--port", "" }, NULL, "--port ''" },
		{ { "--port" }, NULL, "--port needs a value" },
		{ { "--log-level", "loud" }, NULL, "--log-level 'loud'" },
		{ { "--nosuchflag" }, NULL, "unknown flag '--nosuchflag'" },
		{ { "-p", "1" }, NULL, "unknown flag '-p'" },
		{ { "--name", "not-a-mac" }, NULL, "--name 'not-a-mac'" },
		{ { "--name", "0a:bb:cc:dd:ee:ff:00" }, NULL, "--name" },
		{ { "300.1.1.1" }, NULL, "peer '300.1.1.1'" },
		{ { "198.18.0.1:0" }, NULL, "peer '198.18.0.1:0'" },
		{ { "198.18.0.1:99999" }, NULL, "peer" },
		{ { "host.example" }, NULL, "peer 'host.example'" },
		{ { "--password", "" }, NULL, "--password is empty" },
		{ { "--password", "a-long-enough-password", "--password-file", "/f" }, NULL, "both given" },
		{ { "--password", "fifteen-bytes!!" }, NULL, "--password is 15 bytes: a password must have at least 16" },
		{ { NULL }, "short", "MESH_PASSWORD is 5 bytes: a password must have at least 16" },
		{ { "--mesh-name", "" }, NULL, "--mesh-name: 1 to 63 printable" },
		{ { "--mesh-name", "has space" }, NULL, "--mesh-name: 1 to 63 printable" },
		{ { NULL }, "", "MESH_PASSWORD is set but empty" },
		{ { "--nickname", "has space" }, NULL, "--nickname" },
		{ { "--bridge", "waytoolongbridgename" }, NULL, "--bridge" },
		{ { "--mtu", "100" }, NULL, "--mtu '100'" },
		{ { "--help=yes" }, NULL, "--help takes no value" },
		{ { "--state-dir", "" }, NULL, "--state-dir" },
		{ { "--fastdp", "ovs" }, NULL, "--fastdp 'ovs': use auto, vxlan, odp or off" },
		{ { "--fastdp" }, NULL, "--fastdp needs a value" },
		{ { "--no-fastdp=1" }, NULL, "--no-fastdp takes no value" },
		{ { "--ipalloc-range", "10.32.0.1/12" }, NULL, "--ipalloc-range '10.32.0.1/12'" },
		{ { "--ipalloc-range", "10.32.0.0/33" }, NULL, "--ipalloc-range" },
		{ { "--ipalloc-range", "fd00::/8" }, NULL, "--ipalloc-range" },
		{ { "--ipalloc-default-subnet", "10.32.0.0" }, NULL, "--ipalloc-default-subnet '10.32.0.0'" },
		{ { "--ipalloc-range", "10.40.0.0/16", "--ipalloc-default-subnet", "10.48.0.0/12" }, NULL,
		  "--ipalloc-default-subnet 10.48.0.0/12 does not contain --ipalloc-range 10.40.0.0/16" },
		{ { "--ipalloc-range", "10.32.0.0/12", "--ipalloc-default-subnet", "10.40.0.0/16" }, NULL,
		  "does not contain" },
		{ { "--ipalloc-init", "consensus=0" }, NULL, "--ipalloc-init" },
		{ { "--ipalloc-init", "majority" }, NULL, "--ipalloc-init" },
		{ { "--ipalloc-init", "seed=nope" }, NULL, "--ipalloc-init" },
		{ { "--ipalloc-init" }, NULL, "--ipalloc-init needs a value" },
		{ { "--ipam-reclaim-after", "soon" }, NULL, "--ipam-reclaim-after 'soon'" },
		{ { "--ipam-reclaim-after", "-5m" }, NULL, "--ipam-reclaim-after '-5m'" },
		{ { "--ipam-reclaim-after", "5w" }, NULL, "--ipam-reclaim-after '5w'" },
		{ { "--ipam-reclaim-after", "m" }, NULL, "--ipam-reclaim-after 'm'" },
		{ { "--ipalloc-range6", "fd00::1/64" }, NULL, "--ipalloc-range6 'fd00::1/64': the address has bits set" },
		{ { "--ipalloc-range6", "10.0.0.0/8" }, NULL, "--ipalloc-range6 '10.0.0.0/8': '10.0.0.0' is not an IPv6 address" },
		{ { "--ipalloc-range6", "fd00::" }, NULL, "--ipalloc-range6 'fd00::' is not an IPv6 prefix" },
		{ { "--ipalloc-range6", "ff15::/16" }, NULL, "--ipalloc-range6 'ff15::/16' is a multicast prefix" },
		{ { "--ipalloc-range6", "fd00::/112" }, NULL,
		  "--ipalloc-range6 'fd00::/112': a /112 is too small: each IPv6 address embeds the 32 bits of its IPv4 one, so the range must be a /96 or wider" },
		{ { "--ipalloc-range6" }, NULL, "--ipalloc-range6 needs a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mesh_config c;
		char err[256] = "";
		const struct bad *b = &cases[i];
		int r = parse(&c, b->env, err, sizeof(err), b->args[0], b->args[1], b->args[2],
			      b->args[3], NULL);
		cr_expect_eq(r, MESH_CONFIG_USAGE, "case %zu (%s) was accepted", i, b->says);
		cr_expect(strstr(err, b->says), "case %zu: '%s' does not say '%s'", i, err, b->says);
		mesh_config_free(&c);
	}
}

Test(config, ipam_defaults)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), NULL), MESH_CONFIG_OK);
	cr_expect_eq(c.ipalloc_start, 0x0a200000u);
	cr_expect_eq(c.ipalloc_prefix, 12);
	cr_expect_eq(c.ipalloc_subnet, 0x0a200000u);
	cr_expect_eq(c.ipalloc_subnet_prefix, 12);
	cr_expect_eq(c.ipalloc_init.quorum, 1, "no PEER: consensus=1");
	cr_expect_eq(c.ipalloc_init.nseeds, 0);
	cr_expect_str_eq(c.ipalloc_init_str, "consensus=1");
	cr_expect_eq(c.ipam_reclaim_after_ms, 30ull * 60 * 1000);
	char r6[MESH_IPAM6_CIDRLEN];
	cr_expect(c.ipalloc_range6.on);
	mesh_ipam6_range_format(&c.ipalloc_range6, r6);
	cr_expect_str_eq(r6, "fd6d:6573:6800::/48");
	mesh_config_free(&c);
	/* consensus follows the PEERs given */
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "198.18.0.1", "198.18.0.2", NULL), MESH_CONFIG_OK);
	cr_expect_eq(c.ipalloc_init.quorum, 3);
	cr_expect_str_eq(c.ipalloc_init_str, "consensus=3");
	mesh_config_free(&c);
}

Test(config, ipam_flags)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--ipalloc-range", "10.40.0.0/16",
			   "--ipalloc-default-subnet=10.32.0.0/12", "--ipalloc-init",
			   "seed=0a:00:00:00:00:02,0a:00:00:00:00:01", "--ipam-reclaim-after", "90s",
			   "198.18.0.1", NULL), MESH_CONFIG_OK, "%s", err);
	cr_expect_eq(c.ipalloc_start, 0x0a280000u);
	cr_expect_eq(c.ipalloc_prefix, 16);
	cr_expect_eq(c.ipalloc_subnet, 0x0a200000u);
	cr_expect_eq(c.ipalloc_subnet_prefix, 12);
	cr_expect_eq(c.ipalloc_init.quorum, 0);
	cr_expect_eq(c.ipalloc_init.nseeds, 2);
	cr_expect_eq(c.ipam_reclaim_after_ms, 90000);
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--ipalloc-init=consensus=5",
			   "--ipalloc-range=10.40.0.0/16", NULL), MESH_CONFIG_OK, "%s", err);
	cr_expect_eq(c.ipalloc_init.quorum, 5);
	cr_expect_str_eq(c.ipalloc_init_str, "consensus=5");
	cr_expect_eq(c.ipalloc_subnet, 0x0a280000u, "the default subnet is the range");
	cr_expect_eq(c.ipalloc_subnet_prefix, 16);
	mesh_config_free(&c);
	/* the same subnet as the range is fine */
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--ipalloc-range=10.40.0.0/16",
			   "--ipalloc-default-subnet=10.40.0.0/16", NULL), MESH_CONFIG_OK, "%s", err);
	mesh_config_free(&c);
}

Test(config, ipam_range6)
{
	struct mesh_config c;
	char err[256], r6[MESH_IPAM6_CIDRLEN];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--ipalloc-range6", "off", NULL), MESH_CONFIG_OK,
		     "%s", err);
	cr_expect_not(c.ipalloc_range6.on);
	mesh_config_free(&c);
	/* the smallest range6 is a /96, whatever the IPv4 range */
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--ipalloc-range=10.0.0.0/8",
			   "--ipalloc-range6=2001:db8:1::/96", NULL), MESH_CONFIG_OK, "%s", err);
	cr_expect(c.ipalloc_range6.on);
	cr_expect_eq(c.ipalloc_range6.prefix, 96);
	mesh_ipam6_range_format(&c.ipalloc_range6, r6);
	cr_expect_str_eq(r6, "2001:db8:1::/96");
	mesh_config_free(&c);
}

Test(config, durations)
{
	static const struct { const char *s; long long ms; } cases[] = {
		{ "0", 0 }, { "90", 90000 }, { "90s", 90000 }, { "30m", 1800000 }, { "1h", 3600000 },
		{ "2d", 172800000 }, { "0m", 0 }, { "", -1 }, { "s", -1 }, { "1.5h", -1 },
		{ "1hm", -1 }, { "+5", -1 }, { " 5", -1 }, { "99999999999", -1 }, { "4000d", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 7;
		int r = mesh_parse_duration_ms(cases[i].s, &ms);
		if (cases[i].ms < 0) {
			cr_expect_eq(r, -1, "'%s' accepted", cases[i].s);
		} else {
			cr_expect_eq(r, 0, "'%s' refused", cases[i].s);
			cr_expect_eq(ms, (uint64_t)cases[i].ms, "'%s': %llu ms", cases[i].s,
				     (unsigned long long)ms);
		}
	}
}

Test(config, peer_addr_parser)
{
	struct mesh_peer_addr a;
	cr_assert_eq(mesh_parse_peer_addr("10.0.0.1", 6783, &a), 0);
	cr_assert_eq(a.port, 6783);
	cr_assert_eq(mesh_parse_peer_addr("10.0.0.1:1", 6783, &a), 0);
	cr_assert_eq(a.port, 1);
	cr_assert_eq(mesh_parse_peer_addr(":6783", 6783, &a), -1);
	cr_assert_eq(mesh_parse_peer_addr("10.0.0.1:", 6783, &a), -1);
	cr_assert_eq(mesh_parse_peer_addr("10.0.0.1:+5", 6783, &a), -1);
	cr_assert_eq(mesh_parse_peer_addr("10.0.0", 6783, &a), -1);
}

/* --help comes from the same table as parsing: every flag is listed, each entry's text starts
 * at column 24 (or on the next line when the flag reaches that far), and a flag listed there
 * is one the parser knows. */
Test(config, help_lists_every_flag_aligned)
{
	const char *u = mesh_config_usage();
	static const char *const flags[] = {
		"--name MAC ", "--nickname NAME ", "--port N ", "--bridge NAME ", "--state-dir DIR ",
		"--api-socket PATH ", "--password PW ", "--password-file FILE ", "--mesh-name NAME ",
		"--mtu N ",
		"--log-level LEVEL ", "--keep-bridge ", "--no-discovery ", "--fastdp MODE ",
		"--no-fastdp ", "--conn-limit N ", "--metrics-addr A|off ",
		"--ipalloc-range CIDR ", "--ipalloc-default-subnet CIDR\n",
		"--ipalloc-init consensus=N|seed=NAME,...\n", "--ipam-reclaim-after D\n",
		"--help, --version\n",
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		cr_assert(strstr(u, flags[i]), "--help lacks '%s'", flags[i]);
	for (const char *l = u; *l; l = strchr(l, '\n') + 1) {
		size_t len = (size_t)(strchr(l, '\n') - l);
		if (strncmp(l, "  --", 4))
			continue;
		const char *gap = strstr(l + 2, "  ");
		if (gap && gap < l + len) {
			size_t col = (size_t)(gap - l);
			while (l[col] == ' ')
				col++;
			cr_assert_eq(col, 24, "misaligned: %.*s", (int)len, l);
		}
		struct mesh_config cfg;
		char flag[40], val[8] = "x", err[256] = "";
		sscanf(l + 2, "%39[^ ,\n]", flag);
		char *argv[] = { flag, flag, val, NULL };
		mesh_config_parse(&cfg, 3, argv, NULL, err, sizeof(err));
		cr_assert(!strstr(err, "unknown flag"), "%s: %s", flag, err);
		mesh_config_free(&cfg);
	}
}

Test(config, kubernetes_flags)
{
	struct mesh_config c;
	char err[256];
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), NULL), MESH_CONFIG_OK);
	cr_assert_eq(c.network_policy, MESH_POLICY_ON);
	cr_assert_eq(c.policy_multicast, MESH_POLICY_MCAST_ALLOW);
	cr_assert_not(c.no_kube);
	cr_assert_str_eq(c.kubeconfig, "");
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--kubeconfig", "/etc/k/admin.conf",
			   "--node-name", "node-1.example", "--network-policy", "off",
			   "--policy-multicast=deny", "--no-kube", NULL), MESH_CONFIG_OK, "%s", err);
	cr_assert_str_eq(c.kubeconfig, "/etc/k/admin.conf");
	cr_assert_str_eq(c.node_name, "node-1.example");
	cr_assert_eq(c.network_policy, MESH_POLICY_OFF);
	cr_assert_eq(c.policy_multicast, MESH_POLICY_MCAST_DENY);
	cr_assert(c.no_kube);
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--node-name", "Node_1", NULL), MESH_CONFIG_USAGE);
	cr_assert(strstr(err, "--node-name"), "%s", err);
	mesh_config_free(&c);
	cr_assert_eq(parse(&c, NULL, err, sizeof(err), "--network-policy", "maybe", NULL),
		     MESH_CONFIG_USAGE);
	cr_assert(strstr(err, "use on or off"), "%s", err);
	mesh_config_free(&c);
}
