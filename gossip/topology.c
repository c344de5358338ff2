/* gossip/topology.c: the topology model, its gossip encoding and merge (see topology.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/hello.h"
#include "gossip/topology.h"
#include "mesh/bytes.h"
#include "mesh/clock.h"

/* --- the name index -----------------------------------------------------------------------
 * An open-addressing hash table (linear probing, at most half full) of entry index + 1 (0:
 * empty) for entries [0, indexed). Entries appended since are added by the next lookup; when
 * entries move (forgetting compacts the array) `indexed` goes to 0 and the next lookup
 * rebuilds it. Names are chosen by peers, so a hostile one can collide on purpose: probing
 * then costs what a walk of the topology costs, as every lookup did before the index. */
struct mesh_topo_index {
	uint32_t *slot;
	size_t mask;          /* table size - 1; 0: no table yet */
	size_t indexed;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static size_t home_of(const struct mesh_topo_index *x, const struct mesh_peer_name *name)
{
	return (size_t)mix64(mesh_peer_name_u64(name)) & x->mask;
}

/* Brings the index up to t's entries. false: no index (none made, or out of memory): walk. */
static bool index_sync(const struct mesh_topology *t)
{
	struct mesh_topo_index *x = t->index;
	if (!x)
		return false;
	if (x->indexed == t->n && x->mask)
		return true;
	if (x->indexed > t->n) /* entries gone that nobody said so: start again */
		x->indexed = 0;
	size_t size = x->mask + 1;
	if (!x->mask || 2 * t->n > size) {
		size = 64;
		while (size < 2 * t->n)
			size *= 2;
		uint32_t *slot = calloc(size, sizeof(*slot));
		if (!slot)
			return false;
		free(x->slot);
		x->slot = slot;
		x->mask = size - 1;
		x->indexed = 0;
	} else if (x->indexed == 0) {
		memset(x->slot, 0, size * sizeof(*x->slot));
	}
	for (size_t i = x->indexed; i < t->n; i++) {
		size_t h = home_of(x, &t->peers[i].name);
		while (x->slot[h])
			h = (h + 1) & x->mask;
		x->slot[h] = (uint32_t)i + 1;
	}
	x->indexed = t->n;
	return true;
}

struct mesh_topo_peer *mesh_topo_find(const struct mesh_topology *t, const struct mesh_peer_name *name)
{
	if (!index_sync(t)) {
		for (size_t i = 0; i < t->n; i++)
			if (mesh_peer_name_eq(&t->peers[i].name, name))
				return &t->peers[i];
		return NULL;
	}
	const struct mesh_topo_index *x = t->index;
	for (size_t h = home_of(x, name); x->slot[h]; h = (h + 1) & x->mask) {
		struct mesh_topo_peer *p = &t->peers[x->slot[h] - 1];
		if (mesh_peer_name_eq(&p->name, name))
			return p;
	}
	return NULL;
}

int mesh_topo_init(struct mesh_topology *t, const struct mesh_peer_name *self, const char *nickname,
		   uint64_t uid, uint64_t version, uint16_t short_id)
{
	memset(t, 0, sizeof(*t));
	t->self = *self;
	t->cap = 8;
	t->peers = calloc(t->cap, sizeof(*t->peers));
	t->index = calloc(1, sizeof(*t->index));
	if (!t->peers || !t->index) {
		free(t->peers);
		free(t->index);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	struct mesh_topo_peer *p = &t->peers[0];
	p->name = *self;
	snprintf(p->nickname, sizeof(p->nickname), "%s", nickname);
	p->uid = uid;
	p->version = version;
	p->short_id = short_id;
	t->n = 1;
	static uint64_t next_id;
	t->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	return 0;
}

void mesh_topo_free(struct mesh_topology *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->peers[i].conns);
	free(t->peers);
	if (t->index)
		free(t->index->slot);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

struct mesh_topo_peer *mesh_topo_self(const struct mesh_topology *t)
{
	return &t->peers[0];
}

static bool lists_established(const struct mesh_topo_peer *a, const struct mesh_peer_name *b)
{
	for (unsigned i = 0; i < a->nconns; i++)
		if ((a->conns[i].flags & MESH_TOPO_CONN_ESTABLISHED) && mesh_peer_name_eq(&a->conns[i].peer, b))
			return true;
	return false;
}

bool mesh_topo_linked(const struct mesh_topology *t, const struct mesh_topo_peer *a,
		      const struct mesh_topo_peer *b)
{
	return lists_established(a, &b->name) && lists_established(b, &a->name);
}

/* --- our own entry ------------------------------------------------------------------------ */

#define CONN_FLAGS_KNOWN (MESH_TOPO_CONN_OUTBOUND | MESH_TOPO_CONN_ESTABLISHED | MESH_TOPO_CONN_IPV6)
#define SHORT_ID_MASK 0x0fff
/* Wire sizes: entry = name(6) nick_len(1) nick uid(8) version(8) short_id(2) nconns(2) conns */
#define ENTRY_FIXED (MESH_PEER_NAME_LEN + 1 + 8 + 8 + 2 + 2)
#define CONN_WIRE (MESH_PEER_NAME_LEN + 4 + 2 + 1)
#define CONN_WIRE_V6 (CONN_WIRE + 16)  /* with MESH_TOPO_CONN_IPV6 */

static size_t conn_wire(uint8_t flags)
{
	return flags & MESH_TOPO_CONN_IPV6 ? CONN_WIRE_V6 : CONN_WIRE;
}

void mesh_topo_conn_addr(const struct mesh_topo_conn *c, struct mesh_addr *out)
{
	if (c->flags & MESH_TOPO_CONN_IPV6) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET6;
		memcpy(out->a, c->ip6, 16);
		out->port = c->port;
	} else {
		mesh_addr_from_ipv4(c->ip, c->port, out);
	}
}

void mesh_topo_conn_set_addr(struct mesh_topo_conn *c, const struct mesh_addr *a)
{
	memset(c->ip6, 0, sizeof(c->ip6));
	c->ip = 0;
	c->port = a->port;
	if (a->family == AF_INET6) {
		c->flags |= MESH_TOPO_CONN_IPV6;
		memcpy(c->ip6, a->a, 16);
	} else {
		c->flags &= (uint8_t)~MESH_TOPO_CONN_IPV6;
		c->ip = mesh_addr_ipv4(a);
	}
}

static void bump(uint64_t *version)
{
	if (*version < UINT64_MAX)
		(*version)++;
}

/* A list that every receiver would refuse (too long, unknown flag bits) is refused here with
 * -EINVAL instead of being gossiped. */
int mesh_topo_set_self_conns(struct mesh_topology *t, const struct mesh_topo_conn *conns, unsigned n)
{
	if (n > MESH_TOPO_MAX_CONNS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (conns[i].flags & ~CONN_FLAGS_KNOWN)
			return -EINVAL;
	struct mesh_topo_conn *copy = NULL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, conns, n * sizeof(*copy));
	}
	struct mesh_topo_peer *self = mesh_topo_self(t);
	free(self->conns);
	self->conns = copy;
	self->nconns = n;
	bump(&self->version);
	return 0;
}

