/* sleeve/sleeve.c: the sleeve data path (see sleeve.h): setup, connections (struct
 * overlay_ops), heartbeats and path MTU probes. The data itself moves in tx.c (TAP to
 * datagrams) and rx.c (datagrams to TAP), over the state in internal.h.
 *
 * The design, end to end. Frames come from the TAP with virtio headers; with TSO on, TCP
 * super-frames of up to 64000 bytes. They are batched per connection into datagrams built in
 * a fixed ring of slots (a super-frame for one peer is read straight into its slot), each
 * sealed once, and sent with one sendmmsg per event loop turn. A datagram larger than the
 * path is cut into FRAGMENT datagrams no larger than the path (codec.h) that go out as one
 * sendmsg with UDP_SEGMENT: the kernel carries them as one GSO packet as far as it can and
 * cuts them where it must. The socket has UDP_GRO on, so they usually come back as one
 * coalesced read; the receive buffers are laid out so that the slices then lie side by side
 * and the whole is opened where it lies (else it is put back together in the connection's
 * reassembly buffer). Received frames for our bridge are written to the TAP, runs of one UDP
 * flow as one UDP GSO write (gro.h). Nothing is allocated per packet.
 *
 * Sealing per super-frame, not per wire datagram: secretbox costs ~2 µs a message here on top
 * of its per-byte cost (~5.6 Gbit/s at 1400 bytes against ~11 at 64 KB), which would halve
 * the encrypted sleeve's throughput on a CPU-bound path, and per-datagram seals would only pay
 * off under loss if each datagram carried a real TCP segment (software TSO/GRO of the TCP
 * headers). The price: one lost fragment loses the whole super-frame (up to ~45 segments,
 * recovered by TCP's SACK retransmission), as one lost IP fragment did before. TSO (and so
 * super-frames) is only on while every path carries full-size packets (router_update_tso);
 * small frames are still batched several to a datagram and never cut. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "crypto/session.h"
#include "mesh/bytes.h"
#include "sleeve/internal.h"

/* The echo of the heartbeat (or probe) that leaves now, noted with its time for the acks
 * that come back in the peer's heartbeats. */
static uint64_t next_echo(struct sleeve_fwd *f, uint64_t now)
{
	f->hb_sent_ms[++f->hb_echo % SLEEVE_HB_SENT_RING] = now;
	return f->hb_echo;
}

/* Sends a path MTU probe now, on its own: a heartbeat padded to `size` bytes with DF set. */
static void send_probe(struct sleeve_fwd *f, uint16_t size)
{
	struct sleeve *s = f->s;
	uint8_t buf[16384]; /* probes beyond jumbo size are settled as too big */
	size_t off = payload_off(f);
	if (size > sizeof(buf) || size < off + 8) {
		sleeve_pmtu_lost(&f->pmtu, true); /* cannot be built: settle it as too big */
		return;
	}
	memset(buf, 0, sizeof(buf));
	put_be64(buf + off, next_echo(f, mesh_mono_ms()));
	size_t len = sleeve_finish_datagram(f, SLEEVE_HEARTBEAT, buf, size - off);
	/* DF for this datagram alone, at the level of the peer's family (a mapped IPv4 peer of
	 * the dual-stack socket goes out through IPv4): PROBE also ignores the cached path MTU,
	 * so the probe really crosses the path, and the kernel refuses what our link cannot carry */
	bool v6 = sleeve_peer_is_ipv6(f);
	int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP, opt = v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER;
	int on = v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE;
	int off_ = v6 ? IPV6_PMTUDISC_DONT : IP_PMTUDISC_DONT;
	setsockopt(s->udp_fd, level, opt, &on, sizeof(on));
	ssize_t n = sendto(s->udp_fd, buf, len, 0, (struct sockaddr *)&f->p.remote_addr,
			   sleeve_addr_len(&f->p.remote_addr));
	int err = errno;
	setsockopt(s->udp_fd, level, opt, &off_, sizeof(off_));
	if (n < 0 && err == EMSGSIZE) {
		sleeve_pmtu_lost(&f->pmtu, true);
		f->probe_sent_ms = 0;
		return;
	}
	f->probe_sent_ms = mesh_mono_ms();
}

