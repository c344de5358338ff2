/* tests/unit/test_fuzz_corpus.c: every fuzz harness of tests/fuzz/ replayed without libFuzzer,
 * so that a gcc build (make check, also under --enable-sanitizers) catches what a fuzzer once
 * found. Per harness: every file of its seed corpus FUZZ_CORPUS_DIR/<name>/ (crash-* files
 * are inputs that once crashed), then mutated copies of the seeds (bit flips, byte changes,
 * truncations, insertions, deletions, splices of two seeds) and random inputs of random
 * lengths 0..2048, both from a fixed-seed generator so that every run is the same. The test
 * passes when nothing crashes and no harness invariant aborts.
 * When one does, the input is written to $TMPDIR/mesh-fuzz-crash-<name> (and named on stderr):
 * run the libFuzzer binary tests/fuzz/fuzz_<name> on that file to reproduce it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_CORPUS_DIR
#error "FUZZ_CORPUS_DIR must name tests/fuzz/corpus (Makefile.am defines it)"
#endif

#define RANDOM_INPUTS 20000
#define RANDOM_MAX_LEN 2048
#define MUTANTS_PER_SEED 300
#define MUTANT_MAX_LEN 4096
#define MAX_SEEDS 64
#define MAX_SEED_LEN (64 * 1024)

typedef int (*harness_fn)(const uint8_t *data, size_t size);

/* --- reporting the input that crashed ---------------------------------------------------- */
/* Set by the sanitizer runtimes; weak so that a build without sanitizers links too. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static struct {
	const char *harness;
	char what[320];
	const uint8_t *data;
	size_t size;
} current;

static void write_str(const char *s)
{
	ssize_t r = write(2, s, strlen(s));
	(void)r;
}

static void report_current(void)
{
	if (!current.harness)
		return;
	char path[512];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/mesh-fuzz-crash-%s", tmp && *tmp ? tmp : "/tmp",
		 current.harness);
	write_str("\nfuzz_corpus: fuzz_");
	write_str(current.harness);
	write_str(" crashed on ");
	write_str(current.what);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t r = write(fd, current.data, current.size);
		(void)r;
		close(fd);
		write_str("; input saved as ");
		write_str(path);
	}
	write_str("\n");
	current.harness = NULL;
}

static void on_signal(int sig)
{
	report_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_reporter(void)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(report_current);
}

/* Runs the harness on an exact-size heap copy, so that reading one byte past the input is an
 * AddressSanitizer error here as it is under libFuzzer. */
static void run_one(const char *name, harness_fn fn, const uint8_t *data, size_t size)
{
	uint8_t *copy = fuzz_dup(data, size);
	cr_assert_not_null(copy);
	current.harness = name;
	current.data = copy;
	current.size = size;
	cr_assert_eq(fn(copy, size), 0, "fuzz_%s returned non-zero on %s", name, current.what);
	current.harness = NULL;
	free(copy);
}

/* --- a fixed-seed generator (xorshift64*) ------------------------------------------------ */
static uint64_t prng_state;

static void prng_seed(const char *name)
{
	prng_state = 0x9e3779b97f4a7c15ull;
	for (const char *c = name; *c; c++)
		prng_state = (prng_state ^ (uint8_t)*c) * 0x100000001b3ull;
	if (!prng_state)
		prng_state = 1;
}

static uint64_t prng(void)
{
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return prng_state * 0x2545f4914f6cdd1dull;
}

static size_t prng_below(size_t n)
{
	return n ? (size_t)(prng() % n) : 0;
}

/* --- the seed corpus --------------------------------------------------------------------- */
struct seed {
	char name[256];
	uint8_t *data;
	size_t size;
};

static int seed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seed *)a)->name, ((const struct seed *)b)->name);
}

static size_t load_corpus(const char *harness, struct seed *seeds)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", FUZZ_CORPUS_DIR, harness);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open the seed corpus %s: %s", dir, strerror(errno));
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[800];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		cr_assert_lt(n, MAX_SEEDS, "more than %d seeds in %s", MAX_SEEDS, dir);
		cr_assert_leq(st.st_size, MAX_SEED_LEN, "seed %s is larger than %d bytes", path,
			      MAX_SEED_LEN);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f, "cannot read %s: %s", path, strerror(errno));
		struct seed *s = &seeds[n++];
		snprintf(s->name, sizeof(s->name), "%s", e->d_name);
		s->size = (size_t)st.st_size;
		s->data = malloc(s->size ? s->size : 1);
		cr_assert_not_null(s->data);
		cr_assert_eq(fread(s->data, 1, s->size, f), s->size, "short read of %s", path);
		fclose(f);
	}
	closedir(d);
	cr_assert_gt(n, 0, "no seeds in %s", dir);
	qsort(seeds, n, sizeof(seeds[0]), seed_cmp);
	return n;
}