/* A short id is 12 bits on the wire (and in VNIs); higher bits are dropped. */
bool mesh_topo_short_id_clash(const struct mesh_topology *t)
{
	const struct mesh_topo_peer *self = &t->peers[0];
	for (size_t i = 1; i < t->n; i++)
		if (t->peers[i].short_id == self->short_id &&
		    mesh_peer_name_cmp(&t->peers[i].name, &self->name) < 0)
			return true;
	return false;
}

int mesh_topo_free_short_id(const struct mesh_topology *t, uint16_t start)
{
	uint64_t held[4096 / 64] = { 0 };
	for (size_t i = 1; i < t->n; i++)
		if (t->peers[i].short_id < 4096)
			held[t->peers[i].short_id / 64] |= 1ull << (t->peers[i].short_id % 64);
	for (unsigned k = 0; k < 4096; k++) {
		unsigned id = (start + k) & 0xfff;
		if (!(held[id / 64] & (1ull << (id % 64))))
			return (int)id;
	}
	return -1;
}

void mesh_topo_set_self_short_id(struct mesh_topology *t, uint16_t short_id)
{
	struct mesh_topo_peer *self = mesh_topo_self(t);
	self->short_id = (uint16_t)(short_id & SHORT_ID_MASK);
	bump(&self->version);
}

/* --- encoding ----------------------------------------------------------------------------- */

static size_t entry_size(const struct mesh_topo_peer *p)
{
	size_t n = ENTRY_FIXED + strnlen(p->nickname, sizeof(p->nickname) - 1);
	for (unsigned i = 0; i < p->nconns; i++)
		n += conn_wire(p->conns[i].flags);
	return n;
}

static int cmp_name(const void *a, const void *b)
{
	return mesh_peer_name_cmp(a, b);
}

