/* tests/unit/test_topology.c: the topology model, its wire format, merge rules and forgetting
 * (gossip/topology.c), and the summary two routers exchange instead of full states
 * (gossip/topo_summary.c). */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/topo_summary.h"
#include "gossip/topology.h"
#include "mesh/bytes.h"
#include "mesh/clock.h"

#define SELF_UID 0x5e1f5e1f5e1f5e1full
#define SELF_VERSION 1000
#define NOW 1700000000000ull /* the wall clock at every merge, ms */
#define FAR (NOW + MESH_VERSION_AHEAD_MAX_MS) /* the highest version taken at NOW */

static struct mesh_peer_name nm(unsigned i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, (uint8_t)(i >> 8), (uint8_t)i } };
	return n;
}

static void init_self(struct mesh_topology *t, unsigned self)
{
	struct mesh_peer_name s = nm(self);
	cr_assert_eq(mesh_topo_init(t, &s, "self", SELF_UID, SELF_VERSION, 7), 0);
}

static struct mesh_topo_conn conn(unsigned peer, uint8_t flags)
{
	struct mesh_topo_conn c;
	memset(&c, 0, sizeof(c));
	c.peer = nm(peer);
	c.ip = htobe32(0x0a000000u | peer);
	c.port = 6783;
	c.flags = flags;
	if (peer >= 40) { /* reached over IPv6: 2001:db8::<peer> */
		c.ip = 0;
		c.ip6[0] = 0x20, c.ip6[1] = 0x01, c.ip6[2] = 0x0d, c.ip6[3] = 0xb8;
		c.ip6[15] = (uint8_t)peer;
		c.flags |= MESH_TOPO_CONN_IPV6;
	}
	return c;
}

/* A free-standing entry for building updates; its conns are owned by the caller's array. */
static struct mesh_topo_peer entry(unsigned name, uint64_t version, uint64_t uid, struct mesh_topo_conn *conns,
				   unsigned nconns)
{
	struct mesh_topo_peer p;
	memset(&p, 0, sizeof(p));
	p.name = nm(name);
	snprintf(p.nickname, sizeof(p.nickname), "host-%u", name);
	p.version = version;
	p.uid = uid;
	p.short_id = (uint16_t)(name & 0xfff);
	p.conns = conns;
	p.nconns = nconns;
	return p;
}

/* Encodes free-standing entries as one update (through mesh_topo_encode on a hand-made
 * topology, so the entries need not make sense as one router's view). */
static size_t encode_entries(const struct mesh_topo_peer *e, size_t n, uint8_t *out, size_t cap)
{
	struct mesh_topology tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.peers = (struct mesh_topo_peer *)e;
	tmp.n = tmp.cap = n;
	if (n)
		tmp.self = e[0].name;
	ssize_t r = mesh_topo_encode(&tmp, NULL, 0, out, cap);
	cr_assert_geq(r, 2, "encode failed: %zd", r);
	cr_assert_eq((size_t)r, mesh_topo_encoded_size(&tmp));
	return (size_t)r;
}

static int merge(struct mesh_topology *t, const uint8_t *b, size_t n, size_t *nchanged)
{
	const char *why = NULL;
	struct mesh_peer_name ch[64];
	int r = mesh_topo_merge(t, b, n, NOW, ch, 64, nchanged, &why);
	if (r == -EBADMSG)
		cr_assert(why && why[0], "no reason for a refused update");
	return r;
}

static bool conn_eq(const struct mesh_topo_conn *a, const struct mesh_topo_conn *b)
{
	return mesh_peer_name_eq(&a->peer, &b->peer) && a->ip == b->ip && a->port == b->port &&
	       a->flags == b->flags && memcmp(a->ip6, b->ip6, 16) == 0;
}

static bool peer_eq(const struct mesh_topo_peer *a, const struct mesh_topo_peer *b)
{
	if (!mesh_peer_name_eq(&a->name, &b->name) || strcmp(a->nickname, b->nickname) != 0 ||
	    a->uid != b->uid || a->version != b->version || a->short_id != b->short_id ||
	    a->nconns != b->nconns)
		return false;
	for (unsigned i = 0; i < a->nconns; i++)
		if (!conn_eq(&a->conns[i], &b->conns[i]))
			return false;
	return true;
}

/* Same entries (in any order after entry 0), same fields. */
static bool topo_eq(const struct mesh_topology *a, const struct mesh_topology *b)
{
	if (a->n != b->n || !mesh_peer_name_eq(&a->self, &b->self))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mesh_topo_peer *q = mesh_topo_find(b, &a->peers[i].name);
		if (!q || !peer_eq(&a->peers[i], q))
			return false;
	}
	return true;
}

/* A deep copy, to compare against after a merge. */
static void topo_clone(struct mesh_topology *dst, const struct mesh_topology *src)
{
	*dst = *src;
	dst->index = NULL; /* the original's; without one, lookups in the copy walk it */
	dst->id = 0;        /* nor is it the same topology to a cache */
	dst->peers = calloc(src->cap, sizeof(*dst->peers));
	cr_assert_not_null(dst->peers);
	memcpy(dst->peers, src->peers, src->n * sizeof(*src->peers));
	for (size_t i = 0; i < src->n; i++) {
		if (!src->peers[i].nconns) {
			dst->peers[i].conns = NULL;
			continue;
		}
		dst->peers[i].conns = malloc(src->peers[i].nconns * sizeof(struct mesh_topo_conn));
		cr_assert_not_null(dst->peers[i].conns);
		memcpy(dst->peers[i].conns, src->peers[i].conns,
		       src->peers[i].nconns * sizeof(struct mesh_topo_conn));
	}
}

static void check_invariants(const struct mesh_topology *t)
{
	cr_assert_geq(t->n, 1);
	cr_assert_leq(t->n, t->cap);
	cr_assert_leq(t->n, MESH_TOPO_MAX_PEERS);
	cr_assert(mesh_peer_name_eq(&t->peers[0].name, &t->self), "entry 0 is not us");
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++)
			cr_assert(!mesh_peer_name_eq(&t->peers[i].name, &t->peers[j].name),
				  "entries %zu and %zu have the same name", i, j);
}

/* --- wire format and round trips ----------------------------------------------------------- */

Test(topology, wire_format_is_the_documented_one)
{
	uint8_t m[128];
	size_t n = 0;
	put_be16(m, 1);
	n = 2;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x09", 6); n += 6;
	m[n++] = 3;
	memcpy(m + n, "abc", 3); n += 3;
	put_be64(m + n, 0x1122334455667788ull); n += 8;
	put_be64(m + n, 0x0000018bcfe56801ull); n += 8; /* NOW + 1 */
	put_be16(m + n, 0x0abc); n += 2;
	put_be16(m + n, 2); n += 2;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x01", 6); n += 6;
	memcpy(m + n, "\xc0\xa8\x01\x02", 4); n += 4;
	put_be16(m + n, 6783); n += 2;
	m[n++] = MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_ESTABLISHED;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x02", 6); n += 6;
	memcpy(m + n, "\x0a\x00\x00\x01", 4); n += 4;
	put_be16(m + n, 1); n += 2;
	m[n++] = 0;

	struct mesh_topology t;
	init_self(&t, 1);
	size_t nc = 99;
	cr_assert_eq(merge(&t, m, n, &nc), 0);
	cr_assert_eq(nc, 1);
	struct mesh_peer_name p9 = nm(9);
	const struct mesh_topo_peer *p = mesh_topo_find(&t, &p9);
	cr_assert_not_null(p);
	cr_assert_str_eq(p->nickname, "abc");
	cr_assert_eq(p->uid, 0x1122334455667788ull);
	cr_assert_eq(p->version, 0x0000018bcfe56801ull);
	cr_assert_eq(p->short_id, 0xabc);
	cr_assert_eq(p->nconns, 2);
	cr_assert(mesh_peer_name_eq(&p->conns[0].peer, &(struct mesh_peer_name){ { 2, 0, 0, 0, 0, 1 } }));
	cr_assert_eq(be32toh(p->conns[0].ip), 0xc0a80102u);
	cr_assert_eq(p->conns[0].port, 6783);
	cr_assert_eq(p->conns[0].flags, 3);
	cr_assert_eq(be32toh(p->conns[1].ip), 0x0a000001u);
	cr_assert_eq(p->conns[1].port, 1);
	cr_assert_eq(p->conns[1].flags, 0);

	/* encoding just that entry gives the same bytes back */
	uint8_t out[128];
	cr_assert_eq(mesh_topo_encode(&t, &p9, 1, out, sizeof(out)), (ssize_t)n);
	cr_assert_arr_eq(out, m, n);
	mesh_topo_free(&t);
}

/* An IPv6 connection (issue 18): flag bit 2, the IPv4 field zero, 16 address bytes after the
 * flags; an IPv4 connection beside it keeps its 13 bytes. */
