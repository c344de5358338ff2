/* fastdp/fastdp.c: the fast path's overlay, for both backends: the heartbeat socket (a packet
 * socket on the VXLAN device that sees only heartbeat frames; in odp mode heartbeats come as
 * datapath misses), one forwarder per connection with its heartbeat timer and health (and, in
 * an encrypted mesh, its IPsec SAs and policy), and the FDB reconciliation the router asks for
 * (see fastdp.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sodium.h>
#include <unistd.h>

#include "fastdp/heartbeat.h"
#include "fastdp/fastdp.h"
#include "fastdp/ipsec_filter.h"
#include "fastdp/odp_path.h"
#include "fastdp/vxlan_dev.h"
#include "fastdp/xfrm.h"
#include "mesh/clock.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#define RX_BATCH 32

struct fastdp_fwd {
	struct overlay_forwarder base;
	struct mesh_fastdp *v;
	void *conn_arg;
	struct mesh_peer_name remote;
	uint64_t remote_uid;
	struct mesh_ip remote_ip;     /* the peer's underlay address: IPv4 or IPv6 (issue 18) */
	struct event *timer;
	uint32_t seq;
	uint32_t acked_seq;           /* the newest of our heartbeats the peer acknowledged */
	uint32_t heard_seq;           /* the newest heartbeat heard from the peer, and its length: */
	uint16_t heard_len;           /* acknowledged again in each heartbeat we send */
	bool reads_hb_acks;           /* the peer's heartbeats carry acks: it reads ours there,
				       * so it needs none over TCP (a version-1 peer does) */
	bool peer_missing;            /* its newest heartbeat said it misses ours or our acks */
	uint64_t started_ms, last_heard_ms, last_ack_ms;
	uint64_t next_beat_ms;        /* when the pace sends the next heartbeat */
	enum overlay_health health;
	char why[320];
	bool ipsec;                   /* our SAs and policy are in the kernel */
	struct mesh_xfrm_flow out, in;
	uint32_t spi_out, spi_in;
	struct fastdp_fwd *next;
};

struct mesh_fastdp {
	struct overlay base;
	struct event_base *eb;
	struct overlay_callbacks cb;
	struct mesh_vxlan_dev dev;    /* mesh-vxlan: peers reached over IPv4 */
	int fd;
	struct event *rx_ev;
	/* mesh-vxlan6: peers reached over IPv6. A VXLAN device without a local address or group
	 * opens one socket of one family and takes FDB remotes of that family only
	 * (EAFNOSUPPORT otherwise), so IPv6 needs a device of its own (issue 18). */
	struct mesh_vxlan_dev dev6;
	int fd6;
	struct event *rx_ev6;
	char no_v6[320];              /* "": IPv6 peers can use the fast path; else why not */
	uint16_t port;
	struct mesh_peer_name name;
	uint64_t uid;
	unsigned mtu;
	struct mesh_odp_path *odp;    /* odp mode: the datapath instead of dev + fd */
	struct mesh_xfrm *xfrm;       /* an encrypted mesh: kernel IPsec for every connection */
	bool block;                   /* the block policy is in (mesh_xfrm_block_set) */
	bool block6;                  /* and the one for IPv6 */
	bool filter;                  /* ipsec_filter.h's table is in */
	char filter_note[400];        /* "": the table drops VXLAN not from mesh's own SAs; else why not */
	struct event *guard;          /* puts the two back when someone removes them */
	void (*decide)(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d);
	struct fastdp_fwd *fwds;
	struct mesh_fdb_entry *have;
	size_t nhave, have_cap;
	struct mesh_fastdp_counters ctr;
	uint8_t buf[MESH_HB_MAX_LEN];
};

static unsigned hb_len(const struct mesh_fastdp *v)
{
	unsigned len = v->mtu + MESH_HB_HDR_LEN;
	return len > MESH_HB_MAX_LEN ? MESH_HB_MAX_LEN : len < MESH_HB_MIN_LEN ? MESH_HB_MIN_LEN : len;
}

static void set_health(struct fastdp_fwd *f, enum overlay_health h, const char *why)
{
	bool changed = f->health != h;
	f->health = h;
	snprintf(f->why, sizeof(f->why), "%s", why);
	if (changed && f->v->cb.health_changed)
		f->v->cb.health_changed(f->v->cb.arg, &f->base, h, f->why);
}

