/* tests/fuzz/fuzz_topology.c: the topology gossip merge (gossip/topology.c).
 *
 * Input: one topology update (the wire format of gossip/topology.h), merged into a topology
 * that already knows a few peers (one of them an old incarnation of us is about to be heard
 * of). Checked:
 *   - always: entry 0 is us, n <= cap, n <= MESH_TOPO_MAX_PEERS, no name twice, every
 *     changed name is in the topology;
 *   - refused: a reason is given, nothing changed (the encoding before and after is the same);
 *   - accepted: every entry is valid (nickname, short id, flags, counts), no version more
 *     than MESH_VERSION_AHEAD_MAX_MS ahead of the clock (ours at most one past); the update merged
 *     a second time changes nothing; the full state re-encoded and merged into a fresh
 *     topology with the same own entry gives the same topology, and re-encoding that gives
 *     the same bytes back; every strict prefix of the encoding is refused; an encoding into a
 *     buffer one byte short is refused; forget_unreachable keeps the invariants. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/hello.h"
#include "gossip/topology.h"
#include "mesh/clock.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000000ull /* the wall clock at every merge */

static const struct mesh_peer_name SELF = { { 0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01 } };

static struct mesh_peer_name known(uint8_t i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, 0x00, i } };
	return n;
}

static void check_invariants(const struct mesh_topology *t)
{
	FUZZ_CHECK(t->n >= 1 && t->n <= t->cap && t->n <= MESH_TOPO_MAX_PEERS);
	FUZZ_CHECK(mesh_peer_name_eq(&t->peers[0].name, &t->self));
	FUZZ_CHECK(mesh_peer_name_eq(&t->self, &SELF));
	for (size_t i = 0; i < t->n; i++) {
		const struct mesh_topo_peer *p = &t->peers[i];
		size_t nick = strnlen(p->nickname, sizeof(p->nickname));
		FUZZ_CHECK(nick < sizeof(p->nickname) && mesh_nickname_valid(p->nickname, nick));
		FUZZ_CHECK(p->short_id <= 0xfff);
		FUZZ_CHECK(p->nconns <= MESH_TOPO_MAX_CONNS);
		FUZZ_CHECK((p->nconns == 0) == (p->conns == NULL));
		for (unsigned c = 0; c < p->nconns; c++) {
			const struct mesh_topo_conn *tc = &p->conns[c];
			FUZZ_CHECK((tc->flags & ~(MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_ESTABLISHED |
						  MESH_TOPO_CONN_IPV6)) == 0);
			/* an IPv6 connection has no IPv4 address; an IPv4 one no IPv6 bytes */
			static const uint8_t zero[16];
			if (tc->flags & MESH_TOPO_CONN_IPV6)
				FUZZ_CHECK(tc->ip == 0);
			else
				FUZZ_CHECK(memcmp(tc->ip6, zero, 16) == 0);
		}
		for (size_t j = i + 1; j < t->n; j++)
			FUZZ_CHECK(!mesh_peer_name_eq(&p->name, &t->peers[j].name));
	}
}

static bool peer_eq(const struct mesh_topo_peer *a, const struct mesh_topo_peer *b)
{
	if (!mesh_peer_name_eq(&a->name, &b->name) || strcmp(a->nickname, b->nickname) != 0 ||
	    a->uid != b->uid || a->version != b->version || a->short_id != b->short_id ||
	    a->nconns != b->nconns)
		return false;
	for (unsigned i = 0; i < a->nconns; i++) {
		const struct mesh_topo_conn *x = &a->conns[i], *y = &b->conns[i];
		if (!mesh_peer_name_eq(&x->peer, &y->peer) || x->ip != y->ip || x->port != y->port ||
		    x->flags != y->flags || memcmp(x->ip6, y->ip6, 16) != 0)
			return false;
	}
	return true;
}

static bool topo_eq(const struct mesh_topology *a, const struct mesh_topology *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mesh_topo_peer *q = mesh_topo_find(b, &a->peers[i].name);
		if (!q || !peer_eq(&a->peers[i], q))
			return false;
	}
	return true;
}

