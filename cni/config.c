/* cni/config.c: parsing and validation of a mesh-cni invocation (CNI_* environment + network
 * config JSON) into struct cni_config. Pure: no I/O, so it is unit-tested and fuzzed directly.
 * Unknown config keys are ignored as the spec asks; known keys with a wrong type or value are
 * code 7, keys asking for behaviour mesh-cni does not have are code 2. */
#include "cni/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *const cni_versions[CNI_V_COUNT] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

int cni_fail(struct cni_error *e, int code, const char *msg, const char *details_fmt, ...)
{
	if (!e)
		return -1;
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->details[0] = '\0';
	if (details_fmt) {
		va_list ap;
		va_start(ap, details_fmt);
		vsnprintf(e->details, sizeof(e->details), details_fmt, ap);
		va_end(ap);
	}
	return -1;
}

enum cni_ver cni_version_parse(const char *s)
{
	if (!s)
		return CNI_V_UNKNOWN;
	for (int i = 0; i < CNI_V_COUNT; i++)
		if (!strcmp(s, cni_versions[i]))
			return (enum cni_ver)i;
	return CNI_V_UNKNOWN;
}

bool cni_valid_ifname(const char *s)
{
	size_t n = s ? strnlen(s, CNI_IFNAME_MAX) : 0;
	if (n == 0 || n >= CNI_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

/* The spec's container id / network name syntax: [a-zA-Z0-9][a-zA-Z0-9_.\-]*. */
static bool valid_id(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	if (n == 0 || n >= max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

/* An IPAM plugin type: a file name found in CNI_PATH, so no '/' and not "."/"..". */
static bool valid_plugin_name(const char *s)
{
	size_t n = strnlen(s, CNI_NAME_MAX);
	if (n == 0 || n >= CNI_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] < ' ')
			return false;
	return true;
}

static enum cni_cmd parse_cmd(const char *s)
{
	static const struct { const char *name; enum cni_cmd cmd; } cmds[] = {
		{ "ADD", CNI_CMD_ADD }, { "DEL", CNI_CMD_DEL }, { "CHECK", CNI_CMD_CHECK },
		{ "VERSION", CNI_CMD_VERSION }, { "GC", CNI_CMD_GC }, { "STATUS", CNI_CMD_STATUS },
	};
	for (size_t i = 0; s && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(s, cmds[i].name))
			return cmds[i].cmd;
	return CNI_CMD_NONE;
}

int cni_args_check(const char *args, struct cni_error *err)
{
	if (!args)
		return 0;
	const char *p = args;
	while (*p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0) {
			const char *eq = memchr(p, '=', n);
			if (!eq || eq == p)
				return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
						"pair \"%.*s\" is not KEY=VALUE", (int)(n > 200 ? 200 : n), p);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int cni_args_get(const char *args, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = args; p && *p;) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > klen + 1 && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = n - klen - 1;
			if (vlen + 1 > cap)
				return -E2BIG;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

void cni_host_veth_name(const char *containerid, const char *ifname, char out[CNI_IFNAME_MAX])
{
	uint32_t h = 2166136261u; /* FNV-1a over "containerid\0ifname" */
	for (const char *p = containerid ? containerid : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (const char *p = ifname ? ifname : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, CNI_IFNAME_MAX, "vethmesh%07x", (unsigned)(h & 0x0fffffffu));
}

void cni_veth_owner(const char *containerid, const char *ifname, char out[CNI_OWNER_MAX])
{
	snprintf(out, CNI_OWNER_MAX, "mesh-cni %s %s", ifname ? ifname : "",
		 containerid ? containerid : "");
}

/* Copies a string member into dst; absent → dflt (may be NULL = leave). -1 on wrong type or
 * too long, with *err set (code 7). */
static int get_str(const cJSON *root, const char *key, char *dst, size_t cap, const char *dflt,
		   bool required, struct cni_error *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"%s\" is required", key);
		if (dflt)
			snprintf(dst, cap, "%s", dflt);
		return 0;
	}
	if (!cJSON_IsString(j) || !j->valuestring)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"%s\" must be a string", key);
	size_t n = strlen(j->valuestring);
	if (n == 0 || n >= cap)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"%s\" must be 1 to %zu characters long", key, cap - 1);
	memcpy(dst, j->valuestring, n + 1);
	return 0;
}

static int parse_json_fields(struct cni_config *cfg, struct cni_error *err)
{
	const cJSON *root = cfg->root, *j;

	if (get_str(root, "name", cfg->name, sizeof(cfg->name), NULL, true, err) < 0)
		return -1;
	if (!valid_id(cfg->name, sizeof(cfg->name)))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"name\" must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
	char type[CNI_NAME_MAX];
	if (get_str(root, "type", type, sizeof(type), NULL, true, err) < 0)
		return -1;

	if (get_str(root, "bridge", cfg->bridge, sizeof(cfg->bridge), CNI_DEFAULT_BRIDGE, false, err) < 0)
		return -1;
	if (!cni_valid_ifname(cfg->bridge))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"bridge\" is not a valid interface name");
	if (get_str(root, "socket", cfg->socket, sizeof(cfg->socket), CNI_DEFAULT_SOCKET, false, err) < 0)
		return -1;
	if (cfg->socket[0] != '/')
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"socket\" must be an absolute path");

	j = cJSON_GetObjectItemCaseSensitive(root, "mtu");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsNumber(j) || j->valuedouble != (double)(int)j->valuedouble ||
		    j->valuedouble < 576 || j->valuedouble > 65535)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"mtu\" must be an integer from 576 to 65535");
		cfg->mtu = (int)j->valuedouble;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "isDefaultGateway");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsBool(j))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"isDefaultGateway\" must be true or false");
		cfg->is_default_gw = cJSON_IsTrue(j);
	}
	if (get_str(root, "gateway", cfg->gateway, sizeof(cfg->gateway), NULL, false, err) < 0)
		return -1;
	struct in_addr gw;
	if (cfg->gateway[0] && inet_pton(AF_INET, cfg->gateway, &gw) != 1)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"gateway\" must be an IPv4 address");
	j = cJSON_GetObjectItemCaseSensitive(root, "ipv6");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsBool(j))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"ipv6\" must be true or false");
		cfg->ipv6 = cJSON_IsTrue(j) ? CNI_IPV6_ON : CNI_IPV6_OFF;
	}
	if (get_str(root, "gateway6", cfg->gateway6, sizeof(cfg->gateway6), NULL, false, err) < 0)
		return -1;
	struct in6_addr gw6;
	if (cfg->gateway6[0] && inet_pton(AF_INET6, cfg->gateway6, &gw6) != 1)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"gateway6\" must be an IPv6 address");
	/* Keys of the reference bridge plugin asking for what mesh-cni does not do. */
	j = cJSON_GetObjectItemCaseSensitive(root, "ipMasq");
	if (j && cJSON_IsTrue(j))
		return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "unsupported field in network config",
				"ipMasq: true: mesh-cni does not masquerade; chain a plugin that does");
	j = cJSON_GetObjectItemCaseSensitive(root, "hairpinMode");
	if (j && cJSON_IsFalse(j))
		return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "unsupported field in network config",
				"hairpinMode: false: mesh-cni always turns hairpin on");
	j = cJSON_GetObjectItemCaseSensitive(root, "isGateway");
	if (j && cJSON_IsTrue(j))
		return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "unsupported field in network config",
				"isGateway: true: mesh-cni gives the bridge no address; use isDefaultGateway");

	j = cJSON_GetObjectItemCaseSensitive(root, "ipam");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsObject(j))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"ipam\" must be an object");
		if (get_str(j, "type", cfg->ipam_type, sizeof(cfg->ipam_type), NULL, true, err) < 0) {
			snprintf(err->details, sizeof(err->details), "\"ipam\" needs a string \"type\"");
			return -1;
		}
		if (!valid_plugin_name(cfg->ipam_type))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"ipam.type\" must be a plugin file name (no '/')");
		cfg->has_ipam = true;
	}

	j = cJSON_GetObjectItemCaseSensitive(root, "prevResult");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsObject(j))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"\"prevResult\" must be an object");
		cfg->prev_result = j;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "runtimeConfig");
	if (j && !cJSON_IsNull(j) && !cJSON_IsObject(j))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"runtimeConfig\" must be an object");
	return 0;
}

