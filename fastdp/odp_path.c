/* fastdp/odp_path.c: the Open vSwitch datapath fast path: setup, misses, flows (see
 * odp_path.h). */
#include <errno.h>
#include <linux/openvswitch.h>
#include <net/if.h>
#include <time.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fastdp/flow_table.h"
#include "fastdp/heartbeat.h"
#include "fastdp/odp.h"
#include "fastdp/odp_path.h"
#include "fastdp/vxlan_dev.h"
#include "mesh/clock.h"
#include "mesh/ipv6off.h"

#define UPCALL_BATCH 64
#define FLOWS_RECORDED 8192          /* flows revalidated one by one; beyond, a flush */

struct mesh_odp_path {
	struct mesh_odp_path_config cfg;
	struct odp_client c;
	bool have_dp;
	struct mesh_vxlan_dev port;   /* mesh-dpb, the bridge's end of the veth pair */
	uint32_t dp_port, vx_port;    /* vport numbers: the veth's datapath end, VXLAN */
	struct event *upcall_ev, *sweep_ev, *guard_ev;
	struct mesh_odp_counters ctr;
	struct mesh_flow_table flows; /* what we installed, to decide again on changes */
	char last_error[256];
};

/* The tunnel towards ip: outer IPv4 or IPv6 (issue 18), the kernel picks the source. */
static struct odp_tunnel tunnel_to(const struct mesh_odp_path *p, const struct mesh_ip *ip)
{
	struct odp_tunnel t = { .present = true, .id = p->cfg.vni, .ttl = 64 };
	if (mesh_ip_is_v6(ip)) {
		t.ipv6 = true;
		memcpy(t.ipv6_dst, ip->a, 16);
	} else {
		t.ipv4_dst = mesh_ip_ipv4(ip);
	}
	return t;
}

/* The sending host of a frame that came over the tunnel. */
static struct mesh_ip tunnel_src(const struct odp_tunnel *t)
{
	return t->ipv6 ? mesh_ip_v6(t->ipv6_src) : mesh_ip_v4(t->ipv4_src);
}

/* Actions for a decision: each VXLAN target (set tunnel, output), then the bridge. */
static void actions_of(const struct mesh_odp_path *p, const struct mesh_odp_decision *d,
		       struct odp_actions *a)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < d->n && a->n + 2 <= ODP_MAX_ACTIONS; i++) {
		a->a[a->n].kind = ODP_ACTION_SET_TUNNEL;
		a->a[a->n++].tun = tunnel_to(p, &d->peer_ips[i]);
		a->a[a->n].kind = ODP_ACTION_OUTPUT;
		a->a[a->n++].port = p->vx_port;
	}
	if (d->to_bridge && a->n < ODP_MAX_ACTIONS) {
		a->a[a->n].kind = ODP_ACTION_OUTPUT;
		a->a[a->n++].port = p->dp_port;
	}
}

/* The match of every flow we install: input port and both Ethernet addresses, exactly. */
static void flow_match(uint32_t in_port, const uint8_t src[6], const uint8_t dst[6],
		       struct odp_flow_key *key, struct odp_flow_key *mask)
{
	memset(key, 0, sizeof(*key));
	key->has_in_port = key->has_eth = true;
	key->in_port = in_port;
	memcpy(key->eth_src, src, 6);
	memcpy(key->eth_dst, dst, 6);
	*mask = *key;
	mask->in_port = 0xffffffff;
	memset(mask->eth_src, 0xff, 6);
	memset(mask->eth_dst, 0xff, 6);
}

/* Deletes every flow and forgets them all. */
static void flush_flows(struct mesh_odp_path *p)
{
	char err[256];
	if (odp_flow_del(&p->c, NULL, NULL, err, sizeof(err)) == 0) {
		p->ctr.flushes++;
		mesh_flow_table_clear(&p->flows);
	}
}

