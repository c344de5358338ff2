/* sleeve/sleeve.c: the sleeve data path: TAP ⇄ batched, sealed UDP datagrams (see sleeve.h).
 * Datagrams are built in a fixed ring of transmit slots and sent with one sendmmsg per event
 * loop turn; received ones come in with recvmmsg into fixed buffers and are opened in place.
 * Nothing is allocated per packet. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/replay.h"
#include "crypto/seal.h"
#include "crypto/session.h"
#include "mesh/bytes.h"
#include "sleeve/codec.h"
#include "sleeve/pmtu.h"
#include "sleeve/sleeve.h"
#include "sleeve/tap.h"
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#define BATCH 64
#define DGRAM_MAX 65536           /* datagram buffer: a TCP super-frame travels whole */
#define TAP_READ_BUDGET 256       /* frames read from the TAP per event */
#define UDP_PAYLOAD_MAX 65507     /* 65535 - IPv4 header - UDP header */

struct tx_slot {
	uint8_t buf[DGRAM_MAX];
	size_t len;                   /* datagram length once closed */
	struct sleeve_fwd *fwd;       /* owner while open or queued */
	struct sleeve_batch batch;    /* records, while open */
	bool open;
};

struct sleeve_fwd {
	struct overlay_forwarder base;
	struct sleeve *s;
	struct overlay_conn_params p;
	void *conn_arg;
	uint64_t tx_ctr;
	struct mesh_replay replay;
	struct tx_slot *cur;          /* slot being filled, or NULL */
	struct event *hb_timer;
	uint64_t last_rx_ms, last_ack_ms;
	uint64_t hb_echo;
	enum overlay_health health;
	const char *why;
	struct sleeve_pmtu pmtu;
	uint64_t probe_sent_ms;       /* 0: no probe in flight */
	uint16_t verified;            /* largest datagram verified end to end, 0 until known */
	struct sleeve_fwd *next;
};

struct sleeve {
	struct overlay ov;
	struct event_base *base;
	struct overlay_callbacks cb;
	char tap_name[IFNAMSIZ];
	int tap_fd, udp_fd;
	uint16_t port;
	unsigned mtu;
	struct event *tap_ev, *udp_ev;
	struct sleeve_fwd *fwds;
	struct sleeve_counters ctr;
	struct tx_slot tx[BATCH];
	unsigned tx_used;             /* slots 0..tx_used-1 are open or queued */
	uint8_t rx[BATCH][DGRAM_MAX];
	uint8_t frame[SLEEVE_TAP_HDR_LEN + SLEEVE_TAP_FRAME_MAX]; /* one frame read from the TAP */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t payload_off(const struct sleeve_fwd *f)
{
	return SLEEVE_HDR_LEN + (f->p.encrypted ? MESH_SEAL_OVERHEAD : 0);
}

/* Datagram bytes around one frame's IP packet: header, MAC, record header, Ethernet header.
 * A datagram of size D carries an IP MTU of D - frame_overhead(f). */
static size_t frame_overhead(const struct sleeve_fwd *f)
{
	return payload_off(f) + SLEEVE_REC_HDR_LEN + SLEEVE_ETH_MIN;
}

/* Largest payload (frame records) a datagram to this peer should carry: what the verified
 * path MTU allows, else what one full-size frame needs. A frame that does not fit the path
 * still goes, alone, in a datagram the kernel fragments (the socket does not set DF). */
static size_t payload_cap(const struct sleeve *s, const struct sleeve_fwd *f)
{
	size_t cap = SLEEVE_REC_HDR_LEN + s->mtu + SLEEVE_ETH_MIN;
	if (f->verified && f->verified > frame_overhead(f))
		cap = f->verified - payload_off(f);
	size_t room = DGRAM_MAX - payload_off(f);
	return cap < room ? cap : room;
}

/* Fills in the header and seals the payload that sits at payload_off(). */
static size_t finish_datagram(struct sleeve_fwd *f, uint8_t type, uint8_t *buf, size_t plen)
{
	struct sleeve_hdr h = {
		.type = type,
		.flags = f->p.encrypted ? SLEEVE_F_SEALED : 0,
		.short_id = f->p.local_short_id,
		.index = f->p.remote_index,
		.counter = f->tx_ctr++,
	};
	sleeve_hdr_encode(&h, buf);
	if (f->p.encrypted) {
		uint8_t nonce[MESH_NONCE_LEN];
		mesh_nonce_build(h.counter, buf, 8, nonce);
		/* in place: MAC lands at buf+16, ciphertext over the plaintext at buf+32 */
		mesh_seal(buf + SLEEVE_HDR_LEN, buf + SLEEVE_HDR_LEN + MESH_SEAL_OVERHEAD, plen, nonce,
			  f->p.tx_key);
		return SLEEVE_HDR_LEN + MESH_SEAL_OVERHEAD + plen;
	}
	return SLEEVE_HDR_LEN + plen;
}

static void close_slot(struct tx_slot *t)
{
	struct sleeve_fwd *f = t->fwd;
	t->len = finish_datagram(f, SLEEVE_FRAMES, t->buf, t->batch.len);
	t->open = false;
	if (f->cur == t)
		f->cur = NULL;
}

static void flush(struct sleeve *s)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned n = s->tx_used, sent = 0;