ssize_t mesh_topo_select(const struct mesh_topology *t, const struct mesh_peer_name *names,
			 size_t nnames, const struct mesh_topo_peer **sel)
{
	size_t count = 0;
	if (!names) {
		for (size_t i = 0; i < t->n; i++)
			sel[count++] = &t->peers[i];
		return (ssize_t)count;
	}
	struct mesh_peer_name *sorted = malloc((nnames ? nnames : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	if (nnames)
		memcpy(sorted, names, nnames * sizeof(*sorted));
	qsort(sorted, nnames, sizeof(*sorted), cmp_name);
	for (size_t i = 0; i < nnames; i++) {
		if (i && mesh_peer_name_eq(&sorted[i - 1], &sorted[i]))
			continue;
		const struct mesh_topo_peer *p = mesh_topo_find(t, &sorted[i]);
		if (p)
			sel[count++] = p;
	}
	free(sorted);
	return (ssize_t)count;
}

static uint8_t *put_entry(uint8_t *o, const struct mesh_topo_peer *p)
{
	size_t nick = strnlen(p->nickname, sizeof(p->nickname) - 1);
	memcpy(o, p->name.b, MESH_PEER_NAME_LEN);
	o += MESH_PEER_NAME_LEN;
	*o++ = (uint8_t)nick;
	memcpy(o, p->nickname, nick);
	o += nick;
	put_be64(o, p->uid);
	put_be64(o + 8, p->version);
	put_be16(o + 16, p->short_id);
	put_be16(o + 18, (uint16_t)p->nconns);
	o += 20;
	for (unsigned i = 0; i < p->nconns; i++) {
		const struct mesh_topo_conn *c = &p->conns[i];
		memcpy(o, c->peer.b, MESH_PEER_NAME_LEN);
		bool v6 = c->flags & MESH_TOPO_CONN_IPV6;
		if (v6)
			memset(o + 6, 0, 4);
		else
			memcpy(o + 6, &c->ip, 4); /* already network byte order */
		put_be16(o + 10, c->port);
		o[12] = c->flags;
		if (v6)
			memcpy(o + CONN_WIRE, c->ip6, 16);
		o += conn_wire(c->flags);
	}
	return o;
}

/* Entries are written in topology order; a name listed twice in `names` is written once (a
 * repeated name would make the update malformed), unknown names are skipped. */
ssize_t mesh_topo_encode_selected(const struct mesh_topo_peer *const *sel, size_t count,
				 uint8_t *out, size_t cap)
{
	size_t need = 2;
	for (size_t i = 0; i < count; i++)
		need += entry_size(sel[i]);
	if (count > UINT16_MAX || need > cap || need > (size_t)SSIZE_MAX)
		return -EMSGSIZE;
	put_be16(out, (uint16_t)count);
	uint8_t *o = out + 2;
	for (size_t i = 0; i < count; i++)
		o = put_entry(o, sel[i]);
	return o - out;
}

ssize_t mesh_topo_encode(const struct mesh_topology *t, const struct mesh_peer_name *names,
			 size_t nnames, uint8_t *out, size_t cap)
{
	const struct mesh_topo_peer **sel = malloc((t->n + 1) * sizeof(*sel));
	ssize_t count = sel ? mesh_topo_select(t, names, nnames, sel) : -ENOMEM;
	if (count >= 0)
		count = mesh_topo_encode_selected(sel, (size_t)count, out, cap);
	free(sel);
	return count;
}

size_t mesh_topo_entry_encoded_size(const struct mesh_topo_peer *p)
{
	return entry_size(p);
}

size_t mesh_topo_encoded_size(const struct mesh_topology *t)
{
	size_t need = 2;
	for (size_t i = 0; i < t->n; i++)
		need += entry_size(&t->peers[i]);
	return need;
}

/* --- merge -------------------------------------------------------------------------------- */

/* One entry of an update, parsed but not yet applied. */
struct upd_entry {
	struct mesh_peer_name name;
	char nickname[64];
	uint64_t uid, version;
	uint16_t short_id;
	unsigned nconns;
	const uint8_t *conns;           /* nconns connections (CONN_WIRE or CONN_WIRE_V6 bytes each)
					 * inside the update */
	struct mesh_topo_conn *copy;    /* allocated before anything is applied */
	size_t at;                      /* index in t->peers, or SIZE_MAX for a new peer */
	enum { UPD_SKIP, UPD_ADD, UPD_REPLACE, UPD_SELF_BUMP } action;
};

static int upd_name_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(&((const struct upd_entry *)a)->name, &((const struct upd_entry *)b)->name);
}

#define BAD(msg)                    \
	do {                        \
		*why = (msg);       \
		return -EBADMSG;    \
	} while (0)

static int parse_update(const uint8_t *buf, size_t len, struct upd_entry *e, size_t count, const char **why)
{
	size_t off = 2;
	for (size_t i = 0; i < count; i++, e++) {
		if (len - off < MESH_PEER_NAME_LEN + 1)
			BAD("topology update is truncated (entry header)");
		memcpy(e->name.b, buf + off, MESH_PEER_NAME_LEN);
		size_t nick = buf[off + MESH_PEER_NAME_LEN];
		off += MESH_PEER_NAME_LEN + 1;
		if (len - off < nick)
			BAD("topology update is truncated (nickname)");
		if (!mesh_nickname_valid((const char *)buf + off, nick))
			BAD("topology nickname is empty, too long or not printable");
		memcpy(e->nickname, buf + off, nick);
		e->nickname[nick] = '\0';
		off += nick;
		if (len - off < 20)
			BAD("topology update is truncated (entry fields)");
		e->uid = get_be64(buf + off);
		e->version = get_be64(buf + off + 8);
		e->short_id = get_be16(buf + off + 16);
		e->nconns = get_be16(buf + off + 18);
		off += 20;
		if (e->short_id > SHORT_ID_MASK)
			BAD("topology short id is not a 12-bit number");
		if (e->nconns > MESH_TOPO_MAX_CONNS)
			BAD("topology entry has too many connections");
		if ((len - off) / CONN_WIRE < e->nconns)
			BAD("topology update is truncated (connections)");
		e->conns = buf + off;
		for (unsigned c = 0; c < e->nconns; c++) {
			if (len - off < CONN_WIRE)
				BAD("topology update is truncated (connections)");
			uint8_t flags = buf[off + 12];
			if (flags & ~CONN_FLAGS_KNOWN)
				BAD("topology connection has unknown flag bits");
			if (flags & MESH_TOPO_CONN_IPV6) {
				if (len - off < CONN_WIRE_V6)
					BAD("topology update is truncated (IPv6 connection address)");
				if (get_be32(buf + off + 6) != 0)
					BAD("topology IPv6 connection has a non-zero IPv4 field");
			}
			off += conn_wire(flags);
		}
		e->at = SIZE_MAX;
		e->action = UPD_SKIP;
	}
	if (off != len)
		BAD("topology update has trailing bytes");
	return 0;
}

static void decode_conns(struct mesh_topo_conn *out, const uint8_t *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].peer.b, w, MESH_PEER_NAME_LEN);
		memcpy(&out[i].ip, w + 6, 4);
		out[i].port = get_be16(w + 10);
		out[i].flags = w[12];
		if (out[i].flags & MESH_TOPO_CONN_IPV6)
			memcpy(out[i].ip6, w + CONN_WIRE, 16);
		w += conn_wire(out[i].flags);
	}
}