/* Environment checks per command (SPEC.md "Parameters"). */
static int check_env(struct cni_config *cfg, const struct cni_env *env, struct cni_error *err)
{
	enum cni_cmd c = cfg->cmd;
	bool need_container = c == CNI_CMD_ADD || c == CNI_CMD_DEL || c == CNI_CMD_CHECK;
	bool need_path = need_container || c == CNI_CMD_GC || c == CNI_CMD_STATUS;

	if (need_container) {
		if (!env->containerid || !*env->containerid)
			return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_CONTAINERID is required", NULL);
		if (!valid_id(env->containerid, CNI_NAME_MAX))
			return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_CONTAINERID",
					"must match [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most %d characters",
					CNI_NAME_MAX - 1);
		if (!env->ifname || !*env->ifname)
			return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_IFNAME is required", NULL);
		if (!cni_valid_ifname(env->ifname))
			return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
					"an interface name is 1-15 characters, no '/', ':' or spaces");
	}
	if ((c == CNI_CMD_ADD || c == CNI_CMD_CHECK) && (!env->netns || !*env->netns))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_NETNS is required", NULL);
	if (env->netns && *env->netns && need_container &&
	    (env->netns[0] != '/' || strnlen(env->netns, CNI_PATH_MAX) >= CNI_PATH_MAX))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_NETNS",
				"must be an absolute path");
	if (need_path && (!env->path || !*env->path))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_PATH is required", NULL);
	if (cni_args_check(env->args, err) < 0)
		return -1;
	cfg->containerid = env->containerid;
	cfg->ifname = env->ifname;
	cfg->netns = env->netns && *env->netns ? env->netns : NULL;
	cfg->path = env->path;
	cfg->args = env->args;
	return 0;
}

