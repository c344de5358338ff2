/* router/config.c: meshd flag and environment parsing (see config.h). One table of the
 * options (`options` below) drives parsing, the checks of each value and --help. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/psk.h"
#include "crypto/session.h" /* mesh_wipe */
#include "gossip/hello.h"
#include "router/config.h"
#include "sleeve/sleeve.h"

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

/* --- the options ---------------------------------------------------------------------------- */

/* What parsing one command line keeps besides the config. */
struct parse {
	struct mesh_config *cfg;
	char *err;
	size_t errlen;
	bool flag_password, have_subnet, have_init;
	char *in_argv;                 /* where the value is in argv (--password scrubs it) */
};

struct option;
/* Checks val and sets it in p->cfg. 0, or -1 with p->err set. */
typedef int (*option_set)(struct parse *p, const struct option *o, const char *val);

/* One flag: the table below drives parsing, validation and --help. */
struct option {
	const char *flag;
	const char *arg;               /* the value's name in --help; NULL: a flag without value */
	const char *help;              /* lines after the first are indented under the first */
	option_set set;
	size_t off;                    /* the field of struct mesh_config that set_* fill */
	unsigned long min, max;        /* set_uint */
	const char *const *choices;    /* set_choice: the values, NULL-terminated */
	const char *bad;               /* set_uint, set_choice: why a value is refused */
};

static int usage(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

#define FIELD(p, o, type) ((type *)((char *)(p)->cfg + (o)->off))

static int set_true(struct parse *p, const struct option *o, const char *val)
{
	*FIELD(p, o, bool) = true;
	return 0;
}

static int set_no_fastdp(struct parse *p, const struct option *o, const char *val)
{
	p->cfg->fastdp = MESH_FASTDP_OFF;
	return 0;
}

/* An unsigned field: a uint16_t when o->max fits one (cfg->port), else an unsigned. */
static int set_uint(struct parse *p, const struct option *o, const char *val)
{
	unsigned long n;
	if (parse_uint(val, o->min, o->max, &n) < 0)
		return usage(p, "%s '%.40s': %s", o->flag, val, o->bad);
	if (o->max <= UINT16_MAX)
		*FIELD(p, o, uint16_t) = (uint16_t)n;
	else
		*FIELD(p, o, unsigned) = (unsigned)n;
	return 0;
}

/* An enum field: the index of val in o->choices. */
static int set_choice(struct parse *p, const struct option *o, const char *val)
{
	for (int k = 0; o->choices[k]; k++)
		if (!strcmp(val, o->choices[k])) {
			*FIELD(p, o, int) = k;
			return 0;
		}
	return usage(p, "%s '%.40s': %s", o->flag, val, o->bad);
}

static int set_name(struct parse *p, const struct option *o, const char *val)
{
	if (mesh_peer_name_parse(val, &p->cfg->name) < 0)
		return usage(p, "--name '%.40s': not a peer name like 0a:1b:2c:3d:4e:5f", val);
	p->cfg->have_name = true;
	return 0;
}

static int set_nickname(struct parse *p, const struct option *o, const char *val)
{
	if (strlen(val) > 63 || !*val || !printable(val))
		return usage(p, "--nickname: 1 to 63 printable characters without spaces");
	snprintf(p->cfg->nickname, sizeof(p->cfg->nickname), "%s", val);
	return 0;
}

static int set_bridge(struct parse *p, const struct option *o, const char *val)
{
	if (copy_str(p->cfg->bridge, sizeof(p->cfg->bridge), val) < 0 || !printable(val) ||
	    strchr(val, '/'))
		return usage(p, "--bridge '%.40s': not an interface name (1-15 characters)", val);
	return 0;
}

/* --allow-from CIDR[,CIDR...], repeatable */
static int set_allow_from(struct parse *p, const struct option *o, const char *val)
{
	char buf[1024], *save = NULL;
	if (copy_str(buf, sizeof(buf), val) < 0)
		return usage(p, "--allow-from: empty or longer than %zu characters", sizeof(buf) - 1);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *why;
		if (p->cfg->nallow == MESH_ALLOW_FROM_MAX)
			return usage(p, "--allow-from: more than %d networks", MESH_ALLOW_FROM_MAX);
		if (mesh_cidr_parse(tok, &p->cfg->allow_from[p->cfg->nallow], &why) < 0)
			return usage(p, "--allow-from '%.60s': %s", tok, why);
		p->cfg->nallow++;
	}
	if (!p->cfg->nallow)
		return usage(p, "--allow-from: no network given");
	return 0;
}

