/* tests/fuzz/fuzz_ipam.c: the IPAM ring codec and merge (gossip/ipam.c), the space request, the
 * persisted state (router/ipam_store.c) and the allocator (router/ipam_alloc.c). The first byte
 * selects what the rest is:
 *   0: len(u16) ring message A, then ring message B. Each accepted ring passes its invariants and
 *      re-encodes to the same bytes; merging is commutative (for an observer that owns nothing),
 *      idempotent, never leaves a broken ring, and never takes space from a peer that says it
 *      has allocations everywhere.
 *   1: a space request: accepted ones re-encode to the same bytes.
 *   2: a state file: accepted ones re-encode to the same bytes, and every allocation is in space
 *      the ring gives to the file's peer.
 *   3: a script of operations (allocate, release, donate, gossip, report free) on three peers
 *      sharing a small range: no address is ever allocated twice, nor outside its peer's space. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gossip/ipam.h"
#include "mesh/bytes.h"
#include "router/ipam_alloc.h"
#include "router/ipam_store.h"
#include "tests/fuzz/fuzz.h"

static bool has_yes(void *ctx, uint32_t lo, uint64_t hi)
{
	(void)ctx;
	(void)lo;
	(void)hi;
	return true;
}

static bool has_no(void *ctx, uint32_t lo, uint64_t hi)
{
	(void)ctx;
	(void)lo;
	(void)hi;
	return false;
}

static bool ring_eq(const struct mesh_ipam_ring *a, const struct mesh_ipam_ring *b)
{
	if (a->start != b->start || a->prefix != b->prefix || a->seed != b->seed || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].token != b->e[i].token || a->e[i].version != b->e[i].version ||
		    a->e[i].free != b->e[i].free || !mesh_peer_name_eq(&a->e[i].owner, &b->e[i].owner))
			return false;
	return true;
}

static uint8_t again[MESH_IPAM_RING_MAX_LEN];

/* Decodes one ring; on success checks the invariants and the re-encoding. */
static int decode_checked(const uint8_t *p, size_t n, struct mesh_ipam_ring *r)
{
	char why[MESH_IPAM_WHY_LEN] = "";
	int ret = mesh_ipam_ring_decode(p, n, r, why);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EBADMSG || ret == -ENOMEM);
		FUZZ_CHECK(ret == -ENOMEM || why[0]);
		FUZZ_CHECK(r->e == NULL);
		return ret;
	}
	FUZZ_CHECK(mesh_ipam_ring_check(r, why) == 0);
	ssize_t len = mesh_ipam_ring_encode(r, again, sizeof(again));
	FUZZ_CHECK(len == (ssize_t)n && memcmp(again, p, n) == 0);
	return 0;
}

