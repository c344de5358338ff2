/* cni/result.h: the CNI Result (interfaces, ips, routes, dns) as a struct, parsed from an IPAM
 * plugin's output or a prevResult of any supported version, and printed as JSON for the
 * caller's cniVersion (0.3.x/0.4.0 with ips[].version, 1.0.0/1.1.0 without); also the error
 * and VERSION objects. Pure: no I/O. */
#ifndef MESH_CNI_RESULT_H
#define MESH_CNI_RESULT_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "cni/config.h"

#define CNI_MAX_IFACES 8
#define CNI_MAX_IPS 16
#define CNI_MAX_ROUTES 64
#define CNI_ADDR_MAX 64 /* "ffff:...:ffff/128" fits */

struct cni_iface {
	char name[CNI_IFNAME_MAX];
	char mac[18];          /* "" when unknown */
	char sandbox[CNI_PATH_MAX];
};

struct cni_ip {
	int family;            /* AF_INET or AF_INET6 */
	char address[CNI_ADDR_MAX]; /* CIDR, as given (validated) */
	char gateway[CNI_ADDR_MAX]; /* "" when none */
	int iface;             /* index into ifaces, -1 when none */
};

struct cni_route {
	char dst[CNI_ADDR_MAX];  /* CIDR */
	char gw[CNI_ADDR_MAX];   /* "" when none */
};

struct cni_result {
	int n_ifaces, n_ips, n_routes;
	struct cni_iface ifaces[CNI_MAX_IFACES];
	struct cni_ip ips[CNI_MAX_IPS];
	struct cni_route routes[CNI_MAX_ROUTES];
	cJSON *dns;            /* owned copy, or NULL */
};

/* Parses a Result object of any supported version. 0, or -1 with *err (code 6). */
int cni_result_parse(const cJSON *j, struct cni_result *r, struct cni_error *err);
void cni_result_free(struct cni_result *r);

/* Result JSON for version (one of cni_versions); NULL when out of memory. Caller frees. */
char *cni_result_json(const struct cni_result *r, const char *version);

/* {"cniVersion","code","msg","details"} for e. Caller frees. */
char *cni_error_json(const char *version, const struct cni_error *e);

/* VERSION answer: {"cniVersion": version, "supportedVersions": [...]}. Caller frees. */
char *cni_version_json(const char *version);

/* Splits a CIDR "a.b.c.d/n" into family, address bytes (16) and prefix length; -1 if invalid. */
int cni_parse_cidr(const char *s, int *family, unsigned char addr[16], int *prefix);
/* An address without prefix; -1 if invalid. */
int cni_parse_ip(const char *s, int *family, unsigned char addr[16]);

#endif
