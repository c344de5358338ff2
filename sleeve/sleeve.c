/* sleeve/sleeve.c: the sleeve data path: TAP ⇄ batched, sealed UDP datagrams (see sleeve.h).
 * Datagrams are built in a fixed ring of transmit slots and sent with one sendmmsg per event
 * loop turn; received ones come in with recvmmsg into fixed buffers and are opened in place.
 * Nothing is allocated per packet (one reassembly buffer per connection, on first use).
 *
 * Large datagrams (TCP super-frames of up to 64 KB, from the TAP's TSO): the datagram is built
 * and sealed whole, once, in its slot, then cut into FRAGMENT datagrams no larger than the
 * path (codec.h) that go out as one sendmsg with UDP_SEGMENT: the kernel carries them as one
 * GSO packet as far as it can and cuts them where it must. The socket has UDP_GRO on, so they
 * usually come back as one coalesced read (the cmsg gives the segment size); each fragment is
 * copied to its place in the connection's reassembly buffer, and the whole is opened there.
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
#include <netinet/in.h>
#include <netinet/udp.h>
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
#include "sleeve/gro.h"
#include "sleeve/pmtu.h"
#include "sleeve/sleeve.h"
#include "sleeve/tap.h"
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#define BATCH 64
#define DGRAM_MAX 65536           /* datagram buffer: a TCP super-frame travels whole */
#define TAP_READ_BUDGET 256       /* frames read from the TAP per event */
#define UDP_PAYLOAD_MAX 65507     /* 65535 - IPv4 header - UDP header */
#define SEG_MIN (576 - 28)        /* smallest wire datagram we cut a large one into */
/* fragments of one datagram, at most: the largest body in the smallest slices */
#define FRAG_MAX ((SLEEVE_REASM_MAX + ((SEG_MIN - SLEEVE_FRAG_HDR_LEN) & ~(SLEEVE_FRAG_ALIGN - 1)) - 1) / \
		  ((SEG_MIN - SLEEVE_FRAG_HDR_LEN) & ~(SLEEVE_FRAG_ALIGN - 1)))
#define GSO_SEGS_MAX 64           /* UDP_MAX_SEGMENTS of older kernels */
#define RX_HEADROOM 32            /* before each receive area: room to put a header back */
#define RX_SEG_MAX 9216           /* wire datagrams up to this size are read split */
#define RX_CHUNKS_MAX ((DGRAM_MAX + SEG_MIN - 1) / SEG_MIN)
#define TXQ_MSGS 256              /* messages per sendmmsg */
#define TXQ_IOV 1024

/* A slot's buffer, or the spare one the TAP is read into: a datagram of up to DGRAM_MAX bytes,
 * or a frame read from the TAP of up to SLEEVE_TAP_FRAME_MAX bytes at tap_at (at most
 * TAP_FRAME_AT: where the first record's frame sits in a sealed datagram). */
#define TAP_FRAME_AT (SLEEVE_HDR_LEN + MESH_SEAL_OVERHEAD + SLEEVE_REC_HDR_LEN)
#define SLOT_BUF (TAP_FRAME_AT + SLEEVE_TAP_FRAME_MAX)

struct tx_slot {
	uint8_t *buf;                 /* SLOT_BUF bytes of the sleeve's pool */
	size_t len;                   /* datagram length once closed */
	struct sleeve_fwd *fwd;       /* owner while open or queued */
	struct sleeve_batch batch;    /* records, while open */
	bool open;
	uint8_t fh[FRAG_MAX][SLEEVE_FRAG_HDR_LEN]; /* fragment headers, when cut up */
};

/* Datagrams queued for one sendmmsg: a whole datagram is one message with one iovec; a large
 * one is cut into fragments, each a fragment header and a slice of the body (two iovecs),
 * and a run of them goes as one message with UDP_SEGMENT (the kernel cuts it where the
 * fragments end: every fragment but the last has the same size). */