	if (!n)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct tx_slot *t = &s->tx[i];
		if (t->open)
			close_slot(t);
		iov[i].iov_base = t->buf;
		iov[i].iov_len = t->len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &t->fwd->p.remote_addr;
		msgs[i].msg_hdr.msg_namelen = t->fwd->p.remote_addr.ss_family == AF_INET6
			? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	}
	while (sent < n) {
		int r = sendmmsg(s->udp_fd, msgs + sent, n - sent, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN (socket buffer full) or a per-destination error: drop this one */
			s->ctr.drop_tx_full++;
			sent++;
			continue;
		}
		for (int i = 0; i < r; i++)
			s->ctr.tx_bytes += iov[sent + i].iov_len;
		s->ctr.tx_datagrams += (uint64_t)r;
		sent += (unsigned)r;
	}
	s->tx_used = 0;
}

static struct tx_slot *take_slot(struct sleeve *s, struct sleeve_fwd *f)
{
	if (s->tx_used == BATCH)
		flush(s);
	struct tx_slot *t = &s->tx[s->tx_used++];
	t->fwd = f;
	t->open = true;
	sleeve_batch_init(&t->batch, t->buf + payload_off(f), payload_cap(s, f));
	f->cur = t;
	return t;
}

static int sleeve_send(struct overlay_forwarder *ofwd, const struct mesh_peer_name *src,
		       const struct mesh_peer_name *dst, const struct mesh_offload *off,
		       const uint8_t *frame, size_t len)
{
	struct sleeve_fwd *f = (struct sleeve_fwd *)ofwd;
	struct sleeve *s = f->s;

	/* a super-frame (GSO) may be up to 64 KB; anything else must fit the MTU */
	size_t max = mesh_offload_is_gso(off) ? SLEEVE_FRAME_MAX : s->mtu + SLEEVE_ETH_MIN;
	if (len > max) {
		s->ctr.drop_mtu++;
		return -EMSGSIZE;
	}
	struct tx_slot *t = f->cur ? f->cur : take_slot(s, f);
	int r = sleeve_batch_add(&t->batch, src, dst, off, frame, len);
	if (r == -ENOSPC && t->batch.frames) {
		close_slot(t);
		t = take_slot(s, f);
		r = sleeve_batch_add(&t->batch, src, dst, off, frame, len);
	}
	if (r == -ENOSPC) {
		/* bigger than the path (a super-frame, or a frame above the path MTU): it goes
		 * alone in one datagram, which the kernel fragments (the socket does not set DF) */
		t->batch.cap = UDP_PAYLOAD_MAX - payload_off(f);
		r = sleeve_batch_add(&t->batch, src, dst, off, frame, len);
	}
	if (r < 0) {
		s->ctr.drop_malformed++;
		return r;
	}
	s->ctr.tx_frames++;
	return 0;
}

/* Queues a heartbeat (payload: echo) or its answer (payload: echo, size of the heartbeat
 * datagram that arrived, so the sender learns which probe size got through). */