static void on_miss(void *arg, const struct odp_upcall *up)
{
	struct mesh_odp_path *p = arg;
	const uint8_t *f = up->packet;
	char err[256];
	p->ctr.misses++;
	if (up->len >= MESH_HB_MIN_LEN && f[12] == (MESH_HB_ETHERTYPE >> 8) &&
	    f[13] == (MESH_HB_ETHERTYPE & 0xff)) {
		if (up->key.has_in_port && up->key.in_port == p->vx_port)
			p->cfg.heartbeat(p->cfg.arg, f, up->len);
		return; /* heartbeats never get a flow: each one must reach meshd */
	}
	if (!up->key.has_in_port || (up->key.in_port != p->vx_port && up->key.in_port != p->dp_port))
		return;
	struct mesh_odp_miss m = { .from_tunnel = up->key.in_port == p->vx_port };
	if (m.from_tunnel)
		m.tun_src = tunnel_src(&up->key.tun);
	memcpy(m.eth_dst, f, 6);
	memcpy(m.eth_src, f + 6, 6);
	struct mesh_odp_decision d = { 0 };
	p->cfg.decide(p->cfg.arg, &m, &d);

	static struct odp_flow flow;
	memset(&flow, 0, sizeof(flow));
	flow.has_key = flow.has_mask = flow.has_actions = true;
	flow_match(up->key.in_port, m.eth_src, m.eth_dst, &flow.key, &flow.mask);
	actions_of(p, &d, &flow.actions);
	if (odp_flow_put(&p->c, &flow, err, sizeof(err)) < 0) {
		p->ctr.flow_errors++;
		snprintf(p->last_error, sizeof(p->last_error),
			 "%s (flow in_port %u to %02x:%02x:%02x:%02x:%02x:%02x, %zu actions)", err,
			 flow.key.in_port, m.eth_dst[0], m.eth_dst[1], m.eth_dst[2], m.eth_dst[3],
			 m.eth_dst[4], m.eth_dst[5], flow.actions.n);
	} else {
		p->ctr.flows_installed++;
		mesh_flow_table_put(&p->flows, flow.key.in_port, &m, mesh_odp_decision_hash(&d));
	}
	if (flow.actions.n) {
		/* the packet itself, with the key the kernel gave it (tunnel metadata included) */
		struct odp_flow_key k = up->key;
		if (odp_execute(&p->c, f, up->len, &k, &flow.actions, err, sizeof(err)) < 0) {
			p->ctr.flow_errors++;
			snprintf(p->last_error, sizeof(p->last_error), "%s", err);
		}
	}
}

static void upcall_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_odp_path *p = arg;
	odp_upcall_recv(&p->c, UPCALL_BATCH, on_miss, p);
}

struct sweep_ctx {
	struct mesh_odp_path *p;
	uint64_t now_ms;
	size_t n;
	struct odp_flow_key keys[256], masks[256];
};

static int collect_idle(void *arg, const struct odp_flow *f)
{
	struct sweep_ctx *s = arg;
	/* unused for a sweep period (used is the kernel's jiffies in ms, 0 = never) */
	if (s->n < 256 && (!f->has_used || s->now_ms - f->used_ms > MESH_ODP_SWEEP_S * 1000ull)) {
		s->keys[s->n] = f->key;
		s->masks[s->n++] = f->mask;
	}
	return 0;
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct sweep_ctx s;
	char err[256];
	s.p = arg;
	s.now_ms = mesh_mono_ms();
	s.n = 0;
	if (odp_flow_dump(&s.p->c, collect_idle, &s, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < s.n; i++) {
		odp_flow_del(&s.p->c, &s.keys[i], &s.masks[i], err, sizeof(err));
		mesh_flow_table_del(&s.p->flows, s.keys[i].in_port, s.keys[i].eth_src,
				    s.keys[i].eth_dst);
	}
}

/* A vport of ours that another program deleted (ovs-dpctl del-if) is added again. Should it
 * get another port number, every flow goes: they name the old one. */
static void repair_vport(struct mesh_odp_path *p, const char *name, uint32_t type,
			 uint16_t dst_port, uint32_t *port_no)
{
	struct odp_vport v = { .type = type, .dst_port = dst_port };
	char err[256];
	int ret = odp_vport_get(&p->c, name, &v, err, sizeof(err));
	if (ret == 0 || (ret != -ENODEV && ret != -ENOENT))
		return;
	snprintf(v.name, sizeof(v.name), "%s", name);
	if (odp_vport_add(&p->c, &v, err, sizeof(err)) < 0) {
		snprintf(p->last_error, sizeof(p->last_error),
			 "vport %s of datapath %s was deleted by another program and cannot be added "
			 "again: %s", name, MESH_ODP_DP, err);
		return;
	}
	p->ctr.repairs++;
	snprintf(p->last_error, sizeof(p->last_error),
		 "vport %s of datapath %s was deleted by another program; added again as port %u",
		 name, MESH_ODP_DP, v.port_no);
	if (v.port_no != *port_no) {
		*port_no = v.port_no;
		flush_flows(p);
	}
}

/* Other programs may change our datapath: ovs-dpctl, opening it, switches it to per-CPU upcall
 * dispatch, after which no miss (and no heartbeat) reaches us; del-if takes a vport away.
 * Every 250 ms, put our features and the vports' upcall PIDs back if they changed, and our
 * vports if they are gone. */
static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_odp_path *p = arg;
	struct odp_dp dp;
	char err[256], vx[IFNAMSIZ];
	if (odp_dp_get(&p->c, &dp, err, sizeof(err)) < 0)
		return; /* the datapath is gone: heartbeats fail and connections use the sleeve */
	snprintf(vx, sizeof(vx), "vxlan-%u", p->cfg.port);
	repair_vport(p, MESH_ODP_DP_PORT, OVS_VPORT_TYPE_NETDEV, 0, &p->dp_port);
	repair_vport(p, vx, OVS_VPORT_TYPE_VXLAN, p->cfg.port, &p->vx_port);
	if (!dp.has_features || dp.features == ODP_FEATURES)
		return;
	p->ctr.repairs++;
	snprintf(p->last_error, sizeof(p->last_error),
		 "datapath %s's features were changed to %#x by another program; set back to %#x",
		 MESH_ODP_DP, dp.features, ODP_FEATURES);
	odp_dp_set_features(&p->c, ODP_FEATURES, err, sizeof(err));
	odp_vport_set_upcall(&p->c, p->dp_port, err, sizeof(err));
	odp_vport_set_upcall(&p->c, p->vx_port, err, sizeof(err));
}

