/* router/status.c: the router's status as JSON (DESIGN §8): identity, peers with their
 * routes, connections with their overlay and why, outbound targets, counters. */
#include <arpa/inet.h>
#include <stdio.h>

#include "autoconfig.h"

#include "fastdp/fastdp.h"
#include "router/expose.h"
#include "router/kube.h"
#include "router/internal.h"

static void add_name(cJSON *o, const char *key, const struct mesh_peer_name *n)
{
	char s[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(n, s);
	cJSON_AddStringToObject(o, key, s);
}

static cJSON *conn_json(const struct mesh_router *r, const struct mesh_conn *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!mesh_peer_name_is_zero(&c->peer)) {
		add_name(o, "peer", &c->peer);
		cJSON_AddStringToObject(o, "nickname", c->nickname);
	} else {
		cJSON_AddNullToObject(o, "peer");
		cJSON_AddNullToObject(o, "nickname");
	}
	cJSON_AddStringToObject(o, "address", c->addr);
	cJSON_AddStringToObject(o, "direction", c->outbound ? "outbound" : "inbound");
	cJSON_AddStringToObject(o, "state", c->state == CONN_ESTABLISHED ? "established" : "connecting");
	static const char *const hs[] = { "connecting", "healthy", "unhealthy" };
	if (c->fwd) {
		char why[512];
		enum overlay_health h;
		const char *name = router_conn_overlay(r, c, &h, why, sizeof(why));
		cJSON_AddStringToObject(o, "overlay", name);
		cJSON_AddStringToObject(o, "overlay_state", hs[h]);
		cJSON_AddStringToObject(o, "overlay_reason", why);
		cJSON_AddNumberToObject(o, "mtu", r->ov->ops->mtu(c->fwd));
	} else {
		cJSON_AddNullToObject(o, "overlay");
	}
	if (c->fast) {
		const char *why = NULL;
		enum overlay_health h = c->fast->ov->ops->health(c->fast, &why);
		cJSON *f = cJSON_AddObjectToObject(o, "fastdp");
		cJSON_AddStringToObject(f, "backend", c->fast->ov->ops->name);
		cJSON_AddStringToObject(f, "state", hs[h]);
		cJSON_AddStringToObject(f, "reason", why ? why : "");
	} else {
		cJSON_AddNullToObject(o, "fastdp");
	}
	bool enc = c->state == CONN_ESTABLISHED ? c->encrypted : r->encrypted;
	cJSON_AddBoolToObject(o, "encrypted", enc);
	/* what encrypts this connection's frames now: the kernel (fast path) or meshd (sleeve) */
	cJSON_AddStringToObject(o, "encryption", !enc ? "none"
					       : router_conn_on_fastpath(c) ? "ipsec-esp" : "secretbox");
	cJSON_AddBoolToObject(o, "usable", c->usable);
	/* false: the peer predates topology summaries (it gets our full state instead) */
	if (c->state == CONN_ESTABLISHED)
		cJSON_AddBoolToObject(o, "topology_summaries",
				      c->peer_features & MESH_FEATURE_TOPO_SUMMARY);
	else
		cJSON_AddNullToObject(o, "topology_summaries");
	cJSON_AddNumberToObject(o, "since", (double)c->since);
	if (c->target && c->target->last_error[0])
		cJSON_AddStringToObject(o, "last_error", c->target->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	if (c->range6_conflict[0])
		cJSON_AddStringToObject(o, "ipv6_range_conflict", c->range6_conflict);
	else
		cJSON_AddNullToObject(o, "ipv6_range_conflict");
	return o;
}

static const char *nickname_of(const struct mesh_router *r, const struct mesh_peer_name *n)
{
	const struct mesh_topo_peer *p = mesh_topo_find(&r->topo, n);
	return p ? p->nickname : NULL;
}

static cJSON *peer_json(const struct mesh_router *r, const struct mesh_topo_peer *p)
{
	cJSON *o = cJSON_CreateObject();
	char uid[17];
	add_name(o, "name", &p->name);
	cJSON_AddStringToObject(o, "nickname", p->nickname);
	snprintf(uid, sizeof(uid), "%016llx", (unsigned long long)p->uid);
	cJSON_AddStringToObject(o, "uid", uid);
	cJSON_AddNumberToObject(o, "version", (double)p->version);
	cJSON_AddNumberToObject(o, "short_id", p->short_id);
	int hops = mesh_routes_hops(&r->routes, &p->name);
	bool self = mesh_peer_name_eq(&p->name, &r->name);
	cJSON_AddBoolToObject(o, "reachable", self || hops >= 0);
	if (self)
		cJSON_AddNumberToObject(o, "hops", 0);
	else if (hops >= 0)
		cJSON_AddNumberToObject(o, "hops", hops);
	else
		cJSON_AddNullToObject(o, "hops");
	const struct mesh_peer_name *hop = self ? NULL : mesh_routes_next_hop(&r->routes, &p->name);
	if (hop) {
		add_name(o, "next_hop", hop);
		const char *nick = nickname_of(r, hop);
		if (nick)
			cJSON_AddStringToObject(o, "next_hop_nickname", nick);
		else
			cJSON_AddNullToObject(o, "next_hop_nickname");
	} else {
		cJSON_AddNullToObject(o, "next_hop");
		cJSON_AddNullToObject(o, "next_hop_nickname");
	}
	cJSON *conns = cJSON_AddArrayToObject(o, "connections");
	for (unsigned i = 0; i < p->nconns; i++) {
		const struct mesh_topo_conn *tc = &p->conns[i];
		cJSON *j = cJSON_CreateObject();
		char addr[MESH_ADDR_STRLEN];
		struct mesh_addr a;
		mesh_topo_conn_addr(tc, &a);
		mesh_addr_format(&a, addr, sizeof(addr));
		add_name(j, "peer", &tc->peer);
		const char *nick = nickname_of(r, &tc->peer);
		if (nick)
			cJSON_AddStringToObject(j, "nickname", nick);
		else
			cJSON_AddNullToObject(j, "nickname");
		cJSON_AddStringToObject(j, "address", addr);
		cJSON_AddBoolToObject(j, "outbound", tc->flags & MESH_TOPO_CONN_OUTBOUND);
		cJSON_AddBoolToObject(j, "established", tc->flags & MESH_TOPO_CONN_ESTABLISHED);
		cJSON_AddItemToArray(conns, j);
	}
	return o;
}

cJSON *mesh_router_status(const struct mesh_router *r)
{
	cJSON *o = cJSON_CreateObject();
	char uid[17];
	cJSON_AddStringToObject(o, "version", MESH_VERSION_STRING);
	cJSON_AddNumberToObject(o, "protocol", MESH_PROTO_MAX);
	cJSON_AddStringToObject(o, "name", r->name_str);
	cJSON_AddStringToObject(o, "nickname", r->nickname);
	snprintf(uid, sizeof(uid), "%016llx", (unsigned long long)r->uid);
	cJSON_AddStringToObject(o, "uid", uid);
	cJSON_AddNumberToObject(o, "short_id", r->short_id);
	cJSON_AddBoolToObject(o, "encryption", r->encrypted);
	/* 2 while a password change is under way (the file holds two) */
	cJSON_AddNumberToObject(o, "passwords", r->encrypted ? (r->has_psk_alt ? 2 : 1) : 0);
	cJSON_AddStringToObject(o, "mesh_name", r->cfg->mesh_name);
	cJSON_AddNumberToObject(o, "port", r->cfg->port);
	cJSON_AddStringToObject(o, "bridge", r->cfg->bridge);
	cJSON_AddNumberToObject(o, "mtu", r->mtu);
	cJSON_AddBoolToObject(o, "discovery", !r->cfg->no_discovery);
	bool partial;
	unsigned dial = router_conns_dial_limit(r, &partial);
	cJSON_AddNumberToObject(o, "conn_limit", r->cfg->conn_limit ? r->cfg->conn_limit : DEFAULT_CONN_LIMIT);
	/* more peers than conn_limit: gossip's peers are dialled up to dial_limit, others relay */
	cJSON_AddBoolToObject(o, "partial_mesh", partial);
	cJSON_AddNumberToObject(o, "dial_limit", dial);
	/* --allow-from: [] when anyone may connect */
	cJSON *allow = cJSON_AddArrayToObject(o, "allow_from");
	for (unsigned i = 0; allow && i < r->cfg->nallow; i++) {
		char c[MESH_CIDR_STRLEN];
		mesh_cidr_format(&r->cfg->allow_from[i], c);
		cJSON_AddItemToArray(allow, cJSON_CreateString(c));
	}
	cJSON_AddNumberToObject(o, "started", (double)r->started);
	if (r->fov)
		cJSON_AddStringToObject(o, "fastdp", r->fov->ops->name);
	else
		cJSON_AddNullToObject(o, "fastdp");
	cJSON_AddStringToObject(o, "fastdp_reason", router_fastpath_why(r));
	if (r->sleeve)
		cJSON_AddBoolToObject(o, "sleeve_coalescing", sleeve_coalesces(r->sleeve));
	struct mesh_fastdp_odp_stats odp;
	if (r->fastdp && mesh_fastdp_odp_stats(r->fastdp, &odp) == 0)
		cJSON_AddStringToObject(o, "fastdp_last_error", odp.last_error);

	cJSON_AddItemToObject(o, "ipam", router_ipam_status_json(r, false));
	cJSON_AddItemToObject(o, "host", router_expose_status_json(r));
	cJSON_AddItemToObject(o, "kubernetes", router_kube_status_json(r));

	cJSON *peers = cJSON_AddArrayToObject(o, "peers");
	for (size_t i = 0; i < r->topo.n; i++)
		cJSON_AddItemToArray(peers, peer_json(r, &r->topo.peers[i]));

	cJSON *conns = cJSON_AddArrayToObject(o, "connections");
	for (const struct mesh_conn *c = r->conns; c; c = c->next)
		cJSON_AddItemToArray(conns, conn_json(r, c));
	/* Outbound targets waiting for their next attempt have no connection object. */
	cJSON *targets = cJSON_AddArrayToObject(o, "targets");
	for (const struct mesh_target *t = r->targets; t; t = t->next) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "address", t->addr_str);
		cJSON_AddBoolToObject(j, "discovered", t->discovered);
		const char *state = "idle"; /* connected to its peer another way */
		if (t->conn)
			state = t->conn->state == CONN_ESTABLISHED ? "established" : "connecting";
		else if (t->next_retry && t->standby)
			state = "standby"; /* a partial mesh: enough connections */
		else if (t->next_retry)
			state = "retry-wait";
		cJSON_AddStringToObject(j, "state", state);
		cJSON_AddNumberToObject(j, "attempts", t->attempts);
		if (t->last_error[0])
			cJSON_AddStringToObject(j, "last_error", t->last_error);
		else
			cJSON_AddNullToObject(j, "last_error");
		if (!t->conn && t->next_retry)
			cJSON_AddNumberToObject(j, "next_retry", (double)t->next_retry);
		cJSON_AddItemToArray(targets, j);
	}

	cJSON *macs = cJSON_AddArrayToObject(o, "macs");
	for (size_t i = 0; i < r->macs.cap; i++) {
		const struct mesh_mac_entry *e = &r->macs.slots[i];
		if (!e->used || mesh_mac_entry_gone(e))
			continue;
		cJSON *j = cJSON_CreateObject();
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
			 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
		cJSON_AddStringToObject(j, "mac", mac);
		add_name(j, "peer", &e->peer);
		const char *nick = nickname_of(r, &e->peer);
		if (nick)
			cJSON_AddStringToObject(j, "nickname", nick);
		else
			cJSON_AddNullToObject(j, "nickname");
		cJSON_AddBoolToObject(j, "local", mesh_peer_name_eq(&e->peer, &r->name));
		cJSON_AddNumberToObject(j, "version", (double)e->version);
		cJSON_AddItemToArray(macs, j);
	}

	static const struct sleeve_counters none;
	const struct sleeve_counters *s = r->sleeve ? sleeve_counters(r->sleeve) : &none;
	cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
