/* router/bridgewatch.c: the router's view of its bridge's forwarding database. The kernel
 * tells (rtnetlink group RTNLGRP_NEIGH) when the bridge learns a MAC on a container port and
 * when it forgets one (the container's veth was removed, or it stayed silent past the
 * bridge's ageing time); the router takes that as the MAC arriving at or leaving this host,
 * and gossips it, so that no peer keeps a stale entry. Frames that the fast path carries never
 * reach meshd, so the bridge, not meshd's own frame reads, is what says a local MAC is alive. */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fastdp/fastdp.h"
#include "router/fdbevent.h"
#include "router/internal.h"
#include "router/log.h"

#define WATCH_BUF (64 * 1024)

static void handle(struct mesh_router *r, const struct mesh_fdb_event *ev)
{
	if (ev->master != r->netdev.bridge_ifindex || (ev->state & NUD_PERMANENT) ||
	    mesh_mac_is_multicast(ev->mac) || ev->ifindex == r->bw_skip[0] ||
	    ev->ifindex == r->bw_skip[1] || ev->ifindex == r->bw_skip[2])
		return; /* another bridge, a port's own address, or a data path port */
	if (!ev->added) {
		router_macs_gone_local(r, ev->mac);
		return;
	}
	int res = mesh_mactable_learn(&r->macs, ev->mac, &r->name, mesh_mono_ms(),
				      mesh_wall_ms());
	if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED) {
		log_debug("%02x:%02x:%02x:%02x:%02x:%02x appeared on bridge port %d", ev->mac[0],
			  ev->mac[1], ev->mac[2], ev->mac[3], ev->mac[4], ev->mac[5], ev->ifindex);
		router_macs_learned_local(r, ev->mac);
		router_fastpath_sync(r); /* it may have been a remote MAC */
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(fd, r->bw_buf, WATCH_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)
				log_warn("missed bridge FDB changes (netlink overrun); MACs that left "
					 "meanwhile age out in 10 min instead");
			return;
		}
		size_t off = 0;
		while (off < (size_t)n) {
			struct mesh_fdb_event ev;
			size_t used;
			const char *why = "";
			int ret = mesh_fdb_event_parse(r->bw_buf + off, (size_t)n - off, &ev, &used, &why);
			if (ret < 0)
				log_debug("ignoring a bridge FDB notification: %s", why);
			else if (ret == 1)
				handle(r, &ev);
			if (!used)
				break;
			off += used;
		}
	}
}

int router_bridgewatch_start(struct mesh_router *r, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1u << (RTNLGRP_NEIGH - 1) };
	r->bw_buf = malloc(WATCH_BUF);
	r->bw_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (!r->bw_buf || r->bw_fd < 0 || bind(r->bw_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot watch bridge %s's forwarding table: %s", r->cfg->bridge,
			 strerror(errno));
		return -errno;
	}
	r->bw_skip[0] = (int)if_nametoindex(sleeve_tap_name(r->sleeve));
	r->bw_skip[1] = r->fastdp ? (int)if_nametoindex(MESH_VXLAN_DEV) : -1;
	r->bw_skip[2] = r->fastdp ? (int)if_nametoindex(MESH_ODP_BRIDGE_PORT) : -1;
	for (int i = 1; i < 3; i++)
		if (r->bw_skip[i] == 0)
			r->bw_skip[i] = -1;
	r->bw_ev = event_new(r->base, r->bw_fd, EV_READ | EV_PERSIST, read_cb, r);
	if (!r->bw_ev || event_add(r->bw_ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register an event");
		return -ENOMEM;
	}
	return 0;
}

void router_bridgewatch_stop(struct mesh_router *r)
{
	if (r->bw_ev)
		event_free(r->bw_ev);
	r->bw_ev = NULL;
	if (r->bw_fd >= 0)
		close(r->bw_fd);
	r->bw_fd = -1;
	free(r->bw_buf);
	r->bw_buf = NULL;
}