static void delete_veth(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *l = rtnl_link_alloc();
	if (sk && l && nl_connect(sk, NETLINK_ROUTE) == 0) {
		rtnl_link_set_name(l, MESH_ODP_BRIDGE_PORT);
		rtnl_link_delete(sk, l);
	}
	if (l)
		rtnl_link_put(l);
	if (sk)
		nl_socket_free(sk);
}

/* The veth pair, the datapath end up and IPv6-quiet. */
static int make_veth(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret = -ENOMEM;
	delete_veth(); /* a leftover of a meshd that did not exit cleanly */
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0)
		goto out;
	ret = rtnl_link_veth_add(sk, MESH_ODP_BRIDGE_PORT, MESH_ODP_DP_PORT, getpid());
	if (ret < 0) {
		snprintf(err, errlen, "cannot create veth %s/%s: %s", MESH_ODP_BRIDGE_PORT,
			 MESH_ODP_DP_PORT, nl_geterror(ret));
		ret = -EIO;
		goto out;
	}
	mesh_link_ipv6_off(MESH_ODP_DP_PORT);
	ret = mesh_link_change(sk, MESH_ODP_DP_PORT, 0, 0, true, err, errlen);
out:
	if (sk)
		nl_socket_free(sk);
	return ret;
}

int mesh_odp_path_new(struct event_base *base, const struct mesh_odp_path_config *cfg,
		      struct mesh_odp_path **out, char *err, size_t errlen)
{
	struct mesh_odp_path *p = calloc(1, sizeof(*p));
	int ret;
	*out = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->cfg = *cfg;
	if (mesh_flow_table_init(&p->flows, FLOWS_RECORDED * 4 / 3 + 1) < 0) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((ret = odp_open(&p->c, err, errlen)) < 0) {
		mesh_flow_table_free(&p->flows);
		free(p);
		return ret;
	}
	/* a datapath left by a meshd that did not exit cleanly goes: its vports and flows are
	 * stale */
	if (odp_dp_ensure(&p->c, MESH_ODP_DP, err, errlen) == 0)
		odp_dp_delete(&p->c, err, errlen);
	if ((ret = odp_dp_ensure(&p->c, MESH_ODP_DP, err, errlen)) < 0)
		goto errout;
	p->have_dp = true;
	if ((ret = make_veth(err, errlen)) < 0)
		goto errout;
	if ((ret = mesh_vxlan_dev_adopt_port(&p->port, MESH_ODP_BRIDGE_PORT, cfg->bridge, cfg->mtu,
					     err, errlen)) < 0)
		goto errout;
	struct odp_vport dp = { .type = OVS_VPORT_TYPE_NETDEV };
	snprintf(dp.name, sizeof(dp.name), "%s", MESH_ODP_DP_PORT);
	if ((ret = odp_vport_add(&p->c, &dp, err, errlen)) < 0)
		goto errout;
	p->dp_port = dp.port_no;
	struct odp_vport vx = { .type = OVS_VPORT_TYPE_VXLAN, .dst_port = cfg->port };
	snprintf(vx.name, sizeof(vx.name), "vxlan-%u", cfg->port);
	if ((ret = odp_vport_add(&p->c, &vx, err, errlen)) < 0)
		goto errout;
	p->vx_port = vx.port_no;
	p->upcall_ev = event_new(base, odp_upcall_fd(&p->c), EV_READ | EV_PERSIST, upcall_cb, p);
	p->sweep_ev = event_new(base, -1, EV_PERSIST, sweep_cb, p);
	p->guard_ev = event_new(base, -1, EV_PERSIST, guard_cb, p);
	struct timeval every = { MESH_ODP_SWEEP_S, 0 }, second = { 0, 250 * 1000 };
	if (!p->upcall_ev || !p->sweep_ev || !p->guard_ev || event_add(p->upcall_ev, NULL) < 0 ||
	    event_add(p->sweep_ev, &every) < 0 || event_add(p->guard_ev, &second) < 0) {
		snprintf(err, errlen, "cannot register events");
		ret = -ENOMEM;
		goto errout;
	}
	*out = p;
	return 0;
errout:
	mesh_odp_path_free(p);
	return ret;
}