/* One random change to buf (len bytes, capacity MUTANT_MAX_LEN); returns the new length. */
static size_t mutate_once(uint8_t *buf, size_t len, const struct seed *seeds, size_t nseeds)
{
	switch (prng_below(8)) {
	case 0: /* flip a bit */
		if (len)
			buf[prng_below(len)] ^= (uint8_t)(1u << prng_below(8));
		return len;
	case 1: /* set a byte, often to an edge value */
		if (len) {
			static const uint8_t edge[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0x0e, 0x10, 0x20 };
			buf[prng_below(len)] = prng_below(2) ? edge[prng_below(sizeof(edge))]
							     : (uint8_t)prng();
		}
		return len;
	case 2: /* truncate */
		return prng_below(len + 1);
	case 3: { /* insert random bytes */
		size_t n = 1 + prng_below(16), at = prng_below(len + 1);
		if (len + n > MUTANT_MAX_LEN)
			return len;
		memmove(buf + at + n, buf + at, len - at);
		for (size_t i = 0; i < n; i++)
			buf[at + i] = (uint8_t)prng();
		return len + n;
	}
	case 4: { /* delete a range */
		if (!len)
			return len;
		size_t at = prng_below(len), n = 1 + prng_below(len - at);
		memmove(buf + at, buf + at + n, len - at - n);
		return len - n;
	}
	case 5: { /* duplicate a range */
		if (!len)
			return len;
		size_t at = prng_below(len), n = 1 + prng_below(len - at);
		if (len + n > MUTANT_MAX_LEN)
			return len;
		memmove(buf + at + n, buf + at, len - at);
		return len + n;
	}
	case 6: { /* overwrite a big-endian 16/32-bit field with an edge value */
		size_t w = prng_below(2) ? 2 : 4;
		if (len < w)
			return len;
		uint32_t v = (uint32_t)prng();
		switch (prng_below(4)) {
		case 0: v = 0; break;
		case 1: v = w == 2 ? 0xffff : 0xffffffffu; break;
		case 2: v = (uint32_t)(len + prng_below(5) - 2); break;
		default: break;
		}
		size_t at = prng_below(len - w + 1);
		for (size_t i = 0; i < w; i++)
			buf[at + i] = (uint8_t)(v >> (8 * (w - 1 - i)));
		return len;
	}
	default: { /* splice: the tail of another seed after a prefix of this one */
		const struct seed *o = &seeds[prng_below(nseeds)];
		size_t keep = prng_below(len + 1), from = prng_below(o->size + 1);
		size_t n = o->size - from;
		if (keep + n > MUTANT_MAX_LEN)
			n = MUTANT_MAX_LEN - keep;
		memcpy(buf + keep, o->data + from, n);
		return keep + n;
	}
	}
}

