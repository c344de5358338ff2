/* tests/tools/hostile_peer.c: a hostile peer for the integration tests of issue 16. It speaks
 * the wire format (the real handshake of gossip/handshake.c, the gossip encoders of gossip/) and
 * runs one attack per process; test_hostile_all runs every one at once against a lab.
 *
 * With the password (PASSWORD_FILE, MESH_NAME: an insider that completes the handshake):
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME for-other PEER_NAME       (finding 2)
 *       one space request whose requester is PEER_NAME (not us), then 2 s held
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME flood N HOLD_S            (finding 2)
 *       N space requests for ourselves, as fast as the socket takes them, then HOLD_S held
 *       (read nothing)
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME noread SECONDS            (finding 2)
 *       a 2 KiB receive buffer; 60 topology updates of our own entry (1000 connections to
 *       unspecified addresses, ~13 KB each, which HOST passes on to every connection, ours
 *       too) that HOST must queue for us; then nothing is read and a heartbeat is sent every
 *       second for SECONDS (HOST must drop a peer that does not read 30 s after its output
 *       stalled: the test reads when from HOST's log; "burst_end_ms" is the wall clock when
 *       the updates ended)
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME macs SECONDS              (finding 3)
 *       every 100 ms, 200 new random MAC locations (half at our name, half at random peer
 *       names that exist nowhere) at the current version
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME discovery SECONDS         (finding 4)
 *       every second, topology entries for 100 new peers that exist nowhere, each with an
 *       established connection to the next at its own (address, port) in 198.18.0.100-249
 *       (the lab's underlay, where no host answers)
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME versions SECONDS PEER_NAME... [-- MAC...]
 *                                                                            (finding 5)
 *       every 2 s: topology entries for HOST's peer name and each PEER_NAME with version
 *       UINT64_MAX and one two days ahead (and no connections); each MAC at our name with
 *       version UINT64_MAX; the last IPAM ring HOST sent us with every version UINT32_MAX,
 *       and with HOST's own entries raised by 1000 (only their owner may change them)
 * Without the password (PASSWORD_FILE and MESH_NAME are "-"):
 *   hostile_peer HOST PORT - - slots N SECONDS                               (finding 1)
 *       keeps N connections in their handshake, sending its next byte every 2 s; each one
 *       HOST closes is opened again a second later
 *   hostile_peer HOST PORT - - fragments HEADER_HEX SECONDS                  (finding 6)
 *       forged sleeve FRAGMENT datagrams to HOST's UDP PORT, taking the connection's fields from
 *       HEADER_HEX (the 16-byte header of a datagram seen on the underlay, as hex): every 50 ms
 *       one whose counter is 4000 + k beyond the header's (inside the replay window: it starts a
 *       reassembly that never completes) and one 100000 + k beyond (far ahead: refused)
 *
 * Each prints one JSON line of what it did ("name": our peer name for insiders). Exit 1 when
 * the handshake fails (its error on stderr), 2 on bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/psk.h"
#include "gossip/handshake.h"
#include "gossip/ipam.h"
#include "gossip/macs.h"
#include "gossip/topology.h"
#include "mesh/bytes.h"
#include "mesh/clock.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_password(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	char *nl = strpbrk(out, "\r\n"); /* the first line: the password a host seals with */
	if (nl)
		*nl = '\0';
	return 0;
}

/* Whether the other side closed the connection (what it sent is left unread). */
static int peer_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void random_name(struct mesh_peer_name *n)
{
	randombytes_buf(n->b, MESH_PEER_NAME_LEN);
	n->b[0] = (uint8_t)((n->b[0] & 0xfc) | 0x02); /* locally administered, unicast */
}