int cni_config_parse(const char *json, size_t len, const struct cni_env *env,
		     struct cni_config *cfg, struct cni_error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(err, 0, sizeof(*err));
	cfg->ver = CNI_V110;
	snprintf(cfg->version, sizeof(cfg->version), "%s", cni_versions[CNI_V110]);

	cfg->cmd = parse_cmd(env->command);
	if (!env->command || !*env->command)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_COMMAND is required", NULL);
	if (cfg->cmd == CNI_CMD_NONE)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
				"\"%.64s\" is not ADD, DEL, CHECK, VERSION, GC or STATUS", env->command);

	if (len == 0 || !json) {
		if (cfg->cmd == CNI_CMD_VERSION)
			return 0;
		return cni_fail(err, CNI_ERR_DECODE, "no network config on stdin", NULL);
	}
	const char *end = NULL;
	cfg->root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!cfg->root)
		return cni_fail(err, CNI_ERR_DECODE, "network config is not valid JSON",
				"parse error at byte %td",
				end && end >= json ? end - json : (ptrdiff_t)0);
	/* Only whitespace may follow the object. */
	for (const char *p = end; p && p < json + len; p++)
		if (!isspace((unsigned char)*p) && *p != '\0')
			return cni_fail(err, CNI_ERR_DECODE, "network config is not valid JSON",
					"trailing data at byte %td", p - json);
	if (!cJSON_IsObject(cfg->root))
		return cni_fail(err, CNI_ERR_DECODE, "network config must be a JSON object", NULL);

	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg->root, "cniVersion");
	if (!v || !cJSON_IsString(v) || !v->valuestring || !*v->valuestring) {
		if (cfg->cmd == CNI_CMD_VERSION)
			return 0;
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"\"cniVersion\" is required and must be a string");
	}
	enum cni_ver ver = cni_version_parse(v->valuestring);
	if (ver == CNI_V_UNKNOWN) {
		if (cfg->cmd == CNI_CMD_VERSION)
			return 0;
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"cniVersion \"%.32s\" is not one of 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				v->valuestring);
	}
	cfg->ver = ver;
	snprintf(cfg->version, sizeof(cfg->version), "%s", cni_versions[ver]);
	if (cfg->cmd == CNI_CMD_VERSION)
		return 0;
	if (cfg->cmd == CNI_CMD_CHECK && ver < CNI_V040)
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"CHECK needs cniVersion 0.4.0 or later, the config has %s", cfg->version);
	if ((cfg->cmd == CNI_CMD_GC || cfg->cmd == CNI_CMD_STATUS) && ver < CNI_V110)
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"%s needs cniVersion 1.1.0, the config has %s",
				cfg->cmd == CNI_CMD_GC ? "GC" : "STATUS", cfg->version);

	if (check_env(cfg, env, err) < 0)
		return -1;
	if (parse_json_fields(cfg, err) < 0)
		return -1;
	if (cfg->cmd == CNI_CMD_CHECK && !cfg->prev_result)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
				"CHECK needs \"prevResult\"");
	/* mesh IPAM with isDefaultGateway and no "gateway": meshd's host address (--expose) is
	 * the gateway; ADD fails if meshd has none */
	return 0;
}

bool cni_config_wants_ipv6(const struct cni_config *cfg)
{
	char ns[8];
	if (cfg->ipv6 != CNI_IPV6_AUTO)
		return cfg->ipv6 == CNI_IPV6_ON;
	/* a Kubernetes pod: IPv6 only in a dual-stack cluster, which the config says (the API
	 * server of a single-stack one shows no pod's IPv6, so NetworkPolicy could not name
	 * other nodes' pods by it) */
	return cni_args_get(cfg->args, "K8S_POD_NAMESPACE", ns, sizeof(ns)) == -ENOENT;
}

void cni_config_free(struct cni_config *cfg)
{
	if (!cfg)
		return;
	cJSON_Delete(cfg->root);
	cfg->root = NULL;
	cfg->prev_result = NULL;
}