static int set_kubeconfig(struct parse *p, const struct option *o, const char *val)
{
	if (copy_str(p->cfg->kubeconfig, sizeof(p->cfg->kubeconfig), val) < 0)
		return usage(p, "--kubeconfig: empty or longer than %zu characters",
			     sizeof(p->cfg->kubeconfig) - 1);
	return 0;
}

/* A Kubernetes object name (RFC 1123 subdomain): lower-case letters, digits, '-' and '.'. */
static int set_node_name(struct parse *p, const struct option *o, const char *val)
{
	size_t n = strlen(val);
	bool ok = n > 0 && n < sizeof(p->cfg->node_name);
	for (size_t i = 0; ok && i < n; i++)
		ok = (val[i] >= 'a' && val[i] <= 'z') || (val[i] >= '0' && val[i] <= '9') ||
		     val[i] == '-' || val[i] == '.';
	if (!ok)
		return usage(p, "--node-name '%.40s': not a Kubernetes node name (1-253 of a-z, 0-9, "
			     "'-' and '.')", val);
	snprintf(p->cfg->node_name, sizeof(p->cfg->node_name), "%s", val);
	return 0;
}

static int set_state_dir(struct parse *p, const struct option *o, const char *val)
{
	if (copy_str(p->cfg->state_dir, sizeof(p->cfg->state_dir), val) < 0)
		return usage(p, "--state-dir: empty or longer than %zu characters",
			     sizeof(p->cfg->state_dir) - 1);
	return 0;
}

static int set_api_socket(struct parse *p, const struct option *o, const char *val)
{
	if (copy_str(p->cfg->api_socket, sizeof(p->cfg->api_socket), val) < 0)
		return usage(p, "--api-socket: empty or longer than %zu characters (a unix socket "
			     "path limit)", sizeof(p->cfg->api_socket) - 1);
	return 0;
}

static int check_password(struct parse *p, const char *what, const char *pw)
{
	size_t n = strlen(pw);
	if (n >= MESH_PASSWORD_MIN)
		return 0;
	return usage(p, "%s is %zu bytes: a password must have at least %d (a short one can be "
		     "guessed offline from one handshake)", what, n, MESH_PASSWORD_MIN);
}

static int set_mesh_name(struct parse *p, const struct option *o, const char *val)
{
	if (!mesh_nickname_valid(val, strlen(val)))
		return usage(p, "--mesh-name: 1 to %d printable characters without spaces",
			     MESH_MESH_NAME_MAX);
	snprintf(p->cfg->mesh_name, sizeof(p->cfg->mesh_name), "%s", val);
	return 0;
}

static int set_password(struct parse *p, const struct option *o, const char *val)
{
	if (!*val)
		return usage(p, "--password is empty (omit it to run without encryption)");
	free(p->cfg->password);
	p->cfg->password = strdup(val);
	p->flag_password = true;
	/* scrub it from argv so it does not show in ps */
	memset(p->in_argv, 'x', strlen(p->in_argv));
	return check_password(p, "--password", p->cfg->password);
}

static int set_password_file(struct parse *p, const struct option *o, const char *val)
{
	if (copy_str(p->cfg->password_file, sizeof(p->cfg->password_file), val) < 0)
		return usage(p, "--password-file: empty or too long path");
	return 0;
}

