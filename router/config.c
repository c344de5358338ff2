/* router/config.c: meshd flag and environment parsing (see config.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/session.h" /* mesh_wipe */
#include "router/config.h"
#include "sleeve/sleeve.h"

const char *mesh_config_usage(void)
{
	return "usage: meshd [OPTIONS] [PEER...]\n"
	       "  PEER                  address of a peer to connect to: IPv4[:port]\n"
	       "  --name MAC            peer name (default: generated once, kept in the state dir)\n"
	       "  --nickname NAME       nickname shown to others (default: hostname)\n"
	       "  --port N              TCP control and UDP sleeve port (default 6783)\n"
	       "  --bridge NAME         bridge containers attach to (default mesh)\n"
	       "  --state-dir DIR       persistent state (default /var/lib/mesh)\n"
	       "  --api-socket PATH     API unix socket (default /run/mesh/meshd.sock)\n"
	       "  --password PW         encrypt with this password (prefer the file or the env)\n"
	       "  --password-file FILE  read the password from FILE\n"
	       "  --mtu N               overlay MTU (default: underlay 1500 minus overhead)\n"
	       "  --log-level LEVEL     error, warn, info (default) or debug\n"
	       "  --keep-bridge         leave the bridge in place on exit\n"
	       "  --expose              give this host an address on the bridge from the mesh IPAM:\n"
	       "                        the host reaches containers, and they use it as their gateway\n"
	       "  --masquerade          masquerade what containers send outside the subnet\n"
	       "                        (--ipalloc-default-subnet) behind the host's own address\n"
	       "  --no-discovery        connect only to the PEERs given, not to peers learned by gossip\n"
	       "  --fastdp MODE         fast path: auto (default: odp where the module is, else\n"
	       "                        vxlan), odp (Open vSwitch datapath), vxlan (kernel VXLAN\n"
	       "                        device) or off (sleeve only)\n"
	       "  --no-fastdp           same as --fastdp off\n"
	       "  --conn-limit N        at most N control connections (default 100)\n"
	       "  --metrics-addr A|off  serve Prometheus metrics on IPv4:port A (default 127.0.0.1:6782)\n"
	       "  --ipalloc-range CIDR  addresses the mesh IPAM hands out (default 10.32.0.0/12)\n"
	       "  --ipalloc-default-subnet CIDR\n"
	       "                        subnet (prefix) containers get; contains the range (default:\n"
	       "                        the range)\n"
	       "  --ipalloc-init consensus=N|seed=NAME,...\n"
	       "                        first division of the range: among the first N peers known\n"
	       "                        (default N = number of PEERs + 1), or among the named peers\n"
	       "  --ipam-reclaim-after D  reclaim the space of a peer gone this long, by agreement\n"
	       "                        of the reachable majority: 90s, 30m (default), 1h, 0 = never\n"
	       "  --help, --version\n"
	       "environment: MESH_PASSWORD  the password, when no flag gives one\n";
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int mesh_parse_peer_addr(const char *s, uint16_t default_port, struct mesh_peer_addr *out)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long port = default_port;
	struct in_addr a;

	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	if (colon && parse_uint(colon + 1, 1, 65535, &port) < 0)
		return -1;
	snprintf(out->host, sizeof(out->host), "%s", host);
	out->port = (uint16_t)port;
	return 0;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

#define USAGE(...) do { snprintf(err, errlen, __VA_ARGS__); return MESH_CONFIG_USAGE; } while (0)

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* The index of val in the NULL-terminated list names, or -1. */
static int pick(const char *val, const char *const *names)
{
	for (int k = 0; names[k]; k++)
		if (!strcmp(val, names[k]))
			return k;
	return -1;
}

int mesh_config_parse(struct mesh_config *cfg, int argc, char **argv, const char *env_password,
		      char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = SLEEVE_DEFAULT_PORT;
	cfg->log_level = MESH_LOG_INFO;
	snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", MESH_DEFAULT_BRIDGE);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", MESH_DEFAULT_STATE_DIR);
	snprintf(cfg->api_socket, sizeof(cfg->api_socket), "%s", MESH_DEFAULT_API_SOCKET);
	snprintf(cfg->metrics.host, sizeof(cfg->metrics.host), "127.0.0.1");
	cfg->metrics.port = 6782;
	bool flag_password = false, have_subnet = false, have_init = false;
	cfg->ipam_reclaim_after_ms = MESH_DEFAULT_IPAM_RECLAIM_AFTER_MS;
	mesh_ipam_cidr_parse(MESH_DEFAULT_IPALLOC_RANGE, &cfg->ipalloc_start, &cfg->ipalloc_prefix);

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (cfg->npeers == MESH_MAX_PEERS_ARG)
				USAGE("too many peers on the command line (at most %d)", MESH_MAX_PEERS_ARG);
			if (mesh_parse_peer_addr(a, 0, &cfg->peers[cfg->npeers]) < 0)
				USAGE("peer '%s': not an IPv4 address with an optional :port (1-65535)", a);
			cfg->npeers++;
			continue;
		}
		if (a[1] != '-')
			USAGE("unknown flag '%s' (flags are long: see --help)", a);
		char flag[32];
		const char *val = NULL;
		char *eq = strchr(a, '=');
		size_t fl = eq ? (size_t)(eq - a) : strlen(a);
		if (fl >= sizeof(flag))
			USAGE("unknown flag '%.40s'", a);
		memcpy(flag, a, fl);
		flag[fl] = '\0';

		static const char *const boolean[] = { "--help", "--version", "--keep-bridge",
						       "--no-discovery", "--no-fastdp", "--expose",
						       "--masquerade" };
		bool is_bool = false;
		for (size_t k = 0; k < sizeof(boolean) / sizeof(boolean[0]); k++)
			if (!strcmp(flag, boolean[k]))
				is_bool = true;
		if (is_bool) {
			if (eq)
				USAGE("%s takes no value", flag);
			if (!strcmp(flag, "--help"))
				cfg->help = true;
			else if (!strcmp(flag, "--version"))
				cfg->version = true;
			else if (!strcmp(flag, "--no-discovery"))
				cfg->no_discovery = true;
			else if (!strcmp(flag, "--no-fastdp"))
				cfg->fastdp = MESH_FASTDP_OFF;
			else if (!strcmp(flag, "--expose"))
				cfg->expose = true;
			else if (!strcmp(flag, "--masquerade"))
				cfg->masquerade = true;
			else
				cfg->keep_bridge = true;
			continue;
		}
		static const char *const with_value[] = {
			"--name", "--nickname", "--port", "--bridge", "--state-dir", "--api-socket",
			"--password", "--password-file", "--mtu", "--log-level", "--conn-limit",
			"--metrics-addr", "--fastdp", "--ipalloc-range", "--ipalloc-default-subnet",
			"--ipalloc-init", "--ipam-reclaim-after",
		};
		bool known = false;
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			if (!strcmp(flag, with_value[k]))
				known = true;
		if (!known)
			USAGE("unknown flag '%s' (see --help)", flag);
		char **valp = NULL;
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			valp = &argv[++i];
			val = *valp;
		} else {
			USAGE("%s needs a value", flag);
		}

		unsigned long n;
		if (!strcmp(flag, "--name")) {
			if (mesh_peer_name_parse(val, &cfg->name) < 0)
				USAGE("--name '%.40s': not a peer name like 0a:1b:2c:3d:4e:5f", val);
			cfg->have_name = true;
		} else if (!strcmp(flag, "--nickname")) {
			if (strlen(val) > 63 || !*val || !printable(val))
				USAGE("--nickname: 1 to 63 printable characters without spaces");
			snprintf(cfg->nickname, sizeof(cfg->nickname), "%s", val);
		} else if (!strcmp(flag, "--port")) {
			if (parse_uint(val, 1, 65535, &n) < 0)
				USAGE("--port '%.40s': not a port number (1-65535)", val);
			cfg->port = (uint16_t)n;
		} else if (!strcmp(flag, "--bridge")) {
			if (copy_str(cfg->bridge, sizeof(cfg->bridge), val) < 0 || !printable(val) ||
			    strchr(val, '/'))
				USAGE("--bridge '%.40s': not an interface name (1-15 characters)", val);
		} else if (!strcmp(flag, "--state-dir")) {
			if (copy_str(cfg->state_dir, sizeof(cfg->state_dir), val) < 0)
				USAGE("--state-dir: empty or longer than %zu characters", sizeof(cfg->state_dir) - 1);
		} else if (!strcmp(flag, "--api-socket")) {
			if (copy_str(cfg->api_socket, sizeof(cfg->api_socket), val) < 0)
				USAGE("--api-socket: empty or longer than %zu characters (a unix socket path limit)",
				      sizeof(cfg->api_socket) - 1);
		} else if (!strcmp(flag, "--password")) {
			if (!*val)
				USAGE("--password is empty (omit it to run without encryption)");
			free(cfg->password);
			cfg->password = strdup(val);
			flag_password = true;
			/* scrub it from argv so it does not show in ps */
			char *v = valp ? *valp : eq + 1;
			memset(v, 'x', strlen(v));
		} else if (!strcmp(flag, "--password-file")) {
			if (copy_str(cfg->password_file, sizeof(cfg->password_file), val) < 0)
				USAGE("--password-file: empty or too long path");
		} else if (!strcmp(flag, "--mtu")) {
			if (parse_uint(val, 576, 65000, &n) < 0)
				USAGE("--mtu '%.40s': not a number from 576 to 65000", val);
			cfg->mtu = (unsigned)n;
		} else if (!strcmp(flag, "--metrics-addr")) {
			if (!strcmp(val, "off")) {
				cfg->metrics_off = true;
			} else if (mesh_parse_peer_addr(val, 0, &cfg->metrics) < 0 || !cfg->metrics.port) {
				USAGE("--metrics-addr '%.40s': use IPv4:port (e.g. 127.0.0.1:6782) or off", val);
			} else {
				cfg->metrics_off = false;
			}
		} else if (!strcmp(flag, "--fastdp")) {
			static const char *const modes[] = { "auto", "odp", "vxlan", "off", NULL };
			int found = pick(val, modes);
			if (found < 0)
				USAGE("--fastdp '%.40s': use auto, vxlan, odp or off", val);
			cfg->fastdp = (enum mesh_fastdp_mode)found;
		} else if (!strcmp(flag, "--conn-limit")) {
			if (parse_uint(val, 1, 10000, &n) < 0)
				USAGE("--conn-limit '%.40s': not a number from 1 to 10000", val);
			cfg->conn_limit = (unsigned)n;
		} else if (!strcmp(flag, "--ipalloc-range")) {
			if (mesh_ipam_cidr_parse(val, &cfg->ipalloc_start, &cfg->ipalloc_prefix) < 0)
				USAGE("--ipalloc-range '%.40s': not an IPv4 CIDR with the host bits zero "
				      "(e.g. 10.32.0.0/12)", val);
		} else if (!strcmp(flag, "--ipalloc-default-subnet")) {
			if (mesh_ipam_cidr_parse(val, &cfg->ipalloc_subnet, &cfg->ipalloc_subnet_prefix) < 0)
				USAGE("--ipalloc-default-subnet '%.40s': not an IPv4 CIDR with the host bits "
				      "zero (e.g. 10.32.0.0/12)", val);
			have_subnet = true;
		} else if (!strcmp(flag, "--ipalloc-init")) {
			char why[MESH_IPAM_WHY_LEN];
			if (mesh_ipam_init_parse(val, &cfg->ipalloc_init, why) < 0)
				USAGE("%s%s", strstr(why, "--ipalloc-init") ? "" : "--ipalloc-init: ", why);
			if (strlen(val) < sizeof(cfg->ipalloc_init_str))
				snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str), "%s", val);
			else
				snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str),
					 "seed=(%zu peers)", cfg->ipalloc_init.nseeds);
			have_init = true;
		} else if (!strcmp(flag, "--ipam-reclaim-after")) {
			if (mesh_parse_duration_ms(val, &cfg->ipam_reclaim_after_ms) < 0)
				USAGE("--ipam-reclaim-after '%.40s': not a duration like 90s, 30m, 1h or "
				      "plain seconds (0 = never)", val);
		} else if (!strcmp(flag, "--log-level")) {
			static const char *const lv[] = { "error", "warn", "info", "debug", NULL };
			int found = pick(val, lv);
			if (found < 0)
				USAGE("--log-level '%.40s': use error, warn, info or debug", val);
			cfg->log_level = (enum mesh_log_level)found;
		}
	}
	for (unsigned k = 0; k < cfg->npeers; k++)
		if (cfg->peers[k].port == 0)
			cfg->peers[k].port = cfg->port;
	if (!have_subnet) {
		cfg->ipalloc_subnet = cfg->ipalloc_start;
		cfg->ipalloc_subnet_prefix = cfg->ipalloc_prefix;
	} else if (cfg->ipalloc_subnet_prefix > cfg->ipalloc_prefix ||
		   ((cfg->ipalloc_start ^ cfg->ipalloc_subnet) &
		    (cfg->ipalloc_subnet_prefix ? ~0u << (32 - cfg->ipalloc_subnet_prefix) : 0))) {
		char a[16], b[16];
		mesh_ipam_addr_format(cfg->ipalloc_subnet, a);
		mesh_ipam_addr_format(cfg->ipalloc_start, b);
		USAGE("--ipalloc-default-subnet %s/%u does not contain --ipalloc-range %s/%u", a,
		      cfg->ipalloc_subnet_prefix, b, cfg->ipalloc_prefix);
	}
	if (!have_init) {
		/* as Weave Net does: the first host names no peer and seeds alone, the second
		 * names one and waits for two peers, ... */
		memset(&cfg->ipalloc_init, 0, sizeof(cfg->ipalloc_init));
		cfg->ipalloc_init.quorum = cfg->npeers + 1;
		snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str), "consensus=%u",
			 cfg->npeers + 1);
	}
	if (flag_password && cfg->password_file[0])
		USAGE("--password and --password-file both given: use one");
	if (!flag_password && !cfg->password_file[0] && env_password) {
		if (!*env_password)
			USAGE("MESH_PASSWORD is set but empty (unset it to run without encryption)");
		cfg->password = strdup(env_password);
	}
	if (cfg->password && !*cfg->password)
		USAGE("the password is empty");
	return MESH_CONFIG_OK;
}

int mesh_parse_duration_ms(const char *s, uint64_t *ms)
{
	unsigned long v;
	char num[24];
	size_t n = strlen(s);
	uint64_t unit = 1000;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': unit = 1000; num[--n] = '\0'; break;
	case 'm': unit = 60 * 1000; num[--n] = '\0'; break;
	case 'h': unit = 3600 * 1000; num[--n] = '\0'; break;
	case 'd': unit = 86400 * 1000; num[--n] = '\0'; break;
	default: break;
	}
	if (parse_uint(num, 0, 10ul * 366 * 86400, &v) < 0 || (uint64_t)v * unit > 10ull * 366 * 86400 * 1000)
		return -1;
	*ms = (uint64_t)v * unit;
	return 0;
}

void mesh_config_free(struct mesh_config *cfg)
{
	if (cfg->password) {
		mesh_wipe(cfg->password, strlen(cfg->password));
		free(cfg->password);
		cfg->password = NULL;
	}
}
