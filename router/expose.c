/* router/expose.c: the host's own place on the container network (`--expose`, `--masquerade`),
 * what a Kubernetes node needs from its pod network (Weave Net's `weave expose` and its NAT):
 *  - expose: the host gets an address on the bridge, allocated from the mesh IPAM like a
 *    container's (network "_host", container id "bridge", so it is kept in the state file and
 *    is the same after a restart), with the prefix of --ipalloc-default-subnet. The host then
 *    reaches every container (kubelet's probes, Services through kube-proxy), and containers
 *    use it as their default gateway: the IPAM API answers carry it as "gateway" and mesh-cni
 *    with "isDefaultGateway" takes it from there. With --ipalloc-range6 the host also gets
 *    that address's IPv6 (mapped into range6 as a container's is, range6's prefix), the
 *    containers' IPv6 gateway ("gateway6" in the answers): IPv6 is turned back on on the
 *    bridge for it (meshd turns it off on a bridge it made, see mesh/ipv6off.h).
 *  - masquerade: nftables table `ip mesh_nat` NATs what containers send outside the subnet
 *    behind the host's address (to the API server, to the world).
 * A timer gets the address (retrying while the IPAM cannot allocate yet) and then checks every
 * few seconds that the address and the table are still there, putting back what another
 * program removed (counted, and logged). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/ipv6off.h"
#include "mesh/nft.h"
#include "router/expose.h"
#include "router/internal.h"
#include "router/log.h"

#define EXPOSE_NETWORK "_host"
#define EXPOSE_ID "bridge"
#define RETRY_S 1   /* while there is no address yet */
#define CHECK_S 3   /* after: the address and the table still there? */

struct router_expose {
	struct mesh_router *r;
	struct event *timer;
	bool have;                 /* the address is allocated (and was put on the bridge) */
	uint32_t ip;               /* network order */
	uint8_t prefix;
	char ip_str[INET_ADDRSTRLEN];
	bool have6;                /* ip's IPv6 (range6) is on the bridge too */
	uint8_t ip6[16];
	char ip6_str[INET6_ADDRSTRLEN];
	char waiting[256];         /* why there is no address yet, or the last error */
	uint64_t addr_repairs, masq_repairs;
	char waiting6[256];        /* why the bridge has no IPv6 address (range6 on) */
	bool logged_wait;
};

