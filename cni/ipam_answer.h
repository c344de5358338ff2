/* cni/ipam_answer.h: meshd's mesh IPAM answers (POST /v1/ipam/allocate and lookup, DESIGN §8)
 * turned into the CNI Result's ips: the IPv4 address ("ip", "prefix", the gateway) and, when
 * the answer has one and the config wants it, the IPv6 address ("ip6", "prefix6", "gateway6"
 * of the config). Pure: no I/O. */
#ifndef MESH_CNI_IPAM_ANSWER_H
#define MESH_CNI_IPAM_ANSWER_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "cni/config.h"
#include "cni/result.h"

/* "ip/prefix" (IPv4) and "ip6/prefix6" (IPv6) of an answer into v4 and v6 (CNI_ADDR_MAX each;
 * v6 may be NULL). Returns -1 when the answer has no valid IPv4 address; v6 is "" when the
 * answer has no IPv6 address (an older meshd, or --ipalloc-range6 off), and -1 when it has a
 * malformed one. */
int cni_ipam_answer_addrs(const cJSON *answer, char *v4, char *v6);

/* Fills res->ips (container interface index iface) from an allocation answer: the IPv4 address
 * with the config's "gateway", else the answer's "gateway" (meshd's host address, --expose);
 * then the IPv6 address, with the config's "gateway6", when the answer has one and
 * cni_config_wants_ipv6(cfg), and either kernel_ipv6 (the host has IPv6) or the config asked for
 * it ("ipv6": true: then ADD fails where there is no IPv6, saying so). 0, or -1 with *err
 * (code 6) when the answer has no usable address. */
int cni_ipam_answer_ips(const cJSON *answer, const struct cni_config *cfg, bool kernel_ipv6,
			int iface, struct cni_result *res, struct cni_error *err);

/* Adds the default routes of isDefaultGateway: 0.0.0.0/0 via the first IPv4 gateway of
 * res->ips (required: -1 with *err, code 7, when there is none; has_ipam picks the hint), and
 * ::/0 via the first IPv6 gateway when there is one (IPv6 without a gateway gets only its
 * on-link prefix). Routes already in res are not added twice. 0 or -1. */
int cni_default_routes(struct cni_result *res, bool has_ipam, struct cni_error *err);

#endif