static void rings(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	fuzz_input_init(&in, data, size);
	size_t la = fuzz_u16(&in);
	const uint8_t *pa, *pb;
	la = fuzz_bytes(&in, la, &pa);
	size_t lb = fuzz_bytes(&in, in.left, &pb);
	struct mesh_ipam_ring a, b;
	if (decode_checked(pa, la, &a) < 0)
		return;
	if (decode_checked(pb, lb, &b) < 0) {
		mesh_ipam_ring_free(&a);
		return;
	}
	char why[MESH_IPAM_WHY_LEN];
	bool ch1, ch2, ch;

	/* commutative for an observer (self zero owns nothing) */
	struct mesh_ipam_ring ab, ba;
	if (mesh_ipam_ring_copy(&ab, &a) < 0 || mesh_ipam_ring_copy(&ba, &b) < 0)
		abort();
	int r1 = mesh_ipam_ring_merge(&ab, &b, NULL, NULL, &ch1, why);
	int r2 = mesh_ipam_ring_merge(&ba, &a, NULL, NULL, &ch2, why);
	FUZZ_CHECK(r1 != -EPERM && r2 != -EPERM);
	if (r1 == -ENOMEM || r2 == -ENOMEM)
		goto out;
	/* a version too far ahead is refused by the side that lags only: not commutative */
	if (r1 == -ERANGE || r2 == -ERANGE) {
		FUZZ_CHECK(r1 != -ERANGE || (why[0] && ring_eq(&ab, &a)));
		FUZZ_CHECK(r2 != -ERANGE || ring_eq(&ba, &b));
		r1 = -ERANGE; /* no comparison with lax below */
	} else {
		/* both orders see the same range, seed or consistency problem, or none */
		FUZZ_CHECK(r1 == r2);
	}
	if (r1 == 0) {
		FUZZ_CHECK(mesh_ipam_ring_check(&ab, why) == 0);
		FUZZ_CHECK(ring_eq(&ab, &ba)); /* an empty side adopts the other whole */
		/* idempotent */
		FUZZ_CHECK(mesh_ipam_ring_merge(&ab, &b, NULL, NULL, &ch, why) == 0 && !ch);
		FUZZ_CHECK(mesh_ipam_ring_merge(&ab, &a, NULL, NULL, &ch, why) == 0 && !ch);
		if (!ch1)
			FUZZ_CHECK(ring_eq(&ab, &a));
	}

	/* safety: as the owner of a's first entry with allocations everywhere, we lose nothing */
	if (a.n) {
		struct mesh_ipam_ring mine;
		if (mesh_ipam_ring_copy(&mine, &a) < 0)
			abort();
		mine.self = a.e[0].owner;
		int r3 = mesh_ipam_ring_merge(&mine, &b, has_yes, NULL, &ch, why);
		if (r3 == 0) {
			for (size_t i = 0; i < a.n; i++) {
				if (!mesh_peer_name_eq(&a.e[i].owner, &mine.self))
					continue;
				/* every token of the merged ring inside our old entry is still ours */
				uint64_t hi = mesh_ipam_entry_end(&a, i);
				ssize_t k = mesh_ipam_ring_find(&mine, a.e[i].token);
				FUZZ_CHECK(k >= 0);
				for (size_t j = (size_t)k; j < mine.n && mine.e[j].token < hi; j++)
					FUZZ_CHECK(mesh_peer_name_eq(&mine.e[j].owner, &mine.self));
			}
		} else {
			FUZZ_CHECK(why[0] && ring_eq(&mine, &a));
		}
		/* without allocations the same merge succeeds whenever the observer's did */
		struct mesh_ipam_ring lax;
		if (mesh_ipam_ring_copy(&lax, &a) < 0)
			abort();
		lax.self = a.e[0].owner;
		int r4 = mesh_ipam_ring_merge(&lax, &b, has_no, NULL, &ch, why);
		FUZZ_CHECK(r4 != -EPERM);
		if (r1 == 0 && r4 == 0) {
			/* the same join as the observer's, but for our own entries, which nobody
			 * else changes (issue 16 finding 5) */
			for (size_t j = 0; j < lax.n; j++) {
				if (mesh_peer_name_eq(&lax.e[j].owner, &lax.self))
					continue;
				ssize_t k = mesh_ipam_ring_find(&ab, lax.e[j].token);
				FUZZ_CHECK(k >= 0 && ab.e[k].token == lax.e[j].token &&
					   ab.e[k].version == lax.e[j].version &&
					   ab.e[k].free == lax.e[j].free &&
					   mesh_peer_name_eq(&ab.e[k].owner, &lax.e[j].owner));
			}
		}
		mesh_ipam_ring_free(&lax);
		mesh_ipam_ring_free(&mine);
	}
out:
	mesh_ipam_ring_free(&ab);
	mesh_ipam_ring_free(&ba);
	mesh_ipam_ring_free(&a);
	mesh_ipam_ring_free(&b);
}

static void request(const uint8_t *data, size_t size)
{
	struct mesh_ipam_request q;
	char why[MESH_IPAM_WHY_LEN] = "";
	int ret = mesh_ipam_request_decode(data, size, &q, why);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EBADMSG && why[0]);
		return;
	}
	uint8_t out[MESH_IPAM_REQUEST_LEN];
	FUZZ_CHECK(mesh_ipam_request_encode(&q, out, sizeof(out)) == MESH_IPAM_REQUEST_LEN);
	FUZZ_CHECK(size == MESH_IPAM_REQUEST_LEN && memcmp(out, data, size) == 0);
}

