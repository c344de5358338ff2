/* cni/ipam_answer.c: meshd's mesh IPAM answers into the CNI Result's ips, and the default
 * routes of isDefaultGateway for both families (see ipam_answer.h). Pure: no I/O. */
#include "cni/ipam_answer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* "<ip>/<prefix>" of key ip and number key prefix of family fam: 1 written, 0 absent, -1 bad. */
static int addr_of(const cJSON *j, const char *ipkey, const char *pfxkey, int fam, char *out)
{
	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(j, ipkey);
	const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(j, pfxkey);
	unsigned char b[16];
	int max = fam == AF_INET ? 32 : 128;
	if (!ip || cJSON_IsNull(ip))
		return 0;
	if (!cJSON_IsString(ip) || !cJSON_IsNumber(pfx) || inet_pton(fam, ip->valuestring, b) != 1 ||
	    pfx->valuedouble < 1 || pfx->valuedouble > max ||
	    pfx->valuedouble != (double)(int)pfx->valuedouble)
		return -1;
	int n = snprintf(out, CNI_ADDR_MAX, "%s/%d", ip->valuestring, (int)pfx->valuedouble);
	return n > 0 && n < CNI_ADDR_MAX ? 1 : -1;
}

int cni_ipam_answer_addrs(const cJSON *answer, char *v4, char *v6)
{
	if (addr_of(answer, "ip", "prefix", AF_INET, v4) != 1)
		return -1;
	if (!v6)
		return 0;
	v6[0] = '\0';
	return addr_of(answer, "ip6", "prefix6", AF_INET6, v6) < 0 ? -1 : 0;
}

/* One address of the Result, with its gateway: the config's (cfg_gw), else meshd's host address
 * on the bridge of that family (--expose; key in the answer), else none. */
static void add_ip(struct cni_result *res, int family, const char *addr, int iface,
		   const char *cfg_gw, const cJSON *answer, const char *key)
{
	struct cni_ip *ip = &res->ips[res->n_ips++];
	memset(ip, 0, sizeof(*ip));
	snprintf(ip->address, sizeof(ip->address), "%s", addr);
	ip->family = family;
	ip->iface = iface;
	const cJSON *gw = cJSON_GetObjectItemCaseSensitive(answer, key);
	struct in6_addr g; /* room for either family */
	if (cfg_gw[0])
		snprintf(ip->gateway, sizeof(ip->gateway), "%s", cfg_gw);
	else if (cJSON_IsString(gw) && inet_pton(family, gw->valuestring, &g) == 1)
		snprintf(ip->gateway, sizeof(ip->gateway), "%s", gw->valuestring);
}

int cni_ipam_answer_ips(const cJSON *answer, const struct cni_config *cfg, bool kernel_ipv6,
			int iface, struct cni_result *res, struct cni_error *err)
{
	char v4[CNI_ADDR_MAX], v6[CNI_ADDR_MAX];
	if (cni_ipam_answer_addrs(answer, v4, v6) < 0)
		return cni_fail(err, CNI_ERR_DECODE, "meshd's IPAM answer has no address",
				"it needs \"ip\" (IPv4) with \"prefix\" (1..32), and \"ip6\" with "
				"\"prefix6\" (1..128) when it names an IPv6 address");
	res->n_ips = 0;
	add_ip(res, AF_INET, v4, iface, cfg->gateway, answer, "gateway");
	if (!v6[0] || !cni_config_wants_ipv6(cfg) || (!kernel_ipv6 && cfg->ipv6 != CNI_IPV6_ON))
		return 0;
	add_ip(res, AF_INET6, v6, iface, cfg->gateway6, answer, "gateway6");
	return 0;
}

static const char *gateway_of(const struct cni_result *res, int fam)
{
	for (int i = 0; i < res->n_ips; i++)
		if (res->ips[i].family == fam && res->ips[i].gateway[0])
			return res->ips[i].gateway;
	return NULL;
}

static int add_default(struct cni_result *res, const char *dst, const char *gw)
{
	for (int i = 0; i < res->n_routes; i++)
		if (!strcmp(res->routes[i].dst, dst))
			return 0;
	if (res->n_routes >= CNI_MAX_ROUTES)
		return -1;
	struct cni_route *rt = &res->routes[res->n_routes++];
	size_t gl = strnlen(gw, sizeof(rt->gw) - 1);
	snprintf(rt->dst, sizeof(rt->dst), "%s", dst);
	memmove(rt->gw, gw, gl); /* gw points into res too: no snprintf */
	rt->gw[gl] = '\0';
	return 0;
}

int cni_default_routes(struct cni_result *res, bool has_ipam, struct cni_error *err)
{
	const char *gw = gateway_of(res, AF_INET), *gw6 = gateway_of(res, AF_INET6);
	if (!gw)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "isDefaultGateway needs a gateway",
				has_ipam ? "the IPAM result has no IPv4 gateway (set \"gateway\" in "
					   "the IPAM range)"
					 : "meshd has no address on the bridge to be the gateway: "
					   "start meshd with --expose, or set \"gateway\" in the "
					   "network config");
	if (add_default(res, "0.0.0.0/0", gw) < 0 || (gw6 && add_default(res, "::/0", gw6) < 0))
		return cni_fail(err, CNI_ERR_DECODE, "invalid CNI result",
				"more than %d routes with the default routes", CNI_MAX_ROUTES);
	return 0;
}