Test(topology, ipv6_connection_wire_format)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0x6d, 0, 0, 0, 0, 0, 0, 0, 2 };
	uint8_t m[128];
	size_t n = 0;
	put_be16(m, 1);
	n = 2;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x09", 6); n += 6;
	m[n++] = 1;
	m[n++] = 'x';
	put_be64(m + n, 7); n += 8;
	put_be64(m + n, 0x0000018bcfe56801ull); n += 8;
	put_be16(m + n, 1); n += 2;
	put_be16(m + n, 2); n += 2;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x01", 6); n += 6;
	memset(m + n, 0, 4); n += 4;
	put_be16(m + n, 6783); n += 2;
	m[n++] = MESH_TOPO_CONN_IPV6 | MESH_TOPO_CONN_ESTABLISHED;
	memcpy(m + n, v6, 16); n += 16;
	memcpy(m + n, "\x02\x00\x00\x00\x00\x02", 6); n += 6;
	memcpy(m + n, "\xc6\x12\x00\x03", 4); n += 4;
	put_be16(m + n, 6783); n += 2;
	m[n++] = MESH_TOPO_CONN_OUTBOUND;

	struct mesh_topology t;
	init_self(&t, 1);
	size_t nc = 0;
	cr_assert_eq(merge(&t, m, n, &nc), 0);
	struct mesh_peer_name p9 = nm(9);
	const struct mesh_topo_peer *p = mesh_topo_find(&t, &p9);
	cr_assert_not_null(p);
	cr_assert_eq(p->nconns, 2);
	struct mesh_addr a;
	char txt[MESH_ADDR_STRLEN];
	mesh_topo_conn_addr(&p->conns[0], &a);
	mesh_addr_format(&a, txt, sizeof(txt));
	cr_assert_str_eq(txt, "[2001:2:0:6d::2]:6783");
	mesh_topo_conn_addr(&p->conns[1], &a);
	mesh_addr_format(&a, txt, sizeof(txt));
	cr_assert_str_eq(txt, "198.18.0.3:6783");
	uint8_t out[128];
	cr_assert_eq(mesh_topo_encode(&t, &p9, 1, out, sizeof(out)), (ssize_t)n);
	cr_assert_arr_eq(out, m, n);

	/* refused whole: an IPv4 field beside the IPv6 address, or the address cut short */
	uint8_t bad[128];
	memcpy(bad, m, n);
	bad[2 + 6 + 2 + 8 + 8 + 2 + 2 + 6] = 1;
	const char *why = NULL;
	struct mesh_topology u;
	init_self(&u, 1);
	cr_assert_eq(mesh_topo_merge(&u, bad, n, NOW, NULL, 0, NULL, &why), -EBADMSG);
	cr_assert(strstr(why, "non-zero IPv4"), "%s", why);
	size_t cut = 2 + 6 + 2 + 8 + 8 + 2 + 2 + 13 + 8;
	put_be16(bad, 1);
	memcpy(bad, m, cut);
	put_be16(bad + 2 + 6 + 2 + 8 + 8 + 2, 1);
	cr_assert_eq(mesh_topo_merge(&u, bad, cut, NOW, NULL, 0, NULL, &why), -EBADMSG);
	cr_assert(strstr(why, "IPv6 connection address"), "%s", why);
	cr_assert_eq(u.n, 1, "nothing merged");

	/* the setter picks the form from the address */
	struct mesh_topo_conn c = { .flags = MESH_TOPO_CONN_OUTBOUND };
	struct mesh_addr v6a, v4a;
	cr_assert_eq(mesh_addr_parse("[2001:db8::1]:7", 1, &v6a, NULL), 0);
	cr_assert_eq(mesh_addr_parse("1.2.3.4:8", 1, &v4a, NULL), 0);
	mesh_topo_conn_set_addr(&c, &v6a);
	cr_assert_eq(c.flags, MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_IPV6);
	cr_assert_eq(c.ip, 0);
	mesh_topo_conn_set_addr(&c, &v4a);
	cr_assert_eq(c.flags, MESH_TOPO_CONN_OUTBOUND);
	mesh_topo_conn_addr(&c, &a);
	cr_assert(mesh_addr_eq(&a, &v4a));
	mesh_topo_free(&u);
	mesh_topo_free(&t);
}

Test(topology, encode_decode_round_trip)
{
	struct mesh_topology a, b;
	init_self(&a, 1);
	struct mesh_topo_conn cs[3] = { conn(2, 3), conn(3, 1), conn(40, 0) };
	cr_assert_eq(mesh_topo_set_self_conns(&a, cs, 3), 0);
	/* a second and third peer, learnt by gossip */
	struct mesh_topo_conn c2[1] = { conn(1, 3) };
	struct mesh_topo_peer e[2] = { entry(2, 50, 9, c2, 1), entry(3, 60, 8, NULL, 0) };
	uint8_t m[4096];
	size_t n = encode_entries(e, 2, m, sizeof(m));
	size_t nc;
	cr_assert_eq(merge(&a, m, n, &nc), 0);
	cr_assert_eq(nc, 2);

	size_t need = mesh_topo_encoded_size(&a);
	ssize_t len = mesh_topo_encode(&a, NULL, 0, m, sizeof(m));
	cr_assert_eq((size_t)len, need);
	/* every smaller buffer is refused */
	for (size_t cap = 0; cap < need; cap++)
		cr_assert_eq(mesh_topo_encode(&a, NULL, 0, m, cap), -EMSGSIZE);
	len = mesh_topo_encode(&a, NULL, 0, m, need);
	cr_assert_eq((size_t)len, need);

	/* another router hears it all */
	init_self(&b, 77);
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	cr_assert_eq(nc, 3);
	cr_assert_eq(b.n, 4);
	for (size_t i = 0; i < a.n; i++) {
		const struct mesh_topo_peer *q = mesh_topo_find(&b, &a.peers[i].name);
		cr_assert_not_null(q);
		cr_assert(peer_eq(&a.peers[i], q), "entry %zu differs after the round trip", i);
	}
	/* ... and hearing it again changes nothing */
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	cr_assert_eq(nc, 0);
	mesh_topo_free(&a);
	mesh_topo_free(&b);
}

Test(topology, encode_selected_names)
{
	struct mesh_topology a, b;
	init_self(&a, 1);
	struct mesh_topo_peer e[3] = { entry(2, 5, 1, NULL, 0), entry(3, 5, 1, NULL, 0), entry(4, 5, 1, NULL, 0) };
	uint8_t m[1024];
	size_t nc, n = encode_entries(e, 3, m, sizeof(m));
	cr_assert_eq(merge(&a, m, n, &nc), 0);

	/* 3 twice, 4, and an unknown name: 3 and 4 once each */
	struct mesh_peer_name sel[4] = { nm(3), nm(4), nm(3), nm(99) };
	ssize_t len = mesh_topo_encode(&a, sel, 4, m, sizeof(m));
	cr_assert_gt(len, 2);
	cr_assert_eq(get_be16(m), 2);
	init_self(&b, 50);
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	cr_assert_eq(nc, 2);
	cr_assert_eq(b.n, 3);
	cr_assert_not_null(mesh_topo_find(&b, &sel[0]));
	cr_assert_not_null(mesh_topo_find(&b, &sel[1]));

	/* nothing selected: an empty update, which is valid and changes nothing */
	len = mesh_topo_encode(&a, sel + 3, 1, m, sizeof(m));
	cr_assert_eq(len, 2);
	cr_assert_eq(merge(&b, m, 2, &nc), 0);
	cr_assert_eq(nc, 0);
	mesh_topo_free(&a);
	mesh_topo_free(&b);
}

Test(topology, set_self_conns_and_short_id_bump_the_version)
{
	struct mesh_topology a, b;
	init_self(&a, 1);
	struct mesh_topo_conn cs[2] = { conn(2, 3), conn(3, 1) };
	cr_assert_eq(mesh_topo_set_self_conns(&a, cs, 2), 0);
	cr_assert_eq(mesh_topo_self(&a)->version, SELF_VERSION + 1);
	cr_assert_eq(mesh_topo_self(&a)->nconns, 2);
	cs[0].port = 1; /* copied, not referenced */
	cr_assert_eq(mesh_topo_self(&a)->conns[0].port, 6783);

	mesh_topo_set_self_short_id(&a, 0x123);
	cr_assert_eq(mesh_topo_self(&a)->version, SELF_VERSION + 2);
	cr_assert_eq(mesh_topo_self(&a)->short_id, 0x123);

	/* what every receiver would refuse is refused here */
	struct mesh_topo_conn bad = conn(2, 0x08);
	cr_assert_eq(mesh_topo_set_self_conns(&a, &bad, 1), -EINVAL);
	cr_assert_eq(mesh_topo_set_self_conns(&a, cs, MESH_TOPO_MAX_CONNS + 1), -EINVAL);
	cr_assert_eq(mesh_topo_self(&a)->version, SELF_VERSION + 2);

	/* the others see the new list with the new version */
	init_self(&b, 9);
	uint8_t m[1024];
	size_t nc;
	ssize_t len = mesh_topo_encode(&a, NULL, 0, m, sizeof(m));
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	struct mesh_peer_name n1 = nm(1);
	const struct mesh_topo_peer *p = mesh_topo_find(&b, &n1);
	cr_assert(peer_eq(p, mesh_topo_self(&a)));

	/* an empty list is a list too: bumped, and it replaces the old one at the others */
	cr_assert_eq(mesh_topo_set_self_conns(&a, NULL, 0), 0);
	cr_assert_eq(mesh_topo_self(&a)->version, SELF_VERSION + 3);
	cr_assert_eq(mesh_topo_self(&a)->nconns, 0);
	len = mesh_topo_encode(&a, &n1, 1, m, sizeof(m));
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	cr_assert_eq(nc, 1);
	p = mesh_topo_find(&b, &n1);
	cr_assert_eq(p->nconns, 0);
	cr_assert_eq(p->version, SELF_VERSION + 3);
	mesh_topo_free(&a);
	mesh_topo_free(&b);
}

