/* cni/result.c: CNI Result parsing (IPAM output, prevResult) and printing per cniVersion,
 * plus the error and VERSION objects. Pure: no I/O. */
#include "cni/result.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int cni_parse_ip(const char *s, int *family, unsigned char addr[16])
{
	if (!s || strnlen(s, CNI_ADDR_MAX) >= CNI_ADDR_MAX)
		return -1;
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int cni_parse_cidr(const char *s, int *family, unsigned char addr[16], int *prefix)
{
	char buf[CNI_ADDR_MAX];
	if (!s || strnlen(s, sizeof(buf)) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -1;
	*slash = '\0';
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (*end || slash[1] < '0' || slash[1] > '9')
		return -1;
	if (cni_parse_ip(buf, family, addr) < 0)
		return -1;
	if (p < 0 || p > (*family == AF_INET ? 32 : 128))
		return -1;
	*prefix = (int)p;
	return 0;
}

static int copy_str(const cJSON *o, const char *key, char *dst, size_t cap, bool required)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!j || cJSON_IsNull(j)) {
		dst[0] = '\0';
		return required ? -1 : 0;
	}
	if (!cJSON_IsString(j) || !j->valuestring || strlen(j->valuestring) >= cap)
		return -1;
	snprintf(dst, cap, "%s", j->valuestring);
	return 0;
}

#define BAD(...) cni_fail(err, CNI_ERR_DECODE, "invalid CNI result", __VA_ARGS__)

int cni_result_parse(const cJSON *j, struct cni_result *r, struct cni_error *err)
{
	const cJSON *a, *e;
	int fam;
	unsigned char ab[16];
	int pfx;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return BAD("the result is not a JSON object");

	a = cJSON_GetObjectItemCaseSensitive(j, "interfaces");
	if (a && !cJSON_IsNull(a)) {
		if (!cJSON_IsArray(a))
			return BAD("\"interfaces\" is not an array");
		cJSON_ArrayForEach(e, a) {
			if (r->n_ifaces >= CNI_MAX_IFACES)
				return BAD("more than %d interfaces", CNI_MAX_IFACES);
			struct cni_iface *f = &r->ifaces[r->n_ifaces];
			if (!cJSON_IsObject(e) || copy_str(e, "name", f->name, sizeof(f->name), true) < 0 ||
			    copy_str(e, "mac", f->mac, sizeof(f->mac), false) < 0 ||
			    copy_str(e, "sandbox", f->sandbox, sizeof(f->sandbox), false) < 0)
				return BAD("interfaces[%d] is malformed", r->n_ifaces);
			r->n_ifaces++;
		}
	}
	a = cJSON_GetObjectItemCaseSensitive(j, "ips");
	if (a && !cJSON_IsNull(a)) {
		if (!cJSON_IsArray(a))
			return BAD("\"ips\" is not an array");
		cJSON_ArrayForEach(e, a) {
			if (r->n_ips >= CNI_MAX_IPS)
				return BAD("more than %d ips", CNI_MAX_IPS);
			struct cni_ip *ip = &r->ips[r->n_ips];
			if (!cJSON_IsObject(e) ||
			    copy_str(e, "address", ip->address, sizeof(ip->address), true) < 0 ||
			    cni_parse_cidr(ip->address, &ip->family, ab, &pfx) < 0)
				return BAD("ips[%d].address is not an address/prefix", r->n_ips);
			int gfam;
			if (copy_str(e, "gateway", ip->gateway, sizeof(ip->gateway), false) < 0 ||
			    (ip->gateway[0] && (cni_parse_ip(ip->gateway, &gfam, ab) < 0 || gfam != ip->family)))
				return BAD("ips[%d].gateway is not an address of the same family", r->n_ips);
			const cJSON *ifc = cJSON_GetObjectItemCaseSensitive(e, "interface");
			ip->iface = -1;
			if (ifc && !cJSON_IsNull(ifc)) {
				if (!cJSON_IsNumber(ifc) || ifc->valuedouble < 0 ||
				    ifc->valuedouble >= r->n_ifaces || ifc->valuedouble != (int)ifc->valuedouble)
					return BAD("ips[%d].interface is not an index into interfaces", r->n_ips);
				ip->iface = (int)ifc->valuedouble;
			}
			r->n_ips++;
		}
	}
	a = cJSON_GetObjectItemCaseSensitive(j, "routes");
	if (a && !cJSON_IsNull(a)) {
		if (!cJSON_IsArray(a))
			return BAD("\"routes\" is not an array");
		cJSON_ArrayForEach(e, a) {
			if (r->n_routes >= CNI_MAX_ROUTES)
				return BAD("more than %d routes", CNI_MAX_ROUTES);
			struct cni_route *rt = &r->routes[r->n_routes];
			int gfam;
			if (!cJSON_IsObject(e) || copy_str(e, "dst", rt->dst, sizeof(rt->dst), true) < 0 ||
			    cni_parse_cidr(rt->dst, &fam, ab, &pfx) < 0 ||
			    copy_str(e, "gw", rt->gw, sizeof(rt->gw), false) < 0 ||
			    (rt->gw[0] && (cni_parse_ip(rt->gw, &gfam, ab) < 0 || gfam != fam)))
				return BAD("routes[%d] is malformed", r->n_routes);
			r->n_routes++;
		}
	}
	a = cJSON_GetObjectItemCaseSensitive(j, "dns");
	if (a && !cJSON_IsNull(a)) {
		if (!cJSON_IsObject(a))
			return BAD("\"dns\" is not an object");
		r->dns = cJSON_Duplicate(a, true);
		if (!r->dns)
			return cni_fail(err, CNI_ERR_INTERNAL, "out of memory", NULL);
	}
	return 0;
}

