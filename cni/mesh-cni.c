/* cni/mesh-cni.c: main() of mesh-cni, the CNI plugin (DESIGN §2 cni/): reads CNI_* and the
 * network config, runs VERSION, ADD, DEL, CHECK, GC or STATUS, prints the Result or a CNI
 * error object on stdout (exit 1 on error). Addresses come from meshd's mesh-wide IPAM when the
 * config has no "ipam" key, else from the delegated IPAM plugin it names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cni/config.h"
#include "cni/ipam.h"
#include "cni/ipam_answer.h"
#include "cni/meshd_client.h"
#include "cni/netlink.h"
#include "cni/result.h"
#include "mesh/clock.h"

#define STDIN_MAX (1 << 20)

static int read_stdin(char **out, size_t *outlen, struct cni_error *err)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	if (!buf)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	for (;;) {
		if (len == cap) {
			if (cap >= STDIN_MAX) {
				free(buf);
				return cni_fail(err, CNI_ERR_DECODE, "network config too large",
						"more than %d bytes on stdin", STDIN_MAX);
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(0, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return cni_fail(err, CNI_ERR_IO, "cannot read the network config",
					"stdin: %s", strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* The MTU for the veth: config, else meshd's, else the bridge's own. */
static int pick_mtu(const struct cni_config *cfg, int *mtu, struct cni_error *err)
{
	int m = 0, r;
	if (cfg->mtu) {
		*mtu = cfg->mtu;
		return 0;
	}
	r = cni_meshd_status(cfg->socket, &m);
	if (r == 0 && m > 0) {
		*mtu = m;
		return 0;
	}
	int br = cni_nl_link_mtu(cfg->bridge);
	if (br > 0) {
		*mtu = br;
		return 0;
	}
	return cni_fail(err, CNI_ERR_TRY_AGAIN, "meshd is not reachable and its bridge is missing",
			"meshd API socket %s: %s; bridge %s: %s. Is meshd running?", cfg->socket,
			r < 0 ? strerror(-r) : "no mtu in /v1/status", cfg->bridge,
			strerror(br < 0 ? -br : ENODEV));
}

/* --- mesh IPAM: meshd's /v1/ipam endpoints ------------------------------------------------ */

#define MESH_IPAM_WAIT_MS 30000   /* how long ADD waits for meshd to give an address */
#define MESH_IPAM_RETRY_MS 200

/* {"container_id": id, "network": the config's name} (and "ifname" when given), or NULL when
 * out of memory. meshd keeps each network's allocations apart (a GC of one leaves the others).
 * With pod, the Kubernetes pod kubelet names in CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME) as
 * "pod": meshd's NetworkPolicy enforcer isolates the address before the pod's first packet. */
static char *id_body(const struct cni_config *cfg, const char *ifname, bool pod)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "container_id", cfg->containerid);
	cJSON_AddStringToObject(o, "network", cfg->name);
	if (ifname)
		cJSON_AddStringToObject(o, "ifname", ifname);
	char ns[256], name[256];
	if (pod && cni_args_get(cfg->args, "K8S_POD_NAMESPACE", ns, sizeof(ns)) == 0 &&
	    cni_args_get(cfg->args, "K8S_POD_NAME", name, sizeof(name)) == 0) {
		cJSON *p = cJSON_AddObjectToObject(o, "pod");
		cJSON_AddStringToObject(p, "namespace", ns);
		cJSON_AddStringToObject(p, "name", name);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* meshd's "error" of an answer, or a stand-in. */
static const char *answer_error(const cJSON *j, int code)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(e) && e->valuestring[0])
		return e->valuestring;
	return code ? "meshd gave no reason" : "no answer";
}

/* ADD without "ipam": asks meshd for the container's address, retrying while meshd says to
 * (ring not seeded yet, space asked from a donor) or does not answer, for up to 30 s. */