/* --- malformed updates --------------------------------------------------------------------- */

/* A topology with some state, an update, and the check that a refused update changed nothing. */
struct fixture {
	struct mesh_topology t, before;
};

static void fixture_init(struct fixture *f)
{
	init_self(&f->t, 1);
	struct mesh_topo_conn cs[2] = { conn(2, 3), conn(3, 1) };
	cr_assert_eq(mesh_topo_set_self_conns(&f->t, cs, 2), 0);
	struct mesh_topo_conn c2[1] = { conn(1, 3) };
	struct mesh_topo_peer e[2] = { entry(2, 10, 1, c2, 1), entry(3, 10, 1, NULL, 0) };
	uint8_t m[512];
	size_t nc, n = encode_entries(e, 2, m, sizeof(m));
	cr_assert_eq(merge(&f->t, m, n, &nc), 0);
	topo_clone(&f->before, &f->t);
}

static void expect_refused(struct fixture *f, const uint8_t *m, size_t n, const char *what)
{
	const char *why = NULL;
	struct mesh_peer_name ch[8];
	size_t nc = 1234;
	uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees an overread */
	cr_assert_not_null(copy);
	memcpy(copy, m, n);
	int r = mesh_topo_merge(&f->t, copy, n, NOW, ch, 8, &nc, &why);
	free(copy);
	cr_assert_eq(r, -EBADMSG, "%s: accepted (%d)", what, r);
	cr_assert(why && why[0], "%s: no reason", what);
	cr_assert_eq(nc, 0, "%s: nchanged %zu", what, nc);
	cr_assert(topo_eq(&f->t, &f->before), "%s: the topology changed", what);
	check_invariants(&f->t);
}

static void fixture_free(struct fixture *f)
{
	mesh_topo_free(&f->t);
	mesh_topo_free(&f->before);
}

/* A valid update of two new entries (names 20 and 21), with offsets of the fields to spoil. */
struct valid_update {
	uint8_t m[512];
	size_t n;
	size_t e0, e1;            /* entry starts */
	size_t nick_len0, short0, nconns0, flags0;
};

static void valid_update(struct valid_update *u)
{
	struct mesh_topo_conn c[2] = { conn(1, 3), conn(5, 1) };
	struct mesh_topo_peer e[2] = { entry(20, 10, 1, c, 2), entry(21, 10, 1, NULL, 0) };
	u->n = encode_entries(e, 2, u->m, sizeof(u->m));
	u->e0 = 2;
	u->nick_len0 = u->e0 + 6;
	size_t nick = u->m[u->nick_len0];
	u->short0 = u->nick_len0 + 1 + nick + 16;
	u->nconns0 = u->short0 + 2;
	u->flags0 = u->nconns0 + 2 + 12;
	u->e1 = u->nconns0 + 2 + 2 * 13;
}

Test(topology, malformed_updates_are_refused_whole)
{
	struct fixture f;
	fixture_init(&f);
	struct valid_update u;
	uint8_t m[512];
	valid_update(&u);

	expect_refused(&f, u.m, 0, "empty");
	expect_refused(&f, u.m, 1, "one byte");
	for (size_t cut = 2; cut < u.n; cut++) {
		char what[64];
		snprintf(what, sizeof(what), "truncated to %zu bytes", cut);
		expect_refused(&f, u.m, cut, what);
	}

	memcpy(m, u.m, u.n); m[u.n] = 0;
	expect_refused(&f, m, u.n + 1, "trailing byte");
	m[0] = 0; m[1] = 0;
	expect_refused(&f, m, 3, "zero entries and a trailing byte");

	memcpy(m, u.m, u.n); put_be16(m, 3);
	expect_refused(&f, m, u.n, "count larger than the entries");
	memcpy(m, u.m, u.n); put_be16(m, 1);
	expect_refused(&f, m, u.n, "count smaller than the entries (trailing entry)");
	memcpy(m, u.m, u.n); put_be16(m, MESH_TOPO_MAX_PEERS + 1);
	expect_refused(&f, m, u.n, "count above MESH_TOPO_MAX_PEERS");
	memcpy(m, u.m, u.n); put_be16(m, 0xffff);
	expect_refused(&f, m, u.n, "count 65535");

	/* nickname: empty, 64 bytes, a space, DEL, a NUL */
	memcpy(m, u.m, u.n); m[u.nick_len0] = 0;
	expect_refused(&f, m, u.n, "empty nickname");
	{
		uint8_t big[512];
		size_t k = 0;
		memcpy(big, u.m, u.nick_len0); k = u.nick_len0;
		big[k++] = 64;
		memset(big + k, 'x', 64); k += 64;
		size_t rest = u.nick_len0 + 1 + u.m[u.nick_len0];
		memcpy(big + k, u.m + rest, u.n - rest); k += u.n - rest;
		expect_refused(&f, big, k, "64-byte nickname");
		big[u.nick_len0] = 63;
		big[u.nick_len0 + 1 + 63] = 'x';
		/* 63 is fine as a length, but then the bytes no longer line up: malformed too */
		expect_refused(&f, big, k, "misaligned after a 63-byte nickname");
	}
	memcpy(m, u.m, u.n); m[u.nick_len0 + 2] = ' ';
	expect_refused(&f, m, u.n, "nickname with a space");
	memcpy(m, u.m, u.n); m[u.nick_len0 + 2] = 0x7f;
	expect_refused(&f, m, u.n, "nickname with DEL");
	memcpy(m, u.m, u.n); m[u.nick_len0 + 1] = 0;
	expect_refused(&f, m, u.n, "nickname with NUL");
	memcpy(m, u.m, u.n); m[u.nick_len0 + 1] = 0xc3;
	expect_refused(&f, m, u.n, "nickname with a high byte");

	memcpy(m, u.m, u.n); put_be16(m + u.short0, 4096);
	expect_refused(&f, m, u.n, "short id 4096");
	memcpy(m, u.m, u.n); put_be16(m + u.short0, 0xffff);
	expect_refused(&f, m, u.n, "short id 65535");

	for (unsigned bit = 2; bit < 8; bit++) {
		memcpy(m, u.m, u.n); m[u.flags0] |= (uint8_t)(1u << bit);
		expect_refused(&f, m, u.n, "unknown connection flag bit");
	}
	memcpy(m, u.m, u.n); m[u.flags0 + 13] = 0x83;
	expect_refused(&f, m, u.n, "unknown flag bit on the second connection");

	/* the same peer twice, adjacent or not, same content or not */
	memcpy(m, u.m, u.n); memcpy(m + u.e1, m + u.e0, 6);
	expect_refused(&f, m, u.n, "same name twice");
	{
		struct mesh_topo_peer e[3] = { entry(20, 10, 1, NULL, 0), entry(22, 1, 1, NULL, 0),
					       entry(20, 10, 1, NULL, 0) };
		size_t n = encode_entries(e, 3, m, sizeof(m));
		expect_refused(&f, m, n, "identical entry twice");
		e[2].version = 11;
		n = encode_entries(e, 3, m, sizeof(m));
		expect_refused(&f, m, n, "same name twice, different versions");
		e[0] = entry(1, SELF_VERSION + 50, 3, NULL, 0);
		e[2] = entry(1, SELF_VERSION + 60, 4, NULL, 0);
		n = encode_entries(e, 3, m, sizeof(m));
		expect_refused(&f, m, n, "our own name twice");
	}

	/* a good first entry and a bad second one: the first is not merged either */
	memcpy(m, u.m, u.n); m[u.e1 + 6] = 0;
	expect_refused(&f, m, u.n, "second entry has an empty nickname");
	fixture_free(&f);
}

Test(topology, too_many_connections_is_refused)
{
	struct fixture f;
	fixture_init(&f);
	size_t n = MESH_TOPO_MAX_CONNS + 1;
	struct mesh_topo_conn *c = calloc(n, sizeof(*c));
	cr_assert_not_null(c);
	for (size_t i = 0; i < n; i++)
		c[i] = conn((unsigned)i, 1);
	struct mesh_topo_peer e = entry(30, 1, 1, c, (unsigned)n);
	size_t cap = 64 + n * (13 + 16); /* conn() makes peers from 40 on IPv6 */
	uint8_t *m = malloc(cap);
	cr_assert_not_null(m);
	size_t len = encode_entries(&e, 1, m, cap);
	expect_refused(&f, m, len, "1025 connections (all present)");
	/* exactly the limit is fine */
	e.nconns = MESH_TOPO_MAX_CONNS;
	len = encode_entries(&e, 1, m, cap);
	size_t nc;
	cr_assert_eq(merge(&f.t, m, len, &nc), 0);
	cr_assert_eq(nc, 1);
	struct mesh_peer_name n30 = nm(30);
	cr_assert_eq(mesh_topo_find(&f.t, &n30)->nconns, MESH_TOPO_MAX_CONNS);
	free(m);
	free(c);
	fixture_free(&f);
}