static int set_metrics(struct parse *p, const struct option *o, const char *val)
{
	struct mesh_config *cfg = p->cfg;
	if (!strcmp(val, "off")) {
		cfg->metrics_off = true;
		return 0;
	}
	if (mesh_parse_peer_addr(val, 0, &cfg->metrics) < 0 || !cfg->metrics.port)
		return usage(p, "--metrics-addr '%.40s': use IPv4:port (e.g. 127.0.0.1:6782) or off",
			     val);
	cfg->metrics_off = false;
	return 0;
}

static int set_range(struct parse *p, const struct option *o, const char *val)
{
	if (mesh_ipam_cidr_parse(val, &p->cfg->ipalloc_start, &p->cfg->ipalloc_prefix) < 0)
		return usage(p, "--ipalloc-range '%.40s': not an IPv4 CIDR with the host bits zero "
			     "(e.g. 10.32.0.0/12)", val);
	return 0;
}

static int set_subnet(struct parse *p, const struct option *o, const char *val)
{
	if (mesh_ipam_cidr_parse(val, &p->cfg->ipalloc_subnet, &p->cfg->ipalloc_subnet_prefix) < 0)
		return usage(p, "--ipalloc-default-subnet '%.40s': not an IPv4 CIDR with the host "
			     "bits zero (e.g. 10.32.0.0/12)", val);
	p->have_subnet = true;
	return 0;
}

static int set_range6(struct parse *p, const struct option *o, const char *val)
{
	char why[MESH_IPAM_WHY_LEN];
	if (mesh_ipam6_parse(val, &p->cfg->ipalloc_range6, why) < 0)
		return usage(p, "--ipalloc-range6 %s", why);
	return 0;
}

static int set_init(struct parse *p, const struct option *o, const char *val)
{
	struct mesh_config *cfg = p->cfg;
	char why[MESH_IPAM_WHY_LEN];
	if (mesh_ipam_init_parse(val, &cfg->ipalloc_init, why) < 0)
		return usage(p, "%s%s", strstr(why, "--ipalloc-init") ? "" : "--ipalloc-init: ", why);
	if (strlen(val) < sizeof(cfg->ipalloc_init_str))
		snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str), "%s", val);
	else
		snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str), "seed=(%zu peers)",
			 cfg->ipalloc_init.nseeds);
	p->have_init = true;
	return 0;
}

static int set_reclaim(struct parse *p, const struct option *o, const char *val)
{
	if (mesh_parse_duration_ms(val, &p->cfg->ipam_reclaim_after_ms) < 0)
		return usage(p, "--ipam-reclaim-after '%.40s': not a duration like 90s, 30m, 1h or "
			     "plain seconds (0 = never)", val);
	return 0;
}

static const char *const fastdp_modes[] = { "auto", "odp", "vxlan", "off", NULL };
static const char *const on_off[] = { "on", "off", NULL };
static const char *const allow_deny[] = { "allow", "deny", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };

#define OFF(field) offsetof(struct mesh_config, field)

