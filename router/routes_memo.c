/* router/routes_memo.c: what one route computation keeps for the next (the memo; routes.c
 * builds its graph from it). Pure: no I/O.
 *
 * At scale a computation was mostly cache misses: it loaded every entry's connection list,
 * each its own allocation, though a turn changes a few entries. The memo keeps, per entry
 * (by index in the topology), its established connections resolved to entry indices, and the
 * name order; the next computation over the same topology (t->id) re-reads an entry only if
 * its name, uid, version, connection count or list changed (all five hashed into a stamp), or
 * if entries were added and it lists a name it did not know. Entries are appended and keep
 * their index until one is forgotten: then (an entry's name changed) everything is read again.
 * The names are sorted again only when entries were added or forgotten.
 * Topology entries change through topology.c, which gives each change a new version; code
 * that edits an entry by hand must change one of the five. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "router/routes_impl.h"

void routes_memo_free(struct mesh_routes_memo *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->order);
	free(m->rank);
	free(m->list);
	free(m);
}

static uint64_t stamp_of(const struct mesh_topo_peer *p)
{
	uint64_t h = mesh_peer_name_u64(&p->name) ^ 0x9e3779b97f4a7c15ull;
	uint64_t parts[4] = { p->uid, p->version, p->nconns, (uint64_t)(uintptr_t)p->conns };
	for (int k = 0; k < 4; k++) {
		h ^= parts[k];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return h;
}

static int cmp_rank_name(const void *a, const void *b, void *names)
{
	const struct mesh_topo_peer *p = names;
	return mesh_peer_name_cmp(&p[*(const unsigned *)a].name, &p[*(const unsigned *)b].name);
}

int routes_memo_update(struct mesh_routes_memo *m, const struct mesh_topology *t)
{
	size_t n = t->n;
	bool same = t->id && m->topo_id == t->id && n >= m->n;
	for (size_t i = 0; same && i < m->n; i++)
		same = mesh_peer_name_eq(&m->e[i].name, &t->peers[i].name);
	bool grew = same && n > m->n, resort = !same || grew;
	struct memo_entry *e = malloc(n * sizeof(*e));
	unsigned *order = NULL, *rank = NULL;
	size_t len = 0, cap = m->len + 64;
	unsigned *list = malloc(cap * sizeof(*list));
	if (!e || !list)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct mesh_topo_peer *p = &t->peers[i];
		const struct memo_entry *old = same && i < m->n ? &m->e[i] : NULL;
		e[i] = (struct memo_entry){ .name = p->name, .off = (unsigned)len,
					    .stamp = stamp_of(p) };
		bool keep = old && old->stamp == e[i].stamp && !(grew && old->unknown);
		size_t need = keep ? old->len : p->nconns;
		if (len + need > cap) {
			size_t c = (len + need) * 2;
			unsigned *l = realloc(list, c * sizeof(*l));
			if (!l)
				goto fail;
			list = l;
			cap = c;
		}
		if (keep) {
			memcpy(list + len, m->list + old->off, old->len * sizeof(*list));
			len += old->len;
			e[i].unknown = old->unknown;
		} else {
			for (unsigned c = 0; c < p->nconns; c++) {
				if (!(p->conns[c].flags & MESH_TOPO_CONN_ESTABLISHED))
					continue;
				const struct mesh_topo_peer *q = mesh_topo_find(t, &p->conns[c].peer);
				if (!q)
					e[i].unknown = true;
				else if (q != p)
					list[len++] = (unsigned)(q - t->peers);
			}
		}
		e[i].len = (unsigned)(len - e[i].off);
	}
	if (resort) {
		order = malloc(n * sizeof(*order));
		rank = malloc(n * sizeof(*rank));
		if (!order || !rank)
			goto fail;
		for (size_t i = 0; i < n; i++)
			order[i] = (unsigned)i;
		qsort_r(order, n, sizeof(*order), cmp_rank_name, t->peers);
		for (size_t i = 0; i < n; i++)
			rank[order[i]] = (unsigned)i;
		free(m->order);
		free(m->rank);
		m->order = order;
		m->rank = rank;
	}
	free(m->e);
	free(m->list);
	m->e = e;
	m->list = list;
	m->len = len;
	m->n = n;
	m->topo_id = t->id;
	return 0;
fail:
	free(e);
	free(list);
	free(order);
	free(rank);
	return -ENOMEM;
}