Test(topology, peer_limit_is_kept_and_the_array_grows)
{
	struct mesh_topology t;
	init_self(&t, 0xfff);
	size_t max_others = MESH_TOPO_MAX_PEERS - 1;
	struct mesh_topo_peer *e = calloc(max_others + 1, sizeof(*e));
	cr_assert_not_null(e);
	for (size_t i = 0; i <= max_others; i++)
		e[i] = entry((unsigned)(0x1000 + i), 1, 1, NULL, 0);
	size_t cap = 2 + (max_others + 1) * 64;
	uint8_t *m = malloc(cap);
	cr_assert_not_null(m);
	/* half, then the other half but one */
	size_t nc, len = encode_entries(e, max_others / 2, m, cap);
	cr_assert_eq(merge(&t, m, len, &nc), 0);
	cr_assert_eq(nc, max_others / 2);
	len = encode_entries(e, max_others, m, cap);
	cr_assert_eq(merge(&t, m, len, &nc), 0);
	cr_assert_eq(nc, max_others - max_others / 2);
	cr_assert_eq(t.n, MESH_TOPO_MAX_PEERS);
	check_invariants(&t);
	for (size_t i = 0; i < max_others; i++)
		cr_assert_not_null(mesh_topo_find(&t, &e[i].name));
	/* one more would pass the limit: refused, nothing changed (not even the known ones) */
	e[0].version = 2;
	struct mesh_topo_peer two[2] = { e[0], e[max_others] };
	len = encode_entries(two, 2, m, cap);
	const char *why = NULL;
	cr_assert_eq(mesh_topo_merge(&t, m, len, NOW, NULL, 0, &nc, &why), -EBADMSG);
	cr_assert_not_null(why);
	cr_assert_eq(t.n, MESH_TOPO_MAX_PEERS);
	cr_assert_eq(mesh_topo_find(&t, &e[0].name)->version, 1);
	/* a newer version of a known one still merges */
	len = encode_entries(two, 1, m, cap);
	cr_assert_eq(merge(&t, m, len, &nc), 0);
	cr_assert_eq(nc, 1);
	/* the full state still encodes, and a fresh topology with the same self takes it all */
	size_t need = mesh_topo_encoded_size(&t);
	uint8_t *all = malloc(need);
	cr_assert_not_null(all);
	cr_assert_eq(mesh_topo_encode(&t, NULL, 0, all, need), (ssize_t)need);
	struct mesh_topology u;
	init_self(&u, 0xfff);
	cr_assert_eq(merge(&u, all, need, &nc), 0);
	cr_assert_eq(nc, max_others);
	cr_assert(topo_eq(&t, &u));
	free(all);
	free(m);
	free(e);
	mesh_topo_free(&t);
	mesh_topo_free(&u);
}

/* --- merge rules --------------------------------------------------------------------------- */

static const struct mesh_topo_peer *merge_one(struct mesh_topology *t, struct mesh_topo_peer e, size_t *nc)
{
	uint8_t m[1024];
	size_t n = encode_entries(&e, 1, m, sizeof(m));
	cr_assert_eq(merge(t, m, n, nc), 0);
	return mesh_topo_find(t, &e.name);
}

Test(topology, newer_version_wins_older_is_ignored_equal_version_higher_uid_wins)
{
	struct mesh_topology t;
	init_self(&t, 1);
	size_t nc;
	struct mesh_topo_conn c1[2] = { conn(1, 3), conn(3, 1) }, c2[1] = { conn(4, 2) };
	const struct mesh_topo_peer *p = merge_one(&t, entry(2, 100, 50, c1, 2), &nc);
	cr_assert_eq(nc, 1);
	cr_assert_eq(p->version, 100);
	cr_assert_eq(p->nconns, 2);

	p = merge_one(&t, entry(2, 101, 1, c2, 1), &nc); /* newer version, lower uid */
	cr_assert_eq(nc, 1);
	cr_assert_eq(p->version, 101);
	cr_assert_eq(p->uid, 1);
	cr_assert_eq(p->nconns, 1, "connections are replaced whole");
	cr_assert(conn_eq(&p->conns[0], &c2[0]));

	p = merge_one(&t, entry(2, 100, 999, c1, 2), &nc); /* older version, higher uid */
	cr_assert_eq(nc, 0);
	cr_assert_eq(p->version, 101);
	cr_assert_eq(p->nconns, 1);

	p = merge_one(&t, entry(2, 101, 0, c1, 2), &nc); /* equal version, lower uid */
	cr_assert_eq(nc, 0);
	cr_assert_eq(p->uid, 1);

	p = merge_one(&t, entry(2, 101, 1, c1, 2), &nc); /* equal version and uid */
	cr_assert_eq(nc, 0);
	cr_assert_eq(p->nconns, 1);

	struct mesh_topo_peer e = entry(2, 101, 2, NULL, 0); /* equal version, higher uid */
	snprintf(e.nickname, sizeof(e.nickname), "reborn");
	e.short_id = 0xfff;
	p = merge_one(&t, e, &nc);
	cr_assert_eq(nc, 1);
	cr_assert_eq(p->uid, 2);
	cr_assert_eq(p->nconns, 0);
	cr_assert_null(p->conns);
	cr_assert_str_eq(p->nickname, "reborn");
	cr_assert_eq(p->short_id, 0xfff);

	p = merge_one(&t, entry(2, FAR, 0, c1, 2), &nc);
	cr_assert_eq(nc, 1);
	cr_assert_eq(p->version, FAR);
	cr_assert_eq(t.n, 2);
	check_invariants(&t);
	mesh_topo_free(&t);
}

Test(topology, versions_far_ahead_of_the_clock_are_never_taken)
{
	struct mesh_topology t;
	init_self(&t, 1);
	uint8_t m[1024];
	size_t n, nc;
	const char *why;
	struct mesh_peer_name ch[4];

	/* a new peer at UINT64_MAX, or just past a day ahead: not added */
	static const uint64_t absurd[] = { UINT64_MAX, UINT64_MAX - 1, FAR + 1 };
	for (size_t i = 0; i < sizeof(absurd) / sizeof(absurd[0]); i++) {
		struct mesh_topo_peer e = entry(2, absurd[i], 7, NULL, 0);
		n = encode_entries(&e, 1, m, sizeof(m));
		why = NULL;
		cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, &why), 1, "version %zu", i);
		cr_assert_eq(nc, 0);
		cr_assert(why && why[0]);
		cr_assert_eq(t.n, 1);
	}

	/* a known peer is not pinned: UINT64_MAX (forged by anyone) is ignored, and its next
	 * incarnation (restarted: new uid, version = its start time) takes its place */
	struct mesh_topo_peer e[2] = { entry(2, NOW - 5000, 1, NULL, 0), entry(3, NOW, 1, NULL, 0) };
	n = encode_entries(e, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	e[0].version = UINT64_MAX;
	e[0].uid = 666;
	n = encode_entries(e, 2, m, sizeof(m)); /* with a good entry beside it */
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 1);
	cr_assert_eq(nc, 1, "the good entry beside it merges");
	cr_assert_eq(mesh_topo_find(&t, &e[0].name)->version, NOW - 5000);
	cr_assert_eq(mesh_topo_find(&t, &e[0].name)->uid, 1);
	e[0].version = NOW + 60000; /* restarted, its clock a minute ahead of ours */
	e[0].uid = 2;
	n = encode_entries(e, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 1);
	cr_assert_eq(mesh_topo_find(&t, &e[0].name)->uid, 2);

	/* about us: an absurd version is no hint to jump to; we keep ours and can still bump it */
	uint64_t v = mesh_topo_self(&t)->version;
	struct mesh_topo_peer us = entry(1, UINT64_MAX, 12345, NULL, 0);
	n = encode_entries(&us, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 1);
	cr_assert_eq(nc, 0);
	cr_assert_eq(mesh_topo_self(&t)->version, v);
	cr_assert_eq(mesh_topo_self(&t)->uid, SELF_UID);
	struct mesh_topo_conn cs[1] = { conn(2, 3) };
	cr_assert_eq(mesh_topo_set_self_conns(&t, cs, 1), 0);
	cr_assert_eq(mesh_topo_self(&t)->version, v + 1);
	/* a sane one ahead of ours is a hint: we jump past it (nobody else sets our version) */
	us = entry(1, FAR, 12345, NULL, 0);
	n = encode_entries(&us, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 1);
	cr_assert_eq(mesh_topo_self(&t)->version, FAR + 1);
	cr_assert_eq(mesh_topo_self(&t)->uid, SELF_UID);
	cr_assert_eq(mesh_topo_self(&t)->nconns, 1);
	check_invariants(&t);
	mesh_topo_free(&t);
}