int mesh_topo_merge(struct mesh_topology *t, const uint8_t *buf, size_t len, uint64_t now_wall_ms,
		    struct mesh_peer_name *changed, size_t changed_cap, size_t *nchanged,
		    const char **why)
{
	const char *why_local;
	size_t nchanged_local;
	if (!why)
		why = &why_local;
	if (!nchanged)
		nchanged = &nchanged_local;
	*why = NULL;
	*nchanged = 0;

	if (len < 2)
		BAD("topology update is shorter than its count");
	size_t count = get_be16(buf);
	if (count > MESH_TOPO_MAX_PEERS)
		BAD("topology update has too many entries");
	/* Each entry takes at least ENTRY_FIXED + 1 bytes: refuse an impossible count before
	 * allocating for it. */
	if (count > (len - 2) / (ENTRY_FIXED + 1))
		BAD("topology update is truncated (fewer entries than its count)");
	if (count == 0) {
		if (len != 2)
			BAD("topology update has trailing bytes");
		return 0;
	}

	/* zeroed: on a parse error the `copy` pointers freed at `out` are all NULL */
	struct upd_entry *e = calloc(count, sizeof(*e));
	if (!e)
		return -ENOMEM;
	int r = parse_update(buf, len, e, count, why);
	if (r < 0)
		goto out;
	qsort(e, count, sizeof(*e), upd_name_cmp);
	for (size_t i = 1; i < count; i++)
		if (mesh_peer_name_eq(&e[i - 1].name, &e[i].name)) {
			*why = "topology update names the same peer twice";
			r = -EBADMSG;
			goto out;
		}

	/* Decide what each entry does, without changing anything yet. */
	const struct mesh_topo_peer *self = mesh_topo_self(t);
	size_t nnew = 0, nfar = 0;
	for (size_t i = 0; i < count; i++) {
		struct mesh_topo_peer *p = mesh_topo_find(t, &e[i].name);
		if (mesh_version_too_far_ahead(e[i].version, now_wall_ms)) {
			nfar++; /* UPD_SKIP, for us too: we would never get past it */
		} else if (!p) {
			e[i].action = UPD_ADD;
			nnew++;
		} else if (p == self) {
			/* an older incarnation of us (another uid) that is not behind ours, or a
			 * version of us we never sent: jump above it. Our own entry echoed back
			 * (same version and uid) changes nothing. */
			if (e[i].version > self->version ||
			    (e[i].version == self->version && e[i].uid != self->uid))
				e[i].action = UPD_SELF_BUMP;
		} else if (mesh_topo_newer(e[i].version, e[i].uid, p->version, p->uid)) {
			e[i].action = UPD_REPLACE;
			e[i].at = (size_t)(p - t->peers);
		}
	}
	if (nnew > MESH_TOPO_MAX_PEERS - t->n) {
		*why = "topology update would grow the topology past its peer limit";
		r = -EBADMSG;
		goto out;
	}

	/* Allocate everything first, so that -ENOMEM leaves the topology as it was. */
	if (t->n + nnew > t->cap) {
		size_t cap = t->cap ? t->cap : 8;
		while (cap < t->n + nnew)
			cap *= 2;
		struct mesh_topo_peer *np = realloc(t->peers, cap * sizeof(*np));
		if (!np) {
			r = -ENOMEM;
			goto out;
		}
		t->peers = np;
		t->cap = cap;
		self = mesh_topo_self(t);
	}
	for (size_t i = 0; i < count; i++) {
		if ((e[i].action != UPD_ADD && e[i].action != UPD_REPLACE) || !e[i].nconns)
			continue;
		e[i].copy = malloc(e[i].nconns * sizeof(*e[i].copy));
		if (!e[i].copy) {
			r = -ENOMEM;
			goto out;
		}
		decode_conns(e[i].copy, e[i].conns, e[i].nconns);
	}

	/* Apply: nothing can fail from here on. */
	size_t nc = 0;
	for (size_t i = 0; i < count; i++) {
		struct mesh_topo_peer *p;
		switch (e[i].action) {
		case UPD_SKIP:
			continue;
		case UPD_SELF_BUMP:
			t->peers[0].version = e[i].version;
			bump(&t->peers[0].version);
			break;
		case UPD_ADD:
		case UPD_REPLACE:
			if (e[i].action == UPD_ADD) {
				p = &t->peers[t->n++];
				p->unreachable_since_ms = 0;
			} else {
				p = &t->peers[e[i].at];
				free(p->conns);
			}
			p->name = e[i].name;
			memcpy(p->nickname, e[i].nickname, sizeof(p->nickname));
			p->uid = e[i].uid;
			p->version = e[i].version;
			p->short_id = e[i].short_id;
			p->nconns = e[i].nconns;
			p->conns = e[i].copy;
			e[i].copy = NULL;
			break;
		}
		if (changed && nc < changed_cap)
			changed[nc] = e[i].name;
		nc++;
	}
	*nchanged = nc;
	r = (int)nfar;
	if (nfar)
		*why = "topology entries with versions more than a day ahead of our clock ignored "
		       "(a peer's clock or ours is wrong, or the entry is forged)";
out:
	for (size_t i = 0; i < count; i++)
			free(e[i].copy);
	free(e);
	return r;
}

