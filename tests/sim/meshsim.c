/* tests/sim/meshsim.c: the mesh simulator's command line (issue 17):
 *   meshsim --peers N [--conn-limit C] [--loss P] [--scenario join|kill|partition] --json
 * builds a mesh of N routers (tests/sim/sim.h: meshd's own gossip, topology, routes, MAC and
 * IPAM code over simulated links, virtual time), lets it converge, measures the gossip at
 * steady state, then plays the scenario (join: the N-th router joins the converged N-1; kill:
 * one router dies; partition: the mesh splits in two halves for --partition-s and heals) and
 * prints one JSON object (see tests/sim/README.md for every field). A comma-separated list of
 * scenarios plays each from the same converged mesh (N routers; a join adds the N+1-th), each
 * in a child process forked from it, one JSON object a line: at thousands of routers the
 * bootstrap is most of the cost. Owns: the options, the scenarios, the figures. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "router/gossip.h"
#include "router/log.h"
#include "tests/sim/sim.h"
#include "tests/sim/simclock.h"

static const char usage[] =
	"usage: meshsim --peers N [--conn-limit C] [--loss P] [--scenario S[,S...]]\n"
	"               (S: join, kill or partition)\n"
	"               [--latency-ms L] [--bandwidth-mbps B] [--seed S] [--steady-s S]\n"
	"               [--partition-s S] [--limit-s S] [--spread-ms MS] [--heal-spread-ms MS]\n"
	"               [--turn-us US] [--legacy-peers K] [--json]\n";

struct options {
	unsigned peers, conn_limit;
	double loss, latency_ms, bandwidth_mbps;
	const char *scenario;
	uint64_t seed;
	unsigned steady_s, partition_s, limit_s, spread_ms, heal_spread_ms, turn_us, legacy_peers;
	bool json;
};

/* A number in [lo, hi] from s, or the usage error naming flag. */
static int number(const char *flag, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : 0;
	if (!s || errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "meshsim: %s %s: want a number from %g to %g\n%s", flag,
			s ? s : "(missing)", lo, hi, usage);
		return -1;
	}
	*out = v;
	return 0;
}

/* The scenario named by the len bytes at s, or -1. */
static int scenario_of(const char *s, size_t len)
{
	static const char *const names[] = { "join", "kill", "partition" };
	for (int k = 0; k < 3; k++)
		if (strlen(names[k]) == len && !strncmp(s, names[k], len))
			return k;
	return -1;
}

enum { JOIN, KILL, PARTITION };

static bool scenarios_valid(const char *v)
{
	if (!v || !*v)
		return false;
	for (const char *p = v;; p++) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (scenario_of(p, len) < 0)
			return false;
		if (!c)
			return true;
		p = c;
	}
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .scenario = "join", .latency_ms = SIM_DEFAULT_LATENCY_US / 1000.0,
			       .bandwidth_mbps = 1000, .seed = 1, .steady_s = 60, .partition_s = 20,
			       .limit_s = 300, .turn_us = 100 };
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double x;
		if (!strcmp(f, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(usage, stdout);
			exit(0);
		}
		i++;
		if (!strcmp(f, "--scenario")) {
			if (!scenarios_valid(v)) {
				fprintf(stderr, "meshsim: --scenario %s: want join, kill or partition, or "
					"a comma-separated list of them\n%s", v ? v : "(missing)", usage);
				return -1;
			}
			o->scenario = v;
			continue;
		}
		if (!strcmp(f, "--peers")) {
			if (number(f, v, 3, 100000, &x) < 0)
				return -1;
			o->peers = (unsigned)x;
		} else if (!strcmp(f, "--conn-limit")) {
			if (number(f, v, 1, 100000, &x) < 0)
				return -1;
			o->conn_limit = (unsigned)x;
		} else if (!strcmp(f, "--loss")) {
			if (number(f, v, 0, 0.9, &o->loss) < 0)
				return -1;
		} else if (!strcmp(f, "--latency-ms")) {
			if (number(f, v, 0.001, 10000, &o->latency_ms) < 0)
				return -1;
		} else if (!strcmp(f, "--bandwidth-mbps")) {
			if (number(f, v, 0, 1e6, &o->bandwidth_mbps) < 0)
				return -1;
		} else if (!strcmp(f, "--seed")) {
			if (number(f, v, 0, 1e15, &x) < 0)
				return -1;
			o->seed = (uint64_t)x;
		} else if (!strcmp(f, "--steady-s")) {
			if (number(f, v, 1, 3600, &x) < 0)
				return -1;
			o->steady_s = (unsigned)x;
		} else if (!strcmp(f, "--partition-s")) {
			if (number(f, v, 1, 3600, &x) < 0)
				return -1;
			o->partition_s = (unsigned)x;
		} else if (!strcmp(f, "--limit-s")) {
			if (number(f, v, 1, 36000, &x) < 0)
				return -1;
			o->limit_s = (unsigned)x;
		} else if (!strcmp(f, "--turn-us")) {
			if (number(f, v, 0, 1000000, &x) < 0)
				return -1;
			o->turn_us = (unsigned)x;
		} else if (!strcmp(f, "--spread-ms")) {
			if (number(f, v, 0, 3600000, &x) < 0)
				return -1;
			o->spread_ms = (unsigned)x;
		} else if (!strcmp(f, "--heal-spread-ms")) {
			if (number(f, v, 0, 3600000, &x) < 0)
				return -1;
			o->heal_spread_ms = (unsigned)x;
		} else if (!strcmp(f, "--legacy-peers")) {
			if (number(f, v, 0, 100000, &x) < 0)
				return -1;
			o->legacy_peers = (unsigned)x;
		} else {
			fprintf(stderr, "meshsim: unknown option %s\n%s", f, usage);
			return -1;
		}
	}
	if (!o->peers) {
		fprintf(stderr, "meshsim: --peers is required\n%s", usage);
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Median and max over the live routers of the bytes each sent since the counters' reset,
 * per second of `seconds`. */
static cJSON *per_peer(struct sim *s, double seconds)
{
	uint64_t *v = calloc(sim_peers(s), sizeof(*v));
	size_t n = 0;
	cJSON *o = cJSON_CreateObject();
	if (!v || !o) {
		free(v);
		return o;
	}
	for (unsigned i = 0; i < sim_peers(s); i++)
		if (sim_alive(s, i))
			v[n++] = sim_tx_bytes(s, i);
	qsort(v, n, sizeof(*v), cmp_u64);
	cJSON_AddNumberToObject(o, "median", n ? (double)v[n / 2] / seconds : 0);
	cJSON_AddNumberToObject(o, "max", n ? (double)v[n - 1] / seconds : 0);
	free(v);
	return o;
}

static double peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kib = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kib = strtod(line + 6, NULL);
	if (f)
		fclose(f);
	return kib / 1024;
}