void mesh_odp_path_free(struct mesh_odp_path *p)
{
	char err[256];
	if (!p)
		return;
	if (p->upcall_ev)
		event_free(p->upcall_ev);
	if (p->sweep_ev)
		event_free(p->sweep_ev);
	if (p->guard_ev)
		event_free(p->guard_ev);
	if (p->have_dp)
		odp_dp_delete(&p->c, err, sizeof(err));
	if (p->port.sk)
		mesh_vxlan_dev_destroy(&p->port); /* removes the veth pair */
	else
		delete_veth();
	odp_close(&p->c);
	mesh_flow_table_free(&p->flows);
	free(p);
}

int mesh_odp_path_send(struct mesh_odp_path *p, const struct mesh_ip *remote_ip,
		       const uint8_t *frame, size_t len)
{
	struct odp_flow_key key = { .has_in_port = true, .in_port = p->dp_port };
	struct odp_actions act = { .n = 2 };
	char err[256];
	act.a[0].kind = ODP_ACTION_SET_TUNNEL;
	act.a[0].tun = tunnel_to(p, remote_ip);
	act.a[1].kind = ODP_ACTION_OUTPUT;
	act.a[1].port = p->vx_port;
	return odp_execute(&p->c, frame, len, &key, &act, err, sizeof(err));
}

int mesh_odp_path_isolate_port(struct mesh_odp_path *p, const char *ifname, char *err,
			       size_t errlen)
{
	return mesh_vxlan_dev_isolate_port(&p->port, ifname, err, errlen);
}

int mesh_odp_path_bridge_fdb(struct mesh_odp_path *p, bool add, const uint8_t mac[6], char *err,
			     size_t errlen)
{
	return mesh_vxlan_dev_bridge_fdb(&p->port, add, mac, err, errlen);
}

/* The kernel flow for a record: the key and mask it was installed with. */
static void delete_stale(void *arg, const struct mesh_flow_rec *r)
{
	struct mesh_odp_path *p = arg;
	struct odp_flow_key key, mask;
	char err[256];
	flow_match(r->in_port, r->miss.eth_src, r->miss.eth_dst, &key, &mask);
	/* ENOENT: the kernel's flow went already (swept, or deleted by another program) */
	if (odp_flow_del(&p->c, &key, &mask, err, sizeof(err)) == 0)
		p->ctr.flows_stale++;
}

void mesh_odp_path_revalidate(struct mesh_odp_path *p)
{
	p->ctr.revalidations++;
	if (!p->flows.overflow) {
		mesh_flow_table_revalidate(&p->flows, p->cfg.decide, p->cfg.arg, delete_stale, p);
		return;
	}
	/* more flows than we recorded: only a flush leaves none deciding the old way */
	flush_flows(p);
}

const struct mesh_odp_counters *mesh_odp_path_counters(const struct mesh_odp_path *p)
{
	return &p->ctr;
}

static int count_one(void *arg, const struct odp_flow *f)
{
	(void)f;
	(*(int *)arg)++;
	return 0;
}

int mesh_odp_path_flow_count(struct mesh_odp_path *p)
{
	/* what we recorded, while that is all of them: no dump of the datapath per status call */
	if (!p->flows.overflow)
		return (int)p->flows.count;
	int n = 0;
	char err[256];
	int ret = odp_flow_dump(&p->c, count_one, &n, err, sizeof(err));
	return ret < 0 ? ret : n;
}

const char *mesh_odp_path_last_error(const struct mesh_odp_path *p)
{
	return p->last_error;
}