void cni_result_free(struct cni_result *r)
{
	if (r) {
		cJSON_Delete(r->dns);
		r->dns = NULL;
	}
}

char *cni_result_json(const struct cni_result *r, const char *version)
{
	enum cni_ver v = cni_version_parse(version);
	bool legacy = v != CNI_V_UNKNOWN && v < CNI_V100;
	char *out = NULL;
	cJSON *o = cJSON_CreateObject(), *a, *e;
	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "cniVersion", version))
		goto out;
	if (!(a = cJSON_AddArrayToObject(o, "interfaces")))
		goto out;
	for (int i = 0; i < r->n_ifaces; i++) {
		if (!(e = cJSON_CreateObject()))
			goto out;
		cJSON_AddItemToArray(a, e);
		cJSON_AddStringToObject(e, "name", r->ifaces[i].name);
		if (r->ifaces[i].mac[0])
			cJSON_AddStringToObject(e, "mac", r->ifaces[i].mac);
		if (r->ifaces[i].sandbox[0])
			cJSON_AddStringToObject(e, "sandbox", r->ifaces[i].sandbox);
	}
	if (!(a = cJSON_AddArrayToObject(o, "ips")))
		goto out;
	for (int i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		if (!(e = cJSON_CreateObject()))
			goto out;
		cJSON_AddItemToArray(a, e);
		if (legacy)
			cJSON_AddStringToObject(e, "version", ip->family == AF_INET6 ? "6" : "4");
		cJSON_AddStringToObject(e, "address", ip->address);
		if (ip->gateway[0])
			cJSON_AddStringToObject(e, "gateway", ip->gateway);
		if (ip->iface >= 0)
			cJSON_AddNumberToObject(e, "interface", ip->iface);
	}
	if (!(a = cJSON_AddArrayToObject(o, "routes")))
		goto out;
	for (int i = 0; i < r->n_routes; i++) {
		if (!(e = cJSON_CreateObject()))
			goto out;
		cJSON_AddItemToArray(a, e);
		cJSON_AddStringToObject(e, "dst", r->routes[i].dst);
		if (r->routes[i].gw[0])
			cJSON_AddStringToObject(e, "gw", r->routes[i].gw);
	}
	e = r->dns ? cJSON_Duplicate(r->dns, true) : cJSON_CreateObject();
	if (!e)
		goto out;
	cJSON_AddItemToObject(o, "dns", e);
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}

char *cni_error_json(const char *version, const struct cni_error *e)
{
	char *out = NULL;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "cniVersion", version ? version : cni_versions[CNI_V110]);
	cJSON_AddNumberToObject(o, "code", e->code);
	cJSON_AddStringToObject(o, "msg", e->msg);
	if (e->details[0])
		cJSON_AddStringToObject(o, "details", e->details);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

char *cni_version_json(const char *version)
{
	char *out = NULL;
	cJSON *o = cJSON_CreateObject(), *a;
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "cniVersion", version);
	if ((a = cJSON_AddArrayToObject(o, "supportedVersions")))
		for (int i = 0; i < CNI_V_COUNT; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(cni_versions[i]));
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}
