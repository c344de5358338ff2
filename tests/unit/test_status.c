/* tests/unit/test_status.c: the status JSON builder (router/status.c) over a router state built
 * by hand: identity, peers with hops and next hops, connections, targets, MACs, counters. No
 * sockets: the router is not started, its parts are filled in directly. */
#include <criterion/criterion.h>
#include <string.h>

#include "router/internal.h"

static const struct mesh_peer_name A = { { 0x02, 0, 0, 0, 0, 0xa } };
static const struct mesh_peer_name B = { { 0x02, 0, 0, 0, 0, 0xb } };
static const struct mesh_peer_name C = { { 0x02, 0, 0, 0, 0, 0xc } };

static void add_peer(struct mesh_topology *t, const struct mesh_peer_name *n, const char *nick,
		     const struct mesh_peer_name *links, unsigned nlinks)
{
	struct mesh_topo_peer *p = NULL;
	if (mesh_peer_name_eq(n, &t->self)) {
		p = &t->peers[0];
	} else {
		cr_assert_lt(t->n, t->cap);
		p = &t->peers[t->n++];
		memset(p, 0, sizeof(*p));
		p->name = *n;
		snprintf(p->nickname, sizeof(p->nickname), "%s", nick);
		p->uid = 0x1234;
		p->version = 7;
	}
	free(p->conns);
	p->conns = calloc(nlinks, sizeof(*p->conns));
	p->nconns = nlinks;
	for (unsigned i = 0; i < nlinks; i++) {
		p->conns[i].peer = links[i];
		p->conns[i].ip = htonl(0xc6120000u | links[i].b[5]);
		p->conns[i].port = 6783;
		p->conns[i].flags = MESH_TOPO_CONN_ESTABLISHED;
	}
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no field %s", k);
	return v;
}

static const cJSON *peer_named(const cJSON *st, const char *nick)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, get(st, "peers"))
		if (!strcmp(get(p, "nickname")->valuestring, nick))
			return p;
	cr_assert_fail("no peer %s", nick);
	return NULL;
}