static void send_control(struct sleeve_fwd *f, uint8_t type, uint64_t echo, uint16_t got)
{
	struct sleeve *s = f->s;
	struct tx_slot *t;
	if (f->cur)
		close_slot(f->cur);
	t = take_slot(s, f);
	t->open = false;
	f->cur = NULL;
	uint8_t *p = t->buf + payload_off(f);
	put_be64(p, echo);
	size_t plen = 8;
	if (type == SLEEVE_HEARTBEAT_ACK) {
		put_be16(p + 8, got);
		plen = 10;
	}
	t->len = finish_datagram(f, type, t->buf, plen);
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
	put_be64(buf + off, ++f->hb_echo);
	size_t len = finish_datagram(f, SLEEVE_HEARTBEAT, buf, size - off);
	int on = IP_PMTUDISC_PROBE, off_ = IP_PMTUDISC_DONT;
	setsockopt(s->udp_fd, IPPROTO_IP, IP_MTU_DISCOVER, &on, sizeof(on));
	ssize_t n = sendto(s->udp_fd, buf, len, 0, (struct sockaddr *)&f->p.remote_addr,
			   sizeof(struct sockaddr_in));
	int err = errno;
	setsockopt(s->udp_fd, IPPROTO_IP, IP_MTU_DISCOVER, &off_, sizeof(off_));
	if (n < 0 && err == EMSGSIZE) {
		sleeve_pmtu_lost(&f->pmtu, true);
		f->probe_sent_ms = 0;
		return;
	}
	f->probe_sent_ms = now_ms();
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
	uint64_t now = now_ms();

	if (f->health == OVERLAY_HEALTH_HEALTHY && now - f->last_rx_ms > SLEEVE_HEALTH_TIMEOUT_MS)
		set_health(f, OVERLAY_HEALTH_UNHEALTHY, "no sleeve heartbeat answered for 4 s");
	send_control(f, SLEEVE_HEARTBEAT, ++f->hb_echo, 0);
	flush(f->s);
	if (f->health == OVERLAY_HEALTH_HEALTHY)
		pmtu_step(f, now);
	uint64_t next = f->health == OVERLAY_HEALTH_HEALTHY ? SLEEVE_HEARTBEAT_SLOW_MS
							    : SLEEVE_HEARTBEAT_FAST_MS;
	struct timeval tv = { (time_t)(next / 1000), (suseconds_t)(next % 1000) * 1000 };
	event_add(f->hb_timer, &tv);
}

static struct sleeve_fwd *find_fwd(struct sleeve *s, uint32_t index)
{
	for (struct sleeve_fwd *f = s->fwds; f; f = f->next)
		if (f->p.local_index == index)
			return f;
	return NULL;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

static void handle_datagram(struct sleeve *s, uint8_t *buf, size_t len,
			    const struct sockaddr_storage *from)
{
	struct sleeve_hdr h;
	struct sleeve_fwd *f;

	s->ctr.rx_datagrams++;
	s->ctr.rx_bytes += len;
	if (sleeve_hdr_decode(buf, len, &h) < 0) {
		s->ctr.drop_malformed++;
		return;
	}
	f = find_fwd(s, h.index);
	if (!f) {
		s->ctr.drop_unknown_conn++;
		return;
	}
	if (!!(h.flags & SLEEVE_F_SEALED) != f->p.encrypted) {
		s->ctr.drop_auth++; /* a plaintext datagram on an encrypted connection, or v.v. */
		return;
	}
	if (mesh_replay_check(&f->replay, h.counter) != MESH_REPLAY_OK) {
		s->ctr.drop_replay++;
		return;
	}
	uint8_t *payload = buf + payload_off(f);
	if (len < payload_off(f)) {
		s->ctr.drop_malformed++;
		return;
	}
	size_t plen = len - payload_off(f);
	if (f->p.encrypted) {
		uint8_t nonce[MESH_NONCE_LEN];
		mesh_nonce_build(h.counter, buf, 8, nonce);
		if (mesh_open(payload, buf + SLEEVE_HDR_LEN, len - SLEEVE_HDR_LEN, nonce,
			      f->p.rx_key) < 0) {
			s->ctr.drop_auth++;
			return;
		}
	}
	if (mesh_replay_accept(&f->replay, h.counter) != MESH_REPLAY_OK) {
		s->ctr.drop_replay++;
		return;
	}
	/* Authenticated: the peer is alive, and may have moved (NAT rebinding). */
	f->last_rx_ms = now_ms();
	if (!same_addr(&f->p.remote_addr, from))
		f->p.remote_addr = *from;

	switch (h.type) {
	case SLEEVE_HEARTBEAT:
		if (plen < 8) { /* probes carry padding after the echo */
			s->ctr.drop_malformed++;
			return;
		}
		send_control(f, SLEEVE_HEARTBEAT_ACK, get_be64(payload), (uint16_t)len);
		return;
	case SLEEVE_HEARTBEAT_ACK: {
		if (plen != 10) {
			s->ctr.drop_malformed++;
			return;
		}
		f->last_ack_ms = f->last_rx_ms;
		set_health(f, OVERLAY_HEALTH_HEALTHY, "sleeve heartbeats answered");
		uint16_t got = get_be16(payload + 8);
		if (f->probe_sent_ms && got == f->pmtu.probe) {
			sleeve_pmtu_acked(&f->pmtu, got);
			f->probe_sent_ms = 0;
			pmtu_step(f, now_ms());
		}
		return;
	}
	case SLEEVE_FRAMES: {
		struct sleeve_frame_iter it;
		struct sleeve_frame fr;
		int r;
		sleeve_frames_begin(&it, payload, plen);
		while ((r = sleeve_frames_next(&it, &fr)) > 0) {
			s->ctr.rx_frames++;
			s->cb.frame_received(s->cb.arg, &f->base, &fr.src, &fr.dst, &fr.off, fr.data,
					     fr.len);
		}
		if (r < 0)
			s->ctr.drop_malformed++;
		return;
	}
	}
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = s->rx[i];
			iov[i].iov_len = DGRAM_MAX;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(s->udp_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->ctr.drop_malformed++;
				continue;
			}
			handle_datagram(s, s->rx[i], msgs[i].msg_len, &from[i]);
		}
		flush(s); /* heartbeat answers and relayed frames */
		if (n < BATCH)
			break;
	}
}