struct txq {
	struct mmsghdr msgs[TXQ_MSGS];
	struct iovec iov[TXQ_IOV];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[TXQ_MSGS];
	unsigned nmsg, niov;
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
	struct sleeve_reasm reasm;    /* a large datagram coming in as fragments */
	uint8_t *reasm_buf;           /* allocated with the first fragment */
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
	uint8_t *spare;               /* the pool's buffer in no slot: the TAP is read into it */
	size_t tap_at;                /* where in it: a record's place in a datagram to our peers */
	unsigned tx_used;             /* slots 0..tx_used-1 are open or queued */
	bool gso;                     /* UDP_SEGMENT works (until the kernel refuses it) */
	bool uso_tap;                 /* the TAP takes UDP GSO frames (until it refuses one) */
	bool in_rx;                   /* in a receive round: deliveries may be coalesced */
	struct sleeve_gro gro;        /* UDP frames coalesced for one TAP write */
	struct txq txq;
	/* Receive buffers (rx_layout): read split at rx_seg, the wire size a large datagram was
	 * last seen cut into, each wire datagram's head goes to rx_hdr and the rest to the
	 * message's area, so a fragmented datagram's slices land side by side and it is opened
	 * where it lies. */
	size_t rx_seg, rx_want;       /* 0: one piece per message */
	bool rx_change;
	unsigned rx_niov;
	struct iovec rx_iov[BATCH][2 * RX_CHUNKS_MAX];
	uint8_t rx_hdr[BATCH][RX_CHUNKS_MAX][SLEEVE_FRAG_HDR_LEN];
	uint8_t rx[BATCH][RX_HEADROOM + DGRAM_MAX + RX_SEG_MAX];
	uint8_t rx_scratch[DGRAM_MAX];
	uint8_t pool[BATCH + 1][SLOT_BUF];
	uint8_t gro_buf[SLEEVE_GRO_BUF];
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

/* Largest wire datagram to this peer: the verified path, else what one full-size frame needs
 * (the configured underlay). Larger datagrams are cut into fragments of at most this size. */
static size_t seg_size(const struct sleeve *s, const struct sleeve_fwd *f)
{
	size_t seg = f->verified ? f->verified : s->mtu + frame_overhead(f);
	if (seg < SEG_MIN)
		seg = SEG_MIN;
	return seg > UDP_PAYLOAD_MAX ? UDP_PAYLOAD_MAX : seg;
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

/* Sends what is queued (sendmmsg until all went or failed). */
static void txq_send(struct sleeve *s)
{
	struct txq *q = &s->txq;
	unsigned sent = 0;
	while (sent < q->nmsg) {
		int r = sendmmsg(s->udp_fd, q->msgs + sent, q->nmsg - sent, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* a kernel or device without UDP GSO: from now on one fragment a message */
			if (q->msgs[sent].msg_hdr.msg_controllen && (errno == EINVAL || errno == EIO ||
								     errno == EOPNOTSUPP))
				s->gso = false;
			/* EAGAIN (socket buffer full) or a per-destination error: drop this one */
			s->ctr.drop_tx_full++;
			sent++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			struct msghdr *m = &q->msgs[sent + i].msg_hdr;
			for (size_t k = 0; k < m->msg_iovlen; k++)
				s->ctr.tx_bytes += m->msg_iov[k].iov_len;
		}
		sent += (unsigned)r;
	}
	q->nmsg = q->niov = 0;
}

/* Queues one message to f's peer of the iovecs iov[0..n) (copied), cut into `gso`-byte
 * datagrams when gso is not 0. */
static void txq_add(struct sleeve *s, struct sleeve_fwd *f, const struct iovec *iov, unsigned n,
		    uint16_t gso, unsigned datagrams)
{
	struct txq *q = &s->txq;
	if (q->nmsg == TXQ_MSGS || q->niov + n > TXQ_IOV)
		txq_send(s);
	struct msghdr *m = &q->msgs[q->nmsg].msg_hdr;
	memset(m, 0, sizeof(*m));
	memcpy(&q->iov[q->niov], iov, n * sizeof(*iov));
	m->msg_iov = &q->iov[q->niov];
	m->msg_iovlen = n;
	m->msg_name = &f->p.remote_addr;
	m->msg_namelen = f->p.remote_addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
	if (gso) {
		m->msg_control = q->ctl[q->nmsg].buf;
		m->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
		struct cmsghdr *c = CMSG_FIRSTHDR(m);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	}
	q->niov += n;
	q->nmsg++;
	s->ctr.tx_datagrams += datagrams;
}

/* Queues a closed slot: whole when it fits the path, else as fragments (DESIGN §7, codec.h). */
static void queue_slot(struct sleeve *s, struct tx_slot *t)
{
	struct sleeve_fwd *f = t->fwd;
	size_t seg = seg_size(s, f);
	if (t->len <= seg) {
		struct iovec iov = { t->buf, t->len };
		txq_add(s, f, &iov, 1, 0, 1);
		return;
	}
	struct sleeve_hdr h;
	sleeve_hdr_decode(t->buf, t->len, &h);
	size_t body = t->len - SLEEVE_HDR_LEN;
	size_t slice = (seg - SLEEVE_FRAG_HDR_LEN) & ~(size_t)(SLEEVE_FRAG_ALIGN - 1);
	size_t nfrag = (body + slice - 1) / slice;
	/* fragments per message: what UDP GSO takes (64 segments, 64 KB in all). A datagram cut
	 * into one message arrives as one read and is opened where it lies (rx_split). */
	struct iovec iov[2 * GSO_SEGS_MAX];
	for (size_t k = 0; k < nfrag;) {
		unsigned n = 0, segs = 0;
		size_t bytes = 0;
		for (size_t j = k; j < nfrag && segs < (s->gso ? GSO_SEGS_MAX : 1); j++) {
			size_t off = j * slice, len = body - off < slice ? body - off : slice;
			if (segs && bytes + SLEEVE_FRAG_HDR_LEN + len > UDP_PAYLOAD_MAX)
				break;
			sleeve_frag_encode(&h, (uint16_t)off, (uint16_t)body, t->fh[j]);
			iov[n++] = (struct iovec){ t->fh[j], SLEEVE_FRAG_HDR_LEN };
			iov[n++] = (struct iovec){ t->buf + SLEEVE_HDR_LEN + off, len };
			bytes += SLEEVE_FRAG_HDR_LEN + len;
			segs++;
		}
		txq_add(s, f, iov, n, segs > 1 ? (uint16_t)(SLEEVE_FRAG_HDR_LEN + slice) : 0, segs);
		k += segs;
	}
}

static void flush(struct sleeve *s)
{
	unsigned n = s->tx_used;

	if (!n)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct tx_slot *t = &s->tx[i];
		if (t->open)
			close_slot(t);
		queue_slot(s, t);
	}
	txq_send(s);
	s->tx_used = 0;
}

/* Opens the next free slot for f. With `adopt`, the slot takes the spare buffer (holding a
 * frame just read from the TAP, which so becomes the slot's first record without a copy) and
 * gives its own buffer as the new spare. */
static struct tx_slot *take_slot(struct sleeve *s, struct sleeve_fwd *f, bool adopt)
{
	if (s->tx_used == BATCH)
		flush(s);
	struct tx_slot *t = &s->tx[s->tx_used++];
	if (adopt) {
		uint8_t *b = t->buf;
		t->buf = s->spare;
		s->spare = b;
	}
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
	/* A frame read from the TAP that goes to this peer alone and is too big to share a
	 * datagram (a super-frame): its buffer becomes the datagram's (no copy of up to 64 KB). */
	bool adopt = frame == s->spare + s->tap_at && !mesh_peer_name_is_zero(dst) &&
		     payload_off(f) + SLEEVE_REC_HDR_LEN == s->tap_at &&
		     SLEEVE_REC_HDR_LEN + len > payload_cap(s, f);
	if (adopt && f->cur)
		close_slot(f->cur);
	struct tx_slot *t = f->cur ? f->cur : take_slot(s, f, adopt);
	int r = sleeve_batch_add(&t->batch, src, dst, off, frame, len);
	if (r == -ENOSPC && t->batch.frames) {
		close_slot(t);
		t = take_slot(s, f, false);
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
	t = take_slot(s, f, false);
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

static void handle_whole(struct sleeve *s, struct sleeve_fwd *f, const struct sleeve_hdr *hp,
			 uint8_t *buf, size_t len, const struct sockaddr_storage *from);

/* A fragment of a large datagram: into the connection's reassembly, and the whole handled
 * once complete. */
static void handle_fragment(struct sleeve *s, struct sleeve_fwd *f, const struct sleeve_frag *fr,
			    const uint8_t *slice, size_t len, const struct sockaddr_storage *from)
{
	if (!f->reasm_buf) {
		f->reasm_buf = malloc(SLEEVE_HDR_LEN + SLEEVE_REASM_MAX);
		if (!f->reasm_buf) {
			s->ctr.drop_malformed++;
			return;
		}
		sleeve_reasm_init(&f->reasm, f->reasm_buf);
	}
	int r = sleeve_reasm_add(&f->reasm, fr, slice, len);
	if (r == -ESTALE)
		s->ctr.drop_replay++;
	else if (r < 0)
		s->ctr.drop_malformed++;
	if (r <= 0)
		return;
	struct sleeve_hdr h = f->reasm.h;
	handle_whole(s, f, &h, f->reasm_buf, (size_t)r, from);
}

/* The checks every datagram passes before it is opened: a connection of ours, the seal flag
 * the connection's, not a replay. Returns the connection, or NULL (counted). */
static struct sleeve_fwd *check_datagram(struct sleeve *s, const struct sleeve_hdr *h)
{
	struct sleeve_fwd *f = find_fwd(s, h->index);
	if (!f) {
		s->ctr.drop_unknown_conn++;
		return NULL;
	}
	if (!!(h->flags & SLEEVE_F_SEALED) != f->p.encrypted) {
		s->ctr.drop_auth++; /* a plaintext datagram on an encrypted connection, or v.v. */
		return NULL;
	}
	if (mesh_replay_check(&f->replay, h->counter) != MESH_REPLAY_OK) {
		s->ctr.drop_replay++;
		return NULL;
	}
	return f;
}

/* One FRAGMENT datagram: its header (SLEEVE_FRAG_HDR_LEN bytes) and its slice of len bytes,
 * which need not follow the header in memory. */
static void rx_fragment(struct sleeve *s, const uint8_t *hdr, const uint8_t *slice, size_t len,
			const struct sockaddr_storage *from)
{
	struct sleeve_frag fr;
	s->ctr.rx_datagrams++;
	s->ctr.rx_bytes += SLEEVE_FRAG_HDR_LEN + len;
	if (sleeve_frag_decode(hdr, SLEEVE_FRAG_HDR_LEN + len, &fr) < 0) {
		s->ctr.drop_malformed++;
		return;
	}
	struct sleeve_fwd *f = check_datagram(s, &fr.h);
	if (f)
		handle_fragment(s, f, &fr, slice, len, from);
}

static void handle_datagram(struct sleeve *s, uint8_t *buf, size_t len,
			    const struct sockaddr_storage *from)
{
	struct sleeve_hdr h;
	if (len > SLEEVE_FRAG_HDR_LEN && buf[0] == SLEEVE_FRAGMENT) {
		rx_fragment(s, buf, buf + SLEEVE_FRAG_HDR_LEN, len - SLEEVE_FRAG_HDR_LEN, from);
		return;
	}
	s->ctr.rx_datagrams++;
	s->ctr.rx_bytes += len;
	if (sleeve_hdr_decode(buf, len, &h) < 0 || h.type == SLEEVE_FRAGMENT) {
		s->ctr.drop_malformed++;
		return;
	}
	struct sleeve_fwd *f = check_datagram(s, &h);
	if (f)
		handle_whole(s, f, &h, buf, len, from);
}

/* A whole datagram (received as one, or put back together) whose header is valid, for f, and
 * not (yet) a replay: open, record the counter, act on it. */
static void handle_whole(struct sleeve *s, struct sleeve_fwd *f, const struct sleeve_hdr *hp,
			 uint8_t *buf, size_t len, const struct sockaddr_storage *from)
{
	struct sleeve_hdr h = *hp;
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

static void gro_flush(struct sleeve *s);

/* The receive buffers' layout for wire datagrams of g bytes (0: one piece per message). Split,
 * each g bytes of a message are a datagram whose first SLEEVE_FRAG_HDR_LEN bytes go to rx_hdr
 * and the rest to the message's area, so that the slices of a fragmented datagram lie side by
 * side there. */
static void rx_layout(struct sleeve *s, size_t g)
{
	s->rx_seg = g;
	for (unsigned i = 0; i < BATCH; i++) {
		uint8_t *area = s->rx[i] + RX_HEADROOM;
		unsigned n = 0;
		if (!g)
			s->rx_iov[i][n++] = (struct iovec){ area, DGRAM_MAX };
		for (size_t c = 0; g && c * g < DGRAM_MAX; c++) {
			s->rx_iov[i][n++] = (struct iovec){ s->rx_hdr[i][c], SLEEVE_FRAG_HDR_LEN };
			s->rx_iov[i][n++] = (struct iovec){ area + c * (g - SLEEVE_FRAG_HDR_LEN),
							    g - SLEEVE_FRAG_HDR_LEN };
		}
		s->rx_niov = n;
	}
}

/* The layout for the wire size a UDP_GRO read showed (seg), from the next round on: split for
 * fragment-sized datagrams, else one piece. */
static void rx_follow(struct sleeve *s, size_t seg)
{
	size_t want = seg >= SEG_MIN && seg <= RX_SEG_MAX &&
				      (seg - SLEEVE_FRAG_HDR_LEN) % SLEEVE_FRAG_ALIGN == 0
			      ? seg
			      : 0;
	if (want != s->rx_seg) {
		s->rx_want = want;
		s->rx_change = true;
	}
}

/* Message i, read split (rx_layout) at the layout's size: the datagrams of len bytes in all.
 * All the fragments of one whole datagram (one sender's UDP_SEGMENT send, the usual case)
 * are opened where they lie; anything else is put back together datagram by datagram. */
static void rx_split(struct sleeve *s, unsigned i, size_t len, const struct sockaddr_storage *from)
{
	size_t g = s->rx_seg, slice = g - SLEEVE_FRAG_HDR_LEN;
	size_t nseg = (len + g - 1) / g, last = len - (nseg - 1) * g;
	uint8_t *area = s->rx[i] + RX_HEADROOM;
	uint8_t(*hdr)[SLEEVE_FRAG_HDR_LEN] = s->rx_hdr[i];
	struct sleeve_hdr wh;
	size_t total;

	if (last > SLEEVE_FRAG_HDR_LEN && hdr[0][0] == SLEEVE_FRAGMENT &&
	    sleeve_frags_whole((const uint8_t(*)[SLEEVE_FRAG_HDR_LEN])hdr, nseg, slice,
			       last - SLEEVE_FRAG_HDR_LEN, &wh, &total)) {
		s->ctr.rx_datagrams += nseg;
		s->ctr.rx_bytes += len;
		struct sleeve_fwd *f = check_datagram(s, &wh);
		if (!f)
			return;
		uint8_t *buf = area - SLEEVE_HDR_LEN; /* the whole's header, in the headroom */
		sleeve_hdr_encode(&wh, buf);
		s->ctr.rx_in_place++;
		handle_whole(s, f, &wh, buf, SLEEVE_HDR_LEN + total, from);
		return;
	}
	for (size_t k = 0; k < nseg; k++) {
		size_t lk = k + 1 < nseg ? g : last, h = lk < SLEEVE_FRAG_HDR_LEN ? lk : SLEEVE_FRAG_HDR_LEN;
		if (lk > SLEEVE_FRAG_HDR_LEN && hdr[k][0] == SLEEVE_FRAGMENT) {
			rx_fragment(s, hdr[k], area + k * slice, lk - h, from);
			continue;
		}
		/* a whole datagram: its head and the rest together again (the first in the
		 * headroom, a later one, rare, copied) */
		uint8_t *buf = k == 0 ? area - h : s->rx_scratch;
		if (k)
			memcpy(buf + h, area + k * slice, lk - h);
		memcpy(buf, hdr[k], h);
		handle_datagram(s, buf, lk, from);
	}
}

/* Message i read in the current layout: len bytes, cut into wire datagrams of seg bytes. */
static void rx_message(struct sleeve *s, unsigned i, size_t len, size_t seg,
		       const struct sockaddr_storage *from)
{
	uint8_t *buf = s->rx[i] + RX_HEADROOM;
	size_t g = s->rx_seg;
	if (g && (seg == g || (seg == len && len <= g))) {
		rx_split(s, i, len, from);
		return;
	}
	if (g) {
		/* cut at another size than the layout's: back into one piece (a copy) */
		size_t done = 0, slice = g - SLEEVE_FRAG_HDR_LEN;
		for (size_t c = 0; done < len; c++) {
			size_t h = len - done < SLEEVE_FRAG_HDR_LEN ? len - done : SLEEVE_FRAG_HDR_LEN;
			memcpy(s->rx_scratch + done, s->rx_hdr[i][c], h);
			done += h;
			size_t b = len - done < slice ? len - done : slice;
			memcpy(s->rx_scratch + done, buf + c * slice, b);
			done += b;
		}
		buf = s->rx_scratch;
	}
	for (size_t off = 0; off < len; off += seg)
		handle_datagram(s, buf + off, len - off < seg ? len - off : seg, from);
}

/* Reads what waits on the UDP socket (a bounded amount); returns the messages read. */
static unsigned udp_rx(struct sleeve *s)
{
	unsigned got = 0;
	struct mmsghdr msgs[BATCH];
	struct sockaddr_storage from[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[BATCH];

	s->in_rx = true;
	for (int round = 0; round < 4; round++) {
		if (s->rx_change) {
			rx_layout(s, s->rx_want);
			s->rx_change = false;
		}
		for (int i = 0; i < BATCH; i++) {
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = s->rx_iov[i];
			msgs[i].msg_hdr.msg_iovlen = s->rx_niov;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		int n = recvmmsg(s->udp_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		got += (unsigned)n;
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			if (m->msg_flags & MSG_TRUNC) {
				s->ctr.drop_malformed++;
				continue;
			}
			/* UDP_GRO: datagrams of one size (but the last) from one sender, coalesced */
			size_t len = msgs[i].msg_len, seg = len;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
				if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
					int g;
					memcpy(&g, CMSG_DATA(c), sizeof(g));
					if (g > 0)
						seg = (size_t)g;
				}
			if (!len)
				continue;
			rx_message(s, (unsigned)i, len, seg, &from[i]);
			if (seg < len)
				rx_follow(s, seg);
		}
		gro_flush(s); /* a coalesced frame waits one round at most */
		flush(s);     /* heartbeat answers and relayed frames */
		if (n < BATCH)
			break;
	}
	gro_flush(s);
	s->in_rx = false;
	return got;
}

/* Reads frames from the TAP (a bounded amount) and sends them; returns the frames read. */
static unsigned tap_rx(struct sleeve *s)
{
	unsigned got = 0;
	for (int i = 0; i < TAP_READ_BUDGET; i++) {
		struct mesh_offload off;
		uint8_t *frame = s->spare + s->tap_at;
		ssize_t n = sleeve_tap_read(s->tap_fd, frame, SLEEVE_TAP_FRAME_MAX, &off);
		if (n == -EAGAIN || n == -EINTR)
			break; /* drained */
		got++;
		if (n < SLEEVE_ETH_MIN)
			continue;
		s->cb.local_frame(s->cb.arg, &off, frame, (size_t)n);
	}
	flush(s);
	return got;
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	udp_rx(s);
}

static void tap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sleeve *s = arg;
	tap_rx(s);
}

static int tap_write(struct sleeve *s, const struct mesh_offload *off, const uint8_t *frame,
		     size_t len)
{
	int ret = sleeve_tap_write(s->tap_fd, off, frame, len);
	s->ctr.tap_writes++;
	if (ret < 0)
		s->ctr.drop_tap++;
	return ret;
}

/* Writes out the UDP frames coalesced so far: one UDP GSO write, or, where the kernel refuses
 * those, the datagrams one by one. */
static void gro_flush(struct sleeve *s)
{
	struct mesh_offload off;
	unsigned segs = s->gro.segs;
	size_t len = sleeve_gro_finish(&s->gro, &off);
	if (!len)
		return;
	if (segs == 1 || !s->uso_tap) {
		tap_write(s, &off, s->gro_buf, len);
		return;
	}
	s->ctr.tap_writes++;
	int ret = sleeve_tap_write(s->tap_fd, &off, s->gro_buf, len);
	if (ret == 0) {
		s->ctr.rx_coalesced += segs;
		return;
	}
	if (ret != -EINVAL) {
		s->ctr.drop_tap += segs;
		return;
	}
	s->uso_tap = false; /* this kernel takes no UDP GSO from a TAP after all */
	uint8_t hdr[SLEEVE_GRO_HDR_MAX];
	struct mesh_offload so;
	size_t plen, hl;
	for (unsigned i = 0; (hl = sleeve_gro_segment(s->gro_buf, len, &off, i, hdr, &so, &plen)); i++) {
		struct iovec iov[2] = { { hdr, hl }, { s->gro_buf + hl + (size_t)i * off.gso_size, plen } };
		s->ctr.tap_writes++;
		if (sleeve_tap_writev(s->tap_fd, &so, iov, 2) < 0)
			s->ctr.drop_tap++;
	}
}

/* Frames for our bridge. In a receive round, UDP frames of one flow are coalesced (gro.h) and
 * written at the end of the round or when a frame that cannot join comes; anything else is
 * written at once, after what was coalesced before it, so the order is kept. */
static int sleeve_deliver(struct overlay *ov, const struct mesh_offload *off,
			  const uint8_t *frame, size_t len)
{
	struct sleeve *s = (struct sleeve *)ov;
	if (s->in_rx && s->uso_tap) {
		if (sleeve_gro_add(&s->gro, off, frame, len))
			return 0;
		gro_flush(s);
		if (sleeve_gro_add(&s->gro, off, frame, len))
			return 0;
	}
	return tap_write(s, off, frame, len);
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
			flush(s);
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
	sleeve_gro_init(&s->gro, s->gro_buf);
	rx_layout(s, 0);
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
bool sleeve_coalesces(const struct sleeve *s) { return s->uso_tap; }

int sleeve_set_tso(struct sleeve *s, bool on)
{
	unsigned flags = TUN_F_CSUM | (on ? TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0);
	return ioctl(s->tap_fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}