static int mesh_ipam_add(const struct cni_config *cfg, struct cni_result *res, struct cni_error *err)
{
	char *body = id_body(cfg, cfg->ifname, true);
	char last[400] = "";
	uint64_t deadline = mesh_mono_ms() + MESH_IPAM_WAIT_MS;
	int ret = -1;
	if (!body)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	for (;;) {
		cJSON *j = NULL;
		int code = 0;
		bool retry;
		int r = cni_meshd_request(cfg->socket, "POST", "/v1/ipam/allocate", body, 5, &code, &j);
		if (r == 0 && code == 200) {
			/* IPv4, and IPv6 when meshd has --ipalloc-range6, the config wants it and
			 * the kernel has IPv6 (booted with ipv6.disable=1 it has no /proc/sys/net/ipv6) */
			bool kernel_ipv6 = access("/proc/sys/net/ipv6", F_OK) == 0;
			if (cni_ipam_answer_ips(j, cfg, kernel_ipv6, 1, res, err) < 0) {
				cJSON_Delete(j);
				snprintf(err->details + strlen(err->details),
					 sizeof(err->details) - strlen(err->details),
					 " (POST /v1/ipam/allocate on %s)", cfg->socket);
				break;
			}
			cJSON_Delete(j);
			ret = 0;
			break;
		}
		if (r < 0) {
			snprintf(last, sizeof(last), "meshd API socket %s: %s (is meshd running?)",
				 cfg->socket, strerror(-r));
			retry = true;
		} else {
			const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "retry");
			snprintf(last, sizeof(last), "meshd: %s", answer_error(j, code));
			retry = code == 503 || cJSON_IsTrue(rt);
		}
		cJSON_Delete(j);
		if (!retry) {
			cni_fail(err, code == 400 ? CNI_ERR_INVALID_ENV : CNI_ERR_INTERNAL,
				 "mesh IPAM refused to give an address", "%s (HTTP %d)", last, code);
			break;
		}
		if (mesh_mono_ms() + MESH_IPAM_RETRY_MS > deadline) {
			cni_fail(err, CNI_ERR_TRY_AGAIN, "mesh IPAM gave no address; try again later",
				 "%s (asked for %d s)", last, MESH_IPAM_WAIT_MS / 1000);
			break;
		}
		usleep(MESH_IPAM_RETRY_MS * 1000);
	}
	free(body);
	return ret;
}

/* Releases the container's address in meshd. 0 when released or there was none; 1 when meshd
 * is not reachable (nothing more can be done now); -1 with *err when meshd failed. */
static int mesh_ipam_release(const struct cni_config *cfg, struct cni_error *err)
{
	char *body = id_body(cfg, NULL, false);
	cJSON *j = NULL;
	int code = 0;
	if (!body)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	int r = cni_meshd_request(cfg->socket, "POST", "/v1/ipam/release", body, 5, &code, &j);
	free(body);
	if (r < 0) {
		fprintf(stderr, "mesh-cni: cannot release the address of %s: meshd API socket %s: %s; "
			"meshd keeps it until a DEL or GC reaches it\n", cfg->containerid, cfg->socket,
			strerror(-r));
		return 1;
	}
	int ret = 0;
	if (code != 200)
		ret = cni_fail(err, code >= 500 ? CNI_ERR_TRY_AGAIN : CNI_ERR_INTERNAL,
			       "mesh IPAM could not release the address", "meshd: %s (HTTP %d)",
			       answer_error(j, code), code);
	cJSON_Delete(j);
	return ret;
}

/* CHECK without "ipam": meshd still has the address prevResult names. */
static int mesh_ipam_check(const struct cni_config *cfg, const struct cni_result *prev,
			   struct cni_error *err)
{
	char *body = id_body(cfg, NULL, false), addr[CNI_ADDR_MAX], addr6[CNI_ADDR_MAX];
	cJSON *j = NULL;
	int code = 0, ret = -1;
	if (!body)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	int r = cni_meshd_request(cfg->socket, "POST", "/v1/ipam/lookup", body, 5, &code, &j);
	free(body);
	if (r < 0) {
		cni_fail(err, CNI_ERR_TRY_AGAIN, "meshd is not reachable", "meshd API socket %s: %s",
			 cfg->socket, strerror(-r));
	} else if (code == 404) {
		cni_fail(err, CNI_ERR_INTERNAL, "meshd has no address for this container",
			 "mesh IPAM lost the allocation of %s", cfg->containerid);
	} else if (code != 200 || cni_ipam_answer_addrs(j, addr, addr6) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "mesh IPAM lookup failed", "meshd: %s (HTTP %d)",
			 answer_error(j, code), code);
	} else {
		/* meshd's IPv4 address, and its IPv6 one when prevResult has IPv6 (ADD configured
		 * it), must be prevResult's */
		bool have4 = false, have6 = false, any6 = false;
		for (int i = 0; i < prev->n_ips; i++) {
			have4 |= !strcmp(prev->ips[i].address, addr);
			have6 |= addr6[0] && !strcmp(prev->ips[i].address, addr6);
			any6 |= prev->ips[i].family == AF_INET6;
		}
		if (!have4)
			cni_fail(err, CNI_ERR_INTERNAL, "the container's address is not meshd's",
				 "meshd has %s for %s, prevResult does not", addr, cfg->containerid);
		else if (any6 && addr6[0] && !have6)
			cni_fail(err, CNI_ERR_INTERNAL, "the container's IPv6 address is not meshd's",
				 "meshd has %s for %s, prevResult does not", addr6, cfg->containerid);
		else
			ret = 0;
	}
	cJSON_Delete(j);
	return ret;
}