/* Us (with two connections) and three others; 0 when out of memory. */
static int setup(struct mesh_topology *t)
{
	if (mesh_topo_init(t, &SELF, "fuzz-self", 0x1111, 1000, 0x123) < 0)
		return -1;
	struct mesh_topo_conn cs[2] = {
		{ .peer = known(1), .ip = 0x0100000a, .port = 6783,
		  .flags = MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_ESTABLISHED },
		{ .peer = known(2), .ip = 0x0200000a, .port = 6783, .flags = MESH_TOPO_CONN_ESTABLISHED },
	};
	if (mesh_topo_set_self_conns(t, cs, 2) < 0)
		goto fail;
	/* peers 1..3: version 10, uid 1; 1 and 2 list us, 3 lists 1 */
	static const uint8_t update[] = {
		0x00, 0x03,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 2, 'p', '1',
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 10, 0x00, 0x01, 0x00, 0x01,
		0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01, 10, 0, 0, 9, 0x1a, 0x6f, 0x03,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 2, 'p', '2',
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 10, 0x00, 0x02, 0x00, 0x01,
		0x02, 0x5e, 0x1f, 0x00, 0x00, 0x01, 10, 0, 0, 9, 0x1a, 0x6f, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 2, 'p', '3',
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 10, 0x00, 0x03, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, 0x1a, 0x6f, 0x01,
	};
	size_t nc;
	const char *why = NULL;
	int r = mesh_topo_merge(t, update, sizeof(update), NOW, NULL, 0, &nc, &why);
	if (r == -ENOMEM)
		goto fail;
	FUZZ_CHECK(r == 0 && nc == 3);
	return 0;
fail:
	mesh_topo_free(t);
	return -1;
}

static uint8_t *encode_all(const struct mesh_topology *t, size_t *len)
{
	size_t need = mesh_topo_encoded_size(t);
	uint8_t *out = malloc(need);
	if (!out)
		return NULL;
	ssize_t n = mesh_topo_encode(t, NULL, 0, out, need);
	FUZZ_CHECK(n >= 2 && (size_t)n == need);
	*len = need;
	return out;
}