static void store(const uint8_t *data, size_t size)
{
	/* take our name, range and default subnet from the input, so that decoding gets past them */
	struct mesh_peer_name self = { { 0x02, 0, 0, 0, 0, 1 } };
	uint32_t start = 0x0a280000u, subnet = 0x0a200000u;
	uint8_t prefix = 16, sprefix = 12;
	if (size >= MESH_IPAM_STORE_HDR_LEN + MESH_IPAM_RING_HDR_LEN) {
		memcpy(self.b, data + 10, 6);
		uint32_t s = get_be32(data + 16);
		uint8_t p = data[20];
		if (p >= 1 && p <= 32 && (s & (uint32_t)((1ull << (32 - p)) - 1)) == 0) {
			subnet = s;
			sprefix = p;
		}
		s = get_be32(data + MESH_IPAM_STORE_HDR_LEN + 1);
		p = data[MESH_IPAM_STORE_HDR_LEN + 5];
		if (p >= 1 && p <= 32 && (s & (uint32_t)((1ull << (32 - p)) - 1)) == 0) {
			start = s;
			prefix = p;
		}
	}
	struct mesh_ipam_ring r;
	struct mesh_ipam_alloc a;
	if (mesh_ipam_ring_init(&r, &self, start, prefix) < 0 || mesh_ipam_alloc_init(&a, subnet, sprefix) < 0)
		abort();
	char why[MESH_IPAM_WHY_LEN] = "";
	int ret = mesh_ipam_store_decode(data, size, &r, &a, why);
	if (ret < 0) {
		FUZZ_CHECK(ret == -EBADMSG || ret == -ESTALE || ret == -EDOM || ret == -ENOMEM);
		FUZZ_CHECK(ret == -ENOMEM || why[0]);
		FUZZ_CHECK(r.n == 0 && a.n == 0);
		goto out;
	}
	FUZZ_CHECK(mesh_ipam_ring_check(&r, why) == 0);
	FUZZ_CHECK(mesh_ipam_alloc_not_owned(&a, &r, NULL, 0) == 0);
	for (size_t i = 1; i < a.n; i++)
		FUZZ_CHECK(a.a[i - 1].ip < a.a[i].ip);
	uint8_t *b = NULL;
	ssize_t n = mesh_ipam_store_encode(&r, &a, &b);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == size && memcmp(b, data, size) == 0);
		free(b);
	}
out:
	mesh_ipam_alloc_free(&a);
	mesh_ipam_ring_free(&r);
}

/* --- 3: operations on three peers ------------------------------------------------------------ */

#define PEERS 3

static void gossip(struct mesh_ipam_ring *to, struct mesh_ipam_alloc *ta, const struct mesh_ipam_ring *from)
{
	size_t len = mesh_ipam_ring_encoded_size(from);
	FUZZ_CHECK(mesh_ipam_ring_encode(from, again, sizeof(again)) == (ssize_t)len);
	struct mesh_ipam_ring in;
	char why[MESH_IPAM_WHY_LEN];
	if (mesh_ipam_ring_decode(again, len, &in, why) < 0)
		abort();
	bool ch;
	int ret = mesh_ipam_ring_merge(to, &in, mesh_ipam_alloc_has_in, ta, &ch, why);
	FUZZ_CHECK(ret == 0 || ret == -ENOMEM);
	mesh_ipam_ring_free(&in);
}

