/* tests/k8s/tools/streamgap.c: one TCP stream with a known rhythm, to measure how long traffic
 * stops while something changes underneath (a rolling upgrade of meshd, say).
 *
 *   streamgap serve PORT          accepts one connection at a time; for each, reports on
 *                                 stdout, once a second and when it ends, the bytes received
 *                                 and the longest pause between two reads, in ms
 *   streamgap send IP PORT SECS [STOPFILE]
 *                                 connects and writes 512 bytes every 10 ms for SECS seconds,
 *                                 or until STOPFILE exists; exits 1 if the connection fails or
 *                                 breaks (a stream that must survive does not reconnect)
 *
 * The receiver measures: a sender's writes pile up in its socket buffer while the path is
 * down, so only arrival times show the gap. Built static by scripts/k8s-lab for the lab's test
 * image. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int port_arg(const char *s)
{
	char *end;
	long p = strtol(s, &end, 10);
	if (*end || p < 1 || p > 65535) {
		fprintf(stderr, "streamgap: bad port '%s'\n", s);
		exit(2);
	}
	return (int)p;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0) {
		perror("streamgap: listen");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("streamgap: accept");
			return 1;
		}
		char buf[65536];
		uint64_t bytes = 0, max_gap = 0, last = 0, start = now_ms(), reported = start;
		for (;;) {
			ssize_t n = read(c, buf, sizeof(buf));
			uint64_t t = now_ms();
			if (n <= 0)
				break;
			if (last && t - last > max_gap)
				max_gap = t - last;
			last = t;
			bytes += (uint64_t)n;
			if (t - reported >= 1000) {
				printf("stream bytes=%llu max_gap_ms=%llu secs=%llu\n",
				       (unsigned long long)bytes, (unsigned long long)max_gap,
				       (unsigned long long)((t - start) / 1000));
				reported = t;
			}
		}
		printf("end bytes=%llu max_gap_ms=%llu secs=%llu\n", (unsigned long long)bytes,
		       (unsigned long long)max_gap, (unsigned long long)((now_ms() - start) / 1000));
		close(c);
	}
}

static int send_stream(const char *ip, int port, long secs, const char *stop)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "streamgap: bad IPv4 address '%s'\n", ip);
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("streamgap: connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char buf[512];
	memset(buf, 'm', sizeof(buf));
	uint64_t end = now_ms() + (uint64_t)secs * 1000;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	while (now_ms() < end && !(stop && access(stop, F_OK) == 0)) {
		if (write(s, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			perror("streamgap: write");
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(port_arg(argv[2]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "send")) {
		char *end;
		long secs = strtol(argv[4], &end, 10);
		if (*end || secs < 1 || secs > 86400) {
			fprintf(stderr, "streamgap: bad duration '%s'\n", argv[4]);
			return 2;
		}
		return send_stream(argv[2], port_arg(argv[3]), secs, argc == 6 ? argv[5] : NULL);
	}
	fprintf(stderr, "usage: streamgap serve PORT | streamgap send IP PORT SECS [STOPFILE]\n");
	return 2;
}