Test(topology, changed_list_names_what_changed_and_counts_past_its_cap)
{
	struct mesh_topology t;
	init_self(&t, 1);
	struct mesh_topo_peer e[4] = { entry(2, 5, 1, NULL, 0), entry(3, 5, 1, NULL, 0), entry(4, 5, 1, NULL, 0),
				       entry(5, 5, 1, NULL, 0) };
	uint8_t m[1024];
	size_t n = encode_entries(e, 2, m, sizeof(m));
	size_t nc;
	cr_assert_eq(merge(&t, m, n, &nc), 0);
	/* 2: same; 3: newer; 4, 5: new */
	e[1].version = 6;
	n = encode_entries(e, 4, m, sizeof(m));
	struct mesh_peer_name ch[2];
	const char *why = "untouched?";
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 2, &nc, &why), 0);
	cr_assert_eq(nc, 3);
	cr_assert_null(why);
	/* the first two of the three (3, 4, 5 in some order) were written */
	for (int i = 0; i < 2; i++) {
		bool ok = false;
		for (unsigned k = 3; k <= 5; k++)
			ok |= mesh_peer_name_eq(&ch[i], &(struct mesh_peer_name){ { 2, 0, 0, 0, 0, (uint8_t)k } });
		cr_assert(ok);
	}
	cr_assert(!mesh_peer_name_eq(&ch[0], &ch[1]));
	/* NULL changed list, NULL why, NULL nchanged: fine */
	e[0].version = 9;
	n = encode_entries(e, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, NULL, 0, NULL, NULL), 0);
	cr_assert_eq(mesh_topo_find(&t, &e[0].name)->version, 9);
	mesh_topo_free(&t);
}

Test(topology, own_name_is_never_overwritten_but_bumps_our_version)
{
	struct mesh_topology t;
	init_self(&t, 1);
	struct mesh_topo_conn cs[1] = { conn(2, 3) };
	cr_assert_eq(mesh_topo_set_self_conns(&t, cs, 1), 0);
	uint64_t v = mesh_topo_self(&t)->version;
	struct mesh_peer_name ch[4];
	size_t nc;
	uint8_t m[512];

	/* an older incarnation of us, remembered with a higher version */
	struct mesh_topo_peer old = entry(1, v + 40, 12345, NULL, 0);
	size_t n = encode_entries(&old, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 1);
	cr_assert(mesh_peer_name_eq(&ch[0], &t.self));
	const struct mesh_topo_peer *s = mesh_topo_self(&t);
	cr_assert_eq(s->version, v + 41);
	cr_assert_eq(s->uid, SELF_UID);
	cr_assert_str_eq(s->nickname, "self");
	cr_assert_eq(s->short_id, 7);
	cr_assert_eq(s->nconns, 1);
	cr_assert_eq(t.n, 1);
	/* now ours outranks it: hearing it again changes nothing */
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 0);
	cr_assert_eq(s->version, v + 41);

	/* equal version, another uid (lower or higher): bump, so everybody converges on us */
	old = entry(1, v + 41, 1, NULL, 0);
	n = encode_entries(&old, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 1);
	cr_assert_eq(s->version, v + 42);

	/* older: nothing */
	old = entry(1, 3, UINT64_MAX, NULL, 0);
	n = encode_entries(&old, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 0);
	cr_assert_eq(s->version, v + 42);

	/* our own entry echoed back by a neighbour: nothing (no gossip storm) */
	ssize_t len = mesh_topo_encode(&t, &t.self, 1, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, (size_t)len, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 0);
	cr_assert_eq(s->version, v + 42);

	/* mixed with others: ours bumps, the others merge */
	struct mesh_topo_peer mix[2] = { entry(2, 1, 1, NULL, 0), entry(1, v + 100, 5, NULL, 0) };
	n = encode_entries(mix, 2, m, sizeof(m));
	cr_assert_eq(mesh_topo_merge(&t, m, n, NOW, ch, 4, &nc, NULL), 0);
	cr_assert_eq(nc, 2);
	cr_assert_eq(s->version, v + 101);
	cr_assert_eq(t.n, 2);
	check_invariants(&t);
	mesh_topo_free(&t);
}

/* --- the property: merge is commutative, idempotent and converges ------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

#define P_NAMES 10        /* other peers: names 1..10 */
#define P_OBSERVER 100    /* the routers that merge: all this name, uid and version */
#define P_OBS_VERSION 5
#define P_OBS_UID 999
#define P_CANDIDATES 6    /* versions of each name in circulation */
#define P_UPDATES 40
#define P_ORDERS 8

struct cand {
	struct mesh_topo_peer p;
	struct mesh_topo_conn conns[5];
};

/* What a peer announces is a function of (name, version, uid), as it is in the real mesh
 * (one incarnation never sends two different entries under one version). */
static void make_cand(struct cand *c, unsigned name, uint64_t version, uint64_t uid)
{
	uint64_t h = mix64(((uint64_t)name << 40) ^ (version << 20) ^ uid);
	unsigned nconns = (unsigned)(h % 6);
	for (unsigned i = 0; i < nconns; i++) {
		uint64_t hh = mix64(h + i);
		unsigned peer = hh % 7 == 0 ? P_OBSERVER : 1 + (unsigned)(hh % P_NAMES);
		c->conns[i] = conn(peer, (uint8_t)((hh >> 8) & 3));
		c->conns[i].port = (uint16_t)(hh >> 16);
	}
	c->p = entry(name, version, uid, nconns ? c->conns : NULL, nconns);
	snprintf(c->p.nickname, sizeof(c->p.nickname), "n%u-%llx", name, (unsigned long long)(h & 0xffff));
	c->p.short_id = (uint16_t)((h >> 32) & 0xfff);
}

struct update {
	uint8_t m[2048];
	size_t n;
};

static void snapshot_diff_check(const struct mesh_topology *before, const struct mesh_topology *after,
				const struct mesh_peer_name *ch, size_t nc)
{
	/* every reported name changed (or is new), and is reported once */
	for (size_t i = 0; i < nc; i++) {
		const struct mesh_topo_peer *a = mesh_topo_find(after, &ch[i]);
		cr_assert_not_null(a, "a changed name is not in the topology");
		const struct mesh_topo_peer *b = mesh_topo_find(before, &ch[i]);
		cr_assert(!b || !peer_eq(a, b), "reported as changed but the same");
		for (size_t j = 0; j < i; j++)
			cr_assert(!mesh_peer_name_eq(&ch[i], &ch[j]), "reported twice");
	}
	/* every entry that changed or is new is reported */
	for (size_t i = 0; i < after->n; i++) {
		const struct mesh_topo_peer *b = mesh_topo_find(before, &after->peers[i].name);
		if (b && peer_eq(b, &after->peers[i]))
			continue;
		bool found = false;
		for (size_t j = 0; j < nc; j++)
			found |= mesh_peer_name_eq(&ch[j], &after->peers[i].name);
		cr_assert(found, "entry %zu changed but was not reported", i);
	}
	/* nothing disappears in a merge */
	for (size_t i = 0; i < before->n; i++)
		cr_assert_not_null(mesh_topo_find(after, &before->peers[i].name));
}

static void apply_checked(struct mesh_topology *t, const struct update *u)
{
	struct mesh_topology before;
	struct mesh_peer_name ch[P_NAMES + 2];
	size_t nc;
	const char *why = NULL;
	topo_clone(&before, t);
	cr_assert_eq(mesh_topo_merge(t, u->m, u->n, NOW, ch, P_NAMES + 2, &nc, &why), 0, "%s", why ? why : "");
	cr_assert_leq(nc, P_NAMES + 1);
	snapshot_diff_check(&before, t, ch, nc);
	check_invariants(t);
	mesh_topo_free(&before);
}