/* In the order of --help. */
static const struct option options[] = {
	{ .flag = "--name", .arg = "MAC", .set = set_name,
	  .help = "peer name (default: generated once, kept in the state dir)" },
	{ .flag = "--nickname", .arg = "NAME", .set = set_nickname,
	  .help = "nickname shown to others (default: hostname)" },
	{ .flag = "--port", .arg = "N", .set = set_uint, .off = OFF(port), .min = 1, .max = 65535,
	  .bad = "not a port number (1-65535)",
	  .help = "TCP control and UDP sleeve port (default 6783)" },
	{ .flag = "--bridge", .arg = "NAME", .set = set_bridge,
	  .help = "bridge containers attach to (default mesh)" },
	{ .flag = "--state-dir", .arg = "DIR", .set = set_state_dir,
	  .help = "persistent state (default /var/lib/mesh)" },
	{ .flag = "--api-socket", .arg = "PATH", .set = set_api_socket,
	  .help = "API unix socket (default /run/mesh/meshd.sock)" },
	{ .flag = "--password", .arg = "PW", .set = set_password,
	  .help = "encrypt with this password (prefer the file or the env)" },
	{ .flag = "--password-file", .arg = "FILE", .set = set_password_file,
	  .help = "read the password from FILE (a second line: also accepted; SIGHUP rereads)" },
	{ .flag = "--mesh-name", .arg = "NAME", .set = set_mesh_name,
	  .help = "this mesh's name, the same on every host (default mesh)" },
	{ .flag = "--mtu", .arg = "N", .set = set_uint, .off = OFF(mtu), .min = 576, .max = 65000,
	  .bad = "not a number from 576 to 65000",
	  .help = "overlay MTU (default: underlay 1500 minus overhead)" },
	{ .flag = "--log-level", .arg = "LEVEL", .set = set_choice, .off = OFF(log_level),
	  .choices = log_levels, .bad = "use error, warn, info or debug",
	  .help = "error, warn, info (default) or debug" },
	{ .flag = "--keep-bridge", .set = set_true, .off = OFF(keep_bridge),
	  .help = "leave the bridge in place on exit" },
	{ .flag = "--expose", .set = set_true, .off = OFF(expose),
	  .help = "give this host an address on the bridge from the mesh IPAM:\n"
		  "the host reaches containers, and they use it as their gateway" },
	{ .flag = "--masquerade", .set = set_true, .off = OFF(masquerade),
	  .help = "masquerade what containers send outside the subnet\n"
		  "(--ipalloc-default-subnet) behind the host's own address" },
	{ .flag = "--allow-from", .arg = "CIDR,...", .set = set_allow_from,
	  .help = "control connections only from these networks (IPv4 or IPv6; repeatable)" },
	{ .flag = "--no-discovery", .set = set_true, .off = OFF(no_discovery),
	  .help = "connect only to the PEERs given, not to peers learned by gossip" },
	{ .flag = "--fastdp", .arg = "MODE", .set = set_choice, .off = OFF(fastdp),
	  .choices = fastdp_modes, .bad = "use auto, vxlan, odp or off",
	  .help = "fast path: auto (default: odp where the module is, else\n"
		  "vxlan), odp (Open vSwitch datapath), vxlan (kernel VXLAN\n"
		  "device) or off (sleeve only)" },
	{ .flag = "--no-fastdp", .set = set_no_fastdp, .help = "same as --fastdp off" },
	{ .flag = "--conn-limit", .arg = "N", .set = set_uint, .off = OFF(conn_limit), .min = 1,
	  .max = 10000, .bad = "not a number from 1 to 10000",
	  .help = "at most N authenticated control connections (default 100)" },
	{ .flag = "--metrics-addr", .arg = "A|off", .set = set_metrics,
	  .help = "serve Prometheus metrics on IPv4:port A (default 127.0.0.1:6782)" },
	{ .flag = "--ipalloc-range", .arg = "CIDR", .set = set_range,
	  .help = "addresses the mesh IPAM hands out (default 10.32.0.0/12)" },
	{ .flag = "--ipalloc-range6", .arg = "CIDR|off", .set = set_range6,
	  .help = "IPv6 prefix (a /96 or wider) containers also get an address\n"
		  "from: the prefix + the 32 bits of their IPv4 address;\n"
		  "default " MESH_DEFAULT_IPALLOC_RANGE6 ", off: IPv4 only" },
	{ .flag = "--ipalloc-default-subnet", .arg = "CIDR", .set = set_subnet,
	  .help = "subnet (prefix) containers get; contains the range (default:\n"
		  "the range)" },
	{ .flag = "--ipalloc-init", .arg = "consensus=N|seed=NAME,...", .set = set_init,
	  .help = "first division of the range: among the first N peers known\n"
		  "(default N = number of PEERs + 1), or among the named peers" },
	{ .flag = "--ipam-reclaim-after", .arg = "D", .set = set_reclaim,
	  .help = "reclaim the space of a peer gone this long, by agreement\n"
		  "of the reachable majority: 90s, 30m (default), 1h, 0 = never" },
	{ .flag = "--kubeconfig", .arg = "FILE", .set = set_kubeconfig,
	  .help = "read the Kubernetes API server named in FILE (default: the\n"
		  "in-cluster service account when meshd runs in a pod)" },
	{ .flag = "--no-kube", .set = set_true, .off = OFF(no_kube),
	  .help = "do not read the Kubernetes API, even in a pod" },
	{ .flag = "--node-name", .arg = "NAME", .set = set_node_name,
	  .help = "this host's Kubernetes Node (default: the nickname)" },
	{ .flag = "--network-policy", .arg = "on|off", .set = set_choice, .off = OFF(network_policy),
	  .choices = on_off, .bad = "use on or off",
	  .help = "enforce Kubernetes NetworkPolicy (default on with Kubernetes)" },
	{ .flag = "--policy-multicast", .arg = "allow|deny", .set = set_choice,
	  .off = OFF(policy_multicast), .choices = allow_deny, .bad = "use allow or deny",
	  .help = "multicast and broadcast to and from pods a NetworkPolicy\n"
		  "isolates: allow (default) or deny like other traffic" },
	/* listed together at the end of --help */
	{ .flag = "--help", .set = set_true, .off = OFF(help) },
	{ .flag = "--version", .set = set_true, .off = OFF(version) },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))