static int connect_to(const char *host, const char *port, int rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --- an insider: a peer with the password ------------------------------------------------- */

struct insider {
	int fd;
	struct mesh_hs hs;
	struct mesh_peer_name name;
	struct mesh_hello peer;          /* HOST's HELLO */
	uint8_t *in;                     /* what HOST sent, not yet a whole frame */
	size_t have;
	uint64_t hb_due_ms;
	struct mesh_ipam_ring ring;      /* the last IPAM ring HOST sent (n = 0: none yet) */
	bool open_frames;                /* decrypt what comes (versions), else drop it unread */
};
#define IN_CAP (2u << 20)

static struct insider P;

static int insider_connect(struct insider *p, const char *host, const char *port,
			   const uint8_t *psk, const char *mesh, int rcvbuf)
{
	p->fd = connect_to(host, port, rcvbuf);
	if (p->fd < 0) {
		fprintf(stderr, "hostile_peer: cannot connect to %s:%s: %s\n", host, port,
			strerror(errno));
		return -1;
	}
	struct mesh_hs_config cfg = { .is_client = true, .psk = psk, .proto_min = MESH_PROTO_MIN,
				      .proto_max = MESH_PROTO_MAX };
	random_name(&cfg.hello.name);
	snprintf(cfg.hello.nickname, sizeof(cfg.hello.nickname), "hostile");
	snprintf(cfg.mesh_name, sizeof(cfg.mesh_name), "%s", mesh);
	cfg.hello.overlays = MESH_OVERLAY_SLEEVE;
	cfg.hello.sleeve_port = 9; /* discard: the sleeve the other side starts goes nowhere */
	cfg.hello.sleeve_index = 1;
	randombytes_buf(&cfg.hello.uid, sizeof(cfg.hello.uid));
	randombytes_buf(&cfg.hello.conn_id, sizeof(cfg.hello.conn_id));
	p->name = cfg.hello.name;
	mesh_hs_init(&p->hs, &cfg);
	if (!p->in && !(p->in = malloc(IN_CAP)))
		return -1;
	p->have = 0;
	for (int r = MESH_HS_AGAIN; r != MESH_HS_DONE;) {
		if (p->hs.out_len && write_all(p->fd, p->hs.out, p->hs.out_len) < 0)
			return -1;
		p->hs.out_len = 0;
		ssize_t n = read(p->fd, p->in + p->have, 8192);
		if (n <= 0) {
			fprintf(stderr, "hostile_peer: connection closed during the handshake\n");
			return -1;
		}
		p->have += (size_t)n;
		size_t used;
		r = mesh_hs_input(&p->hs, p->in, p->have, &used);
		memmove(p->in, p->in + used, p->have - used);
		p->have -= used;
		if (r < 0) {
			fprintf(stderr, "hostile_peer: handshake failed: %s\n", p->hs.error);
			return -1;
		}
	}
	if (p->hs.out_len && write_all(p->fd, p->hs.out, p->hs.out_len) < 0) /* our HELLO */
		return -1;
	p->hs.out_len = 0;
	p->peer = p->hs.peer_hello;
	p->hb_due_ms = mesh_mono_ms() + 10000;
	return 0;
}

/* Seals and sends one message (type byte first). 0 or -1 (the connection failed). */
static int insider_send(struct insider *p, const uint8_t *msg, size_t len)
{
	static uint8_t frame[MESH_FRAME_MAX + 64];
	ssize_t f = mesh_frame_seal(&p->hs.chan, msg, len, frame, sizeof(frame));
	if (f < 0)
		return -1;
	return write_all(p->fd, frame, (size_t)f);
}

static int insider_gossip(struct insider *p, uint8_t channel, const uint8_t *body, size_t len)
{
	static uint8_t msg[MESH_FRAME_MAX];
	if (len + 2 > sizeof(msg))
		return -1;
	msg[0] = MESH_MSG_GOSSIP;
	msg[1] = channel;
	memcpy(msg + 2, body, len);
	return insider_send(p, msg, len + 2);
}

static void take_frame(struct insider *p, uint8_t *buf, size_t flen)
{
	uint8_t *m;
	size_t mlen;
	if (mesh_frame_open(&p->hs.chan, buf, flen, &m, &mlen) < 0 || mlen < 3)
		return;
	if (m[0] != MESH_MSG_GOSSIP || m[1] != MESH_CHANNEL_IPAM || m[2] != MESH_IPAM_MSG_RING)
		return;
	struct mesh_ipam_ring r;
	char why[MESH_IPAM_WHY_LEN];
	if (mesh_ipam_ring_decode(m + 2, mlen - 2, &r, why) < 0 || !r.n)
		return;
	mesh_ipam_ring_free(&p->ring);
	p->ring = r;
}

/* Reads what HOST sends for up to ms (dropped unread, or opened with open_frames) and sends a
 * heartbeat every 10 s. 0, or -1 when the connection ended. */
static int insider_pump(struct insider *p, int ms)
{
	uint64_t end = mesh_mono_ms() + (uint64_t)ms;
	for (;;) {
		uint64_t now = mesh_mono_ms();
		if (now >= p->hb_due_ms) {
			uint8_t hb = MESH_MSG_HEARTBEAT;
			if (insider_send(p, &hb, 1) < 0)
				return -1;
			p->hb_due_ms = now + 10000;
		}
		if (now >= end)
			return 0;
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		if (!p->open_frames) {
			static uint8_t sink[65536];
			if (read(p->fd, sink, sizeof(sink)) <= 0)
				return -1;
			continue;
		}
		ssize_t n = read(p->fd, p->in + p->have, IN_CAP - p->have);
		if (n <= 0)
			return -1;
		p->have += (size_t)n;
		size_t off = 0;
		for (;;) {
			ssize_t f = mesh_frame_peek(&p->hs.chan, p->in + off, p->have - off);
			if (f < 0)
				return -1;
			if (f == 0)
				break;
			take_frame(p, p->in + off, (size_t)f);
			off += (size_t)f;
		}
		memmove(p->in, p->in + off, p->have - off);
		p->have -= off;
	}
}

/* --- the gossip an insider forges ------------------------------------------------------------ */

static uint8_t out[MESH_FRAME_MAX];

static void fake_peer(struct mesh_topo_peer *e, const struct mesh_peer_name *name,
		      uint64_t version, struct mesh_topo_conn *conns, unsigned nconns)
{
	memset(e, 0, sizeof(*e));
	e->name = *name;
	snprintf(e->nickname, sizeof(e->nickname), "hostile");
	randombytes_buf(&e->uid, sizeof(e->uid));
	e->version = version;
	e->short_id = (uint16_t)randombytes_uniform(4096);
	e->conns = conns;
	e->nconns = nconns;
}

static int send_topology(struct insider *p, struct mesh_topo_peer *entries, size_t n)
{
	struct mesh_topology t = { .n = n, .cap = n, .peers = entries };
	ssize_t len = mesh_topo_encode(&t, NULL, 0, out, sizeof(out));
	return len < 0 ? -1 : insider_gossip(p, MESH_CHANNEL_TOPOLOGY, out, (size_t)len);
}

/* finding 2: a peer that never reads; prints when HOST dropped it */
static int run_noread(struct insider *p, long seconds)
{
	static struct mesh_topo_conn conns[1000];
	for (unsigned i = 0; i < 1000; i++) {
		random_name(&conns[i].peer);
		conns[i].flags = MESH_TOPO_CONN_OUTBOUND; /* address 0.0.0.0:0: never dialled */
	}
	struct mesh_topo_peer e;
	uint64_t v = mesh_wall_ms();
	int burst = 0;
	for (; burst < 60; burst++) {
		fake_peer(&e, &p->name, v + (uint64_t)burst, conns, 1000);
		e.short_id = 7;
		if (send_topology(p, &e, 1) < 0)
			break;
		usleep(50000);
	}
	/* The host's close is not seen here: its FIN waits behind what we never read, and our
	 * heartbeats are taken in silently; the test reads when it dropped us from its log. */
	uint64_t burst_end = mesh_wall_ms(), t0 = mesh_mono_ms();
	while (mesh_mono_ms() - t0 < (uint64_t)seconds * 1000) {
		uint8_t hb = MESH_MSG_HEARTBEAT;
		if (insider_send(p, &hb, 1) < 0)
			break;
		usleep(1000000);
	}
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&p->name, name);
	printf("{\"name\": \"%s\", \"updates\": %d, \"burst_end_ms\": %llu}\n", name, burst,
	       (unsigned long long)burst_end);
	return 0;
}

