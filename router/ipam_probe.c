/* router/ipam_probe.c: ARP probes on the bridge for a host that lost its IPAM state (see
 * ipam_probe.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/clock.h"
#include "router/arpprobe.h"
#include "router/ipam_probe.h"
#include "router/log.h"

#define SLOTS 256
/* a second probe, in case the first was lost, once this much of the wait has passed */
#define REPROBE_MS (MESH_IPAM_PROBE_WAIT_MS / 2)

struct slot {
	uint32_t ip;
	uint64_t sent_ms;
	uint8_t probes;
	bool in_use;
	uint8_t mac[6];
};

struct router_ipam_probe {
	int fd;
	int ifindex;
	char bridge[IFNAMSIZ];
	uint8_t mac[6];                /* the bridge's: where answers come back to */
	struct event *ev;
	struct slot slot[SLOTS];
	unsigned next;                 /* the slot the next new probe takes (oldest first) */
	uint64_t sent, claims;
};

static void send_probe(struct router_ipam_probe *p, uint32_t ip)
{
	uint8_t arp[MESH_ARP_LEN];
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = p->ifindex,
		.sll_halen = 6,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	/* the bridge's MAC follows its ports unless someone set it: read it each time, so that
	 * answers come back to the bridge itself and not to a port that had that MAC */
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->bridge);
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	mesh_arp_probe_build(arp, p->mac, ip);
	if (sendto(p->fd, arp, sizeof(arp), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(arp))
		p->sent++;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct router_ipam_probe *p = arg;
	uint8_t buf[256];
	(void)what;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		uint32_t ip;
		uint8_t mac[6];
		if (mesh_arp_claim_parse(buf, (size_t)n, &ip, mac) != 1)
			continue;
		for (unsigned k = 0; k < SLOTS; k++) {
			struct slot *s = &p->slot[k];
			if (s->sent_ms && s->ip == ip && !s->in_use) {
				s->in_use = true;
				memcpy(s->mac, mac, 6);
				p->claims++;
			}
		}
	}
}

struct router_ipam_probe *router_ipam_probe_new(struct event_base *base, const char *bridge,
						char *err, size_t errlen)
{
	struct router_ipam_probe *p = calloc(1, sizeof(*p));
	struct ifreq ifr = { 0 };
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (p->fd < 0) {
		snprintf(err, errlen, "cannot open a packet socket for ARP probes: %s", strerror(errno));
		goto errout;
	}
	p->ifindex = (int)if_nametoindex(bridge);
	snprintf(p->bridge, sizeof(p->bridge), "%s", bridge);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	if (!p->ifindex || ioctl(p->fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(err, errlen, "cannot find the bridge %s for ARP probes: %s", bridge,
			 strerror(errno));
		goto errout;
	}
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll at = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = p->ifindex,
	};
	if (bind(p->fd, (struct sockaddr *)&at, sizeof(at)) < 0) {
		snprintf(err, errlen, "cannot bind the ARP probe socket to %s: %s", bridge,
			 strerror(errno));
		goto errout;
	}
	p->ev = event_new(base, p->fd, EV_READ | EV_PERSIST, on_read, p);
	if (!p->ev || event_add(p->ev, NULL) < 0) {
		snprintf(err, errlen, "out of memory");
		goto errout;
	}
	return p;
errout:
	router_ipam_probe_free(p);
	return NULL;
}

void router_ipam_probe_free(struct router_ipam_probe *p)
{
	if (!p)
		return;
	if (p->ev)
		event_free(p->ev);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

enum mesh_ipam_probe_result router_ipam_probe_check(struct router_ipam_probe *p, uint32_t ip,
						    uint8_t mac[6])
{
	uint64_t now = mesh_mono_ms();
	for (unsigned k = 0; k < SLOTS; k++) {
		struct slot *s = &p->slot[k];
		if (!s->sent_ms || s->ip != ip || now - s->sent_ms > MESH_IPAM_PROBE_VALID_MS)
			continue;
		if (s->in_use) {
			memcpy(mac, s->mac, 6);
			return MESH_IPAM_PROBE_IN_USE;
		}
		if (now - s->sent_ms >= MESH_IPAM_PROBE_WAIT_MS)
			return MESH_IPAM_PROBE_FREE;
		if (s->probes < 2 && now - s->sent_ms >= REPROBE_MS) {
			send_probe(p, ip);
			s->probes++;
		}
		return MESH_IPAM_PROBE_PENDING;
	}
	struct slot *s = &p->slot[p->next];
	p->next = (p->next + 1) % SLOTS;
	memset(s, 0, sizeof(*s));
	s->ip = ip;
	s->sent_ms = now ? now : 1;
	s->probes = 1;
	send_probe(p, ip);
	return MESH_IPAM_PROBE_PENDING;
}

void router_ipam_probe_counts(const struct router_ipam_probe *p, uint64_t *sent, uint64_t *in_use)
{
	*sent = p ? p->sent : 0;
	*in_use = p ? p->claims : 0;
}