/* GC (CNI 1.1) without "ipam": meshd releases every address of this network whose container is
 * not among cni.dev/valid-attachments. Without that list there is nothing safe to do. */
static int mesh_ipam_gc(const struct cni_config *cfg, struct cni_error *err)
{
	const cJSON *va = cJSON_GetObjectItemCaseSensitive(cfg->root, "cni.dev/valid-attachments"), *a;
	if (!cJSON_IsArray(va))
		return 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "network", cfg->name);
	cJSON *keep = cJSON_AddArrayToObject(o, "keep");
	cJSON_ArrayForEach(a, va) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "containerID");
		if (!cJSON_IsString(id)) {
			cJSON_Delete(o);
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network config",
					"every cni.dev/valid-attachments entry needs a string containerID");
		}
		cJSON_AddItemToArray(keep, cJSON_CreateString(id->valuestring));
	}
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!body)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	cJSON *j = NULL;
	int code = 0, ret = 0;
	int r = cni_meshd_request(cfg->socket, "POST", "/v1/ipam/gc", body, 10, &code, &j);
	free(body);
	if (r < 0)
		ret = cni_fail(err, CNI_ERR_TRY_AGAIN, "meshd is not reachable", "meshd API socket %s: %s",
			       cfg->socket, strerror(-r));
	else if (code != 200)
		ret = cni_fail(err, CNI_ERR_INTERNAL, "mesh IPAM garbage collection failed",
			       "meshd: %s (HTTP %d)", answer_error(j, code), code);
	cJSON_Delete(j);
	return ret;
}

static int ipam_release(const struct cni_config *cfg, const char *in, size_t inlen)
{
	struct cni_error e;
	if (!cfg->has_ipam) {
		if (mesh_ipam_release(cfg, &e) < 0) {
			fprintf(stderr, "mesh-cni: releasing the address after a failed ADD: %s: %s\n",
				e.msg, e.details);
			return -1;
		}
		return 0;
	}
	if (cni_ipam_exec(cfg, "DEL", in, inlen, NULL, &e) < 0) {
		fprintf(stderr, "mesh-cni: IPAM DEL after a failed ADD: %s: %s\n", e.msg, e.details);
		return -1;
	}
	return 0;
}