/* --- forgetting --------------------------------------------------------------------------- */

struct name_idx {
	struct mesh_peer_name name;
	size_t idx;
};

static int name_idx_cmp(const void *a, const void *b)
{
	return mesh_peer_name_cmp(&((const struct name_idx *)a)->name, &((const struct name_idx *)b)->name);
}

static size_t lookup_idx(const struct name_idx *sorted, size_t n, const struct mesh_peer_name *name)
{
	struct name_idx key = { .name = *name, .idx = 0 };
	const struct name_idx *hit = bsearch(&key, sorted, n, sizeof(*sorted), name_idx_cmp);
	return hit ? hit->idx : SIZE_MAX;
}

/* Needs scratch memory; when it cannot get it nothing is forgotten (and 0 returned):
 * remembering a peer a little longer is always safe. */
size_t mesh_topo_forget_unreachable(struct mesh_topology *t, uint64_t now_ms, uint64_t grace_ms)
{
	size_t n = t->n;
	if (n <= 1)
		return 0;
	struct name_idx *sorted = malloc(n * sizeof(*sorted));
	size_t *queue = malloc(n * sizeof(*queue));
	uint8_t *mark = calloc(n, 1); /* bit0 reachable, bit1 referenced */
	if (!sorted || !queue || !mark) {
		free(sorted);
		free(queue);
		free(mark);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		sorted[i].name = t->peers[i].name;
		sorted[i].idx = i;
	}
	qsort(sorted, n, sizeof(*sorted), name_idx_cmp);

	/* BFS from us over established, symmetric connections. */
	size_t head = 0, tail = 0;
	queue[tail++] = 0;
	mark[0] = 1;
	while (head < tail) {
		const struct mesh_topo_peer *p = &t->peers[queue[head++]];
		for (unsigned c = 0; c < p->nconns; c++) {
			size_t q = lookup_idx(sorted, n, &p->conns[c].peer);
			if (q == SIZE_MAX)
				continue;
			mark[q] |= 2;
			if (!(mark[q] & 1) && (p->conns[c].flags & MESH_TOPO_CONN_ESTABLISHED) &&
			    mesh_topo_linked(t, p, &t->peers[q])) {
				mark[q] |= 1;
				queue[tail++] = q;
			}
		}
	}

	size_t w = 1, forgotten = 0;
	for (size_t i = 1; i < n; i++) {
		struct mesh_topo_peer *p = &t->peers[i];
		bool keep = true;
		if (mark[i]) {
			p->unreachable_since_ms = 0;
		} else {
			/* 0 means "reachable", so a clock at 0 is recorded as 1 */
			if (p->unreachable_since_ms == 0)
				p->unreachable_since_ms = now_ms ? now_ms : 1;
			uint64_t gone = now_ms >= p->unreachable_since_ms ? now_ms - p->unreachable_since_ms : 0;
			if (gone >= grace_ms)
				keep = false;
		}
		if (!keep) {
			free(p->conns);
			forgotten++;
			continue;
		}
		if (w != i)
			t->peers[w] = *p;
		w++;
	}
	t->n = w;
	if (forgotten && t->index) /* entries moved: the next lookup rebuilds the index */
		t->index->indexed = 0;
	free(sorted);
	free(queue);
	free(mark);
	return forgotten;
}