static void property_round(uint64_t seed)
{
	rng_state = seed;
	static struct cand pool[P_NAMES + 1][P_CANDIDATES];
	for (unsigned k = 0; k <= P_NAMES; k++) {
		unsigned name = k < P_NAMES ? k + 1 : P_OBSERVER;
		for (unsigned c = 0; c < P_CANDIDATES; c++) {
			/* small ranges, so equal versions (and equal uids) are common */
			uint64_t version = 1 + below(k < P_NAMES ? 4 : 8);
			uint64_t uid = 1 + below(3); /* never P_OBS_UID: the observer's old selves */
			make_cand(&pool[k][c], name, version, uid);
		}
	}

	/* the updates: each carries a random choice of at most one candidate per name */
	static struct update ups[P_UPDATES];
	bool used[P_NAMES + 1][P_CANDIDATES];
	memset(used, 0, sizeof(used));
	for (unsigned u = 0; u < P_UPDATES; u++) {
		struct mesh_topo_peer e[P_NAMES + 1];
		size_t n = 0;
		for (unsigned k = 0; k <= P_NAMES; k++) {
			if (below(3))
				continue;
			unsigned c = below(P_CANDIDATES);
			e[n++] = pool[k][c].p;
			used[k][c] = true;
		}
		/* shuffle the entries of the update */
		for (size_t i = n; i > 1; i--) {
			size_t j = below((unsigned)i);
			struct mesh_topo_peer x = e[i - 1];
			e[i - 1] = e[j];
			e[j] = x;
		}
		ups[u].n = encode_entries(e, n, ups[u].m, sizeof(ups[u].m));
	}

	/* the routers, each hearing every update at least once, in its own order, with repeats */
	struct mesh_topology t[P_ORDERS];
	for (unsigned r = 0; r < P_ORDERS; r++) {
		struct mesh_peer_name obs = nm(P_OBSERVER);
		cr_assert_eq(mesh_topo_init(&t[r], &obs, "observer", P_OBS_UID, P_OBS_VERSION, 1), 0);
		unsigned order[P_UPDATES * 2];
		unsigned n = 0;
		for (unsigned u = 0; u < P_UPDATES; u++)
			order[n++] = u;
		for (unsigned u = P_UPDATES; u > 1; u--) {
			unsigned j = below(u), x = order[u - 1];
			order[u - 1] = order[j];
			order[j] = x;
		}
		unsigned repeats = r == 0 ? 0 : below(P_UPDATES);
		for (unsigned i = 0; i < repeats; i++) {
			/* a repeat of an update, inserted anywhere */
			unsigned at = below(n + 1);
			memmove(order + at + 1, order + at, (n - at) * sizeof(order[0]));
			order[at] = below(P_UPDATES);
			n++;
		}
		for (unsigned i = 0; i < n; i++)
			apply_checked(&t[r], &ups[order[i]]);
	}

	/* converged: all the same */
	for (unsigned r = 1; r < P_ORDERS; r++)
		cr_assert(topo_eq(&t[0], &t[r]), "seed %llu: router %u ended differently from router 0",
			  (unsigned long long)seed, r);

	/* ... and the same as the rule says: per name, the greatest (version, uid) heard */
	size_t expect_n = 1;
	uint64_t max_self = 0;
	bool heard_self = false;
	for (unsigned k = 0; k <= P_NAMES; k++) {
		const struct mesh_topo_peer *best = NULL;
		for (unsigned c = 0; c < P_CANDIDATES; c++) {
			const struct mesh_topo_peer *p = &pool[k][c].p;
			if (!used[k][c])
				continue;
			if (!best || p->version > best->version || (p->version == best->version && p->uid > best->uid))
				best = p;
		}
		if (!best)
			continue;
		if (k == P_NAMES) {
			heard_self = true;
			max_self = best->version;
			continue;
		}
		expect_n++;
		const struct mesh_topo_peer *got = mesh_topo_find(&t[0], &best->name);
		cr_assert_not_null(got);
		cr_assert(peer_eq(got, &best[0]), "name %u: not the greatest (version, uid)", k + 1);
	}
	cr_assert_eq(t[0].n, expect_n);
	/* our own version ends above every old self we heard of, and never moves otherwise */
	const struct mesh_topo_peer *s = mesh_topo_self(&t[0]);
	uint64_t expect_v = heard_self && max_self >= P_OBS_VERSION ? max_self + 1 : P_OBS_VERSION;
	cr_assert_eq(s->version, expect_v);
	cr_assert_eq(s->uid, P_OBS_UID);
	cr_assert_str_eq(s->nickname, "observer");

	/* idempotent: hearing everything again changes nothing anywhere */
	for (unsigned r = 0; r < P_ORDERS; r++)
		for (unsigned u = 0; u < P_UPDATES; u++) {
			size_t nc = 1;
			cr_assert_eq(merge(&t[r], ups[u].m, ups[u].n, &nc), 0);
			cr_assert_eq(nc, 0, "router %u: update %u changed something the second time", r, u);
		}

	/* a router's full state, heard by a router that has not heard anything yet, gives the
	 * same view of the others */
	uint8_t *all = malloc(mesh_topo_encoded_size(&t[0]));
	cr_assert_not_null(all);
	struct mesh_peer_name others[P_NAMES];
	size_t nothers = 0;
	for (size_t i = 1; i < t[0].n; i++)
		others[nothers++] = t[0].peers[i].name;
	ssize_t len = mesh_topo_encode(&t[0], others, nothers, all, mesh_topo_encoded_size(&t[0]));
	cr_assert_geq(len, 2);
	struct mesh_topology fresh;
	struct mesh_peer_name obs = nm(P_OBSERVER);
	cr_assert_eq(mesh_topo_init(&fresh, &obs, "observer", P_OBS_UID, s->version, 1), 0);
	size_t nc;
	cr_assert_eq(merge(&fresh, all, (size_t)len, &nc), 0);
	cr_assert_eq(nc, nothers);
	cr_assert(topo_eq(&fresh, &t[0]));
	mesh_topo_free(&fresh);
	free(all);

	for (unsigned r = 0; r < P_ORDERS; r++)
		mesh_topo_free(&t[r]);
}

Test(topology, gossip_merge_is_commutative_idempotent_and_converges)
{
	for (uint64_t seed = 1; seed <= 60; seed++)
		property_round(0x243f6a8885a308d3ull * seed);
}

/* --- forgetting unreachable peers ---------------------------------------------------------- */

/* Sets the conns of a known other peer by merging a newer version of it. */
static void peer_conns(struct mesh_topology *t, unsigned name, const struct mesh_topo_conn *c, unsigned n)
{
	struct mesh_peer_name pn = nm(name);
	const struct mesh_topo_peer *p = mesh_topo_find(t, &pn);
	uint64_t version = p ? p->version + 1 : 1;
	struct mesh_topo_conn copy[8];
	cr_assert_leq(n, 8);
	if (n)
		memcpy(copy, c, n * sizeof(*c));
	size_t nc;
	merge_one(t, entry(name, version, 1, n ? copy : NULL, n), &nc);
	cr_assert_eq(nc, 1);
}

static const struct mesh_topo_peer *find(const struct mesh_topology *t, unsigned name)
{
	struct mesh_peer_name pn = nm(name);
	return mesh_topo_find(t, &pn);
}

Test(topology, forget_unreachable_after_the_grace_period)
{
	struct mesh_topology t;
	init_self(&t, 1);
	const uint8_t EST = MESH_TOPO_CONN_ESTABLISHED;
	/* us <-> 2 <-> 6 (established both ways); 2 lists 3 (not established): referenced;
	 * 4 lists us established but we do not list it: neither; 5 knows nobody. */
	struct mesh_topo_conn self_c[1] = { conn(2, EST | MESH_TOPO_CONN_OUTBOUND) };
	cr_assert_eq(mesh_topo_set_self_conns(&t, self_c, 1), 0);
	peer_conns(&t, 2, (struct mesh_topo_conn[]){ conn(1, EST), conn(3, MESH_TOPO_CONN_OUTBOUND), conn(6, EST) }, 3);
	peer_conns(&t, 3, NULL, 0);
	peer_conns(&t, 4, (struct mesh_topo_conn[]){ conn(1, EST) }, 1);
	peer_conns(&t, 5, NULL, 0);
	peer_conns(&t, 6, (struct mesh_topo_conn[]){ conn(2, EST) }, 1);
	cr_assert_eq(t.n, 6);
	cr_assert(mesh_topo_linked(&t, mesh_topo_self(&t), find(&t, 2)));
	cr_assert(!mesh_topo_linked(&t, mesh_topo_self(&t), find(&t, 4)));

	cr_assert_eq(mesh_topo_forget_unreachable(&t, 10000, 500), 0);
	cr_assert_eq(find(&t, 2)->unreachable_since_ms, 0);
	cr_assert_eq(find(&t, 3)->unreachable_since_ms, 0, "referenced by a reachable peer");
	cr_assert_eq(find(&t, 6)->unreachable_since_ms, 0, "reachable through 2");
	cr_assert_eq(find(&t, 4)->unreachable_since_ms, 10000);
	cr_assert_eq(find(&t, 5)->unreachable_since_ms, 10000);

	/* the timer starts at the first sighting, not again at every call */
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 10200, 500), 0);
	cr_assert_eq(find(&t, 4)->unreachable_since_ms, 10000);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 10499, 500), 0);
	cr_assert_eq(t.n, 6);

	/* 5 becomes reachable again just in time: its timer resets */
	cr_assert_eq(mesh_topo_set_self_conns(&t, (struct mesh_topo_conn[]){ conn(2, EST), conn(5, EST) }, 2), 0);
	peer_conns(&t, 5, (struct mesh_topo_conn[]){ conn(1, EST) }, 1);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 10499, 500), 0);
	cr_assert_eq(find(&t, 5)->unreachable_since_ms, 0);

	cr_assert_eq(mesh_topo_forget_unreachable(&t, 10500, 500), 1);
	cr_assert_null(find(&t, 4));
	cr_assert_eq(t.n, 5);
	check_invariants(&t);
	cr_assert_eq(mesh_topo_self(&t)->uid, SELF_UID);

	/* 5 drops us again: gone only a full grace period later */
	peer_conns(&t, 5, NULL, 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 20000, 500), 0,
		     "5 is still referenced: we list it");
	cr_assert_eq(mesh_topo_set_self_conns(&t, (struct mesh_topo_conn[]){ conn(2, EST) }, 1), 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 20000, 500), 0);
	cr_assert_eq(find(&t, 5)->unreachable_since_ms, 20000);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 20499, 500), 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 20500, 500), 1);
	cr_assert_null(find(&t, 5));

	/* the link to 2 breaks: 2 and 6 and 3 go unreachable; grace 0 drops them at once */
	cr_assert_eq(mesh_topo_set_self_conns(&t, NULL, 0), 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 30000, 0), 3);
	cr_assert_eq(t.n, 1);
	check_invariants(&t);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 30000, 0), 0);
	mesh_topo_free(&t);
}

