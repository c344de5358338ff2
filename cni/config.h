/* cni/config.h: the CNI invocation as mesh-cni sees it: CNI_* environment plus the network
 * configuration JSON on stdin, parsed and validated into struct cni_config (pure, no I/O), and
 * the CNI error codes and error record every other cni/ module reports with. */
#ifndef MESH_CNI_CONFIG_H
#define MESH_CNI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* Error codes of the CNI spec (SPEC.md "Error"); 50 is the 1.1.0 STATUS code. */
enum cni_code {
	CNI_OK = 0,
	CNI_ERR_VERSION = 1,             /* incompatible CNI version */
	CNI_ERR_UNSUPPORTED_FIELD = 2,   /* unsupported field in network configuration */
	CNI_ERR_UNKNOWN_CONTAINER = 3,   /* container unknown or does not exist (netns absent) */
	CNI_ERR_INVALID_ENV = 4,         /* invalid or missing CNI_* environment variable */
	CNI_ERR_IO = 5,                  /* I/O failure */
	CNI_ERR_DECODE = 6,              /* failed to decode content */
	CNI_ERR_INVALID_CONFIG = 7,      /* invalid network config */
	CNI_ERR_TRY_AGAIN = 11,          /* try again later */
	CNI_ERR_NOT_AVAILABLE = 50,      /* plugin not available (STATUS) */
	CNI_ERR_INTERNAL = 999,          /* our own failure (netlink, exec, memory) */
};

#define CNI_MSG_MAX 256
#define CNI_DETAILS_MAX 768

struct cni_error {
	int code;
	char msg[CNI_MSG_MAX];
	char details[CNI_DETAILS_MAX];
};

/* Sets *e (msg verbatim, details from the format) and returns -1, so callers can
 * `return cni_fail(...)`. e may be NULL. */
int cni_fail(struct cni_error *e, int code, const char *msg, const char *details_fmt, ...)
	__attribute__((format(printf, 4, 5)));

enum cni_cmd { CNI_CMD_NONE, CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_VERSION,
	       CNI_CMD_GC, CNI_CMD_STATUS };

/* Spec versions mesh-cni speaks, in order. */
enum cni_ver { CNI_V_UNKNOWN = -1, CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110, CNI_V_COUNT };
extern const char *const cni_versions[CNI_V_COUNT];
enum cni_ver cni_version_parse(const char *s);

/* The CNI_* variables, as strings or NULL when unset (main fills it from getenv). */
struct cni_env {
	const char *command, *containerid, *netns, *ifname, *args, *path;
};

#define CNI_DEFAULT_BRIDGE "mesh"
#define CNI_DEFAULT_SOCKET "/run/mesh/meshd.sock"
#define CNI_IFNAME_MAX 16   /* IFNAMSIZ, NUL included */
#define CNI_SOCKET_MAX 108  /* sizeof(sockaddr_un.sun_path) */
#define CNI_NAME_MAX 256
#define CNI_PATH_MAX 4096

struct cni_config {
	enum cni_cmd cmd;
	enum cni_ver ver;
	char version[16];          /* as given, or "1.1.0" when the config named none (VERSION) */
	char name[CNI_NAME_MAX];
	char bridge[CNI_IFNAME_MAX];
	char socket[CNI_SOCKET_MAX];
	int mtu;                   /* 0: from meshd, else the bridge */
	bool is_default_gw;
	bool has_ipam;             /* false: mesh IPAM through meshd */
	char ipam_type[CNI_NAME_MAX];
	char gateway[16];          /* "gateway" (IPv4, for isDefaultGateway with mesh IPAM), or "" */
	/* "ipv6" (mesh IPAM only): absent = auto (the IPv6 address meshd gives too, except for a
	 * Kubernetes pod: NetworkPolicy does not match IPv6 yet), true, false (IPv4 only) */
	enum cni_ipv6 { CNI_IPV6_AUTO = 0, CNI_IPV6_ON, CNI_IPV6_OFF } ipv6;
	char gateway6[46];         /* "gateway6" (IPv6, the ::/0 route's with isDefaultGateway), or "" */
	cJSON *root;               /* the whole config, owned */
	const cJSON *prev_result;  /* inside root, or NULL */
	/* From the environment (point into the cni_env strings). */
	const char *containerid, *netns, *ifname, *path;
	const char *args;
};

/* Parses the command, the environment and the config (json, len bytes; need not be
 * NUL-terminated). 0 on success (free with cni_config_free), else -1 with *err set to the
 * CNI error to report; cfg->version is then the best guess of the caller's version. */
int cni_config_parse(const char *json, size_t len, const struct cni_env *env,
		     struct cni_config *cfg, struct cni_error *err);
void cni_config_free(struct cni_config *cfg);

/* Whether ADD with mesh IPAM configures meshd's IPv6 address too ("ipv6", see above). */
bool cni_config_wants_ipv6(const struct cni_config *cfg);

/* CNI_ARGS "K=V;K=V": 0 when well formed, else -1 with *err (code 4). Unknown keys are fine. */
int cni_args_check(const char *args, struct cni_error *err);
/* The value of key in CNI_ARGS ("K=V;K=V") into out: 0, -ENOENT when absent (or args NULL),
 * -E2BIG when longer than cap - 1. */
int cni_args_get(const char *args, const char *key, char *out, size_t cap);

/* The host end of the veth for (container id, ifname): "vethmesh" + 7 hex digits. */
void cni_host_veth_name(const char *containerid, const char *ifname, char out[CNI_IFNAME_MAX]);
/* The host veth's alias (IFLA_IFALIAS): "mesh-cni IFNAME CONTAINERID", cut to what the kernel
 * keeps (IFALIASZ - 1 bytes), so that DEL deletes only its own container's veth. */
#define CNI_OWNER_MAX 256
void cni_veth_owner(const char *containerid, const char *ifname, char out[CNI_OWNER_MAX]);

bool cni_valid_ifname(const char *s);

#endif