/* --- digest ---------------------------------------------------------------------------------- */

void mesh_topo_digest_make(const struct mesh_topology *t, uint8_t flags, struct mesh_topo_digest *d)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct mesh_topo_peer *p = &t->peers[i];
		uint64_t name = 0;
		for (int k = 0; k < MESH_PEER_NAME_LEN; k++)
			name = name << 8 | p->name.b[k];
		sum += mix64(name ^ mix64(p->uid ^ mix64(p->version)));
	}
	d->flags = flags;
	d->count = (uint16_t)(t->n > UINT16_MAX ? UINT16_MAX : t->n);
	d->digest = sum;
}

bool mesh_topo_digest_matches(const struct mesh_topology *t, const struct mesh_topo_digest *d)
{
	struct mesh_topo_digest ours;
	mesh_topo_digest_make(t, 0, &ours);
	return ours.count == d->count && ours.digest == d->digest;
}

ssize_t mesh_topo_digest_encode(const struct mesh_topo_digest *d, uint8_t *out, size_t cap)
{
	if (cap < MESH_TOPO_DIGEST_LEN)
		return -EMSGSIZE;
	out[0] = d->flags;
	put_be16(out + 1, d->count);
	put_be64(out + 3, d->digest);
	return MESH_TOPO_DIGEST_LEN;
}

int mesh_topo_digest_decode(const uint8_t *p, size_t len, struct mesh_topo_digest *d,
			    const char **why)
{
	if (len != MESH_TOPO_DIGEST_LEN) {
		*why = "topology digest is not 11 bytes long";
		return -EBADMSG;
	}
	if (p[0] & ~MESH_TOPO_DIGEST_REPLY) {
		*why = "topology digest has unknown flags set";
		return -EBADMSG;
	}
	d->flags = p[0];
	d->count = get_be16(p + 1);
	d->digest = get_be64(p + 3);
	return 0;
}