static void evaluate(struct fastdp_fwd *f, uint64_t now)
{
	bool heard = f->last_heard_ms && mesh_ms_since(now, f->last_heard_ms) <= MESH_FASTDP_HEALTH_TIMEOUT_MS;
	bool acked = f->last_ack_ms && mesh_ms_since(now, f->last_ack_ms) <= MESH_FASTDP_HEALTH_TIMEOUT_MS;
	char why[200];
	bool v6 = mesh_ip_is_v6(&f->remote_ip);
	if (heard && acked) {
		snprintf(why, sizeof(why), "VXLAN heartbeats of %u bytes pass both ways on UDP %u%s%s",
			 hb_len(f->v), f->v->port, v6 ? " over IPv6" : "",
			 f->ipsec ? ", in IPsec ESP (AES-GCM)" : "");
		set_health(f, OVERLAY_HEALTH_HEALTHY, why);
		return;
	}
	if (f->health != OVERLAY_HEALTH_HEALTHY &&
	    now - f->started_ms <= MESH_FASTDP_HEALTH_TIMEOUT_MS) {
		set_health(f, OVERLAY_HEALTH_CONNECTING, "waiting for the first VXLAN heartbeats");
		return;
	}
	/* what carries the heartbeats, and so what may be blocked */
	char path[64];
	if (f->ipsec)
		snprintf(path, sizeof(path), "ESP%s", v6 ? " over IPv6" : "");
	else
		snprintf(path, sizeof(path), "UDP %u%s", f->v->port, v6 ? " over IPv6" : "");
	if (!heard && !acked && v6) /* the kernel does not fragment VXLAN over IPv6: say the size */
		snprintf(why, sizeof(why), "no VXLAN heartbeat passed either way for %.1f s "
			 "(%s blocked, or %u-byte IPv6 packets too large for the path?)",
			 MESH_FASTDP_HEALTH_TIMEOUT_MS / 1000.0, path,
			 hb_len(f->v) - 14 + MESH_VXLAN6_OVERHEAD);
	else if (!heard && !acked)
		snprintf(why, sizeof(why), "no VXLAN heartbeat passed either way for %.1f s "
			 "(%s blocked?)", MESH_FASTDP_HEALTH_TIMEOUT_MS / 1000.0, path);
	else if (!acked)
		snprintf(why, sizeof(why), "the peer acknowledged no VXLAN heartbeat of ours for "
			 "%.1f s (%s blocked towards it, or a smaller path MTU?)",
			 MESH_FASTDP_HEALTH_TIMEOUT_MS / 1000.0, path);
	else
		snprintf(why, sizeof(why), "no VXLAN heartbeat from the peer for %.1f s (%s blocked "
			 "from it?%s)", MESH_FASTDP_HEALTH_TIMEOUT_MS / 1000.0, path,
			 f->ipsec ? " VXLAN that did not come through ESP is dropped" : "");
	set_health(f, OVERLAY_HEALTH_UNHEALTHY, why);
}

/* missing: we missed a heartbeat or an ack of the peer's lately (told in the flags) */
static void send_heartbeat(struct fastdp_fwd *f, bool missing)
{
	struct mesh_fastdp *v = f->v;
	struct mesh_heartbeat hb = {
		.sender = v->name,
		.sender_uid = v->uid,
		.receiver_uid = f->remote_uid,
		.flags = missing ? MESH_HB_FLAG_MISSING : 0,
		.seq = ++f->seq,
		.frame_len = (uint16_t)hb_len(v),
		.ack_seq = f->heard_seq,
		.ack_frame_len = f->heard_len,
	};
	ssize_t len = mesh_hb_encode(&hb, &f->remote, v->buf, sizeof(v->buf));
	if (len <= 0)
		return;
	int fd = mesh_ip_is_v6(&f->remote_ip) ? v->fd6 : v->fd;
	if (v->odp ? mesh_odp_path_send(v->odp, &f->remote_ip, v->buf, (size_t)len) == 0
		   : send(fd, v->buf, (size_t)len, MSG_DONTWAIT) == len)
		v->ctr.hb_tx++;
}

static struct mesh_hb_pace pace_of(const struct fastdp_fwd *f)
{
	return (struct mesh_hb_pace){
		.healthy = f->health == OVERLAY_HEALTH_HEALTHY,
		.last_heard_ms = f->last_heard_ms,
		.last_ack_ms = f->last_ack_ms,
		.peer_missing = f->peer_missing,
		.peer_reads_acks = f->reads_hb_acks,
	};
}

/* Wakes at the next heartbeat, or earlier when a heartbeat or ack of the peer's becomes late
 * before that (mesh_hb_late_at). */
static void arm(struct fastdp_fwd *f, uint64_t now)
{
	struct mesh_hb_pace pace = pace_of(f);
	uint64_t at = f->next_beat_ms, late = mesh_hb_late_at(&pace);
	if (late > now && late < at)
		at = late;
	uint64_t ms = at > now ? at - now : 0;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	event_add(f->timer, &tv);
}