int mesh_masquerade_ruleset(uint32_t subnet, uint8_t prefix, const char *bridge, char *out,
			    size_t cap)
{
	char net[INET_ADDRSTRLEN];
	if (prefix > 32 || !bridge || !*bridge || strpbrk(bridge, "\"\\\n"))
		return -EINVAL;
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	uint32_t s = htonl(subnet & mask);
	inet_ntop(AF_INET, &s, net, sizeof(net));
	/* add + delete first: a table a killed meshd left goes, in the same transaction */
	int n = snprintf(out, cap,
			 "add table ip " MESH_MASQ_TABLE "\n"
			 "delete table ip " MESH_MASQ_TABLE "\n"
			 "table ip " MESH_MASQ_TABLE " {\n"
			 "  chain postrouting {\n"
			 "    type nat hook postrouting priority srcnat; policy accept;\n"
			 "    ip saddr %s/%u ip daddr != %s/%u ip daddr != 224.0.0.0/4 "
			 "oifname != \"%s\" counter masquerade comment \"mesh: containers leaving "
			 "the mesh subnet\"\n"
			 "  }\n"
			 "}\n",
			 net, (unsigned)prefix, net, (unsigned)prefix, bridge);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

static int masq_install(struct router_expose *e, char *err, size_t errlen)
{
	const struct mesh_config *cfg = e->r->cfg;
	char cmd[1024];
	int ret = mesh_masquerade_ruleset(cfg->ipalloc_subnet, cfg->ipalloc_subnet_prefix,
					  cfg->bridge, cmd, sizeof(cmd));
	if (ret < 0) {
		snprintf(err, errlen, "cannot write the masquerade rule for bridge %s", cfg->bridge);
		return ret;
	}
	return mesh_nft_run(cmd, err, errlen, NULL, 0);
}

static void masq_remove(void)
{
	mesh_nft_run("add table ip " MESH_MASQ_TABLE "\ndelete table ip " MESH_MASQ_TABLE "\n",
		     NULL, 0, NULL, 0);
}

static bool masq_present(void)
{
	return mesh_nft_run("list table ip " MESH_MASQ_TABLE "\n", NULL, 0, NULL, 0) == 0;
}

/* Allocates our address (the same one every time: the IPAM keeps it under our id). */
static int allocate(struct router_expose *e)
{
	static const char body[] = "{\"container_id\":\"" EXPOSE_ID "\",\"network\":\""
				   EXPOSE_NETWORK "\"}";
	cJSON *out = NULL;
	int code = mesh_router_ipam_api(e->r, "POST", "/v1/ipam/allocate", body, sizeof(body) - 1,
					&out);
	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(out, "ip");
	const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(out, "prefix");
	int ret = -EAGAIN;
	if (code == 200 && cJSON_IsString(ip) && cJSON_IsNumber(pfx) &&
	    inet_pton(AF_INET, ip->valuestring, &e->ip) == 1 && pfx->valuedouble >= 1 &&
	    pfx->valuedouble <= 32) {
		e->prefix = (uint8_t)pfx->valuedouble;
		snprintf(e->ip_str, sizeof(e->ip_str), "%s", ip->valuestring);
		ret = 0;
	} else {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(out, "error");
		snprintf(e->waiting, sizeof(e->waiting), "the mesh IPAM gave no address yet: %s",
			 cJSON_IsString(why) ? why->valuestring : "no answer");
	}
	cJSON_Delete(out);
	return ret;
}

/* With --ipalloc-range6: the IPv6 of our address on the bridge, as for the IPv4 one. */
static void ensure6(struct router_expose *e)
{
	struct mesh_router *r = e->r;
	char err[256];
	if (!r->cfg->ipalloc_range6.on)
		return;
	if (mesh_ipam6_map(&r->cfg->ipalloc_range6, ntohl(e->ip), e->ip6) < 0) {
		snprintf(e->waiting6, sizeof(e->waiting6), "%s has no IPv6 address in range6",
			 e->ip_str);
		return;
	}
	mesh_ipam6_addr_format(e->ip6, e->ip6_str);
	/* on every check: a bridge made again (by us or another program) has IPv6 off */
	int ret = mesh_link_ipv6_sysctl(r->cfg->bridge, "accept_ra", "0");
	if (ret == 0)
		ret = mesh_link_ipv6_sysctl(r->cfg->bridge, "disable_ipv6", "0");
	if (ret == 0)
		ret = mesh_netdev_bridge_addr_ensure(&r->netdev, AF_INET6, e->ip6,
						     r->cfg->ipalloc_range6.prefix, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot turn IPv6 on on bridge %s: %s", r->cfg->bridge,
			 strerror(-ret));
	if (ret < 0) {
		if (strcmp(e->waiting6, err))
			log_warn("expose: no IPv6 address on bridge %s: %s", r->cfg->bridge, err);
		snprintf(e->waiting6, sizeof(e->waiting6), "%s", err);
		e->have6 = false;
		return;
	}
	if (ret == 1 && e->have6) {
		e->addr_repairs++;
		log_warn("expose: the address %s/%u was gone from bridge %s: put back", e->ip6_str,
			 r->cfg->ipalloc_range6.prefix, r->cfg->bridge);
	} else if (ret == 1 || !e->have6) {
		log_info("expose: this host is %s/%u on bridge %s (the containers' IPv6 gateway)",
			 e->ip6_str, r->cfg->ipalloc_range6.prefix, r->cfg->bridge);
	}
	e->have6 = true;
	e->waiting6[0] = '\0';
}

static void check(struct router_expose *e)
{
	struct mesh_router *r = e->r;
	char err[256];
	int ret;

	if (r->cfg->expose && !e->have) {
		if (allocate(e) < 0) {
			if (!e->logged_wait) {
				log_info("expose: waiting for an address for bridge %s (%s)",
					 r->cfg->bridge, e->waiting);
				e->logged_wait = true;
			}
			return;
		}
	}
	if (r->cfg->expose) {
		ret = mesh_netdev_bridge_addr_ensure(&r->netdev, AF_INET, &e->ip, e->prefix, err,
						     sizeof(err));
		if (ret < 0) {
			snprintf(e->waiting, sizeof(e->waiting), "%s", err);
			log_warn("expose: %s", err);
		} else if (ret == 1 && e->have) {
			e->addr_repairs++;
			log_warn("expose: the address %s/%u was gone from bridge %s: put back",
				 e->ip_str, e->prefix, r->cfg->bridge);
		} else if (ret == 1 || !e->have) {
			log_info("expose: this host is %s/%u on bridge %s (the containers' gateway)",
				 e->ip_str, e->prefix, r->cfg->bridge);
		}
		if (ret >= 0) {
			e->have = true;
			e->waiting[0] = '\0';
			ensure6(e);
		}
	}
	/* the table was made at start (router_expose_start fails without it): put it back if
	 * another program removed it */
	if (r->cfg->masquerade && !masq_present()) {
		ret = masq_install(e, err, sizeof(err));
		if (ret < 0) {
			log_warn("masquerade: cannot put table ip " MESH_MASQ_TABLE " back: %s", err);
		} else {
			e->masq_repairs++;
			log_warn("masquerade: table ip " MESH_MASQ_TABLE " was gone (an nftables reload?): "
				 "put back");
		}
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_expose *e = arg;
	(void)fd;
	(void)what;
	check(e);
	struct timeval tv = { (e->have || !e->r->cfg->expose) ? CHECK_S : RETRY_S, 0 };
	event_add(e->timer, &tv);
}

int router_expose_start(struct mesh_router *r, char *err, size_t errlen)
{
	if (!r->cfg->expose && !r->cfg->masquerade)
		return 0;
	struct router_expose *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e->r = r;
	e->timer = evtimer_new(r->base, timer_cb, e);
	if (!e->timer) {
		free(e);
		snprintf(err, errlen, "cannot register the expose timer");
		return -ENOMEM;
	}
	if (r->cfg->masquerade) {
		int ret = masq_install(e, err, errlen);
		if (ret < 0) {
			event_free(e->timer);
			free(e);
			return ret;
		}
		log_info("masquerade: what containers send outside the subnet leaves as this host "
			 "(table ip " MESH_MASQ_TABLE ")");
	}
	snprintf(e->waiting, sizeof(e->waiting), "not asked yet");
	r->own.expose = e;
	struct timeval now = { 0, 0 };
	event_add(e->timer, &now);
	return 0;
}

void router_expose_stop(struct mesh_router *r)
{
	struct router_expose *e = r->own.expose;
	if (!e)
		return;
	event_free(e->timer);
	/* the bridge's address stays with the bridge (--keep-bridge: containers keep their
	 * gateway while meshd restarts); the NAT rule goes with meshd, as the ipsec table does */
	if (r->cfg->masquerade) /* made at start, or the start failed */
		masq_remove();
	free(e);
	r->own.expose = NULL;
}

const char *router_expose_gateway(const struct mesh_router *r)
{
	const struct router_expose *e = r->own.expose;
	return e && e->have ? e->ip_str : NULL;
}

const char *router_expose_gateway6(const struct mesh_router *r)
{
	const struct router_expose *e = r->own.expose;
	return e && e->have && e->have6 ? e->ip6_str : NULL;
}

cJSON *router_expose_status_json(const struct mesh_router *r)
{
	const struct router_expose *e = r->own.expose;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "expose", r->cfg->expose);
	if (e && e->have) {
		char a[INET_ADDRSTRLEN + 4];
		snprintf(a, sizeof(a), "%s/%u", e->ip_str, e->prefix);
		cJSON_AddStringToObject(o, "address", a);
	} else if (r->cfg->expose) {
		cJSON_AddNullToObject(o, "address");
		cJSON_AddStringToObject(o, "waiting", e ? e->waiting : "not started");
	}
	if (e && e->have6) {
		char a6[INET6_ADDRSTRLEN + 4];
		snprintf(a6, sizeof(a6), "%s/%u", e->ip6_str, r->cfg->ipalloc_range6.prefix);
		cJSON_AddStringToObject(o, "address6", a6);
	} else if (r->cfg->expose && r->cfg->ipalloc_range6.on) {
		cJSON_AddNullToObject(o, "address6");
		cJSON_AddStringToObject(o, "waiting6", e && e->waiting6[0] ? e->waiting6
							      : "no IPv4 address yet");
	}
	cJSON_AddBoolToObject(o, "masquerade", r->cfg->masquerade);
	cJSON_AddNumberToObject(o, "address_repairs", e ? (double)e->addr_repairs : 0);
	cJSON_AddNumberToObject(o, "masquerade_repairs", e ? (double)e->masq_repairs : 0);
	return o;
}