static void pmtu_step(struct sleeve_fwd *f, uint64_t now)
{
	if (f->probe_sent_ms) {
		if (now - f->probe_sent_ms < SLEEVE_HEARTBEAT_SLOW_MS)
			return; /* give the probe in flight its time */
		sleeve_pmtu_lost(&f->pmtu, false);
		f->probe_sent_ms = 0;
	}
	/* sizes the kernel refuses (larger than our own link) are settled at once */
	uint16_t size;
	while (!f->probe_sent_ms && (size = sleeve_pmtu_next(&f->pmtu)) != 0)
		send_probe(f, size);
	if (!sleeve_pmtu_done(&f->pmtu) || f->verified == f->pmtu.ok)
		return;
	/* search finished: from now on the connection's MTU is what the path carries */
	f->verified = f->pmtu.ok;
	if (f->s->cb.mtu_changed)
		f->s->cb.mtu_changed(f->s->cb.arg, &f->base);
}

static void set_health(struct sleeve_fwd *f, enum overlay_health h, const char *why)
{
	if (f->health == h)
		return;
	f->health = h;
	f->why = why;
	if (f->s->cb.health_changed)
		f->s->cb.health_changed(f->s->cb.arg, &f->base, h, why);
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve_fwd *f = arg;
	uint64_t now = mesh_mono_ms();

	if (f->health == OVERLAY_HEALTH_HEALTHY && now - f->last_rx_ms > SLEEVE_HEALTH_TIMEOUT_MS)
		set_health(f, OVERLAY_HEALTH_UNHEALTHY, "no sleeve heartbeat answered for 4 s");
	sleeve_send_control(f, SLEEVE_HEARTBEAT, next_echo(f, now), 0);
	sleeve_flush(f->s);
	if (f->health == OVERLAY_HEALTH_HEALTHY)
		pmtu_step(f, now);
	/* slow while each heartbeat is answered; once an answer is late (lost on a lossy path),
	 * fast, so the 4 s before "unhealthy" hold eight tries, not four */
	bool answered = now - f->last_ack_ms <= SLEEVE_HEARTBEAT_SLOW_MS + SLEEVE_HEARTBEAT_LATE_MS;
	uint64_t next = f->health == OVERLAY_HEALTH_HEALTHY && answered ? SLEEVE_HEARTBEAT_SLOW_MS
									 : SLEEVE_HEARTBEAT_FAST_MS;
	struct timeval tv = { (time_t)(next / 1000), (suseconds_t)(next % 1000) * 1000 };
	event_add(f->hb_timer, &tv);
}

/* The peer's heartbeat acknowledged our heartbeat echo (0: none yet), got bytes long. */
static void acked_in_heartbeat(struct sleeve_fwd *f, uint64_t echo, uint16_t got)
{
	if (!echo || echo > f->hb_echo || f->hb_echo - echo >= SLEEVE_HB_SENT_RING ||
	    mesh_mono_ms() - f->hb_sent_ms[echo % SLEEVE_HB_SENT_RING] > SLEEVE_HB_ACK_FRESH_MS)
		return; /* none yet, not ours, or so old the peer repeats it: ours do not arrive */
	sleeve_heartbeat_answered(f, got);
}

void sleeve_heartbeat_received(struct sleeve_fwd *f, const uint8_t *payload, size_t plen,
			       uint16_t len)
{
	uint64_t echo = get_be64(payload);
	if (plen == SLEEVE_HB_PLEN) { /* a plain heartbeat with the newest of ours it heard */
		f->reads_hb_acks = true;
		acked_in_heartbeat(f, get_be64(payload + 8), get_be16(payload + 16));
	}
	if (echo > f->heard_echo) {
		f->heard_echo = echo;
		f->heard_len = len;
	}
	if (plen > SLEEVE_HB_PLEN || !f->reads_hb_acks) /* a probe, or an older peer */
		sleeve_send_control(f, SLEEVE_HEARTBEAT_ACK, echo, len);
}

void sleeve_heartbeat_answered(struct sleeve_fwd *f, uint16_t got)
{
	f->last_ack_ms = f->last_rx_ms;
	set_health(f, OVERLAY_HEALTH_HEALTHY, "sleeve heartbeats answered");
	if (f->probe_sent_ms && got == f->pmtu.probe) {
		sleeve_pmtu_acked(&f->pmtu, got);
		f->probe_sent_ms = 0;
		pmtu_step(f, mesh_mono_ms());
	}
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	sleeve_udp_rx(s);
}

static void tap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	sleeve_tap_rx(s);
}

