/* router/meshctl.c: meshctl, the operator's client of meshd's API socket (HTTP/1.1 + JSON over
 * a unix socket): the status views as text or JSON, connect and forget. The command line is
 * parsed by router/meshctl_args.c.
 * Exit codes: 0 ok, 1 meshd answered an error, 2 usage, 3 cannot reach meshd. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "autoconfig.h"
#include "router/meshctl_args.h"

#define RESPONSE_MAX (16u << 20)
#define TIMEOUT_S 10

enum { EXIT_OK = 0, EXIT_DAEMON = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

/* --- talking to meshd ---------------------------------------------------------------------- */

struct response {
	int code;       /* HTTP status */
	char *body;     /* NUL-terminated */
	cJSON *json;    /* body parsed; NULL when it is not JSON */
};

static void response_free(struct response *r)
{
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

static void unreachable(const char *sock, int err)
{
	const char *hint;
	struct stat st;
	if (err == ECONNREFUSED && stat(sock, &st) == 0 && !S_ISSOCK(st.st_mode))
		err = ENOTSOCK;
	switch (err) {
	case ENOENT:
		hint = "no such socket: is meshd running (systemctl status meshd)? is this the path "
		       "it serves (its --api-socket; choose with --socket or MESH_SOCKET)?";
		break;
	case ECONNREFUSED:
		hint = "nothing answers on it: meshd has stopped or crashed (systemctl status meshd, "
		       "journalctl -u meshd)";
		break;
	case EACCES:
	case EPERM:
		hint = "permission denied: run meshctl as root or as a member of the socket's group";
		break;
	case ENOTSOCK:
		hint = "this path is not a socket: check --socket or MESH_SOCKET";
		break;
	default:
		hint = "is meshd running, and is this the socket it serves (--socket or MESH_SOCKET)?";
		break;
	}
	fprintf(stderr, "meshctl: cannot reach meshd on %s: %s\n  %s\n", sock, strerror(err), hint);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -(w < 0 ? errno : EPIPE);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request; fills *res. Returns EXIT_OK, or EXIT_UNREACHABLE after printing why. */
static int request(const char *sock, const char *method, const char *path, const char *body,
		   struct response *res)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *buf = NULL, *hdr = NULL;
	size_t len = 0, cap = 0;
	int fd, ret;

	memset(res, 0, sizeof(*res));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock); /* length checked by the parser */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		unreachable(sock, errno);
		return EXIT_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		unreachable(sock, errno);
		close(fd);
		return EXIT_UNREACHABLE;
	}
	struct timeval tv = { TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	size_t blen = body ? strlen(body) : 0;
	if (asprintf(&hdr,
		     "%s %s HTTP/1.1\r\nHost: meshd\r\nUser-Agent: meshctl/%s\r\n"
		     "Accept: application/json\r\nConnection: close\r\n%s"
		     "Content-Length: %zu\r\n\r\n",
		     method, path, PACKAGE_VERSION,
		     body ? "Content-Type: application/json\r\n" : "", blen) < 0) {
		fprintf(stderr, "meshctl: out of memory\n");
		close(fd);
		return EXIT_UNREACHABLE;
	}
	ret = write_all(fd, hdr, strlen(hdr));
	free(hdr);
	if (ret == 0 && blen)
		ret = write_all(fd, body, blen);
	if (ret < 0) {
		fprintf(stderr, "meshctl: sending to meshd on %s failed: %s\n", sock, strerror(-ret));
		close(fd);
		return EXIT_UNREACHABLE;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = ncap <= RESPONSE_MAX ? realloc(buf, ncap) : NULL;
			if (!nb) {
				fprintf(stderr, "meshctl: the answer of meshd on %s is too large\n", sock);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "meshctl: no answer from meshd on %s: %s\n", sock,
				errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	fd = -1;
	buf[len] = '\0';

	char *sep = strstr(buf, "\r\n\r\n");
	int code = 0;
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !sep || sscanf(buf + 8, " %3d", &code) != 1 ||
	    code < 100 || code > 599) {
		fprintf(stderr, "meshctl: %s answered something that is not HTTP: is it meshd's socket?\n",
			sock);
		goto fail;
	}
	res->code = code;
	res->body = buf;
	memmove(buf, sep + 4, strlen(sep + 4) + 1);
	res->json = cJSON_Parse(buf);
	return EXIT_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return EXIT_UNREACHABLE;
}

/* Exit code for a response: EXIT_OK for a 2xx with a JSON body, else prints the error. */
static int check_response(const struct response *res, const char *what)
{
	if (res->code >= 200 && res->code < 300 && res->json)
		return EXIT_OK;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(res->json, "error");
	if (cJSON_IsString(e))
		fprintf(stderr, "meshctl: %s: %s\n", what, e->valuestring);
	else if (res->code >= 200 && res->code < 300)
		fprintf(stderr, "meshctl: %s: meshd answered with something that is not JSON\n", what);
	else
		fprintf(stderr, "meshctl: %s: meshd answered HTTP %d%s%.200s\n", what, res->code,
			res->body && *res->body ? ": " : "", res->body ? res->body : "");
	return EXIT_DAEMON;
}

/* --- reading the status JSON --------------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
}

static bool has_str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && v->valuestring[0];
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool is(const cJSON *o, const char *k, const char *val)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) && !strcmp(v->valuestring, val);
}

/* "3h 12m" for a number of seconds. */
static void duration(char *out, size_t n, double secs)
{
	long s = secs > 0 ? (long)secs : 0;
	if (s < 60)
		snprintf(out, n, "%lds", s);
	else if (s < 3600)
		snprintf(out, n, "%ldm %lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%ldh %ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, n, "%ldd %ldh", s / 86400, s % 86400 / 3600);
}

/* --- tables -------------------------------------------------------------------------------- */

#define TABLE_COLS 10

struct table {
	int ncols;
	size_t nrows, cap;
	char **cells;    /* nrows * ncols, owned */
	int width[TABLE_COLS];
};

static void table_init(struct table *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

/* Appends a row of ncols cells, printf-style: the format has ncols fields separated by '\t'. */
static void table_row(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void table_row(struct table *t, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*nc));
		if (!nc) {
			free(line);
			return;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	char **row = &t->cells[t->nrows * (size_t)t->ncols];
	char *p = line;
	for (int c = 0; c < t->ncols; c++) {
		char *tab = c + 1 < t->ncols ? strchr(p, '\t') : NULL;
		if (tab)
			*tab = '\0';
		row[c] = strdup(p);
		if (row[c] && (int)strlen(row[c]) > t->width[c])
			t->width[c] = (int)strlen(row[c]);
		p = tab ? tab + 1 : p + strlen(p);
	}
	free(line);
	t->nrows++;
}

static void table_print_row(const struct table *t, size_t r, const char *indent)
{
	char **row = &t->cells[r * (size_t)t->ncols];
	fputs(indent, stdout);
	for (int c = 0; c < t->ncols; c++) {
		const char *s = row[c] ? row[c] : "";
		if (c + 1 == t->ncols)
			printf("%s\n", s);
		else
			printf("%-*s  ", t->width[c], s);
	}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

static void table_print(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		table_print_row(t, r, "");
	table_free(t);
}

/* --- the views ----------------------------------------------------------------------------- */

static const struct {
	const char *key, *label;
} drop_reasons[] = {
	{ "sleeve_drop_replay", "replayed" },
	{ "sleeve_drop_auth", "failed authentication" },
	{ "sleeve_drop_malformed", "malformed" },
	{ "sleeve_drop_unknown_conn", "from an unknown connection" },
	{ "sleeve_drop_tx_full", "send buffer full" },
	{ "sleeve_drop_mtu", "over the MTU" },
	{ "sleeve_drop_tap", "TAP write failed" },
	{ "drop_no_route", "no route" },
};

static void print_summary(const cJSON *st)
{
	const cJSON *c, *ctr = get(st, "counters");
	int established = 0, connecting = 0, failed = 0, sleeve = 0, fastdp = 0;
	int npeers = 0, reachable = 0;
	char up[32];

	cJSON_ArrayForEach(c, get(st, "connections")) {
		if (is(c, "state", "established")) {
			established++;
			if (is(c, "overlay", "sleeve"))
				sleeve++;
			else if (has_str(c, "overlay") && !strncmp(str(c, "overlay"), "fastdp", 6))
				fastdp++;
		} else {
			connecting++;
		}
	}
	cJSON_ArrayForEach(c, get(st, "targets"))
		if (is(c, "state", "retry-wait"))
			failed++;
	cJSON_ArrayForEach(c, get(st, "peers")) {
		npeers++;
		if (cJSON_IsTrue(get(c, "reachable")))
			reachable++;
	}
	duration(up, sizeof(up), num(st, "started") > 0 ? (double)time(NULL) - num(st, "started") : 0);

	printf("        Version: %s (protocol %d)\n", str(st, "version"), (int)num(st, "protocol"));
	printf("           Peer: %s (%s)\n", str(st, "name"), str(st, "nickname"));
	printf("     Encryption: %s\n", cJSON_IsTrue(get(st, "encryption")) ? "enabled" : "disabled");
	printf("           Port: %d (TCP control, UDP sleeve)\n", (int)num(st, "port"));
	printf("         Bridge: %s (MTU %d)\n", str(st, "bridge"), (int)num(st, "mtu"));
	if (get(st, "discovery"))
		printf("      Discovery: %s\n", cJSON_IsTrue(get(st, "discovery")) ? "on" : "off");
	printf("         Uptime: %s\n", up);
	printf("          Peers: %d (%d reachable)\n", npeers, reachable);
	printf("    Connections: %d (%d established, %d connecting, %d failed)\n",
	       established + connecting + failed, established, connecting, failed);
	if (has_str(st, "fastdp") && cJSON_IsTrue(get(st, "encryption")))
		printf("      Fast path: %s (UDP 6784 in kernel IPsec ESP, AES-GCM; %.0f unencrypted "
		       "VXLAN packets dropped)\n", str(st, "fastdp"),
		       num(ctr, "fastdp_unencrypted_dropped"));
	else if (has_str(st, "fastdp"))
		printf("      Fast path: %s (UDP 6784)\n", str(st, "fastdp"));
	else if (has_str(st, "fastdp_reason"))
		printf("      Fast path: none (%s)\n", str(st, "fastdp_reason"));
	printf("       Overlays: fastdp %d, sleeve %d\n", fastdp, sleeve);
	printf("      MAC table: %.0f entries\n", num(ctr, "mac_table_size"));
	const cJSON *im = get(st, "ipam");
	if (cJSON_IsObject(im)) {
		if (cJSON_IsTrue(get(im, "ready")))
			printf("           IPAM: %s, %.0f allocations here, %.0f free addresses of ours\n",
			       str(im, "range"), num(im, "allocation_count"), num(im, "free"));
		else
			printf("           IPAM: %s, not ready: %s\n", str(im, "range"),
			       str(im, "why_not_ready"));
	}
	printf("        Traffic: sleeve sent %.0f frames (%.0f bytes), received %.0f frames (%.0f bytes)\n",
	       num(ctr, "sleeve_tx_frames"), num(ctr, "sleeve_tx_bytes"),
	       num(ctr, "sleeve_rx_frames"), num(ctr, "sleeve_rx_bytes"));
	if (get(st, "sleeve_coalescing"))
		printf("   Sleeve to TAP: %.0f writes, %.0f UDP frames of them coalesced (%s)\n",
		       num(ctr, "sleeve_tap_writes"), num(ctr, "sleeve_rx_coalesced"),
		       cJSON_IsTrue(get(st, "sleeve_coalescing"))
			       ? "runs of one UDP flow go as one GSO write"
			       : "off: this kernel takes no UDP GSO from a TAP");
	printf("          Drops: ");
	bool any = false;
	for (size_t i = 0; i < sizeof(drop_reasons) / sizeof(drop_reasons[0]); i++) {
		double v = num(ctr, drop_reasons[i].key);
		if (v > 0) {
			printf("%s%.0f %s", any ? ", " : "", v, drop_reasons[i].label);
			any = true;
		}
	}
	printf("%s\n", any ? "" : "none");
	double authfail = num(ctr, "control_auth_failures");
	if (authfail > 0)
		printf("  Control auth.: %.0f failed handshakes (wrong password?)\n", authfail);
}

/* One row per peer, its connections (as it gossips them) indented under it; the connection
 * rows are a table of their own so that they line up with each other. */
static void print_peers(const cJSON *st)
{
	const cJSON *p, *c;
	struct table pt, ct;
	table_init(&pt, 6);
	table_init(&ct, 4);
	table_row(&pt, "PEER\tNICKNAME\tREACHABLE\tHOPS\tNEXT HOP\tCONNECTIONS");
	cJSON_ArrayForEach(p, get(st, "peers")) {
		bool self = !strcmp(str(p, "name"), str(st, "name"));
		const cJSON *hops = get(p, "hops");
		char hopbuf[16] = "-", next[64] = "-";
		if (cJSON_IsNumber(hops))
			snprintf(hopbuf, sizeof(hopbuf), "%d", hops->valueint);
		if (has_str(p, "next_hop"))
			snprintf(next, sizeof(next), "%s", has_str(p, "next_hop_nickname")
				 ? str(p, "next_hop_nickname") : str(p, "next_hop"));
		table_row(&pt, "%s\t%s%s\t%s\t%s\t%s\t%d", str(p, "name"), str(p, "nickname"),
			  self ? " (self)" : "", cJSON_IsTrue(get(p, "reachable")) ? "yes" : "no",
			  hopbuf, next, cJSON_GetArraySize(get(p, "connections")));
		cJSON_ArrayForEach(c, get(p, "connections"))
			table_row(&ct, "%s %s\t%s\t%s\t%s",
				  cJSON_IsTrue(get(c, "outbound")) ? "->" : "<-", str(c, "nickname"),
				  str(c, "peer"), str(c, "address"),
				  cJSON_IsTrue(get(c, "established")) ? "established" : "connecting");
	}
	table_print_row(&pt, 0, "");
	size_t r = 1, cr = 0;
	cJSON_ArrayForEach(p, get(st, "peers")) {
		if (r < pt.nrows)
			table_print_row(&pt, r++, "");
		int n = cJSON_GetArraySize(get(p, "connections"));
		for (int k = 0; k < n && cr < ct.nrows; k++)
			table_print_row(&ct, cr++, "    ");
	}
	if (pt.nrows > 1)
		printf("(-> the peer dialled the connection, <- it accepted it)\n");
	table_free(&pt);
	table_free(&ct);
}

static void print_connections(const cJSON *st)
{
	const cJSON *c;
	struct table t;
	time_t now = time(NULL);
	table_init(&t, 9);
	table_row(&t, "DIR\tADDRESS\tPEER\tNAME\tSTATE\tOVERLAY\tENCRYPTED\tMTU\tINFO");
	cJSON_ArrayForEach(c, get(st, "connections")) {
		char overlay[64] = "-", mtu[16] = "-";
		/* yes/no, and how when the daemon says (ipsec-esp on the fast path, secretbox on
		 * the sleeve) */
		char enc[48] = "no";
		if (cJSON_IsTrue(get(c, "encrypted")))
			snprintf(enc, sizeof(enc), has_str(c, "encryption") ? "yes (%s)" : "yes",
				 str(c, "encryption"));
		if (has_str(c, "overlay")) {
			if (has_str(c, "overlay_state"))
				snprintf(overlay, sizeof(overlay), "%s (%s)", str(c, "overlay"),
					 str(c, "overlay_state"));
			else
				snprintf(overlay, sizeof(overlay), "%s", str(c, "overlay"));
		}
		if (cJSON_IsNumber(get(c, "mtu")))
			snprintf(mtu, sizeof(mtu), "%d", get(c, "mtu")->valueint);
		/* why this overlay (or none), or what went wrong */
		const char *info = has_str(c, "last_error") ? str(c, "last_error")
							    : str(c, "overlay_reason");
		table_row(&t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			  is(c, "direction", "outbound") ? "->" : "<-", str(c, "address"),
			  str(c, "nickname"), str(c, "peer"), str(c, "state"), overlay, enc, mtu,
			  has_str(c, "overlay") || has_str(c, "last_error") ? info
									 : "no overlay yet (handshake)");
	}
	/* Outbound targets without a connection: waiting to retry after a failure, or idle
	 * because their peer is reached through another connection. */
	cJSON_ArrayForEach(c, get(st, "targets")) {
		char info[512];
		if (is(c, "state", "retry-wait")) {
			double next = num(c, "next_retry");
			long in = next > 0 ? (long)(next - (double)now) : 0;
			snprintf(info, sizeof(info), "%s (attempt %d, retry in %lds)",
				 has_str(c, "last_error") ? str(c, "last_error") : "failed",
				 (int)num(c, "attempts"), in < 0 ? 0 : in);
			table_row(&t, "->\t%s\t-\t-\tfailed\t-\t-\t-\t%s", str(c, "address"), info);
		} else if (is(c, "state", "idle")) {
			table_row(&t, "->\t%s\t-\t-\tidle\t-\t-\t-\tits peer is connected another way",
				  str(c, "address"));
		}
	}
	table_print(&t);
}

/* GET /v1/ipam: the range and its seeding, then one row per owner of a share of the range. */
static void print_ipam(const cJSON *im)
{
	const cJSON *o;
	struct table t;
	printf("          Range: %s, in default subnet %s\n", str(im, "range"),
	       str(im, "default_subnet"));
	if (cJSON_IsTrue(get(im, "seeded")))
		printf("         Seeded: yes (seed %s, %s)\n", str(im, "seed"), str(im, "init"));
	else
		printf("         Seeded: no (%s)\n", str(im, "init"));
	if (cJSON_IsTrue(get(im, "ready")))
		printf("          Ready: yes\n");
	else
		printf("          Ready: no: %s\n", str(im, "why_not_ready"));
	double after = num(im, "reclaim_after_s");
	if (after > 0) {
		char d[32];
		duration(d, sizeof(d), after);
		printf("  Reclaim after: %s gone, by the reachable majority%s\n", d,
		       cJSON_IsTrue(get(im, "majority")) ? "" : " (we are not in it now)");
	} else {
		printf("  Reclaim after: never\n");
	}
	printf("    Allocations: %.0f here, %.0f free addresses of ours\n",
	       num(im, "allocation_count"), num(im, "free"));
	table_init(&t, 7);
	table_row(&t, "PEER\tNICKNAME\tREACHABLE\tOWNED\tFREE\tRANGES\tSHARE");
	double total = 0;
	cJSON_ArrayForEach(o, get(im, "owners"))
		total += num(o, "owned");
	cJSON_ArrayForEach(o, get(im, "owners")) {
		double owned = num(o, "owned");
		table_row(&t, "%s\t%s%s\t%s\t%.0f\t%.0f\t%.0f\t%.1f%%", str(o, "name"),
			  has_str(o, "nickname") ? str(o, "nickname") : "?",
			  cJSON_IsTrue(get(o, "self")) ? " (self)" : "",
			  cJSON_IsTrue(get(o, "reachable")) ? "yes" : "no", owned, num(o, "free"),
			  num(o, "ranges"), total > 0 ? 100.0 * owned / total : 0.0);
	}
	if (t.nrows > 1)
		table_print(&t);
	else
		table_free(&t);
}

static int cmd_status_ipam(const struct meshctl_args *a)
{
	struct response res;
	int rc = request(a->socket, "GET", "/v1/ipam", NULL, &res);
	if (rc != EXIT_OK)
		return rc;
	rc = check_response(&res, "status ipam");
	if (rc == EXIT_OK) {
		if (a->json) {
			char *text = cJSON_Print(res.json);
			if (text) {
				puts(text);
				free(text);
			}
		} else {
			print_ipam(res.json);
		}
	}
	response_free(&res);
	if (rc != EXIT_OK)
		return rc;
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_DAEMON;
}

static void print_json(cJSON *o)
{
	char *text = cJSON_Print(o);
	if (text) {
		puts(text);
		free(text);
	}
}

static int cmd_status(const struct meshctl_args *a)
{
	struct response res;
	if (a->view == MESHCTL_VIEW_IPAM)
		return cmd_status_ipam(a);
	int rc = request(a->socket, "GET", "/v1/status", NULL, &res);
	if (rc != EXIT_OK)
		return rc;
	rc = check_response(&res, "status");
	if (rc != EXIT_OK) {
		response_free(&res);
		return rc;
	}
	cJSON *st = res.json;
	if (a->json) {
		if (a->view == MESHCTL_VIEW_SUMMARY) {
			print_json(st);
		} else if (a->view == MESHCTL_VIEW_PEERS) {
			cJSON *p = cJSON_GetObjectItemCaseSensitive(st, "peers");
			if (p)
				print_json(p);
			else
				puts("[]");
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON *conns = cJSON_DetachItemFromObjectCaseSensitive(st, "connections");
			cJSON *targets = cJSON_DetachItemFromObjectCaseSensitive(st, "targets");
			cJSON_AddItemToObject(o, "connections", conns ? conns : cJSON_CreateArray());
			cJSON_AddItemToObject(o, "targets", targets ? targets : cJSON_CreateArray());
			print_json(o);
			cJSON_Delete(o);
		}
	} else if (a->view == MESHCTL_VIEW_PEERS) {
		print_peers(st);
	} else if (a->view == MESHCTL_VIEW_CONNECTIONS) {
		print_connections(st);
	} else {
		print_summary(st);
	}
	response_free(&res);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_DAEMON;
}

/* HOST resolved to an IPv4 literal; EXIT_OK or EXIT_USAGE after printing why. */
static int resolve(const char *cmd, const char *host, char *ip, size_t iplen)
{
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) == 1) {
		inet_ntop(AF_INET, &a, ip, (socklen_t)iplen);
		return EXIT_OK;
	}
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0 || !ai) {
		fprintf(stderr, "meshctl: %s: cannot resolve '%s' to an IPv4 address: %s\n", cmd, host,
			rc ? gai_strerror(rc) : "no address");
		return EXIT_USAGE;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, (socklen_t)iplen);
	freeaddrinfo(ai);
	return EXIT_OK;
}

static int cmd_peer(const struct meshctl_args *a)
{
	const char *cmd = a->cmd == MESHCTL_CONNECT ? "connect" : "forget";
	char ip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 8], path[32];
	struct response res;
	int rc = resolve(cmd, a->host, ip, sizeof(ip));
	if (rc != EXIT_OK)
		return rc;

	unsigned port = a->port;
	if (!port) {
		/* no PORT: the one meshd itself listens on, as for peers on its command line */
		rc = request(a->socket, "GET", "/v1/status", NULL, &res);
		if (rc != EXIT_OK)
			return rc;
		rc = check_response(&res, "status");
		double p = num(res.json, "port");
		port = p >= 1 && p <= 65535 ? (unsigned)p : MESHCTL_DEFAULT_PORT;
		response_free(&res);
		if (rc != EXIT_OK)
			return rc;
	}
	snprintf(addr, sizeof(addr), "%s:%u", ip, port);
	snprintf(path, sizeof(path), "/v1/%s", cmd);

	cJSON *req = cJSON_CreateObject();
	char *body = req && cJSON_AddStringToObject(req, "address", addr)
			     ? cJSON_PrintUnformatted(req) : NULL;
	cJSON_Delete(req);
	if (!body) {
		fprintf(stderr, "meshctl: out of memory\n");
		return EXIT_DAEMON;
	}
	rc = request(a->socket, "POST", path, body, &res);
	free(body);
	if (rc != EXIT_OK)
		return rc;
	rc = check_response(&res, cmd);
	if (rc == EXIT_OK) {
		if (a->json)
			print_json(res.json);
		else if (has_str(res.json, "message"))
			printf("%s\n", str(res.json, "message"));
		else if (a->cmd == MESHCTL_CONNECT)
			printf("connecting to %s (see meshctl status connections)\n", addr);
		else
			printf("forgot %s: meshd no longer connects to it\n", addr);
	}
	response_free(&res);
	return rc;
}

int main(int argc, char **argv)
{
	struct meshctl_args a;
	char err[256];

	if (meshctl_args_parse(&a, argc, argv, getenv("MESH_SOCKET"), err, sizeof(err)) < 0) {
		fprintf(stderr, "meshctl: %s\n", err);
		return EXIT_USAGE;
	}
	switch (a.cmd) {
	case MESHCTL_HELP:
		fputs(meshctl_usage(), stdout);
		return EXIT_OK;
	case MESHCTL_VERSION:
		printf("meshctl %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case MESHCTL_STATUS:
		return cmd_status(&a);
	case MESHCTL_CONNECT:
	case MESHCTL_FORGET:
		return cmd_peer(&a);
	}
	return EXIT_USAGE;
}