/* Sends a heartbeat, judges the path, and sets the timer for the next one. */
static void beat(struct fastdp_fwd *f)
{
	uint64_t now = mesh_mono_ms();
	struct mesh_hb_pace pace = pace_of(f);
	send_heartbeat(f, mesh_hb_missing(&pace, now));
	evaluate(f, now);
	/* slow while heartbeats pass both ways on time; once either end misses one (lost on a
	 * lossy path), fast on both ends */
	pace = pace_of(f);
	f->next_beat_ms = now + mesh_hb_interval_ms(&pace, now);
	arm(f, now);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fastdp_fwd *f = arg;
	uint64_t now = mesh_mono_ms();
	struct mesh_hb_pace pace = pace_of(f);
	/* the pace's time, or a heartbeat or ack just became late: tell the peer now */
	if (now >= f->next_beat_ms || mesh_hb_missing(&pace, now))
		beat(f);
	else
		arm(f, now); /* woke for a lateness that an arrival since put off */
}

/* The peer acknowledged our heartbeat seq of frame_len bytes (over TCP, or in a heartbeat of
 * its own). Only a newer one than before counts: a heartbeat repeats the newest it heard, and
 * that must not keep a path healthy that carries nothing of ours any more. */
static int ack_received(struct fastdp_fwd *f, uint32_t seq, uint16_t frame_len, const char **why)
{
	if (seq > f->seq || seq + 64 < f->seq) {
		*why = "acknowledges a heartbeat we did not send lately";
		return -EBADMSG;
	}
	if (seq <= f->acked_seq || frame_len < hb_len(f->v)) /* smaller: before an MTU increase */
		return 0;
	f->acked_seq = seq;
	f->last_ack_ms = mesh_mono_ms();
	evaluate(f, f->last_ack_ms);
	return 0;
}

static void heartbeat_received(struct mesh_fastdp *v, const uint8_t *frame, size_t len)
{
	struct mesh_heartbeat hb;
	const char *why;
	if (mesh_hb_decode(frame, len, &v->name, &hb, &why) < 0 || hb.receiver_uid != v->uid) {
		v->ctr.hb_bad++;
		return;
	}
	struct fastdp_fwd *f = v->fwds;
	while (f && (f->remote_uid != hb.sender_uid || !mesh_peer_name_eq(&f->remote, &hb.sender)))
		f = f->next;
	if (!f) {
		v->ctr.hb_unknown++;
		return;
	}
	v->ctr.hb_rx++;
	f->last_heard_ms = mesh_mono_ms();
	if (hb.seq > f->heard_seq) {
		f->heard_seq = hb.seq;
		f->heard_len = hb.frame_len;
	}
	if (hb.ack_seq)
		f->reads_hb_acks = true;
	bool was_missing = f->peer_missing;
	f->peer_missing = hb.flags & MESH_HB_FLAG_MISSING;
	struct mesh_hb_pace pace = pace_of(f);
	if (mesh_hb_ack_over_tcp(&pace, f->last_heard_ms) && v->cb.control_send) {
		struct mesh_heartbeat_ack ack = { .seq = hb.seq, .frame_len = hb.frame_len };
		uint8_t msg[MESH_HB_ACK_LEN];
		mesh_hb_ack_encode(&ack, msg);
		v->cb.control_send(v->cb.arg, &f->base, msg, sizeof(msg));
	}
	if (hb.ack_seq) /* first: evaluating a heard-but-not-yet-acked path would flap it */
		(void)ack_received(f, hb.ack_seq, hb.ack_frame_len, &why); /* a bad one: not counted */
	evaluate(f, mesh_mono_ms());
	if (f->peer_missing && !was_missing) /* the peer misses ours: answer now, then fast */
		beat(f);
}

