/* sleeve/tx.c: the sleeve's transmit side: frames read from the TAP, batched per connection
 * into datagrams built in a fixed ring of slots, sealed once each, and sent with one
 * sendmmsg per event loop turn; a datagram larger than the path goes as FRAGMENT datagrams
 * in one UDP_SEGMENT send (see sleeve.c for the whole design). Nothing allocated per frame. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/internal.h"

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
size_t sleeve_finish_datagram(struct sleeve_fwd *f, uint8_t type, uint8_t *buf, size_t plen)
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
	t->len = sleeve_finish_datagram(f, SLEEVE_FRAMES, t->buf, t->batch.len);
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

void sleeve_flush(struct sleeve *s)
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
		sleeve_flush(s);
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

int sleeve_send(struct overlay_forwarder *ofwd, const struct mesh_peer_name *src,
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
void sleeve_send_control(struct sleeve_fwd *f, uint8_t type, uint64_t echo, uint16_t got)
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
	} else if (type == SLEEVE_HEARTBEAT) {
		put_be64(p + 8, f->heard_echo);
		put_be16(p + 16, f->heard_len);
		plen = SLEEVE_HB_PLEN;
	}
	t->len = sleeve_finish_datagram(f, type, t->buf, plen);
}

/* Reads frames from the TAP (a bounded amount) and sends them; returns the frames read. */
unsigned sleeve_tap_rx(struct sleeve *s)
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
	sleeve_flush(s);
	return got;
}