/* finding 3: MAC locations without end */
static int run_macs(struct insider *p, long seconds)
{
	static struct mesh_mac_update u[200];
	long sent = 0;
	uint64_t end = mesh_mono_ms() + (uint64_t)seconds * 1000;
	while (mesh_mono_ms() < end) {
		uint64_t now = mesh_wall_ms();
		for (unsigned i = 0; i < 200; i++) {
			randombytes_buf(u[i].mac, 6);
			u[i].mac[0] = (uint8_t)((u[i].mac[0] & 0xfc) | 0x02);
			if (i % 2)
				random_name(&u[i].peer);
			else
				u[i].peer = p->name;
			u[i].version = now;
		}
		ssize_t len = mesh_macs_encode(u, 200, out, sizeof(out));
		if (len < 0 || insider_gossip(p, MESH_CHANNEL_MACS, out, (size_t)len) < 0 ||
		    insider_pump(p, 100) < 0)
			break;
		sent += 200;
	}
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&p->name, name);
	printf("{\"name\": \"%s\", \"macs\": %ld, \"closed\": %s}\n", name, sent,
	       mesh_mono_ms() < end ? "true" : "false");
	return 0;
}

/* finding 4: peers that exist nowhere, each at its own address */
static int run_discovery(struct insider *p, long seconds)
{
	static struct mesh_topo_peer e[100];
	static struct mesh_topo_conn c[100];
	long sent = 0;
	unsigned k = 0;
	uint64_t end = mesh_mono_ms() + (uint64_t)seconds * 1000;
	while (mesh_mono_ms() < end) {
		uint64_t now = mesh_wall_ms();
		static struct mesh_peer_name n[100];
		for (unsigned i = 0; i < 100; i++)
			random_name(&n[i]);
		for (unsigned i = 0; i < 100; i++, k++) {
			c[i].peer = n[(i + 1) % 100]; /* a peer announced too: one meshd would dial */
			c[i].ip = htonl(0xc6120000u | (100 + k % 150)); /* 198.18.0.100-249 */
			c[i].port = (uint16_t)(10000 + k / 150);
			c[i].flags = MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_ESTABLISHED;
			fake_peer(&e[i], &n[i], now, &c[i], 1);
		}
		if (send_topology(p, e, 100) < 0 || insider_pump(p, 1000) < 0)
			break;
		sent += 100;
	}
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&p->name, name);
	printf("{\"name\": \"%s\", \"peers\": %ld, \"closed\": %s}\n", name, sent,
	       mesh_mono_ms() < end ? "true" : "false");
	return 0;
}