Test(topology, forget_keeps_entry_zero_first_and_the_rest_intact)
{
	struct mesh_topology t;
	init_self(&t, 1);
	const uint8_t EST = MESH_TOPO_CONN_ESTABLISHED;
	/* a chain 1 - 2 - 3 - ... - 20, with unreachable peers 100.. interleaved */
	struct mesh_topo_conn sc[1] = { conn(2, EST) };
	cr_assert_eq(mesh_topo_set_self_conns(&t, sc, 1), 0);
	for (unsigned i = 2; i <= 20; i++) {
		struct mesh_topo_conn c[2] = { conn(i - 1, EST), conn(i + 1, EST) };
		peer_conns(&t, i, c, i == 20 ? 1 : 2);
		peer_conns(&t, 100 + i, c, 2); /* lists the chain, but nobody lists it */
	}
	cr_assert_eq(t.n, 1 + 19 * 2);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 1, 10), 0);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 11, 10), 19);
	cr_assert_eq(t.n, 20);
	check_invariants(&t);
	for (unsigned i = 2; i <= 20; i++) {
		const struct mesh_topo_peer *p = find(&t, i);
		cr_assert_not_null(p, "chain peer %u forgotten", i);
		cr_assert_eq(p->unreachable_since_ms, 0);
		cr_assert_eq(p->nconns, i == 20 ? 1u : 2u);
		cr_assert(mesh_peer_name_eq(&p->conns[0].peer, &(struct mesh_peer_name){ { 2, 0, 0, 0, 0, (uint8_t)(i - 1) } }));
	}
	/* break the chain in the middle: 11..20 are unreachable; 11 stays (10 still lists it) */
	struct mesh_topo_conn c10[2] = { conn(9, EST), conn(11, 0) };
	peer_conns(&t, 10, c10, 2);
	cr_assert_eq(mesh_topo_forget_unreachable(&t, 100, 0), 9);
	cr_assert_eq(t.n, 11);
	cr_assert_not_null(find(&t, 11), "10 still lists 11");
	cr_assert_null(find(&t, 12));
	check_invariants(&t);
	mesh_topo_free(&t);
}

/* The sorted lookups (more than 8 names) select the same entries as the walk. */
Test(topology, encode_many_selected_names_and_merge_a_large_update)
{
	struct mesh_topology a, b;
	init_self(&a, 1);
	struct mesh_topo_peer e[40];
	for (unsigned i = 0; i < 40; i++)
		e[i] = entry(100 + i, 5, 1, NULL, 0);
	static uint8_t m[8192];
	size_t nc, n = encode_entries(e, 40, m, sizeof(m));
	cr_assert_eq(merge(&a, m, n, &nc), 0);
	cr_assert_eq(nc, 40);
	cr_assert_eq(a.n, 41);

	struct mesh_peer_name sel[20];
	for (unsigned i = 0; i < 20; i++)
		sel[i] = nm(100 + (i * 7) % 40); /* 20 distinct, out of order */
	sel[19] = nm(9999);                     /* unknown: skipped */
	ssize_t len = mesh_topo_encode(&a, sel, 20, m, sizeof(m));
	cr_assert_gt(len, 2);
	cr_assert_eq(get_be16(m), 19);
	init_self(&b, 50);
	cr_assert_eq(merge(&b, m, (size_t)len, &nc), 0);
	cr_assert_eq(nc, 19);
	for (unsigned i = 0; i < 19; i++)
		cr_assert_not_null(mesh_topo_find(&b, &sel[i]));

	/* a newer full update over the known entries: every one replaced, found through the index */
	for (unsigned i = 0; i < 40; i++)
		e[i] = entry(100 + i, 6, 1, NULL, 0);
	n = encode_entries(e, 40, m, sizeof(m));
	cr_assert_eq(merge(&b, m, n, &nc), 0);
	cr_assert_eq(nc, 40);
	cr_assert_eq(b.n, 41);
	for (unsigned i = 0; i < 40; i++) {
		struct mesh_peer_name x = nm(100 + i);
		cr_assert_eq(mesh_topo_find(&b, &x)->version, 6);
	}
	mesh_topo_free(&a);
	mesh_topo_free(&b);
}