/* A peer's address as the socket of `family` takes it: IPv4 mapped for the dual-stack AF_INET6
 * socket. 0, or -EAFNOSUPPORT (IPv6 for an AF_INET socket, or no address). */
static int to_socket_family(const struct sockaddr_storage *in, int family,
			    struct sockaddr_storage *out)
{
	if (in->ss_family == family) {
		*out = *in;
		return 0;
	}
	if (in->ss_family != AF_INET || family != AF_INET6)
		return -EAFNOSUPPORT;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)in;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	memset(out, 0, sizeof(*out));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = s4->sin_port;
	s6->sin6_addr.s6_addr[10] = 0xff;
	s6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
	return 0;
}

static struct overlay_forwarder *sleeve_start(struct overlay *ov, const struct overlay_conn_params *p,
					      void *conn_arg)
{
	struct sleeve *s = (struct sleeve *)ov;
	struct sleeve_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->base.ov = ov;
	f->s = s;
	f->p = *p;
	/* the peer's address in the socket's family: IPv4 mapped on the dual-stack socket, so
	 * that it compares equal to what recvmmsg reports */
	if (to_socket_family(&p->remote_addr, s->family, &f->p.remote_addr) < 0) {
		free(f); /* an IPv6 peer, and this host has no IPv6 */
		return NULL;
	}
	f->conn_arg = conn_arg;
	f->health = OVERLAY_HEALTH_CONNECTING;
	f->why = "waiting for the first sleeve heartbeat answer";
	mesh_replay_init(&f->replay);
	f->hb_timer = event_new(s->base, -1, 0, heartbeat_cb, f);
	if (!f->hb_timer) {
		free(f);
		return NULL;
	}
	f->last_rx_ms = mesh_mono_ms();
	/* datagram sizes: from the minimum every path of the family carries (IPv4 576, IPv6 1280,
	 * less the IP and UDP headers) to what the configured MTU needs */
	uint16_t max = (uint16_t)(s->mtu + frame_overhead(f));
	uint16_t floor = sleeve_peer_is_ipv6(f) ? SLEEVE_PMTU_FLOOR_V6 : SLEEVE_PMTU_FLOOR_V4;
	sleeve_pmtu_init(&f->pmtu, floor < max ? floor : max, max);
	f->next = s->fwds;
	s->fwds = f;
	s->tap_at = payload_off(f) + SLEEVE_REC_HDR_LEN; /* one password for the whole mesh */
	heartbeat_cb(-1, 0, f);
	return &f->base;
}

static void sleeve_stop(struct overlay_forwarder *ofwd)
{
	struct sleeve_fwd *f = (struct sleeve_fwd *)ofwd;
	struct sleeve *s = f->s;
	/* Send what is queued for it now, while its keys are still there. */
	for (unsigned i = 0; i < s->tx_used; i++)
		if (s->tx[i].fwd == f) {
			sleeve_flush(s);
			break;
		}
	for (struct sleeve_fwd **pp = &s->fwds; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	event_free(f->hb_timer);
	free(f->reasm_buf);
	mesh_wipe(&f->p, sizeof(f->p));
	free(f);
}

static enum overlay_health sleeve_health(const struct overlay_forwarder *ofwd, const char **why)
{
	const struct sleeve_fwd *f = (const struct sleeve_fwd *)ofwd;
	if (why)
		*why = f->why;
	return f->health;
}

/* The IP MTU a container may use towards this peer: what the verified path carries after the
 * sleeve's overhead, or the configured MTU until a path MTU is known. */
static unsigned sleeve_mtu(const struct overlay_forwarder *ofwd)
{
	const struct sleeve_fwd *f = (const struct sleeve_fwd *)ofwd;
	unsigned overhead = (unsigned)frame_overhead(f);
	if (!f->verified || f->verified <= overhead)
		return f->s->mtu;
	unsigned path = f->verified - overhead;
	return path < f->s->mtu ? path : f->s->mtu;
}

static void *sleeve_conn_arg(const struct overlay_forwarder *ofwd)
{
	return ((const struct sleeve_fwd *)ofwd)->conn_arg;
}

static const struct overlay_ops sleeve_ops = {
	.name = "sleeve",
	.start = sleeve_start,
	.stop = sleeve_stop,
	.send = sleeve_send,
	.deliver = sleeve_deliver,
	.health = sleeve_health,
	.mtu = sleeve_mtu,
	.conn_arg = sleeve_conn_arg,
};

/* The sleeve's one UDP socket: dual-stack AF_INET6 (IPV6_V6ONLY off; IPv4 peers as mapped
 * addresses, still sent and received through IPv4 with GSO and GRO), or AF_INET where the host
 * has no IPv6. Its family goes to *family. */
static int bind_udp(uint16_t port, int *family, char *err, size_t errlen)
{
	int zero = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0 &&
		    bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0) {
			*family = AF_INET6;
			goto bound;
		}
		int e = errno;
		close(fd);
		if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT) {
			snprintf(err, errlen, "cannot bind the sleeve to UDP port %u: %s", port,
				 strerror(e));
			return -1;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the sleeve UDP socket: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		snprintf(err, errlen, "cannot bind the sleeve to UDP port %u: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	*family = AF_INET;
bound:;
	/* No DF on data: a frame larger than the path is fragmented rather than lost (over IPv6
	 * by us, at the path MTU we know); path MTU probes set DF for themselves (send_probe). */
	int pmtudisc = IP_PMTUDISC_DONT;
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc, sizeof(pmtudisc));
	if (*family == AF_INET6) {
		int pmtudisc6 = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtudisc6, sizeof(pmtudisc6));
	}
	/* Coalesced datagrams in, cut up by the kernel on the way out (recvmmsg / sendmmsg). */
	int on = 1;
	setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