/* finding 5: versions at the maximum, ours and others' entries */
static int run_versions(struct insider *p, long seconds, char **args, int nargs)
{
	struct mesh_peer_name names[16];
	struct mesh_mac_update macs[16];
	size_t nn = 0, nm = 0;
	names[nn++] = p->peer.name; /* HOST's own entry */
	bool mac_args = false;
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "--")) {
			mac_args = true;
			continue;
		}
		unsigned b[6];
		if (mac_args && nm < 16 &&
		    sscanf(args[i], "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6) {
			for (int j = 0; j < 6; j++)
				macs[nm].mac[j] = (uint8_t)b[j];
			macs[nm].peer = p->name;
			macs[nm++].version = UINT64_MAX;
		} else if (!mac_args && nn < 16 && mesh_peer_name_parse(args[i], &names[nn]) == 0) {
			nn++;
		} else {
			fprintf(stderr, "hostile_peer: '%s' is no peer name or MAC\n", args[i]);
			return 2;
		}
	}
	p->open_frames = true;
	long topo = 0, mac = 0, rings = 0;
	uint64_t end = mesh_mono_ms() + (uint64_t)seconds * 1000;
	while (mesh_mono_ms() < end) {
		struct mesh_topo_peer e[32];
		for (size_t i = 0; i < nn; i++) {
			fake_peer(&e[2 * i], &names[i], UINT64_MAX, NULL, 0);
			fake_peer(&e[2 * i + 1], &names[i], mesh_wall_ms() + 2ull * 86400 * 1000, NULL, 0);
		}
		int bad = 0;
		for (size_t i = 0; i < 2 * nn && !bad; i++) /* one entry a message: both are tried */
			bad = send_topology(p, &e[i], 1) < 0;
		topo += (long)(2 * nn);
		if (nm) {
			ssize_t len = mesh_macs_encode(macs, nm, out, sizeof(out));
			bad |= len < 0 || insider_gossip(p, MESH_CHANNEL_MACS, out, (size_t)len) < 0;
			mac += (long)nm;
		}
		if (p->ring.n) {
			struct mesh_ipam_ring r;
			if (mesh_ipam_ring_copy(&r, &p->ring) == 0) {
				for (size_t i = 0; i < r.n; i++)
					r.e[i].version = UINT32_MAX;
				ssize_t len = mesh_ipam_ring_encode(&r, out, sizeof(out));
				bad |= len < 0 || insider_gossip(p, MESH_CHANNEL_IPAM, out, (size_t)len) < 0;
				for (size_t i = 0; i < r.n; i++) {
					r.e[i].version = p->ring.e[i].version;
					if (mesh_peer_name_eq(&r.e[i].owner, &p->peer.name)) {
						r.e[i].version += 1000;
						r.e[i].free = 0;
					}
				}
				len = mesh_ipam_ring_encode(&r, out, sizeof(out));
				bad |= len < 0 || insider_gossip(p, MESH_CHANNEL_IPAM, out, (size_t)len) < 0;
				rings += 2;
				mesh_ipam_ring_free(&r);
			}
		}
		if (bad || insider_pump(p, 2000) < 0)
			break;
	}
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&p->name, name);
	printf("{\"name\": \"%s\", \"topology\": %ld, \"macs\": %ld, \"rings\": %ld, \"closed\": %s}\n",
	       name, topo, mac, rings, mesh_mono_ms() < end ? "true" : "false");
	return 0;
}

