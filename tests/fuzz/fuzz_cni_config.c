/* tests/fuzz/fuzz_cni_config.c: mesh-cni's config and environment parser (cni/config.c) and the
 * Result parser/printer (cni/result.c) on the prevResult it finds.
 *
 * Input: a selector byte (command = selector % 7: none, ADD, DEL, CHECK, VERSION, GC, STATUS;
 * bit 3 clears CNI_NETNS, bit 4 gives a malformed CNI_ARGS, bit 5 a kernel without IPv6 for the
 * answer below), then the network config bytes (not
 * NUL-terminated). Invariants: an error has a known code and a message; an accepted config has
 * a supported version, a valid bridge name, an absolute socket path, an MTU of 0 or 576..65535
 * and an IPAM type without '/'; a prevResult that parses prints and parses back the same.
 * The accepted config's object is also read as meshd's allocation answer (cni/ipam_answer.c:
 * keys "ip", "prefix", "ip6", "prefix6", "gateway"): accepted, it gives an IPv4 address and at
 * most one IPv6 one that print and parse back, and default routes that are 0.0.0.0/0 and ::/0
 * only. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cni/config.h"
#include "cni/ipam_answer.h"
#include "cni/result.h"
#include "tests/fuzz/fuzz.h"

static const char *const commands[] = { "", "ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS" };

/* The config object as meshd's allocation answer. */
static void check_answer(const struct cni_config *cfg, bool kernel_ipv6)
{
	static struct cni_result res, back;
	struct cni_error e;
	memset(&res, 0, sizeof(res));
	if (cni_ipam_answer_ips(cfg->root, cfg, kernel_ipv6, 1, &res, &e) < 0) {
		FUZZ_CHECK(e.code == CNI_ERR_DECODE && e.msg[0]);
		return;
	}
	int fam, pfx;
	unsigned char a[16];
	FUZZ_CHECK(res.n_ips == 1 || res.n_ips == 2);
	FUZZ_CHECK(cni_parse_cidr(res.ips[0].address, &fam, a, &pfx) == 0 && fam == AF_INET);
	if (res.n_ips == 2) {
		FUZZ_CHECK(cni_config_wants_ipv6(cfg) && (kernel_ipv6 || cfg->ipv6 == CNI_IPV6_ON));
		FUZZ_CHECK(cni_parse_cidr(res.ips[1].address, &fam, a, &pfx) == 0 && fam == AF_INET6);
	}
	/* the interfaces ADD lists: the host veth, then the container's (index 1) */
	res.n_ifaces = 2;
	snprintf(res.ifaces[0].name, sizeof(res.ifaces[0].name), "vethmesh0000000");
	snprintf(res.ifaces[1].name, sizeof(res.ifaces[1].name), "eth0");
	if (cni_default_routes(&res, cfg->has_ipam, &e) == 0) {
		FUZZ_CHECK(res.n_routes >= 1 && res.n_routes <= 2);
		for (int i = 0; i < res.n_routes; i++)
			FUZZ_CHECK(!strcmp(res.routes[i].dst, "0.0.0.0/0") || !strcmp(res.routes[i].dst, "::/0"));
	} else {
		FUZZ_CHECK(e.code == CNI_ERR_INVALID_CONFIG);
	}
	char *s = cni_result_json(&res, cfg->version);
	FUZZ_CHECK(s != NULL);
	cJSON *j = cJSON_Parse(s);
	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(cni_result_parse(j, &back, &e) == 0);
	FUZZ_CHECK(back.n_ips == res.n_ips && back.n_routes == res.n_routes);
	cni_result_free(&back);
	cJSON_Delete(j);
	free(s);
	cni_result_free(&res);
}

FUZZ_ENTRY(cni_config)(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	struct cni_env env = {
		.command = commands[sel % 7],
		.containerid = "0123456789abcdef",
		.netns = (sel & 8) ? "" : "/run/netns/fuzz",
		.ifname = "eth0",
		.args = (sel & 16) ? "IgnoreUnknown=1;junk" : "K8S_POD_NAME=x;IgnoreUnknown=1",
		.path = "/usr/lib/cni",
	};
	char *json = (char *)fuzz_dup(data + 1, size - 1);
	if (!json)
		return 0;
	struct cni_config cfg;
	struct cni_error err;
	int r = cni_config_parse(json, size - 1, &env, &cfg, &err);
	if (r < 0) {
		FUZZ_CHECK(err.msg[0]);
		FUZZ_CHECK((err.code >= 1 && err.code <= 7) || err.code == 11 || err.code == 50);
		FUZZ_CHECK(strnlen(err.details, sizeof(err.details)) < sizeof(err.details));
		char *e = cni_error_json(cfg.version, &err);
		FUZZ_CHECK(e != NULL);
		free(e);
	} else {
		FUZZ_CHECK(cni_version_parse(cfg.version) != CNI_V_UNKNOWN);
		if (cfg.cmd != CNI_CMD_VERSION) {
			FUZZ_CHECK(cni_valid_ifname(cfg.bridge));
			FUZZ_CHECK(cfg.socket[0] == '/');
			FUZZ_CHECK(cfg.mtu == 0 || (cfg.mtu >= 576 && cfg.mtu <= 65535));
			FUZZ_CHECK(!cfg.has_ipam || (cfg.ipam_type[0] && !strchr(cfg.ipam_type, '/')));
			/* the config's gateway is a dotted quad when given (without one, a default
			 * route with mesh IPAM goes via meshd's host address, decided at ADD) */
			struct in_addr gw;
			FUZZ_CHECK(!cfg.gateway[0] || inet_pton(AF_INET, cfg.gateway, &gw) == 1);
			FUZZ_CHECK(cfg.cmd != CNI_CMD_CHECK || cfg.prev_result);
			struct in6_addr gw6;
			FUZZ_CHECK(!cfg.gateway6[0] || inet_pton(AF_INET6, cfg.gateway6, &gw6) == 1);
			FUZZ_CHECK(cfg.ipv6 >= CNI_IPV6_AUTO && cfg.ipv6 <= CNI_IPV6_OFF);
			check_answer(&cfg, !(sel & 32));
		}
		if (cfg.prev_result) {
			struct cni_result res, back;
			struct cni_error e2;
			if (cni_result_parse(cfg.prev_result, &res, &e2) == 0) {
				char *s = cni_result_json(&res, cfg.version);
				FUZZ_CHECK(s != NULL);
				cJSON *j = cJSON_Parse(s);
				FUZZ_CHECK(j != NULL);
				FUZZ_CHECK(cni_result_parse(j, &back, &e2) == 0);
				FUZZ_CHECK(back.n_ifaces == res.n_ifaces && back.n_ips == res.n_ips &&
					   back.n_routes == res.n_routes);
				for (int i = 0; i < res.n_ips; i++)
					FUZZ_CHECK(!strcmp(back.ips[i].address, res.ips[i].address) &&
						   back.ips[i].iface == res.ips[i].iface);
				cni_result_free(&back);
				cJSON_Delete(j);
				free(s);
			} else {
				FUZZ_CHECK(e2.code == CNI_ERR_DECODE || e2.code == CNI_ERR_INTERNAL);
			}
			cni_result_free(&res);
		}
	}
	cni_config_free(&cfg);
	free(json);
	return 0;
}
