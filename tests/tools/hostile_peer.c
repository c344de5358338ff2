/* tests/tools/hostile_peer.c: a peer that holds the password and misbehaves, for the
 * integration tests of issue 16 (finding 2). It runs the real handshake (gossip/handshake.c)
 * over a blocking socket, then sends IPAM space requests and never reads what comes back.
 *
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME for-other PEER_NAME
 *       one space request whose requester is PEER_NAME (not us), then 2 s held
 *   hostile_peer HOST PORT PASSWORD_FILE MESH_NAME flood N HOLD_S
 *       N space requests for ourselves, as fast as the socket takes them, then HOLD_S held
 *
 * Prints one JSON line: {"name": our peer name, "sent": requests sent, "closed": whether the
 * other side closed the connection by the end}. Exit 1 when the handshake fails (its error on
 * stderr), 2 on bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/psk.h"
#include "gossip/handshake.h"
#include "gossip/ipam.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
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
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	return 0;
}

/* Whether the other side closed the connection (what it sent is left unread). */
static int peer_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: see the top of tests/tools/hostile_peer.c\n");
		return 2;
	}
	const char *mode = argv[5];
	char pw[4097];
	uint8_t psk[MESH_KEY_LEN];
	if (sodium_init() < 0 || read_password(argv[3], pw, sizeof(pw)) < 0 ||
	    mesh_psk_derive(pw, strlen(pw), argv[4], psk) < 0) {
		fprintf(stderr, "hostile_peer: cannot read or use the password in %s\n", argv[3]);
		return 2;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "hostile_peer: cannot connect to %s:%s: %s\n", argv[1], argv[2],
			strerror(errno));
		return 1;
	}

	static struct mesh_hs hs;
	struct mesh_hs_config cfg = { .is_client = true, .psk = psk, .proto_min = MESH_PROTO_MIN,
				      .proto_max = MESH_PROTO_MAX };
	randombytes_buf(cfg.hello.name.b, MESH_PEER_NAME_LEN);
	cfg.hello.name.b[0] = 0x02;
	snprintf(cfg.hello.nickname, sizeof(cfg.hello.nickname), "hostile");
	snprintf(cfg.mesh_name, sizeof(cfg.mesh_name), "%s", argv[4]);
	cfg.hello.overlays = MESH_OVERLAY_SLEEVE;
	cfg.hello.sleeve_port = 9; /* discard: the sleeve the other side starts goes nowhere */
	cfg.hello.sleeve_index = 1;
	randombytes_buf(&cfg.hello.conn_id, sizeof(cfg.hello.conn_id));
	mesh_hs_init(&hs, &cfg);
	uint8_t in[8192];
	size_t have = 0;
	for (int r = MESH_HS_AGAIN; r != MESH_HS_DONE;) {
		if (hs.out_len && write_all(fd, hs.out, hs.out_len) < 0)
			return 1;
		hs.out_len = 0;
		ssize_t n = read(fd, in + have, sizeof(in) - have);
		if (n <= 0) {
			fprintf(stderr, "hostile_peer: connection closed during the handshake\n");
			return 1;
		}
		have += (size_t)n;
		size_t used;
		r = mesh_hs_input(&hs, in, have, &used);
		memmove(in, in + used, have - used);
		have -= used;
		if (r < 0) {
			fprintf(stderr, "hostile_peer: handshake failed: %s\n", hs.error);
			return 1;
		}
	}
	if (hs.out_len && write_all(fd, hs.out, hs.out_len) < 0) /* our HELLO */
		return 1;

	struct mesh_ipam_request q = { .start = ntohl(inet_addr("10.40.0.0")), .prefix = 16,
				       .seed = 1, .requester = cfg.hello.name, .wanted = 1 };
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
	uint8_t msg[2 + MESH_IPAM_REQUEST_LEN], frame[256];
	msg[0] = MESH_MSG_GOSSIP;
	msg[1] = MESH_CHANNEL_IPAM;
	if (mesh_ipam_request_encode(&q, msg + 2, MESH_IPAM_REQUEST_LEN) < 0)
		return 2;
	long sent = 0;
	for (; sent < n; sent++) {
		ssize_t f = mesh_frame_seal(&hs.chan, msg, sizeof(msg), frame, sizeof(frame));
		if (f < 0 || write_all(fd, frame, (size_t)f) < 0)
			break; /* the other side closed it */
	}
	sleep((unsigned)hold);
	char name[MESH_PEER_NAME_STRLEN];
	mesh_peer_name_format(&cfg.hello.name, name);
	printf("{\"name\": \"%s\", \"sent\": %ld, \"closed\": %s}\n", name, sent,
	       peer_closed(fd) ? "true" : "false");
	mesh_hs_wipe(&hs);
	sodium_memzero(psk, sizeof(psk));
	sodium_memzero(pw, sizeof(pw));
	close(fd);
	return 0;
}