Test(status, peers_routes_connections_targets_macs_counters)
{
	struct mesh_config cfg;
	char err[128];
	char a0[] = "meshd";
	char *argv[] = { a0 };
	cr_assert_eq(mesh_config_parse(&cfg, 1, argv, NULL, err, sizeof(err)), 0);

	struct mesh_router r;
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.name = A;
	mesh_peer_name_format(&A, r.name_str);
	strcpy(r.nickname, "h1");
	r.uid = 0xabcdef;
	r.mtu = 1402;
	r.encrypted = true;
	cr_assert_eq(mesh_topo_init(&r.topo, &A, "h1", r.uid, 1, 5), 0);
	cr_assert_eq(mesh_mactable_init(&r.macs), 0);
	/* line h1 - h2 - h3: h3 is two hops away, via h2 */
	struct mesh_peer_name ab[] = { B }, bac[] = { A, C }, cb[] = { B };
	add_peer(&r.topo, &A, "h1", ab, 1);
	add_peer(&r.topo, &B, "h2", bac, 2);
	add_peer(&r.topo, &C, "h3", cb, 1);
	cr_assert_eq(mesh_routes_compute(&r.routes, &r.topo), 0);

	struct mesh_conn conn;
	memset(&conn, 0, sizeof(conn));
	conn.peer = B;
	strcpy(conn.nickname, "h2");
	strcpy(conn.addr, "198.18.0.2:6783");
	conn.outbound = true;
	conn.state = CONN_ESTABLISHED;
	conn.encrypted = true;
	conn.usable = true;
	r.conns = &conn;
	struct mesh_target tgt;
	memset(&tgt, 0, sizeof(tgt));
	strcpy(tgt.addr_str, "198.18.0.9:6783");
	strcpy(tgt.last_error, "Connection refused");
	tgt.next_retry = 1795750000;
	tgt.attempts = 3;
	r.targets = &tgt;
	uint8_t mac[6] = { 0x0a, 0x58, 0, 0, 0, 1 };
	mesh_mactable_learn(&r.macs, mac, &C, 1, 42);
	r.ctr.gossip_tx_bytes = 1000;

	cJSON *st = mesh_router_status(&r);
	cr_assert_not_null(st);
	cr_assert_str_eq(get(st, "nickname")->valuestring, "h1");
	cr_assert_str_eq(get(st, "name")->valuestring, "02:00:00:00:00:0a");
	cr_assert_str_eq(get(st, "uid")->valuestring, "0000000000abcdef");
	cr_assert(cJSON_IsTrue(get(st, "encryption")));
	cr_assert_eq(get(st, "mtu")->valueint, 1402);
	cr_assert_eq(cJSON_GetArraySize(get(st, "peers")), 3);

	const cJSON *h3 = peer_named(st, "h3");
	cr_assert_eq(get(h3, "hops")->valueint, 2);
	cr_assert_str_eq(get(h3, "next_hop_nickname")->valuestring, "h2");
	cr_assert(cJSON_IsTrue(get(h3, "reachable")));
	const cJSON *h1 = peer_named(st, "h1");
	cr_assert_eq(get(h1, "hops")->valueint, 0);
	cr_assert(cJSON_IsNull(get(h1, "next_hop")));
	const cJSON *h2conns = get(peer_named(st, "h2"), "connections");
	cr_assert_eq(cJSON_GetArraySize(h2conns), 2);
	cr_assert_str_eq(get(cJSON_GetArrayItem(h2conns, 1), "address")->valuestring, "198.18.0.12:6783");

	const cJSON *c = cJSON_GetArrayItem(get(st, "connections"), 0);
	cr_assert_str_eq(get(c, "nickname")->valuestring, "h2");
	cr_assert_str_eq(get(c, "direction")->valuestring, "outbound");
	cr_assert_str_eq(get(c, "state")->valuestring, "established");
	cr_assert(cJSON_IsTrue(get(c, "encrypted")));
	cr_assert(cJSON_IsNull(get(c, "overlay")), "no forwarder: no overlay");

	const cJSON *t = cJSON_GetArrayItem(get(st, "targets"), 0);
	cr_assert_str_eq(get(t, "state")->valuestring, "retry-wait");
	cr_assert_str_eq(get(t, "last_error")->valuestring, "Connection refused");
	cr_assert_eq(get(t, "attempts")->valueint, 3);
	cr_assert_eq((long long)get(t, "next_retry")->valuedouble, 1795750000LL);

	const cJSON *m = cJSON_GetArrayItem(get(st, "macs"), 0);
	cr_assert_str_eq(get(m, "mac")->valuestring, "0a:58:00:00:00:01");
	cr_assert_str_eq(get(m, "nickname")->valuestring, "h3");
	cr_assert(cJSON_IsFalse(get(m, "local")));
	cr_assert_eq(get(m, "version")->valueint, 42);

	const cJSON *ctr = get(st, "counters");
	cr_assert_eq(get(ctr, "gossip_tx_bytes")->valueint, 1000);
	cr_assert_eq(get(ctr, "mac_table_size")->valueint, 1);
	for (const char *const *k = (const char *const[]){ "mac_refused_full", "mac_refused_peer",
			"mac_refused_port", "mac_refused_rate", "control_refused_unauth",
			"control_refused_limit", "control_hs_timeouts", "control_slow_peers",
			"ipam_requests_refused", "discovery_refused", NULL }; *k; k++)
		cr_assert(cJSON_IsNumber(get(ctr, *k)), "counter %s missing", *k);
	cr_assert_str_eq(get(st, "mesh_name")->valuestring, "mesh");
	cr_assert_eq(get(ctr, "sleeve_rx_frames")->valueint, 0);

	cJSON_Delete(st);
	mesh_routes_free(&r.routes);
	mesh_topo_free(&r.topo);
	mesh_mactable_free(&r.macs);
	mesh_config_free(&cfg);
}