Test(topology, digest_round_trip_and_wire_format)
{
	struct mesh_topo_digest d = { .flags = MESH_TOPO_DIGEST_REPLY, .count = 0x0102,
				      .digest = 0x1122334455667788ull }, back;
	uint8_t m[MESH_TOPO_DIGEST_LEN];
	const char *why = "";
	cr_assert_eq(mesh_topo_digest_encode(&d, m, sizeof(m)), MESH_TOPO_DIGEST_LEN);
	static const uint8_t want[] = { 0x01, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	cr_assert_arr_eq(m, want, sizeof(want));
	cr_assert_eq(mesh_topo_digest_decode(m, sizeof(m), &back, &why), 0);
	cr_assert_eq(back.flags, d.flags);
	cr_assert_eq(back.count, d.count);
	cr_assert_eq(back.digest, d.digest);
	cr_assert_eq(mesh_topo_digest_encode(&d, m, sizeof(m) - 1), -EMSGSIZE);

	cr_assert_eq(mesh_topo_digest_decode(m, sizeof(m) - 1, &back, &why), -EBADMSG);
	cr_assert(strstr(why, "11 bytes"), "%s", why);
	m[0] = 0x02;
	cr_assert_eq(mesh_topo_digest_decode(m, sizeof(m), &back, &why), -EBADMSG);
	cr_assert(strstr(why, "flags"), "%s", why);
}

/* Two views with the same entries (in any order) match; a newer version, another incarnation,
 * or one entry more do not. */
Test(topology, digest_matches_the_same_entries_only)
{
	struct mesh_topology a, b;
	struct mesh_topo_digest d;
	size_t nc;
	uint8_t m[1024];
	init_self(&a, 1);
	init_self(&b, 1);
	struct mesh_topo_peer e[3] = { entry(2, 5, 1, NULL, 0), entry(3, 5, 1, NULL, 0), entry(4, 5, 1, NULL, 0) };
	struct mesh_topo_peer r[3] = { e[2], e[0], e[1] };
	cr_assert_eq(merge(&a, m, encode_entries(e, 3, m, sizeof(m)), &nc), 0);
	cr_assert_eq(merge(&b, m, encode_entries(r, 3, m, sizeof(m)), &nc), 0);
	mesh_topo_digest_make(&a, 0, &d);
	cr_assert_eq(d.count, 4);
	cr_assert(mesh_topo_digest_matches(&b, &d), "same entries in another order");

	struct mesh_topo_peer newer = entry(3, 6, 1, NULL, 0);
	cr_assert_eq(merge(&b, m, encode_entries(&newer, 1, m, sizeof(m)), &nc), 0);
	cr_assert_not(mesh_topo_digest_matches(&b, &d), "a newer version");
	cr_assert_eq(merge(&a, m, encode_entries(&newer, 1, m, sizeof(m)), &nc), 0);
	mesh_topo_digest_make(&a, 0, &d);
	cr_assert(mesh_topo_digest_matches(&b, &d));

	struct mesh_topo_peer other = entry(4, 5, 2, NULL, 0); /* same version, higher uid */
	cr_assert_eq(merge(&b, m, encode_entries(&other, 1, m, sizeof(m)), &nc), 0);
	cr_assert_not(mesh_topo_digest_matches(&b, &d), "another incarnation");

	struct mesh_topo_peer more = entry(5, 5, 1, NULL, 0);
	cr_assert_eq(merge(&a, m, encode_entries(&more, 1, m, sizeof(m)), &nc), 0);
	mesh_topo_digest_make(&a, 0, &d);
	cr_assert_eq(d.count, 5);
	cr_assert_not(mesh_topo_digest_matches(&b, &d), "one entry more");
	mesh_topo_free(&a);
	mesh_topo_free(&b);
}

/* --- the summary ----------------------------------------------------------------------------- */

Test(topology, summary_wire_format)
{
	struct mesh_topology t;
	size_t nc;
	uint8_t m[256];
	init_self(&t, 1);
	struct mesh_topo_peer e = entry(0x0203, 0x0000011223344556ull, 0x0a0b0c0d0e0f1011ull, NULL, 0);
	cr_assert_eq(merge(&t, m, encode_entries(&e, 1, m, sizeof(m)), &nc), 0);
	cr_assert_eq(mesh_topo_summary_size(&t), 3 + 2 * 22);
	cr_assert_eq(mesh_topo_summary_encode(&t, MESH_TOPO_SUMMARY_NO_REPLY, m, sizeof(m)), 47);
	static const uint8_t want[] = {
		0x01, 0x00, 0x02,                                       /* flags, count */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,                     /* us: name */
		0x5e, 0x1f, 0x5e, 0x1f, 0x5e, 0x1f, 0x5e, 0x1f,         /* uid */
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,                           /* version 1000 */
		0x02, 0x00, 0x00, 0x00, 0x02, 0x03,                     /* the peer */
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
		0x00, 0x00, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56,
	};
	cr_assert_arr_eq(m, want, sizeof(want));
	cr_assert_eq(mesh_topo_summary_encode(&t, 0, m, 46), -EMSGSIZE);
	mesh_topo_free(&t);
}

Test(topology, malformed_summaries_are_refused_with_a_reason)
{
	struct mesh_topology t;
	struct mesh_peer_name send[4];
	struct mesh_topo_summary_diff d = { .nsend = 77 };
	const char *why = "";
	init_self(&t, 1);
	uint8_t m[3 + 22] = { 0x00, 0x00, 0x01 };
	cr_assert_eq(mesh_topo_summary_compare(&t, m, 2, send, &d, &why), -EBADMSG);
	cr_assert(strstr(why, "header"), "%s", why);
	cr_assert_eq(mesh_topo_summary_compare(&t, m, 24, send, &d, &why), -EBADMSG);
	cr_assert(strstr(why, "22-byte"), "%s", why);
	m[0] = 0x02;
	cr_assert_eq(mesh_topo_summary_compare(&t, m, 25, send, &d, &why), -EBADMSG);
	cr_assert(strstr(why, "flags"), "%s", why);
	uint8_t big[3] = { 0x00, 0x20, 0x01 }; /* 8193 entries */
	cr_assert_eq(mesh_topo_summary_compare(&t, big, 3, send, &d, &why), -EBADMSG);
	cr_assert(strstr(why, "8192"), "%s", why);
	cr_assert_eq(d.nsend, 77, "nothing written when refused");
	mesh_topo_free(&t);
}

/* Two routers' views, each summarised to the other: each sends exactly the entries the other
 * lacks or has older (higher version, or same version and higher uid, as a merge decides), and
 * once each merged what the other sent, the two views are the same. Random views over 200
 * rounds; names 2..30, some in one view only, versions and uids from small ranges so that
 * ties happen. */
Test(topology, a_summary_exchange_sends_what_differs_and_the_views_become_equal)
{
	rng_state = 0x5eed5eed12345678ull;
	for (int round = 0; round < 200; round++) {
		struct mesh_topology v[2];
		size_t nc;
		uint8_t m[8192];
		init_self(&v[0], 1);
		init_self(&v[1], 1);
		for (unsigned name = 2; name <= 30; name++)
			for (int k = 0; k < 2; k++) {
				if (below(4) == 0)
					continue; /* this view lacks it */
				struct mesh_topo_peer e = entry(name, 1 + below(3), 1 + below(2), NULL, 0);
				cr_assert_eq(merge(&v[k], m, encode_entries(&e, 1, m, sizeof(m)), &nc), 0);
			}
		/* the names each must send, found by hand */
		size_t want[2] = { 0, 0 }, need[2] = { 0, 0 };
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < v[k].n; i++) {
				const struct mesh_topo_peer *p = &v[k].peers[i];
				const struct mesh_topo_peer *o = mesh_topo_find(&v[!k], &p->name);
				bool ahead = !o || p->version > o->version ||
					     (p->version == o->version && p->uid > o->uid);
				want[k] += ahead;
				need[!k] += ahead;
			}
		uint8_t sum[2][3 + 31 * 22];
		struct mesh_peer_name send[2][32];
		struct mesh_topo_summary_diff d[2];
		const char *why = "";
		for (int k = 0; k < 2; k++)
			cr_assert_gt(mesh_topo_summary_encode(&v[k], 0, sum[k], sizeof(sum[k])), 0);
		for (int k = 0; k < 2; k++) {
			/* k compares the other's summary with its view */
			cr_assert_eq(mesh_topo_summary_compare(&v[k], sum[!k], mesh_topo_summary_size(&v[!k]),
							       send[k], &d[k], &why), 0, "%s", why);
			cr_assert_eq(d[k].nsend, want[k], "round %d: view %d sends %zu, not %zu", round, k,
				     d[k].nsend, want[k]);
			cr_assert_eq(d[k].nneed, need[k], "round %d: view %d needs %zu, not %zu", round, k,
				     d[k].nneed, need[k]);
		}
		for (int k = 0; k < 2; k++) {
			if (!d[k].nsend)
				continue;
			ssize_t len = mesh_topo_encode(&v[k], send[k], d[k].nsend, m, sizeof(m));
			cr_assert_gt(len, 0);
			cr_assert_eq(merge(&v[!k], m, (size_t)len, &nc), 0);
			cr_assert_eq(nc, d[k].nsend, "each entry sent changed the other view");
		}
		struct mesh_topo_digest dg;
		mesh_topo_digest_make(&v[0], 0, &dg);
		cr_assert(mesh_topo_digest_matches(&v[1], &dg), "round %d: the views differ after", round);
		for (int k = 0; k < 2; k++) {
			cr_assert_gt(mesh_topo_summary_encode(&v[k], 0, sum[k], sizeof(sum[k])), 0);
			cr_assert_eq(mesh_topo_summary_compare(&v[k], sum[k], mesh_topo_summary_size(&v[k]),
							       send[k], &d[k], &why), 0);
			cr_assert_eq(d[k].nsend + d[k].nneed, 0, "its own summary: nothing either way");
			mesh_topo_free(&v[k]);
		}
	}
}

/* --- the name index -------------------------------------------------------------------------- */

static const struct mesh_topo_peer *walk_find(const struct mesh_topology *t, unsigned name)
{
	struct mesh_peer_name pn = nm(name);
	for (size_t i = 0; i < t->n; i++)
		if (mesh_peer_name_eq(&t->peers[i].name, &pn))
			return &t->peers[i];
	return NULL;
}

/* mesh_topo_find answers as a walk of the entries does, for every name known or not, while
 * merges add entries (the table grows several times) and forgetting removes and moves them. */
Test(topology, the_name_index_agrees_with_a_walk)
{
	struct mesh_topology t;
	init_self(&t, 1);
	const uint8_t EST = MESH_TOPO_CONN_ESTABLISHED;
	rng_state = 7;
	static struct mesh_topo_conn ours[1100];
	unsigned nours = 0;
	for (unsigned round = 0; round < 12; round++) {
		/* 90 names, new or known; a third linked to us both ways (kept), the rest alone
		 * (forgotten at once below) */
		for (unsigned k = 0; k < 90; k++) {
			unsigned name = 2 + below(1000);
			bool linked = below(3) == 0;
			if (linked && nours < 1100)
				ours[nours++] = conn(name, EST);
			peer_conns(&t, name, linked ? (struct mesh_topo_conn[]){ conn(1, EST) } : NULL,
				   linked ? 1 : 0);
		}
		for (unsigned name = 0; name < 1100; name++)
			cr_assert_eq(find(&t, name), walk_find(&t, name), "round %u, after merges: name %u", round, name);
		cr_assert_eq(mesh_topo_set_self_conns(&t, ours, nours), 0);
		size_t before = t.n;
		size_t gone = mesh_topo_forget_unreachable(&t, 1000 + round, 0);
		cr_assert_eq(t.n, before - gone);
		for (unsigned name = 0; name < 1100; name++)
			cr_assert_eq(find(&t, name), walk_find(&t, name), "round %u, after forgetting %zu: name %u",
				     round, gone, name);
	}
	cr_assert_gt(t.n, 128, "the table grew past its first sizes (%zu entries)", t.n);
	check_invariants(&t);
	mesh_topo_free(&t);
}

/* Appends an entry of that name and short id (no connections). */
static void append_with_short_id(struct mesh_topology *t, unsigned name, uint16_t short_id)
{
	if (t->n == t->cap) {
		size_t cap = t->cap * 2;
		struct mesh_topo_peer *p = realloc(t->peers, cap * sizeof(*p));
		cr_assert_not_null(p);
		t->peers = p;
		t->cap = cap;
	}
	struct mesh_topo_peer *p = &t->peers[t->n++];
	memset(p, 0, sizeof(*p));
	p->name = nm(name);
	p->uid = name;
	p->version = 1;
	p->short_id = short_id;
}

Test(topology, short_id_clash_and_free_ids)
{
	struct mesh_topology t;
	init_self(&t, 100); /* short id 7 */
	append_with_short_id(&t, 200, 7); /* a higher name: ours to keep */
	cr_assert_not(mesh_topo_short_id_clash(&t));
	append_with_short_id(&t, 5, 7);   /* a lower name: we re-pick */
	cr_assert(mesh_topo_short_id_clash(&t));
	append_with_short_id(&t, 6, 8);
	cr_assert_eq(mesh_topo_free_short_id(&t, 7), 9, "7 and 8 held by others");
	cr_assert_eq(mesh_topo_free_short_id(&t, 100), 100);
	append_with_short_id(&t, 7, 4095);
	cr_assert_eq(mesh_topo_free_short_id(&t, 4095), 0, "wraps");
	mesh_topo_free(&t);

	/* more than 4096 peers: every id held by another, none free (we keep ours) */
	init_self(&t, 9000);
	for (unsigned i = 0; i < 4096; i++)
		append_with_short_id(&t, i, (uint16_t)i);
	cr_assert(mesh_topo_short_id_clash(&t));
	cr_assert_eq(mesh_topo_free_short_id(&t, 1234), -1);
	mesh_topo_free(&t);
}