struct sleeve *sleeve_new(struct event_base *base, const struct sleeve_config *cfg,
			  const struct overlay_callbacks *cb, char *err, size_t errlen)
{
	struct sleeve *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ov.ops = &sleeve_ops;
	s->base = base;
	s->cb = *cb;
	s->mtu = cfg->mtu;
	s->port = cfg->port;
	s->udp_fd = -1;
	snprintf(s->tap_name, sizeof(s->tap_name), "%s", cfg->tap_name);
	s->tap_fd = sleeve_tap_open(cfg->tap_name);
	if (s->tap_fd < 0) {
		snprintf(err, errlen, "cannot create TAP device %s: %s%s", cfg->tap_name,
			 strerror(-s->tap_fd),
			 s->tap_fd == -EPERM ? " (meshd needs CAP_NET_ADMIN: run it as root)" : "");
		goto errout;
	}
	s->gso = true;
	s->uso_tap = sleeve_tap_takes_uso(s->tap_fd);
	for (unsigned i = 0; i < BATCH; i++)
		s->tx[i].buf = s->pool[i];
	s->spare = s->pool[BATCH];
	s->tap_at = TAP_FRAME_AT;
	sleeve_rx_init(s);
	s->udp_fd = bind_udp(cfg->port, &s->family, err, errlen);
	if (s->udp_fd < 0)
		goto errout;
	s->tap_ev = event_new(base, s->tap_fd, EV_READ | EV_PERSIST, tap_cb, s);
	s->udp_ev = event_new(base, s->udp_fd, EV_READ | EV_PERSIST, udp_cb, s);
	if (!s->tap_ev || !s->udp_ev || event_add(s->tap_ev, NULL) || event_add(s->udp_ev, NULL)) {
		snprintf(err, errlen, "cannot register sleeve events");
		goto errout;
	}
	return s;
errout:
	sleeve_free(s);
	return NULL;
}

void sleeve_free(struct sleeve *s)
{
	if (!s)
		return;
	while (s->fwds)
		sleeve_stop(&s->fwds->base);
	if (s->tap_ev)
		event_free(s->tap_ev);
	if (s->udp_ev)
		event_free(s->udp_ev);
	if (s->tap_fd >= 0)
		close(s->tap_fd);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	free(s);
}

struct overlay *sleeve_overlay(struct sleeve *s) { return &s->ov; }
const struct sleeve_counters *sleeve_counters(const struct sleeve *s) { return &s->ctr; }
const char *sleeve_tap_name(const struct sleeve *s) { return s->tap_name; }
int sleeve_tap_fd(const struct sleeve *s) { return s->tap_fd; }
uint16_t sleeve_port(const struct sleeve *s) { return s->port; }
bool sleeve_coalesces(const struct sleeve *s) { return s->uso_tap; }

int sleeve_set_tso(struct sleeve *s, bool on)
{
	unsigned flags = TUN_F_CSUM | (on ? TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0);
	return ioctl(s->tap_fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}