static uint64_t wall0;

/* Progress on stderr: what was reached, at which virtual and wall time. */
static void note(struct sim *s, const char *what)
{
	fprintf(stderr, "meshsim: %s (virtual %.3f s, wall %.1f s)\n", what,
		(double)sim_now_ms(s) / 1000, (double)(simclock_real_ns() - wall0) / 1e9);
}

static void add_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)ms);
}

/* Plays scenario k on the converged mesh, adds its figures to out and prints it. Returns 0, or
 * 3 when the mesh did not converge within --limit-s after the event, 1 on an error. */
static int play(struct sim *s, const struct options *o, int k, cJSON *out, uint64_t route_max)
{
	static const char *const names[] = { "join", "kill", "partition" };
	uint64_t limit_ms = (uint64_t)o->limit_s * 1000;
	cJSON_AddStringToObject(out, "scenario", names[k]);
	uint64_t t0 = sim_now_ms(s);
	int64_t conv = -1;
	if (k == JOIN) {
		int ret = sim_add_peer(s);
		if (ret < 0)
			fprintf(stderr, "meshsim: the new router cannot start: %s\n", strerror(-ret));
		else
			conv = sim_run_until_converged(s, limit_ms);
	} else if (k == PARTITION) {
		unsigned n = sim_peers(s);
		bool *side = calloc(n, sizeof(*side));
		unsigned *idx = calloc(n, sizeof(*idx));
		if (!side || !idx) {
			fprintf(stderr, "meshsim: out of memory\n");
			free(side);
			free(idx);
			return 1;
		}
		for (unsigned i = 0; i < n; i++)
			idx[i] = i;
		for (unsigned i = 0; i < n / 2; i++) {
			unsigned j = i + (unsigned)(simclock_random() % (n - i)), t = idx[j];
			idx[j] = idx[i];
			idx[i] = t;
			side[t] = true;
		}
		sim_partition(s, side);
		add_ms(out, "split_converged_ms", sim_run_until_converged(s, o->partition_s * 1000u));
		uint64_t cut_for = sim_now_ms(s) - t0;
		if (cut_for < o->partition_s * 1000u)
			sim_run(s, o->partition_s * 1000u - cut_for);
		cJSON_AddNumberToObject(out, "partition_s", o->partition_s);
		cJSON_AddNumberToObject(out, "heal_spread_ms", o->heal_spread_ms);
		t0 = sim_now_ms(s);
		sim_heal(s, o->heal_spread_ms); /* from the first link back up */
		conv = sim_run_until_converged(s, limit_ms);
		if (conv >= 0) /* converged_ms counts the heal's spread too */
			conv = (int64_t)(sim_now_ms(s) - t0);
		free(side);
		free(idx);
	} else {
		sim_kill(s, 1 + (unsigned)(simclock_random() % (sim_peers(s) - 1)));
		conv = sim_run_until_converged(s, limit_ms);
	}
	add_ms(out, "converged_ms", conv);
	note(s, conv < 0 ? "did not converge after the event" : "converged after the event");
	cJSON_AddItemToObject(out, "event_bytes_per_peer", per_peer(s, 1));
	cJSON_AddNumberToObject(out, "event_messages", (double)sim_messages(s));
	if (sim_max_route_compute_us(s) > route_max)
		route_max = sim_max_route_compute_us(s);
	cJSON_AddNumberToObject(out, "max_route_compute_us", (double)route_max);
	cJSON_AddNumberToObject(out, "event_route_computes", (double)sim_route_computes(s));
	cJSON_AddNumberToObject(out, "virtual_s", (double)sim_now_ms(s) / 1000);
	cJSON_AddNumberToObject(out, "peak_rss_mib", peak_rss_mib());
	cJSON_AddNumberToObject(out, "wall_ms", (double)((simclock_real_ns() - wall0) / 1000000));
	char *text = o->json ? cJSON_PrintUnformatted(out) : cJSON_Print(out);
	if (text)
		puts(text);
	free(text);
	fflush(stdout);
	return conv < 0 ? 3 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse(argc, argv, &o) < 0)
		return 2;
	mesh_log_set_level(MESH_LOG_ERROR);
	wall0 = simclock_real_ns();
	bool alone = !strchr(o.scenario, ','), join = !strcmp(o.scenario, "join");
	struct sim_opts so = {
		.peers = alone && join ? o.peers - 1 : o.peers,
		.conn_limit = o.conn_limit,
		.loss = o.loss,
		.latency_us = (unsigned)(o.latency_ms * 1000),
		.bandwidth_bps = (uint64_t)(o.bandwidth_mbps * 1e6),
		.seed = o.seed,
		.spread_ms = o.spread_ms,
		.turn_us = o.turn_us,
		.legacy_peers = o.legacy_peers,
	};
	struct sim *s;
	char err[256];
	if (sim_new(&so, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "meshsim: %s\n", err);
		return 1;
	}
	uint64_t limit_ms = (uint64_t)o.limit_s * 1000;
	cJSON *out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "peers", o.peers);
	cJSON_AddNumberToObject(out, "conn_limit", sim_conn_limit(s));
	cJSON_AddNumberToObject(out, "loss", o.loss);
	cJSON_AddNumberToObject(out, "latency_ms", o.latency_ms);
	cJSON_AddNumberToObject(out, "bandwidth_mbps", o.bandwidth_mbps);
	cJSON_AddNumberToObject(out, "seed", (double)o.seed);
	cJSON_AddNumberToObject(out, "turn_us", o.turn_us);
	cJSON_AddNumberToObject(out, "spread_ms", o.spread_ms);
	cJSON_AddNumberToObject(out, "legacy_peers", o.legacy_peers);

	/* the mesh converges, then the steady state is measured */
	note(s, "routers started");
	int64_t boot = sim_run_until_converged(s, limit_ms);
	add_ms(out, "bootstrap_converged_ms", boot);
	note(s, boot < 0 ? "bootstrap did not converge" : "bootstrap converged");
	sim_run(s, 5000);
	sim_counters_reset(s);
	sim_run(s, (uint64_t)o.steady_s * 1000);
	cJSON_AddItemToObject(out, "gossip_bytes_per_peer_per_s", per_peer(s, o.steady_s));
	cJSON_AddNumberToObject(out, "steady_s", o.steady_s);
	cJSON_AddBoolToObject(out, "steady_converged", sim_converged(s));
	uint64_t route_max = sim_max_route_compute_us(s);
	sim_counters_reset(s);
	note(s, "steady state measured");

	int rc = 0;
	if (alone) {
		rc = play(s, &o, scenario_of(o.scenario, strlen(o.scenario)), out, route_max);
	} else {
		/* each from the same converged mesh: a child each, one after the other (a child's
		 * changes cost copies of the pages it writes, freed when it exits), the last one in
		 * this process */
		for (const char *p = o.scenario; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
			size_t len = strchr(p, ',') ? (size_t)(strchr(p, ',') - p) : strlen(p);
			int k = scenario_of(p, len), status = 0;
			if (k == JOIN) {
				cJSON_ReplaceItemInObject(out, "peers", cJSON_CreateNumber(o.peers + 1));
			}
			if (!strchr(p, ',')) { /* the last in the parent: nothing comes after it */
				int r = play(s, &o, k, out, route_max);
				rc = rc ? rc : r;
				break;
			}
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0)
				_exit(play(s, &o, k, out, route_max));
			if (pid < 0 || waitpid(pid, &status, 0) < 0) {
				fprintf(stderr, "meshsim: cannot play %.*s: %s\n", (int)len, p, strerror(errno));
				rc = 1;
			} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				rc = rc ? rc : (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
			}
			if (k == JOIN)
				cJSON_ReplaceItemInObject(out, "peers", cJSON_CreateNumber(o.peers));
		}
	}
	sim_free(s);
	cJSON_Delete(out);
	return rc;
}