#define C(name, v) cJSON_AddNumberToObject(ctr, name, (double)(v))
	C("sleeve_rx_datagrams", s->rx_datagrams);
	C("sleeve_tx_datagrams", s->tx_datagrams);
	C("sleeve_rx_frames", s->rx_frames);
	C("sleeve_tx_frames", s->tx_frames);
	C("sleeve_rx_bytes", s->rx_bytes);
	C("sleeve_tx_bytes", s->tx_bytes);
	C("sleeve_drop_replay", s->drop_replay);
	C("sleeve_drop_auth", s->drop_auth);
	C("sleeve_drop_malformed", s->drop_malformed);
	C("sleeve_drop_unknown_conn", s->drop_unknown_conn);
	C("sleeve_drop_tx_full", s->drop_tx_full);
	C("sleeve_drop_mtu", s->drop_mtu);
	C("sleeve_drop_tap", s->drop_tap);
	C("sleeve_drop_offload", s->drop_offload);
	C("sleeve_tap_writes", s->tap_writes);
	C("sleeve_rx_coalesced", s->rx_coalesced);
	C("sleeve_rx_in_place", s->rx_in_place);
	C("drop_no_route", r->ctr.drop_no_route);
	C("frames_delivered", r->ctr.frames_delivered);
	C("frames_relayed", r->ctr.frames_relayed);
	C("control_auth_failures", r->ctr.control_auth_failures);
	C("control_refused", r->ctr.control_refused);
	C("control_refused_unauth", r->ctr.control_refused_unauth);
	C("control_refused_allow", r->ctr.control_refused_allow);
	C("control_refused_limit", r->ctr.control_refused_limit);
	C("control_hs_timeouts", r->ctr.control_hs_timeouts);
	C("control_slow_peers", r->ctr.control_slow_peers);
	C("gossip_tx_bytes", r->ctr.gossip_tx_bytes);
	C("gossip_rx_bytes", r->ctr.gossip_rx_bytes);
	C("gossip_refused", r->ctr.gossip_refused);
	C("ipam_requests_refused", r->ctr.ipam_requests_refused);
	C("ipam_range6_conflicts", r->ctr.ipam_range6_conflicts);
	C("discovery_refused", r->ctr.discovery_refused);
	C("mac_table_size", r->macs.count);
	C("mac_refused_full", r->macs.refused.full);
	C("mac_refused_peer", r->macs.refused.peer);
	C("mac_refused_port", r->macs.refused.port);
	C("mac_refused_rate", r->macs.refused.rate);
	static const struct mesh_fastdp_counters no_vxlan;
	const struct mesh_fastdp_counters *v = r->fastdp ? mesh_fastdp_counters(r->fastdp) : &no_vxlan;
	C("fastdp_fdb_entries", v->fdb_entries);
	C("fastdp_fdb_errors", v->fdb_errors);
	C("fastdp_xfrm_purged", v->xfrm_purged);
	C("fastdp_ipsec_repairs", v->ipsec_repairs);
	C("fastdp_ipsec_repair_errors", v->ipsec_repair_errors);
	uint64_t plain;
	if (r->fastdp && mesh_fastdp_unencrypted_drops(r->fastdp, &plain) == 0)
		C("fastdp_unencrypted_dropped", plain); /* VXLAN that came outside ESP */
	C("fastdp_heartbeats_tx", v->hb_tx);
	C("fastdp_heartbeats_rx", v->hb_rx);
	C("fastdp_heartbeats_bad", v->hb_bad + v->hb_unknown);
	if (r->fastdp && mesh_fastdp_odp_stats(r->fastdp, &odp) == 0) {
		C("fastdp_flows", odp.flows > 0 ? odp.flows : 0);
		C("fastdp_misses", odp.misses);
		C("fastdp_flow_errors", odp.flow_errors);
		C("fastdp_flushes", odp.flushes);
		C("fastdp_revalidations", odp.revalidations);
		C("fastdp_flows_stale", odp.flows_stale);
		C("fastdp_repairs", odp.repairs);
	}
#undef C
	return o;
}