static void ops(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	fuzz_input_init(&in, data, size);
	struct mesh_ipam_ring r[PEERS];
	struct mesh_ipam_alloc a[PEERS];
	struct mesh_peer_name names[PEERS];
	uint8_t prefix = (uint8_t)(24 + fuzz_u8(&in) % 7); /* /24../30 */
	uint32_t start = 0x0a280000u;
	/* the default subnet: the range itself, or a larger one around it */
	uint8_t sprefix = fuzz_u8(&in) & 1 ? prefix : 12;
	uint32_t subnet = sprefix == prefix ? start : 0x0a200000u;
	for (unsigned i = 0; i < PEERS; i++)
		names[i] = (struct mesh_peer_name){ { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) } };
	for (unsigned i = 0; i < PEERS; i++) {
		if (mesh_ipam_ring_init(&r[i], &names[i], start, prefix) < 0 ||
		    mesh_ipam_alloc_init(&a[i], subnet, sprefix) < 0 ||
		    mesh_ipam_ring_seed(&r[i], names, PEERS) < 0)
			abort();
	}
	char why[MESH_IPAM_WHY_LEN], id[16];
	unsigned steps = 0;
	while (in.left && steps++ < 400) {
		uint8_t op = fuzz_u8(&in);
		unsigned x = (op >> 4) % PEERS, y = (op >> 6) % PEERS;
		uint32_t ip;
		switch (op & 7) {
		case 0:
		case 1: {
			snprintf(id, sizeof(id), "c%u", fuzz_u8(&in));
			uint8_t sub = fuzz_u8(&in);
			uint32_t s = 0;
			uint8_t p = 0;
			if (sub & 0x80) { /* a subnet of the range */
				p = (uint8_t)(prefix + (sub & 3));
				if (p > 32)
					p = 32;
				s = start + ((uint32_t)((sub >> 2) & 0x1f) << (32 - p) & ((1u << (32 - prefix)) - 1));
			}
			int ret = mesh_ipam_alloc_allocate(&a[x], &r[x], id, s, p, &ip, why);
			FUZZ_CHECK(ret == 0 || ret == 1 || ret == -ENOSPC || ret == -ENOMEM);
			if (ret >= 0)
				FUZZ_CHECK(mesh_ipam_ring_owns(&r[x], ip));
			break;
		}
		case 2:
			snprintf(id, sizeof(id), "c%u", fuzz_u8(&in));
			mesh_ipam_alloc_release(&a[x], id);
			break;
		case 3: { /* GC keeping two ids */
			char k1[16], k2[16];
			snprintf(k1, sizeof(k1), "c%u", fuzz_u8(&in));
			snprintf(k2, sizeof(k2), "c%u", fuzz_u8(&in));
			const char *keep[] = { k1, k2 };
			mesh_ipam_alloc_release_except(&a[x], NULL, keep, 2);
			for (size_t i = 0; i < a[x].n; i++)
				FUZZ_CHECK(!strcmp(a[x].a[i].id, k1) || !strcmp(a[x].a[i].id, k2));
			break;
		}
		case 4: { /* x donates to y */
			uint32_t lo;
			uint64_t hi;
			if (x == y || mesh_ipam_alloc_pick_donation(&a[x], &r[x], &lo, &hi) < 0)
				break;
			FUZZ_CHECK(lo < hi && mesh_ipam_alloc_count_in(&a[x], lo, hi) == 0);
			int ret = mesh_ipam_ring_transfer(&r[x], lo, hi, &names[y]);
			FUZZ_CHECK(ret == 0 || ret == -ENOSPC || ret == -ENOMEM || ret == -EOVERFLOW);
			break;
		}
		case 5:
			FUZZ_CHECK(mesh_ipam_alloc_report_free(&a[x], &r[x]) >= 0);
			break;
		default:
			if (x != y)
				gossip(&r[y], &a[y], &r[x]);
			break;
		}
		for (unsigned i = 0; i < PEERS; i++) {
			FUZZ_CHECK(mesh_ipam_ring_check(&r[i], why) == 0);
			FUZZ_CHECK(mesh_ipam_alloc_not_owned(&a[i], &r[i], NULL, 0) == 0);
			for (size_t k = 1; k < a[i].n; k++)
				FUZZ_CHECK(a[i].a[k - 1].ip < a[i].a[k].ip);
			for (unsigned j = i + 1; j < PEERS; j++)
				for (size_t k = 0; k < a[i].n; k++)
					FUZZ_CHECK(mesh_ipam_alloc_count_in(&a[j], a[i].a[k].ip,
									    (uint64_t)a[i].a[k].ip + 1) == 0);
		}
	}
	for (unsigned i = 0; i < PEERS; i++) {
		mesh_ipam_alloc_free(&a[i]);
		mesh_ipam_ring_free(&r[i]);
	}
}

FUZZ_ENTRY(ipam)(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		rings(data + 1, size - 1);
		break;
	case 1:
		request(data + 1, size - 1);
		break;
	case 2:
		store(data + 1, size - 1);
		break;
	default:
		ops(data + 1, size - 1);
		break;
	}
	return 0;
}
