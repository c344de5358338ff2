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

struct router_bridgewatch {
	int fd;                        /* rtnetlink, group RTNLGRP_NEIGH */
	struct event *ev;
	uint8_t buf[WATCH_BUF];
	int skip[4];                   /* data path ports, whose entries are not containers */
};

static void handle(struct mesh_router *r, const struct mesh_fdb_event *ev)
{
	const int *skip = r->own.bridgewatch->skip;
	if (ev->master != r->netdev.bridge_ifindex || (ev->state & NUD_PERMANENT) ||
	    mesh_mac_is_multicast(ev->mac) || ev->ifindex == skip[0] || ev->ifindex == skip[1] ||
	    ev->ifindex == skip[2] || ev->ifindex == skip[3])
		return; /* another bridge, a port's own address, or a data path port */
	if (!ev->added) {
		router_macs_gone_local(r, ev->mac);
		return;
	}
	int res = router_macs_learn(r, ev->mac, &r->name, (uint32_t)ev->ifindex);
	if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED) {
		log_debug("%02x:%02x:%02x:%02x:%02x:%02x appeared on bridge port %d", ev->mac[0],
			  ev->mac[1], ev->mac[2], ev->mac[3], ev->mac[4], ev->mac[5], ev->ifindex);
		router_fastpath_sync(r); /* it may have been a remote MAC */
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_router *r = arg;
	uint8_t *buf = r->own.bridgewatch->buf;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(fd, buf, WATCH_BUF, MSG_DONTWAIT);
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
			int ret = mesh_fdb_event_parse(buf + off, (size_t)n - off, &ev, &used, &why);
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
	struct router_bridgewatch *bw = calloc(1, sizeof(*bw));
	if (!bw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->own.bridgewatch = bw;
	bw->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (bw->fd < 0 || bind(bw->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot watch bridge %s's forwarding table: %s", r->cfg->bridge,
			 strerror(errno));
		return -errno;
	}
	bw->skip[0] = (int)if_nametoindex(sleeve_tap_name(r->sleeve));
	bw->skip[1] = r->fastdp ? (int)if_nametoindex(MESH_VXLAN_DEV) : -1;
	bw->skip[2] = r->fastdp ? (int)if_nametoindex(mesh_fastdp_bridge_port(r->fastdp)) : -1;
	/* the VXLAN device of peers reached over IPv6 (issue 18) */
	bw->skip[3] = r->fastdp ? (int)if_nametoindex(MESH_VXLAN6_DEV) : -1;
	for (int i = 1; i < 4; i++)
		if (bw->skip[i] == 0)
			bw->skip[i] = -1;
	bw->ev = event_new(r->base, bw->fd, EV_READ | EV_PERSIST, read_cb, r);
	if (!bw->ev || event_add(bw->ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register an event");
		return -ENOMEM;
	}
	return 0;
}

void router_bridgewatch_stop(struct mesh_router *r)
{
	struct router_bridgewatch *bw = r->own.bridgewatch;
	if (!bw)
		return;
	if (bw->ev)
		event_free(bw->ev);
	if (bw->fd >= 0)
		close(bw->fd);
	free(bw);
	r->own.bridgewatch = NULL;
}