static int cmd_add(const struct cni_config *cfg, const char *in, size_t inlen, struct cni_error *err)
{
	struct cni_result ipam, res;
	cJSON *ij = NULL;
	char host[CNI_IFNAME_MAX], msg[512], owner[CNI_OWNER_MAX];
	char *json = NULL;
	int mtu = 0, nsfd = -1, ret = -1;
	bool allocated = false, veth = false;

	memset(&ipam, 0, sizeof(ipam));
	memset(&res, 0, sizeof(res));
	nsfd = open(cfg->netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER, "the container's netns does not exist",
			 "CNI_NETNS=%s: %s", cfg->netns, strerror(errno));
		goto out;
	}
	if (pick_mtu(cfg, &mtu, err) < 0)
		goto out;
	if (!cfg->has_ipam) {
		if (mesh_ipam_add(cfg, &ipam, err) < 0)
			goto out;
		allocated = true;
	} else {
		if (cni_ipam_exec(cfg, "ADD", in, inlen, &ij, err) < 0)
			goto out;
		allocated = true;
		if (!ij) {
			cni_fail(err, CNI_ERR_DECODE, "IPAM plugin printed no result", "%s ADD",
				 cfg->ipam_type);
			goto out;
		}
		if (cni_result_parse(ij, &ipam, err) < 0)
			goto out;
	}
	if (ipam.n_ips == 0) {
		cni_fail(err, CNI_ERR_DECODE, "IPAM plugin gave no address", "%s ADD", cfg->ipam_type);
		goto out;
	}

	/* The result: host veth (0), container iface (1); ips and routes from IPAM. */
	cni_host_veth_name(cfg->containerid, cfg->ifname, host);
	res.n_ifaces = 2;
	snprintf(res.ifaces[0].name, sizeof(res.ifaces[0].name), "%s", host);
	snprintf(res.ifaces[1].name, sizeof(res.ifaces[1].name), "%s", cfg->ifname);
	snprintf(res.ifaces[1].sandbox, sizeof(res.ifaces[1].sandbox), "%s", cfg->netns);
	for (int i = 0; i < ipam.n_ips; i++) {
		res.ips[res.n_ips] = ipam.ips[i];
		res.ips[res.n_ips++].iface = 1;
	}
	for (int i = 0; i < ipam.n_routes; i++)
		res.routes[res.n_routes++] = ipam.routes[i];
	if (cfg->is_default_gw && cni_default_routes(&res, cfg->has_ipam, err) < 0)
		goto out;
	res.dns = ipam.dns;
	ipam.dns = NULL;

	msg[0] = '\0';
	cni_veth_owner(cfg->containerid, cfg->ifname, owner);
	if (cni_nl_veth_add(host, cfg->ifname, nsfd, cfg->bridge, mtu, owner, res.ifaces[0].mac, msg,
			    sizeof(msg)) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "cannot create the veth pair", "%s", msg);
		goto out;
	}
	veth = true;
	struct cni_ns_setup setup = { .ifname = cfg->ifname, .res = &res, .idx = 1 };
	if (cni_ns_run(cfg->netns, cni_nl_container_setup, &setup, sizeof(setup), msg, sizeof(msg)) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "cannot configure the container interface", "%s", msg);
		goto out;
	}
	memcpy(res.ifaces[1].mac, setup.mac, sizeof(setup.mac));
	json = cni_result_json(&res, cfg->version);
	if (!json) {
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
		goto out;
	}
	puts(json);
	ret = 0;
out:
	if (ret < 0 && veth)
		cni_nl_link_del(host);
	if (ret < 0 && allocated)
		ipam_release(cfg, in, inlen);
	free(json);
	cJSON_Delete(ij);
	cni_result_free(&ipam);
	cni_result_free(&res);
	if (nsfd >= 0)
		close(nsfd);
	return ret;
}

static int cmd_del(const struct cni_config *cfg, const char *in, size_t inlen, struct cni_error *err)
{
	char host[CNI_IFNAME_MAX], owner[CNI_OWNER_MAX], other[256];
	cni_host_veth_name(cfg->containerid, cfg->ifname, host);
	cni_veth_owner(cfg->containerid, cfg->ifname, owner);
	/* Deleting the host end removes the pair, wherever the netns is (or whether it still is),
	 * but only ours: the name is a 28-bit hash, so another container's veth may have it */
	int r = cni_nl_link_del_owned(host, owner, other);
	if (r == -EEXIST)
		fprintf(stderr, "mesh-cni: DEL of %s: veth %s belongs to another container (\"%s\"); "
			"left in place\n", cfg->containerid, host, other);
	else if (r < 0)
		return cni_fail(err, CNI_ERR_INTERNAL, "cannot delete the veth pair", "%s: %s", host,
				strerror(-r));
	if (cfg->has_ipam && cni_ipam_exec(cfg, "DEL", in, inlen, NULL, err) < 0)
		return -1;
	/* mesh IPAM: released in meshd; when meshd is not reachable DEL still succeeds (the spec
	 * wants DEL to clean up what it can), and a later DEL or GC releases the address */
	if (!cfg->has_ipam && mesh_ipam_release(cfg, err) < 0)
		return -1;
	return 0;
}

static int cmd_check(const struct cni_config *cfg, const char *in, size_t inlen, struct cni_error *err)
{
	struct cni_result prev;
	char host[CNI_IFNAME_MAX], msg[512];
	int idx = -1, ret = -1;

	if (access(cfg->netns, F_OK) < 0)
		return cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER, "the container's netns does not exist",
				"CNI_NETNS=%s: %s", cfg->netns, strerror(errno));
	if (cni_result_parse(cfg->prev_result, &prev, err) < 0)
		return -1;
	for (int i = 0; i < prev.n_ifaces; i++)
		if (!strcmp(prev.ifaces[i].name, cfg->ifname) && prev.ifaces[i].sandbox[0])
			idx = i;
	if (idx < 0) {
		cni_fail(err, CNI_ERR_INVALID_CONFIG, "prevResult does not name the container interface",
			 "no interface \"%s\" with a sandbox in prevResult", cfg->ifname);
		goto out;
	}
	cni_host_veth_name(cfg->containerid, cfg->ifname, host);
	if (cni_nl_link_exists(host) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "the host end of the veth is missing", "%s", host);
		goto out;
	}
	struct cni_ns_check chk = { .ifname = cfg->ifname, .res = &prev, .idx = idx };
	if (cni_ns_run(cfg->netns, cni_nl_container_check, &chk, sizeof(chk), msg, sizeof(msg)) < 0) {
		cni_fail(err, CNI_ERR_INTERNAL, "the container interface is not as ADD left it", "%s", msg);
		goto out;
	}
	if (cfg->has_ipam ? cni_ipam_exec(cfg, "CHECK", in, inlen, NULL, err) < 0
			  : mesh_ipam_check(cfg, &prev, err) < 0)
		goto out;
	ret = 0;