/* --- without the password ------------------------------------------------------------------- */

/* VERSION "MESH" 1..1, then a KEY: no password flag, a public key, a name, no nickname */
static const uint8_t HANDSHAKE[] = "MESH\x01\x01\x00"
				   "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
				   "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20"
				   "\x02\x00\x00\x00\x00\x01\x00";

/* finding 1: connection slots held by half-open handshakes */
static int run_slots(const char *host, const char *port, long n, long seconds)
{
	struct slot {
		int fd;
		size_t sent;
		uint64_t due_ms;           /* next byte, or (fd < 0) the next connect */
	} *s = calloc((size_t)n, sizeof(*s));
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	if (!s || !pf)
		return 2;
	for (long i = 0; i < n; i++)
		s[i].fd = -1;
	long opened = 0, closed = 0, open_max = 0, failed = 0;
	uint64_t end = mesh_mono_ms() + (uint64_t)seconds * 1000;
	while (mesh_mono_ms() < end) {
		uint64_t now = mesh_mono_ms();
		long open = 0, budget = 20;
		for (long i = 0; i < n; i++) {
			if (s[i].fd < 0 && now >= s[i].due_ms && budget-- > 0) {
				int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
				struct sockaddr_in sin = { .sin_family = AF_INET,
							   .sin_port = htons((uint16_t)atoi(port)) };
				inet_pton(AF_INET, host, &sin.sin_addr);
				if (fd >= 0 && (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
						errno == EINPROGRESS)) {
					s[i].fd = fd;
					s[i].sent = 0;
					s[i].due_ms = now + 200;
					opened++;
				} else {
					if (fd >= 0)
						close(fd);
					failed++;
					s[i].due_ms = now + 1000;
				}
			} else if (s[i].fd >= 0 && now >= s[i].due_ms) {
				size_t k = s[i].sent % (sizeof(HANDSHAKE) - 1);
				if (send(s[i].fd, HANDSHAKE + k, 1, MSG_NOSIGNAL) == 1)
					s[i].sent++;
				s[i].due_ms = now + 2000;
			}
			pf[i].fd = s[i].fd;
			pf[i].events = POLLIN | POLLRDHUP;
			open += s[i].fd >= 0;
		}
		if (open > open_max)
			open_max = open;
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (long i = 0; i < n; i++) {
			if (s[i].fd < 0 || !pf[i].revents)
				continue;
			uint8_t sink[4096];
			ssize_t r = recv(s[i].fd, sink, sizeof(sink), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN) ||
			    (pf[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
				close(s[i].fd);
				s[i].fd = -1;
				s[i].due_ms = mesh_mono_ms() + 1000;
				closed++;
			}
		}
	}
	printf("{\"opened\": %ld, \"closed\": %ld, \"open_max\": %ld, \"connect_failed\": %ld}\n",
	       opened, closed, open_max, failed);
	for (long i = 0; i < n; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	free(s);
	free(pf);
	return 0;
}

/* finding 6: forged sleeve fragments */
static int run_fragments(const char *host, const char *port, const char *hex, long seconds)
{
	uint8_t h[16];
	if (strlen(hex) < 32 || sodium_hex2bin(h, sizeof(h), hex, 32, NULL, NULL, NULL) < 0) {
		fprintf(stderr, "hostile_peer: '%s' is no sleeve header in hex\n", hex);
		return 2;
	}
	uint64_t base = get_be64(h + 8);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return 2;
	uint8_t d[20 + 1000];
	randombytes_buf(d, sizeof(d));
	memcpy(d, h, 16);
	d[0] = 4; /* FRAGMENT */
	put_be16(d + 16, 0);       /* offset */
	put_be16(d + 18, 1400);    /* total: never completed */
	long near = 0, far = 0;
	uint64_t end = mesh_mono_ms() + (uint64_t)seconds * 1000;
	for (uint64_t k = 0; mesh_mono_ms() < end; k++) {
		put_be64(d + 8, base + 4000 + k);
		near += sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&sin, sizeof(sin)) > 0;
		put_be64(d + 8, base + 100000 + k);
		far += sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&sin, sizeof(sin)) > 0;
		usleep(50000);
	}
	printf("{\"near\": %ld, \"far\": %ld}\n", near, far);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: see the top of tests/tools/hostile_peer.c\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *host = argv[1], *port = argv[2], *mode = argv[5];
	if (sodium_init() < 0)
		return 2;
	if (!strcmp(mode, "slots") && argc >= 8)
		return run_slots(host, port, atol(argv[6]), atol(argv[7]));
	if (!strcmp(mode, "fragments") && argc >= 8)
		return run_fragments(host, port, argv[6], atol(argv[7]));

	char pw[4097];
	uint8_t psk[MESH_KEY_LEN];
	if (read_password(argv[3], pw, sizeof(pw)) < 0 ||
	    mesh_psk_derive(pw, strlen(pw), argv[4], psk) < 0) {
		fprintf(stderr, "hostile_peer: cannot read or use the password in %s\n", argv[3]);
		return 2;
	}
	sodium_memzero(pw, sizeof(pw));
	struct insider *p = &P;
	int rc;
	if (insider_connect(p, host, port, psk, argv[4], !strcmp(mode, "noread") ? 2048 : 0) < 0)
		return 1;
	sodium_memzero(psk, sizeof(psk));
	if (!strcmp(mode, "noread"))
		return run_noread(p, atol(argv[6]));
	if (!strcmp(mode, "macs"))
		return run_macs(p, atol(argv[6]));
	if (!strcmp(mode, "discovery"))
		return run_discovery(p, atol(argv[6]));
	if (!strcmp(mode, "versions"))
		return run_versions(p, atol(argv[6]), argv + 7, argc - 7);

	struct mesh_ipam_request q = { .start = ntohl(inet_addr("10.40.0.0")), .prefix = 16,
				       .seed = 1, .requester = p->name, .wanted = 1 };
	long n = 1, hold = 2;
	if (!strcmp(mode, "for-other")) {
		if (mesh_peer_name_parse(argv[6], &q.requester) < 0) {
			fprintf(stderr, "hostile_peer: '%s' is not a peer name\n", argv[6]);
			return 2;
		}
	} else if (!strcmp(mode, "flood") && argc >= 8) {
		n = atol(argv[6]);
		hold = atol(argv[7]);
	} else {
		fprintf(stderr, "hostile_peer: unknown mode '%s'\n", mode);
		return 2;
	}
	uint8_t msg[2 + MESH_IPAM_REQUEST_LEN];
	msg[0] = MESH_MSG_GOSSIP;
	msg[1] = MESH_CHANNEL_IPAM;
	if (mesh_ipam_request_encode(&q, msg + 2, MESH_IPAM_REQUEST_LEN) < 0)
		return 2;
	long sent = 0;
	for (; sent < n; sent++)
		if (insider_send(p, msg, sizeof(msg)) < 0)
			break; /* the other side closed it */
	sleep((unsigned)hold);
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&p->name, name);
	printf("{\"name\": \"%s\", \"sent\": %ld, \"closed\": %s}\n", name, sent,
	       peer_closed(p->fd) ? "true" : "false");
	rc = 0;
	mesh_hs_wipe(&p->hs);
	close(p->fd);
	return rc;
}