static void replay(const char *name, harness_fn fn)
{
	static struct seed seeds[MAX_SEEDS];
	install_reporter();
	prng_seed(name);
	size_t nseeds = load_corpus(name, seeds);

	/* 1. the corpus itself */
	for (size_t i = 0; i < nseeds; i++) {
		snprintf(current.what, sizeof(current.what), "corpus file %s/%s/%s", FUZZ_CORPUS_DIR,
			 name, seeds[i].name);
		run_one(name, fn, seeds[i].data, seeds[i].size);
	}

	/* 2. mutated seeds */
	uint8_t *buf = malloc(MUTANT_MAX_LEN);
	cr_assert_not_null(buf);
	for (size_t i = 0; i < nseeds; i++) {
		for (int m = 0; m < MUTANTS_PER_SEED; m++) {
			size_t len = seeds[i].size < MUTANT_MAX_LEN ? seeds[i].size : MUTANT_MAX_LEN;
			memcpy(buf, seeds[i].data, len);
			int ops = 1 + (int)prng_below(4);
			for (int k = 0; k < ops; k++)
				len = mutate_once(buf, len, seeds, nseeds);
			snprintf(current.what, sizeof(current.what), "mutant %d of seed %s", m,
				 seeds[i].name);
			run_one(name, fn, buf, len);
		}
	}

	/* 3. random inputs; half of them keep the first byte of a seed (most harnesses read a
	 * mode or selector byte there) */
	for (int n = 0; n < RANDOM_INPUTS; n++) {
		size_t len = prng_below(RANDOM_MAX_LEN + 1);
		for (size_t i = 0; i < len; i += 8) {
			uint64_t v = prng();
			memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
		}
		if (len && (n & 1)) {
			const struct seed *s = &seeds[prng_below(nseeds)];
			if (s->size)
				buf[0] = s->data[0];
		}
		snprintf(current.what, sizeof(current.what), "random input %d (%zu bytes)", n, len);
		run_one(name, fn, buf, len);
	}
	free(buf);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].data);
	cr_log_info("fuzz_%s: %zu corpus files, %zu mutants, %d random inputs: no crash", name,
		    nseeds, nseeds * MUTANTS_PER_SEED, RANDOM_INPUTS);
}

Test(fuzz_corpus, sleeve_codec, .timeout = 600)
{
	replay("sleeve_codec", fuzz_sleeve_codec);
}

Test(fuzz_corpus, frame, .timeout = 600)
{
	replay("frame", fuzz_frame);
}

Test(fuzz_corpus, hello, .timeout = 600)
{
	replay("hello", fuzz_hello);
}

Test(fuzz_corpus, handshake, .timeout = 600)
{
	replay("handshake", fuzz_handshake);
}

Test(fuzz_corpus, config, .timeout = 600)
{
	replay("config", fuzz_config);
}

Test(fuzz_corpus, addr, .timeout = 600)
{
	replay("addr", fuzz_addr);
}

Test(fuzz_corpus, topology, .timeout = 600)
{
	replay("topology", fuzz_topology);
}

Test(fuzz_corpus, topo_digest, .timeout = 600)
{
	replay("topo_digest", fuzz_topo_digest);
}

Test(fuzz_corpus, topo_summary, .timeout = 600)
{
	replay("topo_summary", fuzz_topo_summary);
}

Test(fuzz_corpus, ipam, .timeout = 600)
{
	replay("ipam", fuzz_ipam);
}

Test(fuzz_corpus, http, .timeout = 600)
{
	replay("http", fuzz_http);
}

Test(fuzz_corpus, macs, .timeout = 600)
{
	replay("macs", fuzz_macs);
}

Test(fuzz_corpus, cni_config, .timeout = 600)
{
	replay("cni_config", fuzz_cni_config);
}

Test(fuzz_corpus, heartbeat, .timeout = 600)
{
	replay("heartbeat", fuzz_heartbeat);
}

Test(fuzz_corpus, arp, .timeout = 600)
{
	replay("arp", fuzz_arp);
}

Test(fuzz_corpus, password_file, .timeout = 600)
{
	replay("password_file", fuzz_password_file);
}

Test(fuzz_corpus, nflog, .timeout = 600)
{
	replay("nflog", fuzz_nflog);
}

Test(fuzz_corpus, fdbevent, .timeout = 600)
{
	replay("fdbevent", fuzz_fdbevent);
}

Test(fuzz_corpus, odp, .timeout = 600)
{
	replay("odp", fuzz_odp);
}

Test(fuzz_corpus, gro, .timeout = 600)
{
	replay("gro", fuzz_gro);
}

Test(fuzz_corpus, xfrm, .timeout = 600)
{
	replay("xfrm", fuzz_xfrm);
}

Test(fuzz_corpus, nft_counter, .timeout = 600)
{
	replay("nft_counter", fuzz_nft_counter);
}

Test(fuzz_corpus, policy_decode, .timeout = 600)
{
	replay("policy_decode", fuzz_policy_decode);
}

Test(fuzz_corpus, policy_counters, .timeout = 600)
{
	replay("policy_counters", fuzz_policy_counters);
}

Test(fuzz_corpus, kube_stream, .timeout = 600)
{
	replay("kube_stream", fuzz_kube_stream);
}

Test(fuzz_corpus, kubeconfig, .timeout = 600)
{
	replay("kubeconfig", fuzz_kubeconfig);
}