#define HELP_COL 24

/* Appends one entry of --help to out: "  " and left, then the help text from column
 * HELP_COL (on the next line when left reaches that far), each further line indented so. */
static void help_entry(char *out, size_t cap, const char *left, const char *help)
{
	size_t n = strlen(out), w = strlen(left);
	if (!help) {
		snprintf(out + n, cap - n, "  %s\n", left);
		return;
	}
	if (2 + w + 1 > HELP_COL)
		snprintf(out + n, cap - n, "  %s\n%*s", left, HELP_COL, "");
	else
		snprintf(out + n, cap - n, "  %s%*s", left, (int)(HELP_COL - 2 - w), "");
	for (const char *l = help; *l;) {
		const char *nl = strchr(l, '\n');
		int len = nl ? (int)(nl - l) : (int)strlen(l);
		n = strlen(out);
		snprintf(out + n, cap - n, "%.*s\n%*s", len, l, nl ? HELP_COL : 0, "");
		l += len + (nl ? 1 : 0);
	}
}

const char *mesh_config_usage(void)
{
	static char text[4096];
	if (text[0])
		return text;
	snprintf(text, sizeof(text), "usage: meshd [OPTIONS] [PEER...]\n");
	help_entry(text, sizeof(text), "PEER", "address of a peer to connect to: IPv4[:port], "
		   "[IPv6][:port] or IPv6");
	for (size_t k = 0; k < NOPTIONS; k++) {
		char left[64];
		if (!options[k].help)
			continue;
		snprintf(left, sizeof(left), "%s%s%s", options[k].flag, options[k].arg ? " " : "",
			 options[k].arg ? options[k].arg : "");
		help_entry(text, sizeof(text), left, options[k].help);
	}
	help_entry(text, sizeof(text), "--help, --version", NULL);
	size_t n = strlen(text);
	snprintf(text + n, sizeof(text) - n,
		 "environment: MESH_PASSWORD  the password, when no flag gives one\n");
	return text;
}

static const struct option *find_option(const char *flag)
{
	for (size_t k = 0; k < NOPTIONS; k++)
		if (!strcmp(flag, options[k].flag))
			return &options[k];
	return NULL;
}