static void check_changed(const struct mesh_topology *t, const struct mesh_peer_name *ch, size_t nc, size_t cap)
{
	size_t shown = nc < cap ? nc : cap;
	for (size_t i = 0; i < shown; i++) {
		FUZZ_CHECK(mesh_topo_find(t, &ch[i]) != NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(!mesh_peer_name_eq(&ch[i], &ch[j]));
	}
}

#define CHANGED_CAP 16

static void after_accept(struct mesh_topology *t, const uint8_t *data, size_t size, int r0)
{
	struct mesh_peer_name ch[CHANGED_CAP];
	size_t nc = 0;
	const char *why = NULL;

	/* idempotent (unless our own version is stuck at its ceiling) */
	int r = mesh_topo_merge(t, data, size, NOW, ch, CHANGED_CAP, &nc, &why);
	if (r == -ENOMEM)
		return;
	FUZZ_CHECK(r == r0); /* the same far-ahead entries ignored again */
	FUZZ_CHECK(nc == 0 || (nc == 1 && mesh_topo_self(t)->version == UINT64_MAX));
	check_invariants(t);

	size_t len;
	uint8_t *all = encode_all(t, &len);
	if (!all)
		return;
	/* one byte short: refused, and nothing written past the end */
	uint8_t *shortbuf = malloc(len - 1 ? len - 1 : 1);
	if (shortbuf) {
		FUZZ_CHECK(mesh_topo_encode(t, NULL, 0, shortbuf, len - 1) == -EMSGSIZE);
		free(shortbuf);
	}

	/* our own full state, merged into a fresh us: the same topology */
	struct mesh_topology f;
	const struct mesh_topo_peer *s = mesh_topo_self(t);
	if (mesh_topo_init(&f, &SELF, s->nickname, s->uid, s->version - 1, s->short_id) == 0) {
		if (mesh_topo_set_self_conns(&f, s->conns, s->nconns) == 0) {
			FUZZ_CHECK(mesh_topo_self(&f)->version == s->version);
			uint8_t *copy = fuzz_dup(all, len);
			if (copy) {
				r = mesh_topo_merge(&f, copy, len, NOW, ch, CHANGED_CAP, &nc, &why);
				free(copy);
				if (r == 0) {
					FUZZ_CHECK(nc == t->n - 1);
					check_changed(&f, ch, nc, CHANGED_CAP);
					check_invariants(&f);
					FUZZ_CHECK(topo_eq(t, &f));
					/* and f encodes to the same length (its order may differ) */
					FUZZ_CHECK(mesh_topo_encoded_size(&f) == len);
				} else {
					FUZZ_CHECK(r == -ENOMEM);
				}
			}
		}
		mesh_topo_free(&f);
	}

	/* every strict prefix of a valid encoding is refused, and changes nothing */
	for (size_t cut = 0; cut < len; cut += 1 + cut / 4) {
		uint8_t *p = fuzz_dup(all, cut);
		if (!p)
			break;
		size_t n_before = t->n;
		why = NULL;
		r = mesh_topo_merge(t, p, cut, NOW, ch, CHANGED_CAP, &nc, &why);
		FUZZ_CHECK(r == -EBADMSG && why != NULL && nc == 0);
		FUZZ_CHECK(t->n == n_before);
		free(p);
	}
	free(all);

	/* forgetting keeps the invariants; a second call at the same time forgets nothing more
	 * than the first left behind (grace 0 removes everything at once) */
	size_t n_before = t->n;
	size_t gone = mesh_topo_forget_unreachable(t, 5000, 0);
	FUZZ_CHECK(gone < n_before && t->n == n_before - gone);
	check_invariants(t);
	FUZZ_CHECK(mesh_topo_forget_unreachable(t, 5000, 0) == 0);
	for (size_t i = 1; i < t->n; i++)
		FUZZ_CHECK(t->peers[i].unreachable_since_ms == 0);
}

FUZZ_ENTRY(topology)(const uint8_t *data, size_t size)
{
	struct mesh_topology t;
	if (setup(&t) < 0)
		return 0;

	size_t blen;
	uint8_t *before = encode_all(&t, &blen);
	if (!before) {
		mesh_topo_free(&t);
		return 0;
	}
	uint64_t self_version = mesh_topo_self(&t)->version;

	struct mesh_peer_name ch[CHANGED_CAP];
	size_t nc = 12345;
	const char *why = NULL;
	int r = mesh_topo_merge(&t, data, size, NOW, ch, CHANGED_CAP, &nc, &why);
	check_invariants(&t);
	if (r < 0) {
		FUZZ_CHECK(r == -EBADMSG || r == -ENOMEM);
		FUZZ_CHECK(nc == 0);
		if (r == -EBADMSG)
			FUZZ_CHECK(why != NULL && why[0] != '\0');
		/* nothing changed */
		size_t alen;
		uint8_t *after = encode_all(&t, &alen);
		if (after) {
			FUZZ_CHECK(alen == blen && memcmp(before, after, blen) == 0);
			free(after);
		}
	} else {
		FUZZ_CHECK((r == 0) == (why == NULL));
		FUZZ_CHECK(size >= 2);
		FUZZ_CHECK(mesh_topo_self(&t)->version <= NOW + MESH_VERSION_AHEAD_MAX_MS + 1);
		for (size_t i = 1; i < t.n; i++)
			FUZZ_CHECK(!mesh_version_too_far_ahead(t.peers[i].version, NOW));
		size_t count = (size_t)data[0] << 8 | data[1];
		FUZZ_CHECK(count <= MESH_TOPO_MAX_PEERS);
		FUZZ_CHECK(nc <= count);
		FUZZ_CHECK(t.n <= 4 + count);
		FUZZ_CHECK(mesh_topo_self(&t)->version >= self_version);
		FUZZ_CHECK(mesh_topo_self(&t)->uid == 0x1111 && mesh_topo_self(&t)->nconns == 2);
		check_changed(&t, ch, nc, CHANGED_CAP);
		after_accept(&t, data, size, r);
	}
	free(before);
	mesh_topo_free(&t);
	return 0;
}
