/* sleeve/rx.c: the sleeve's receive side: datagrams read with recvmmsg into fixed buffers
 * (split so that a fragmented datagram read in one piece lies whole), checked (connection,
 * replay window), opened in place, their frames handed to the router; frames for our bridge
 * written to the TAP, runs of one UDP flow coalesced into one write (gro.h). Nothing
 * allocated per frame (one reassembly buffer per connection, on first use). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/bytes.h"
#include "sleeve/internal.h"

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
	int r = sleeve_reasm_add(&f->reasm, fr, slice, len, &f->replay, mesh_mono_ms());
	if (r == -ESTALE || r == -ERANGE)
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
	f->last_rx_ms = mesh_mono_ms();
	if (!same_addr(&f->p.remote_addr, from))
		f->p.remote_addr = *from;

	switch (h.type) {
	case SLEEVE_HEARTBEAT:
		if (plen < 8) { /* probes carry padding after the echo */
			s->ctr.drop_malformed++;
			return;
		}
		sleeve_heartbeat_received(f, payload, plen, (uint16_t)len);
		return;
	case SLEEVE_HEARTBEAT_ACK: {
		if (plen != 10) {
			s->ctr.drop_malformed++;
			return;
		}
		sleeve_heartbeat_answered(f, get_be16(payload + 8));
		return;
	}
	case SLEEVE_FRAMES: {
		struct sleeve_frame_iter it;
		struct sleeve_frame fr;
		int r;
		sleeve_frames_begin(&it, payload, plen);
		while ((r = sleeve_frames_next(&it, &fr)) > 0) {
			s->ctr.rx_frames++;
			if (sleeve_offload_check(&fr.off, fr.len) < 0) {
				s->ctr.drop_offload++; /* never written to a TAP, ours or a hop's */
				continue;
			}
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
unsigned sleeve_udp_rx(struct sleeve *s)
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
		sleeve_flush(s);     /* heartbeat answers and relayed frames */
		if (n < BATCH)
			break;
	}
	gro_flush(s);
	s->in_rx = false;
	return got;
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
	if (segs == 1) { /* (nothing joins while the TAP takes no UDP GSO) */
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
int sleeve_deliver(struct overlay *ov, const struct mesh_offload *off, const uint8_t *frame,
		   size_t len)
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

void sleeve_rx_init(struct sleeve *s)
{
	sleeve_gro_init(&s->gro, s->gro_buf);
	rx_layout(s, 0);
}
