/* cni/mesh-cni.c: main() of mesh-cni, the CNI plugin (DESIGN §2 cni/): reads CNI_* and the
 * network config, runs VERSION, ADD, DEL, CHECK, GC or STATUS, prints the Result or a CNI
 * error object on stdout (exit 1 on error). Addresses come from a delegated IPAM plugin
 * (mesh-wide IPAM in meshd is not there yet). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cni/config.h"
#include "cni/ipam.h"
#include "cni/meshd_client.h"
#include "cni/netlink.h"
#include "cni/result.h"

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

static int ipam_release(const struct cni_config *cfg, const char *in, size_t inlen)
{
	struct cni_error e;
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
	char host[CNI_IFNAME_MAX], msg[512];
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
	if (cni_ipam_exec(cfg, "ADD", in, inlen, &ij, err) < 0)
		goto out;
	allocated = true;
	if (!ij) {
		cni_fail(err, CNI_ERR_DECODE, "IPAM plugin printed no result", "%s ADD", cfg->ipam_type);
		goto out;
	}
	if (cni_result_parse(ij, &ipam, err) < 0)
		goto out;
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
	if (cfg->is_default_gw) {
		const char *gw = NULL;
		for (int i = 0; i < res.n_ips && !gw; i++)
			if (res.ips[i].family == AF_INET && res.ips[i].gateway[0])
				gw = res.ips[i].gateway;
		if (!gw) {
			cni_fail(err, CNI_ERR_INVALID_CONFIG, "isDefaultGateway needs a gateway",
				 "the IPAM result has no IPv4 gateway (set \"gateway\" in the IPAM range)");
			goto out;
		}
		bool have = false;
		for (int i = 0; i < res.n_routes; i++)
			if (!strcmp(res.routes[i].dst, "0.0.0.0/0"))
				have = true;
		if (!have && res.n_routes < CNI_MAX_ROUTES) {
			struct cni_route *rt = &res.routes[res.n_routes++];
			size_t gl = strnlen(gw, sizeof(rt->gw) - 1);
			snprintf(rt->dst, sizeof(rt->dst), "0.0.0.0/0");
			memmove(rt->gw, gw, gl); /* gw points into res too: no snprintf */
			rt->gw[gl] = '\0';
		}
	}
	res.dns = ipam.dns;
	ipam.dns = NULL;

	msg[0] = '\0';
	if (cni_nl_veth_add(host, cfg->ifname, nsfd, cfg->bridge, mtu, res.ifaces[0].mac, msg,
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
	char host[CNI_IFNAME_MAX];
	cni_host_veth_name(cfg->containerid, cfg->ifname, host);
	/* Deleting the host end removes the pair, wherever the netns is (or whether it still is). */
	int r = cni_nl_link_del(host);
	if (r < 0)
		return cni_fail(err, CNI_ERR_INTERNAL, "cannot delete the veth pair", "%s: %s", host,
				strerror(-r));
	if (cfg->has_ipam && cni_ipam_exec(cfg, "DEL", in, inlen, NULL, err) < 0)
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
	if (cni_ipam_exec(cfg, "CHECK", in, inlen, NULL, err) < 0)
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
		/* Nothing of ours outlives DEL; host-local and the like keep no GC-able state that
		 * the CNI 1.0 plugins understand, so GC succeeds. */
		ret = 0;
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