static void tap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	for (int i = 0; i < TAP_READ_BUDGET; i++) {
		struct mesh_offload off;
		ssize_t n = sleeve_tap_read(s->tap_fd, s->frame, sizeof(s->frame), &off);
		if (n == -EAGAIN || n == -EINTR)
			break; /* drained */
		if (n < SLEEVE_ETH_MIN)
			continue;
		s->cb.local_frame(s->cb.arg, &off, s->frame + SLEEVE_TAP_HDR_LEN, (size_t)n);
	}
	flush(s);
}

static int sleeve_deliver(struct overlay *ov, const struct mesh_offload *off,
			  const uint8_t *frame, size_t len)
{
	struct sleeve *s = (struct sleeve *)ov;
	int ret = sleeve_tap_write(s->tap_fd, off, frame, len);
	if (ret < 0)
		s->ctr.drop_tap++;
	return ret;
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
	f->conn_arg = conn_arg;
	f->health = OVERLAY_HEALTH_CONNECTING;
	f->why = "waiting for the first sleeve heartbeat answer";
	mesh_replay_init(&f->replay);
	f->hb_timer = event_new(s->base, -1, 0, heartbeat_cb, f);
	if (!f->hb_timer) {
		free(f);
		return NULL;
	}
	f->last_rx_ms = now_ms();
	/* datagram sizes: from the 576-byte IPv4 minimum to what the configured MTU needs */
	uint16_t max = (uint16_t)(s->mtu + frame_overhead(f));
	sleeve_pmtu_init(&f->pmtu, 576 - 28, max);
	f->next = s->fwds;
	s->fwds = f;
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
			flush(s);
			break;
		}
	for (struct sleeve_fwd **pp = &s->fwds; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	event_free(f->hb_timer);
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

static int bind_udp(uint16_t port, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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
	/* No DF on data: a frame larger than the path is fragmented rather than lost; path MTU
	 * probes set DF for themselves (send_probe). */
	int pmtudisc = IP_PMTUDISC_DONT;
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc, sizeof(pmtudisc));
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
	s->udp_fd = bind_udp(cfg->port, err, errlen);
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

int sleeve_set_tso(struct sleeve *s, bool on)
{
	unsigned flags = TUN_F_CSUM | (on ? TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0);
	return ioctl(s->tap_fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}