static void rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_fastdp *v = arg;
	for (int i = 0; i < RX_BATCH; i++) {
		ssize_t n = recv(fd, v->buf, sizeof(v->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return;
		if ((size_t)n > sizeof(v->buf)) {
			v->ctr.hb_bad++;
			continue;
		}
		heartbeat_received(v, v->buf, (size_t)n);
	}
}

/* --- kernel IPsec, per connection ---------------------------------------------------------- */

/* The address the kernel sends from towards ip (IPv4 or IPv6): a UDP socket connected there
 * (which sends nothing) says. Not to the VXLAN port: the block policy would refuse that. */
static int local_addr_to(const struct mesh_ip *ip, struct mesh_ip *local, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	bool v6 = mesh_ip_is_v6(ip);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(9);
		memcpy(&s6->sin6_addr, ip->a, 16);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(9);
		s4->sin_addr.s_addr = mesh_ip_ipv4(ip);
		len = sizeof(*s4);
	}
	int ret = 0, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "no route to the peer's address: %s", strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	*local = v6 ? mesh_ip_v6(((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr)
		    : mesh_ip_v4(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
	return ret;
}

/* The ESP flow of UDP src -> dst:port. */
static struct mesh_xfrm_flow xflow(const struct mesh_ip *src, const struct mesh_ip *dst,
				   uint16_t port)
{
	struct mesh_xfrm_flow fl = { .family = dst->family, .dport = port };
	memcpy(fl.src, src->a, 16);
	memcpy(fl.dst, dst->a, 16);
	return fl;
}

/* Our two SAs for this connection (theirs to us, ours to them; both ends derive the same
 * pair from the connection's keys) and the policy that sends our VXLAN to the peer through
 * ours. */
static int ipsec_up(struct fastdp_fwd *f, const struct overlay_conn_params *p, char *err,
		    size_t errlen)
{
	struct mesh_fastdp *v = f->v;
	struct mesh_esp_sa out, in;
	struct mesh_ip local;
	char why[256];
	int ret;
	if (!p->encrypted) {
		snprintf(err, errlen, "an unencrypted connection in an encrypted mesh");
		return -EINVAL;
	}
	if ((ret = local_addr_to(&f->remote_ip, &local, why, sizeof(why))) < 0)
		goto errout;
	mesh_esp_derive(p->ipsec_tx_key, &out);
	mesh_esp_derive(p->ipsec_rx_key, &in);
	f->out = xflow(&local, &f->remote_ip, v->port);
	f->in = xflow(&f->remote_ip, &local, v->port);
	f->spi_out = out.spi;
	f->spi_in = in.spi;
	if ((ret = mesh_xfrm_sa_add(v->xfrm, &f->in, &in, MESH_IPSEC_IN_REQID, why, sizeof(why))) < 0)
		goto errout;
	if ((ret = mesh_xfrm_sa_add(v->xfrm, &f->out, &out, f->spi_out, why, sizeof(why))) < 0) {
		mesh_xfrm_sa_del(v->xfrm, f->in.family, f->in.dst, f->spi_in, err, errlen);
		goto errout;
	}
	if ((ret = mesh_xfrm_policy_set(v->xfrm, &f->out, f->spi_out, why, sizeof(why))) < 0) {
		mesh_xfrm_sa_del(v->xfrm, f->in.family, f->in.dst, f->spi_in, err, errlen);
		mesh_xfrm_sa_del(v->xfrm, f->out.family, f->out.dst, f->spi_out, err, errlen);
		goto errout;
	}
	f->ipsec = true;
errout:
	if (ret < 0)
		snprintf(err, errlen, "cannot set up IPsec for this connection: %s", why);
	sodium_memzero(&out, sizeof(out));
	sodium_memzero(&in, sizeof(in));
	return ret;
}

/* Removes f's SAs. The policy towards the peer goes too, unless another connection to it
 * (one replacing f) has SAs of its own: then the policy is pointed at those. */
static void ipsec_down(struct fastdp_fwd *f)
{
	struct mesh_fastdp *v = f->v;
	char err[256];
	if (!f->ipsec)
		return;
	/* the policy first, so that it never points at an SA that is gone (what it would send
	 * is dropped either way: the block policy stops what no peer's policy takes) */
	struct fastdp_fwd *o = v->fwds;
	while (o && (o == f || !o->ipsec || o->out.family != f->out.family ||
		     memcmp(o->out.src, f->out.src, 16) || memcmp(o->out.dst, f->out.dst, 16)))
		o = o->next;
	if (o)
		mesh_xfrm_policy_set(v->xfrm, &o->out, o->spi_out, err, sizeof(err));
	else
		mesh_xfrm_policy_del(v->xfrm, &f->out, err, sizeof(err));
	mesh_xfrm_sa_del(v->xfrm, f->out.family, f->out.dst, f->spi_out, err, sizeof(err));
	mesh_xfrm_sa_del(v->xfrm, f->in.family, f->in.dst, f->spi_in, err, sizeof(err));
	f->ipsec = false;
}

/* --- overlay_ops ----------------------------------------------------------------------- */

/* The VXLAN device that carries frames to ip: mesh-vxlan6 for IPv6, else mesh-vxlan. */
static struct mesh_vxlan_dev *dev_of(struct mesh_fastdp *v, const struct mesh_ip *ip)
{
	return mesh_ip_is_v6(ip) ? &v->dev6 : &v->dev;
}

int mesh_fastdp_tunnel_addr(const struct sockaddr_storage *ss, struct mesh_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		*out = mesh_ip_v4(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		return 0;
	}
	if (ss->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a)) { /* a peer on the dual-stack socket, over IPv4 */
		uint32_t ip;
		memcpy(&ip, a->s6_addr + 12, 4);
		*out = mesh_ip_v4(ip);
	} else {
		*out = mesh_ip_v6(a->s6_addr);
	}
	static const uint8_t zero[16];
	return memcmp(out->a, zero, sizeof(zero)) ? 0 : -EADDRNOTAVAIL;
}

static struct overlay_forwarder *kf_start(struct overlay *ov, const struct overlay_conn_params *p,
					  void *conn_arg)
{
	struct mesh_fastdp *v = (struct mesh_fastdp *)ov;
	struct fastdp_fwd *f = calloc(1, sizeof(*f));
	if (!f || mesh_fastdp_tunnel_addr(&p->remote_addr, &f->remote_ip) < 0)
		goto errout;
	f->base.ov = ov;
	f->v = v;
	f->conn_arg = conn_arg;
	f->remote = p->remote;
	f->remote_uid = p->remote_uid;
	f->started_ms = mesh_mono_ms();
	f->health = OVERLAY_HEALTH_CONNECTING;
	snprintf(f->why, sizeof(f->why), "waiting for the first VXLAN heartbeats");
	f->timer = event_new(v->eb, -1, 0, timer_cb, f);
	if (!f->timer)
		goto errout;
	uint8_t mac[6];
	char err[384];
	f->next = v->fwds;
	v->fwds = f;
	if (mesh_ip_is_v6(&f->remote_ip) && v->no_v6[0]) {
		/* no heartbeats: this connection cannot use the fast path */
		set_health(f, OVERLAY_HEALTH_UNHEALTHY, v->no_v6);
		return &f->base;
	}
	mesh_hb_mac(&f->remote, mac);
	if (!v->odp && mesh_vxlan_dev_fdb(dev_of(v, &f->remote_ip), true, mac, &f->remote_ip, err,
					  sizeof(err)) < 0) {
		v->ctr.fdb_errors++;
		snprintf(f->why, sizeof(f->why), "%s", err);
	}
	if (v->xfrm && ipsec_up(f, p, err, sizeof(err)) < 0) {
		/* no heartbeats: without its SAs the connection must not use the fast path */
		set_health(f, OVERLAY_HEALTH_UNHEALTHY, err);
		return &f->base;
	}
	event_active(f->timer, 0, 0);
	return &f->base;
errout:
	free(f);
	return NULL;
}

static void kf_stop(struct overlay_forwarder *ofwd)
{
	struct fastdp_fwd *f = (struct fastdp_fwd *)ofwd;
	struct mesh_fastdp *v = f->v;
	for (struct fastdp_fwd **pp = &v->fwds; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	bool shared = false; /* another connection to the same peer still heartbeats there */
	for (struct fastdp_fwd *o = v->fwds; o; o = o->next)
		shared |= mesh_peer_name_eq(&o->remote, &f->remote) &&
			  !mesh_ip_cmp(&o->remote_ip, &f->remote_ip);
	struct mesh_vxlan_dev *dev = dev_of(v, &f->remote_ip);
	if (!shared && !v->odp && dev->sk) {
		uint8_t mac[6];
		char err[256];
		mesh_hb_mac(&f->remote, mac);
		mesh_vxlan_dev_fdb(dev, false, mac, &f->remote_ip, err, sizeof(err));
	}
	ipsec_down(f);
	event_free(f->timer);
	free(f);
}

static enum overlay_health kf_health(const struct overlay_forwarder *ofwd, const char **why)
{
	const struct fastdp_fwd *f = (const struct fastdp_fwd *)ofwd;
	if (why)
		*why = f->why;
	return f->health;
}

static unsigned kf_mtu(const struct overlay_forwarder *ofwd)
{
	return ((const struct fastdp_fwd *)ofwd)->v->mtu;
}

static void *kf_conn_arg(const struct overlay_forwarder *ofwd)
{
	return ((const struct fastdp_fwd *)ofwd)->conn_arg;
}

static int kf_control_received(struct overlay_forwarder *ofwd, const uint8_t *msg, size_t len,
			       const char **why)
{
	struct fastdp_fwd *f = (struct fastdp_fwd *)ofwd;
	struct mesh_heartbeat_ack ack;
	if (mesh_hb_ack_decode(msg, len, &ack, why) < 0)
		return -EBADMSG;
	return ack_received(f, ack.seq, ack.frame_len, why);
}

/* The two backends differ only in their name (and in what the forwarders' transport is). */
#define KFAST_OPS(label)                                                                   \
	{                                                                                  \
		.name = label, .start = kf_start, .stop = kf_stop, .health = kf_health,   \
		.mtu = kf_mtu, .conn_arg = kf_conn_arg,                                   \
		.control_received = kf_control_received,                                  \
	}
static const struct overlay_ops vxlan_ops = KFAST_OPS("fastdp(vxlan)");
static const struct overlay_ops odp_ops = KFAST_OPS("fastdp(odp)");

static void odp_heartbeat(void *arg, const uint8_t *frame, size_t len)
{
	heartbeat_received(arg, frame, len);
}

static void odp_decide(void *arg, const struct mesh_odp_miss *m, struct mesh_odp_decision *d)
{
	struct mesh_fastdp *v = arg;
	v->decide(v->cb.arg, m, d);
}

/* --- the device and its FDB ------------------------------------------------------------ */

/* A packet socket on the device that the kernel only wakes for heartbeat frames: ETH_P_ALL,
 * so it sees frames before the bridge takes them, a filter on the ethertype, and none of the
 * frames we send ourselves. */
static int open_socket(const struct mesh_vxlan_dev *dev, int *fdp, char *err, size_t errlen)
{
	struct sock_filter code[] = {
		{ BPF_LD | BPF_H | BPF_ABS, 0, 0, 12 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, MESH_HB_ETHERTYPE },
		{ BPF_RET | BPF_K, 0, 0, 0xffff },
		{ BPF_RET | BPF_K, 0, 0, 0 },
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	int one = 1;
	/* protocol 0 until bound: no frame reaches the socket before the filter is on */
	int fd = *fdp = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = dev->ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot open the heartbeat socket on %s: %s", dev->name,
		 strerror(errno));
	return -errno;
}

/* One VXLAN device of the backend, isolated from the TAP, with its heartbeat socket. */
static int device_up(struct mesh_fastdp *v, const struct mesh_fastdp_config *cfg, bool ipv6,
		     char *err, size_t errlen)
{
	struct mesh_vxlan_dev *dev = ipv6 ? &v->dev6 : &v->dev;
	int *fd = ipv6 ? &v->fd6 : &v->fd;
	struct event **ev = ipv6 ? &v->rx_ev6 : &v->rx_ev;
	int ret = mesh_vxlan_dev_create(dev, ipv6 ? MESH_VXLAN6_DEV : MESH_VXLAN_DEV, cfg->bridge,
					cfg->port, MESH_VXLAN_VNI, cfg->mtu, ipv6, err, errlen);
	if (ret < 0)
		return ret;
	if ((ret = mesh_vxlan_dev_isolate_port(dev, cfg->tap_name, err, errlen)) < 0 ||
	    (ret = open_socket(dev, fd, err, errlen)) < 0)
		return ret;
	*ev = event_new(v->eb, *fd, EV_READ | EV_PERSIST, rx_cb, v);
	if (!*ev || event_add(*ev, NULL) < 0) {
		snprintf(err, errlen, "cannot watch the heartbeat socket");
		return -ENOMEM;
	}
	return 0;
}

/* The bridge must drop heartbeats to us, not flood them to containers: a static entry for
 * our heartbeat MAC on the VXLAN port itself (the bridge never sends a frame back out of the
 * port it came in on). */
static int own_heartbeat_mac(struct mesh_fastdp *v, bool add, char *err, size_t errlen)
{
	uint8_t mac[6];
	mesh_hb_mac(&v->name, mac);
	return mesh_vxlan_dev_bridge_fdb(&v->dev, add, mac, err, errlen);
}

/* Someone flushed the ruleset or the policies (an nftables service reloading, an admin): the
 * table that drops unencrypted VXLAN and the block policy are put back. */
static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_fastdp *v = arg;
	uint64_t n;
	char why[384];
	if (mesh_ipsec_filter_drops(&n) < 0) {
		v->ctr.ipsec_repairs++;
		if (mesh_ipsec_filter_install(v->port, why, sizeof(why)) < 0)
			v->ctr.ipsec_repair_errors++;
	}
	if (mesh_xfrm_block_set(v->xfrm, AF_INET, v->port, why, sizeof(why)) < 0)
		v->ctr.ipsec_repair_errors++;
	if (v->block6 && mesh_xfrm_block_set(v->xfrm, AF_INET6, v->port, why, sizeof(why)) < 0)
		v->ctr.ipsec_repair_errors++;
}

/* What a killed meshd left in the kernel: SAs and policies that would send VXLAN into SAs the
 * peer no longer has. Nothing to do where there is no xfrm at all. */
static void purge_leftovers(struct mesh_fastdp *v, uint16_t port)
{
	char why[256];
	unsigned n = 0;
	struct mesh_xfrm *x = v->xfrm ? v->xfrm : mesh_xfrm_open(false, why, sizeof(why));
	if (x && mesh_xfrm_purge(x, port, v->block, &n, why, sizeof(why)) == 0)
		v->ctr.xfrm_purged += n;
	if (x != v->xfrm)
		mesh_xfrm_close(x);
}

struct mesh_fastdp *mesh_fastdp_new(struct event_base *base, const struct mesh_fastdp_config *cfg,
				  const struct overlay_callbacks *cb, int *errnum, char *err,
				  size_t errlen)
{
	struct mesh_fastdp *v = calloc(1, sizeof(*v));
	*errnum = -ENOMEM;
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->base.ops = cfg->odp ? &odp_ops : &vxlan_ops;
	v->eb = base;
	v->cb = *cb;
	v->fd = v->fd6 = -1;
	v->port = cfg->port;
	v->name = cfg->local_name;
	v->uid = cfg->local_uid;
	v->mtu = cfg->mtu;
	v->decide = cfg->decide;
	if (cfg->encrypt) {
		*errnum = -EPROTONOSUPPORT;
		if (!(v->xfrm = mesh_xfrm_open(true, err, errlen)))
			goto errout;
		/* the block policy before anything else, so no VXLAN of ours ever leaves in the
		 * clear, not even through a device an earlier meshd left */
		if (mesh_xfrm_block_set(v->xfrm, AF_INET, cfg->port, err, errlen) < 0)
			goto errout;
		v->block = true;
		/* without it, no IPv6 peer gets the fast path (nothing must leave in the clear) */
		char why[256];
		if (mesh_xfrm_block_set(v->xfrm, AF_INET6, cfg->port, why, sizeof(why)) < 0)
			snprintf(v->no_v6, sizeof(v->no_v6), "no fast path over IPv6: %s", why);
		else
			v->block6 = true;
		purge_leftovers(v, cfg->port);
		int fr = mesh_ipsec_filter_install(cfg->port, err, errlen);
		if (fr < 0)
			goto errout;
		if (fr == 1) {
			snprintf(v->filter_note, sizeof(v->filter_note), "%s", err);
			err[0] = '\0';
		}
		v->filter = true;
		v->guard = event_new(base, -1, EV_PERSIST, guard_cb, v);
		struct timeval tv = { MESH_FASTDP_GUARD_MS / 1000, (MESH_FASTDP_GUARD_MS % 1000) * 1000 };
		if (!v->guard || event_add(v->guard, &tv) < 0) {
			snprintf(err, errlen, "cannot register a timer");
			goto errout;
		}
	} else {
		purge_leftovers(v, cfg->port);
		mesh_ipsec_filter_remove(); /* it would drop all our VXLAN */
	}
	if (cfg->odp) {
		struct mesh_odp_path_config oc = {
			.bridge = cfg->bridge, .port = cfg->port, .vni = MESH_VXLAN_VNI,
			.mtu = cfg->mtu, .decide = odp_decide, .heartbeat = odp_heartbeat, .arg = v,
		};
		if ((*errnum = mesh_odp_path_new(base, &oc, &v->odp, err, errlen)) < 0)
			goto errout;
		if ((*errnum = mesh_odp_path_isolate_port(v->odp, cfg->tap_name, err, errlen)) < 0)
			goto errout;
		*errnum = 0;
		return v;
	}
	if ((*errnum = device_up(v, cfg, false, err, errlen)) < 0 ||
	    (*errnum = own_heartbeat_mac(v, true, err, errlen)) < 0)
		goto errout;
	/* IPv6 peers: a device of their own (no IPv6 in this kernel: they stay on the sleeve) */
	if (!v->no_v6[0]) {
		char why[256];
		if (device_up(v, cfg, true, why, sizeof(why)) < 0) {
			snprintf(v->no_v6, sizeof(v->no_v6), "no fast path over IPv6: %s", why);
			if (v->rx_ev6)
				event_free(v->rx_ev6);
			v->rx_ev6 = NULL;
			if (v->fd6 >= 0)
				close(v->fd6);
			v->fd6 = -1;
			mesh_vxlan_dev_destroy(&v->dev6);
		}
	}
	*errnum = 0;
	return v;
errout:
	mesh_fastdp_free(v);
	return NULL;
}

void mesh_fastdp_free(struct mesh_fastdp *v)
{
	if (!v)
		return;
	while (v->fwds)
		kf_stop(&v->fwds->base);
	if (v->guard)
		event_free(v->guard);
	if (v->rx_ev)
		event_free(v->rx_ev);
	if (v->rx_ev6)
		event_free(v->rx_ev6);
	if (v->fd >= 0)
		close(v->fd);
	if (v->fd6 >= 0)
		close(v->fd6);
	mesh_odp_path_free(v->odp);
	mesh_vxlan_dev_destroy(&v->dev);
	mesh_vxlan_dev_destroy(&v->dev6);
	/* only once nothing can send or take VXLAN any more */
	if (v->filter)
		mesh_ipsec_filter_remove();
	if (v->block)
		mesh_xfrm_block_del(v->xfrm, AF_INET, v->port);
	if (v->block6)
		mesh_xfrm_block_del(v->xfrm, AF_INET6, v->port);
	mesh_xfrm_close(v->xfrm);
	free(v->have);
	free(v);
}

int mesh_fastdp_unencrypted_drops(const struct mesh_fastdp *v, uint64_t *packets)
{
	return v->filter ? mesh_ipsec_filter_drops(packets) : -ENOENT;
}

bool mesh_fastdp_is_odp(const struct mesh_fastdp *v)
{
	return v->odp != NULL;
}

const char *mesh_fastdp_filter_note(const struct mesh_fastdp *v)
{
	return v->filter_note;
}

const char *mesh_fastdp_ipv6_note(const struct mesh_fastdp *v)
{
	return v->no_v6;
}

const char *mesh_fastdp_device(const struct mesh_fastdp *v)
{
	return v->odp ? MESH_ODP_DP : MESH_VXLAN_DEV;
}

const char *mesh_fastdp_bridge_port(const struct mesh_fastdp *v)
{
	return v->odp ? MESH_ODP_BRIDGE_PORT : MESH_VXLAN_DEV;
}

int mesh_fastdp_odp_stats(struct mesh_fastdp *v, struct mesh_fastdp_odp_stats *out)
{
	if (!v->odp)
		return -ENOENT;
	const struct mesh_odp_counters *c = mesh_odp_path_counters(v->odp);
	out->flows = mesh_odp_path_flow_count(v->odp);
	out->misses = c->misses;
	out->flow_errors = c->flow_errors;
	out->flushes = c->flushes;
	out->revalidations = c->revalidations;
	out->flows_stale = c->flows_stale;
	out->repairs = c->repairs;
	out->last_error = mesh_odp_path_last_error(v->odp);
	return 0;
}

struct overlay *mesh_fastdp_overlay(struct mesh_fastdp *v)
{
	return &v->base;
}

const struct mesh_fastdp_counters *mesh_fastdp_counters(const struct mesh_fastdp *v)
{
	return &v->ctr;
}

void mesh_fastdp_set_mtu(struct mesh_fastdp *v, unsigned mtu)
{
	v->mtu = mtu;
}

struct apply_ctx {
	struct mesh_fastdp *v;
	size_t failed;
	char *err;
	size_t errlen;
};

static void apply(void *arg, bool add, const struct mesh_fdb_entry *e)
{
	struct apply_ctx *a = arg;
	struct mesh_fastdp *v = a->v;
	int ret = 0;
	if (v->odp) /* the datapath decides per miss; the bridge must send these MACs to it */
		ret = mesh_fdb_is_flood(e) ? 0
					   : mesh_odp_path_bridge_fdb(v->odp, add, e->mac, a->err, a->errlen);
	else if (!dev_of(v, &e->ip)->sk) { /* an IPv6 address, without mesh-vxlan6 */
		snprintf(a->err, a->errlen, "%s", v->no_v6);
		ret = -ENODEV;
	} else
		ret = mesh_vxlan_dev_fdb(dev_of(v, &e->ip), add, e->mac, &e->ip, a->err, a->errlen);
	if (ret == 0 && !v->odp && !mesh_fdb_is_flood(e))
		ret = mesh_vxlan_dev_bridge_fdb(dev_of(v, &e->ip), add, e->mac, a->err, a->errlen);
	v->ctr.fdb_changes++;
	if (ret < 0) {
		v->ctr.fdb_errors++;
		a->failed++;
	}
}

size_t mesh_fastdp_program(struct mesh_fastdp *v, struct mesh_fdb_entry *want, size_t n,
			  char *err, size_t errlen)
{
	struct apply_ctx a = { .v = v, .err = err, .errlen = errlen };
	n = mesh_fdb_normalize(want, n);
	if (n > v->have_cap) {
		struct mesh_fdb_entry *h = realloc(v->have, n * sizeof(*h));
		if (!h) {
			snprintf(err, errlen, "out of memory");
			return n;
		}
		v->have = h;
		v->have_cap = n;
	}
	size_t changes = mesh_fdb_diff(v->have, v->nhave, want, n, apply, &a);
	if (v->odp && changes)
		mesh_odp_path_revalidate(v->odp); /* decisions changed: flows decided otherwise go */
	/* what failed is not retried until it changes again; the router logs it */
	if (n)
		memcpy(v->have, want, n * sizeof(*want));
	v->nhave = n;
	v->ctr.fdb_entries = n;
	return a.failed;
}