out:
	cni_result_free(&prev);
	return ret;
}

static int cmd_status(const struct cni_config *cfg, struct cni_error *err)
{
	int mtu;
	int r = cni_meshd_status(cfg->socket, &mtu);
	if (r < 0)
		return cni_fail(err, CNI_ERR_NOT_AVAILABLE, "plugin not available: meshd does not answer",
				"GET /v1/status on %s: %s", cfg->socket, strerror(-r));
	if (cfg->has_ipam)
		return 0;
	/* mesh IPAM: not available while the mesh has not divided its range yet (an ADD would
	 * wait for it); a host out of space asks others on the next ADD, so that is fine */
	cJSON *j = NULL;
	int code = 0;
	r = cni_meshd_request(cfg->socket, "GET", "/v1/ipam", NULL, 2, &code, &j);
	const cJSON *seeded = cJSON_GetObjectItemCaseSensitive(j, "seeded");
	if (r == 0 && code == 200 && cJSON_IsFalse(seeded)) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(j, "why_not_ready");
		cni_fail(err, CNI_ERR_NOT_AVAILABLE, "plugin not available: mesh IPAM is not ready",
			 "meshd: %s", cJSON_IsString(why) ? why->valuestring : "the IPAM ring is not seeded");
		cJSON_Delete(j);
		return -1;
	}
	cJSON_Delete(j);
	return 0;
}

int main(void)
{
	struct cni_env env = {
		.command = getenv("CNI_COMMAND"),
		.containerid = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"),
		.ifname = getenv("CNI_IFNAME"),
		.args = getenv("CNI_ARGS"),
		.path = getenv("CNI_PATH"),
	};
	struct cni_config cfg;
	struct cni_error err;
	char *in = NULL;
	size_t inlen = 0;
	int ret = -1;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.version, sizeof(cfg.version), "%s", cni_versions[CNI_V110]);
	memset(&err, 0, sizeof(err));
	if (read_stdin(&in, &inlen, &err) < 0)
		goto out;
	if (cni_config_parse(in, inlen, &env, &cfg, &err) < 0)
		goto out;
	switch (cfg.cmd) {
	case CNI_CMD_VERSION: {
		char *v = cni_version_json(cfg.version);
		if (!v) {
			cni_fail(&err, CNI_ERR_INTERNAL, "out of memory", NULL);
			goto out;
		}
		puts(v);
		free(v);
		ret = 0;
		break;
	}
	case CNI_CMD_ADD:
		ret = cmd_add(&cfg, in, inlen, &err);
		break;
	case CNI_CMD_DEL:
		ret = cmd_del(&cfg, in, inlen, &err);
		break;
	case CNI_CMD_CHECK:
		ret = cmd_check(&cfg, in, inlen, &err);
		break;
	case CNI_CMD_GC:
		/* With mesh IPAM meshd releases the addresses of containers not in the list. The
		 * veths go with their netns; host-local and the like keep no GC-able state that the
		 * CNI 1.0 plugins understand, so GC succeeds for them. */
		ret = cfg.has_ipam ? 0 : mesh_ipam_gc(&cfg, &err);
		break;
	case CNI_CMD_STATUS:
		ret = cmd_status(&cfg, &err);
		break;
	default:
		cni_fail(&err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND", NULL);
		break;
	}
out:
	if (ret < 0) {
		char *e = cni_error_json(cfg.version, &err);
		if (e)
			puts(e);
		else
			printf("{\"code\":%d,\"msg\":\"out of memory\"}\n", CNI_ERR_INTERNAL);
		free(e);
	}
	fflush(stdout);
	cni_config_free(&cfg);
	free(in);
	return ret < 0 ? 1 : 0;
}