int mesh_config_parse(struct mesh_config *cfg, int argc, char **argv, const char *env_password,
		      char *err, size_t errlen)
{
	struct parse p = { .cfg = cfg, .err = err, .errlen = errlen };
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = SLEEVE_DEFAULT_PORT;
	cfg->log_level = MESH_LOG_INFO;
	snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", MESH_DEFAULT_BRIDGE);
	snprintf(cfg->mesh_name, sizeof(cfg->mesh_name), "%s", MESH_DEFAULT_MESH_NAME);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", MESH_DEFAULT_STATE_DIR);
	snprintf(cfg->api_socket, sizeof(cfg->api_socket), "%s", MESH_DEFAULT_API_SOCKET);
	snprintf(cfg->metrics.host, sizeof(cfg->metrics.host), "127.0.0.1");
	cfg->metrics.port = 6782;
	cfg->ipam_reclaim_after_ms = MESH_DEFAULT_IPAM_RECLAIM_AFTER_MS;
	mesh_ipam_cidr_parse(MESH_DEFAULT_IPALLOC_RANGE, &cfg->ipalloc_start, &cfg->ipalloc_prefix);
	char why6[MESH_IPAM_WHY_LEN];
	mesh_ipam6_parse(MESH_DEFAULT_IPALLOC_RANGE6, &cfg->ipalloc_range6, why6);

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (cfg->npeers == MESH_MAX_PEERS_ARG)
				USAGE("too many peers on the command line (at most %d)", MESH_MAX_PEERS_ARG);
			const char *why;
			if (mesh_addr_parse(a, 0, &cfg->peers[cfg->npeers], &why) < 0)
				USAGE("peer '%.80s': %s (give IPv4[:port], [IPv6][:port] or IPv6)", a, why);
			cfg->npeers++;
			continue;
		}
		if (a[1] != '-')
			USAGE("unknown flag '%s' (flags are long: see --help)", a);
		char flag[32];
		char *eq = strchr(a, '=');
		size_t fl = eq ? (size_t)(eq - a) : strlen(a);
		if (fl >= sizeof(flag))
			USAGE("unknown flag '%.40s'", a);
		memcpy(flag, a, fl);
		flag[fl] = '\0';
		const struct option *o = find_option(flag);
		if (!o)
			USAGE("unknown flag '%s' (see --help)", flag);
		if (!o->arg && eq)
			USAGE("%s takes no value", flag);
		if (!o->arg)
			p.in_argv = NULL;
		else if (eq)
			p.in_argv = eq + 1;
		else if (i + 1 < argc)
			p.in_argv = argv[++i];
		else
			USAGE("%s needs a value", flag);
		if (o->set(&p, o, p.in_argv) < 0)
			return MESH_CONFIG_USAGE;
	}
	for (unsigned k = 0; k < cfg->npeers; k++)
		if (cfg->peers[k].port == 0)
			cfg->peers[k].port = cfg->port;
	if (!p.have_subnet) {
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
	if (!p.have_init) {
		/* as Weave Net does: the first host names no peer and seeds alone, the second
		 * names one and waits for two peers, ... */
		memset(&cfg->ipalloc_init, 0, sizeof(cfg->ipalloc_init));
		cfg->ipalloc_init.quorum = cfg->npeers + 1;
		snprintf(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str), "consensus=%u",
			 cfg->npeers + 1);
	}
	if (p.flag_password && cfg->password_file[0])
		USAGE("--password and --password-file both given: use one");
	if (!p.flag_password && !cfg->password_file[0] && env_password) {
		if (!*env_password)
			USAGE("MESH_PASSWORD is set but empty (unset it to run without encryption)");
		cfg->password = strdup(env_password);
		if (check_password(&p, "MESH_PASSWORD", cfg->password) < 0)
			return MESH_CONFIG_USAGE;
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
