/* tests/fuzz/fuzz.h: what every fuzz harness under tests/fuzz/ shares.
 *
 * Each harness tests/fuzz/fuzz_<name>.c defines its entry point with FUZZ_ENTRY(<name>):
 *   - built alone (clang, ./configure CC=clang --enable-fuzzing) it is libFuzzer's
 *     LLVMFuzzerTestOneInput, one binary per harness;
 *   - with MESH_FUZZ_LINKED_TOGETHER (tests/unit/test_fuzz_corpus links every harness into one
 *     criterion binary and replays the seed corpora) it is fuzz_<name>.
 * A harness returns 0 and calls abort() when it sees a broken invariant (a round trip that does
 * not give back what went in, a length pointing outside the input, ...), so that a logic error
 * is a crash for libFuzzer and a failed test for criterion. */
#ifndef MESH_TESTS_FUZZ_H
#define MESH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MESH_FUZZ_LINKED_TOGETHER
#define FUZZ_ENTRY(name) int fuzz_##name
#else
#define FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

/* The harnesses, as the corpus test sees them (MESH_FUZZ_LINKED_TOGETHER). */
int fuzz_sleeve_codec(const uint8_t *data, size_t size);
int fuzz_frame(const uint8_t *data, size_t size);
int fuzz_hello(const uint8_t *data, size_t size);
int fuzz_handshake(const uint8_t *data, size_t size);
int fuzz_config(const uint8_t *data, size_t size);
int fuzz_topology(const uint8_t *data, size_t size);
int fuzz_topo_digest(const uint8_t *data, size_t size);
int fuzz_topo_summary(const uint8_t *data, size_t size);
int fuzz_ipam(const uint8_t *data, size_t size);
int fuzz_macs(const uint8_t *data, size_t size);
int fuzz_cni_config(const uint8_t *data, size_t size);
int fuzz_heartbeat(const uint8_t *data, size_t size);
int fuzz_fdbevent(const uint8_t *data, size_t size);
int fuzz_odp(const uint8_t *data, size_t size);
int fuzz_http(const uint8_t *data, size_t size);
int fuzz_gro(const uint8_t *data, size_t size);
int fuzz_xfrm(const uint8_t *data, size_t size);
int fuzz_nft_counter(const uint8_t *data, size_t size);
int fuzz_nflog(const uint8_t *data, size_t size);
int fuzz_policy_decode(const uint8_t *data, size_t size);
int fuzz_policy_counters(const uint8_t *data, size_t size);
int fuzz_kube_stream(const uint8_t *data, size_t size);
int fuzz_kubeconfig(const uint8_t *data, size_t size);
int fuzz_password_file(const uint8_t *data, size_t size);
int fuzz_arp(const uint8_t *data, size_t size);
int fuzz_addr(const uint8_t *data, size_t size);

/* abort() with where and why: a harness invariant does not hold. */
#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                            \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* Reads the fuzz input front to back, like a tiny FuzzedDataProvider; past the end every read
 * gives zeros. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)((hi << 8) | fuzz_u8(in));
}

/* Up to n bytes (fewer at the end of the input); returns how many, *out points at them. */
static inline size_t fuzz_bytes(struct fuzz_input *in, size_t n, const uint8_t **out)
{
	if (n > in->left)
		n = in->left;
	*out = in->p;
	in->p += n;
	in->left -= n;
	return n;
}

/* A heap copy of exactly len bytes (at least one byte allocated), so that AddressSanitizer
 * sees a read or write one past the end; NULL only when out of memory. */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	if (p && len)
		memcpy(p, data, len);
	return p;
}

#endif
