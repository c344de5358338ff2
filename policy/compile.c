/* policy/compile.c: the NetworkPolicy state into one nftables script for `inet mesh_policy`
 * (policy/compile.h says what the table does). Pure: no I/O.
 *
 * Both families go through the same code: an address is a 128-bit number (IPv4 in the low 32
 * bits), and everything per family (pods, sets, rules) is kept in arrays indexed by F4 / F6;
 * only the keywords, set types and the text of an address differ. */
#include "policy/compile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/textbuf.h"
#include "policy/select.h"

#define ELEMS_PER_LINE 512

typedef np_u128 u128;

enum { F4, F6, NFAM };

/* per family: the nft keyword of its addresses, and set types (static: set_reg keeps them) */
static const char *const FAM_KW[NFAM] = { "ip", "ip6" };
static const char *const FAM_ADDR[NFAM] = { "ipv4_addr;", "ipv6_addr;" };
static const char *const FAM_INTERVAL[NFAM] = { "ipv4_addr; flags interval;",
						"ipv6_addr; flags interval;" };
static const char *const FAM_NAMED[NFAM] = { "ipv4_addr . inet_proto . inet_service;",
					     "ipv6_addr . inet_proto . inet_service;" };
/* the suffix of the fixed sets' and per-content sets' names of the family */
static const char *const FAM_SUFFIX[NFAM] = { "", "6" };

static void ip_str(uint32_t ip, char out[16])
{
	char *o = out;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned b = (ip >> shift) & 255;
		if (b >= 100)
			*o++ = (char)('0' + b / 100);
		if (b >= 10)
			*o++ = (char)('0' + b / 10 % 10);
		*o++ = (char)('0' + b % 10);
		*o++ = shift ? '.' : '\0';
	}
}

/* an address of family f as text */
static void addr_str(int f, u128 a, char out[INET6_ADDRSTRLEN])
{
	if (f == F4) {
		ip_str((uint32_t)a, out);
	} else {
		uint8_t b[16];
		np_a6_put(a, b);
		inet_ntop(AF_INET6, b, out, INET6_ADDRSTRLEN);
	}
}

static const char *proto_nft(uint8_t p)
{
	return p == NP_PROTO_TCP ? "tcp" : p == NP_PROTO_UDP ? "udp" : "sctp";
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}
#define FNV_INIT 14695981039346656037ull

/* --- the compile's working state --------------------------------------------------------- */

/* A pod address policy deals with here. */
struct ep {
	u128 ip;
	const struct np_pod *pod;
	const struct np_namespace *ns;
	bool local;
};

/* A growing list of addresses. */
struct addrs {
	u128 *v;
	size_t n, cap;
};

struct setdef {
	char name[NP_OBJ_NAME_MAX + 1];
	const char *type;       /* what follows "type " in the declaration, flags included */
	uint64_t hash;
	char *elems;            /* "e1, e2, ..." split into lines of ELEMS_PER_LINE by \n */
	size_t nelems;
};

struct cstate {
	const struct np_store *s;
	const struct np_compile_opts *o;
	const char *table;
	struct ep *eps[NFAM];
	size_t neps[NFAM];
	struct setdef *sets;
	size_t nsets, capsets;
	struct np_objects objs;
	size_t capobjs, capcounters;
	struct textbuf in, out;    /* the rules of pol_in and pol_out */
	struct addrs iso_in[NFAM], iso_out[NFAM], unknown[NFAM];
	size_t nrules, nelements;
	bool oom;
};

/* Room for one more element of size bytes in the array that pv points to (any T **), *cap of
 * them, n used: doubled when full (64 at first). 0, or -ENOMEM (c->oom set; the array as it
 * was). The pointer is read and written with memcpy: a T * is not a void * to the compiler. */
static int grow(struct cstate *c, void *pv, size_t *cap, size_t n, size_t size)
{
	void *old, *p;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? 2 * *cap : 64;
	memcpy(&old, pv, sizeof(old));
	if (!(p = realloc(old, ncap * size)))
		return c->oom = true, -ENOMEM;
	memcpy(pv, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

static int obj_add(struct cstate *c, enum np_obj_kind kind, const char *name)
{
	if (grow(c, &c->objs.v, &c->capobjs, c->objs.n, sizeof(*c->objs.v)) < 0)
		return -ENOMEM;
	c->objs.v[c->objs.n].kind = kind;
	snprintf(c->objs.v[c->objs.n].name, sizeof(c->objs.v[0].name), "%s", name);
	c->objs.n++;
	return 0;
}

static int addrs_push(struct cstate *c, struct addrs *a, u128 ip)
{
	if (grow(c, &a->v, &a->cap, a->n, sizeof(*a->v)) < 0)
		return -ENOMEM;
	a->v[a->n++] = ip;
	return 0;
}

static int u128_cmp(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;
	return x < y ? -1 : x > y;
}

/* sorts and removes repeats */
static void addrs_uniq(struct addrs *a)
{
	size_t o = 0;
	if (a->n == 0)
		return;
	qsort(a->v, a->n, sizeof(*a->v), u128_cmp);
	for (size_t i = 0; i < a->n; i++)
		if (o == 0 || a->v[o - 1] != a->v[i])
			a->v[o++] = a->v[i];
	a->n = o;
}

/* Registers a set of that type (and name prefix) holding elems (already formatted, one per
 * entry of the array), shared with any set of the same type and elements; its name to name. */
static int set_reg(struct cstate *c, const char *prefix, const char *type, char **elems,
		   size_t n, char name[NP_OBJ_NAME_MAX + 1])
{
	struct textbuf b = { 0 };
	uint64_t h = fnv(FNV_INIT, type, strlen(type) + 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			tb_append(&b, i % ELEMS_PER_LINE ? ", " : "\n", i % ELEMS_PER_LINE ? 2 : 1);
		tb_append(&b, elems[i], strlen(elems[i]));
		h = fnv(h, elems[i], strlen(elems[i]) + 1);
	}
	if (b.oom)
		return c->oom = true, -ENOMEM;
	unsigned dup = 0;
	for (;;) {
		snprintf(name, NP_OBJ_NAME_MAX + 1, "%s_%016" PRIx64 "%s", prefix, h,
			 dup ? "_" : "");
		if (dup)
			snprintf(name + strlen(name), NP_OBJ_NAME_MAX + 1 - strlen(name), "%u", dup);
		size_t i;
		for (i = 0; i < c->nsets; i++)
			if (!strcmp(c->sets[i].name, name))
				break;
		if (i == c->nsets)
			break;
		if (c->sets[i].hash == h && !strcmp(c->sets[i].type, type) &&
		    !strcmp(c->sets[i].elems ? c->sets[i].elems : "", b.p ? b.p : "")) {
			tb_free(&b);
			return 0;       /* the same set */
		}
		dup++;                  /* another content with the same hash */
	}
	if (grow(c, &c->sets, &c->capsets, c->nsets, sizeof(*c->sets)) < 0) {
		tb_free(&b);
		return -ENOMEM;
	}
	struct setdef *d = &c->sets[c->nsets++];
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->type = type;
	d->hash = h;
	d->elems = b.p;
	d->nelems = n;
	c->nelements += n;
	return obj_add(c, NP_OBJ_SET, name);
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

#define ELEM_MAX (2 * INET6_ADDRSTRLEN + 2)

/* ranges of family f as set elements: "a" or "a-b" */
static char **ranges_elems(int f, const struct np_r128 *r, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		addr_str(f, r[i].lo, a);
		addr_str(f, r[i].hi, b);
		v[i] = malloc(ELEM_MAX);
		if (!v[i]) {
			strs_free(v, i);
			return NULL;
		}
		if (r[i].lo == r[i].hi)
			snprintf(v[i], ELEM_MAX, "%s", a);
		else
			snprintf(v[i], ELEM_MAX, "%s-%s", a, b);
	}
	return v;
}

/* a set of single addresses of family f (sorted, unique); its name prefix gets the family's
 * suffix */
static int ip_set(struct cstate *c, int f, const char *prefix, const struct addrs *a,
		  char name[NP_OBJ_NAME_MAX + 1])
{
	struct np_r128 *r = calloc(a->n ? a->n : 1, sizeof(*r));
	char pfx[32];
	if (!r)
		return c->oom = true, -ENOMEM;
	for (size_t i = 0; i < a->n; i++)
		r[i].lo = r[i].hi = a->v[i];
	char **e = ranges_elems(f, r, a->n);
	free(r);
	if (!e)
		return c->oom = true, -ENOMEM;
	snprintf(pfx, sizeof(pfx), "%s%s", prefix, FAM_SUFFIX[f]);
	int ret = set_reg(c, pfx, FAM_ADDR[f], e, a->n, name);
	strs_free(e, a->n);
	return ret;
}

/* --- which pods are where -------------------------------------------------------------- */

static int ep_cmp(const void *a, const void *b)
{
	const struct ep *x = a, *y = b;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	int d = strcmp(x->pod->ns, y->pod->ns);
	return d ? d : strcmp(x->pod->name, y->pod->name);
}

/* the view's address i of family f into *ip; false when it has none of that family */
static bool view_ip(const struct np_local_view *v, size_t i, int f, u128 *ip)
{
	if (f == F4) {
		*ip = ntohl(v->addr[i].ip);
		return true;
	}
	if (!v->addr[i].has_ip6)
		return false;
	*ip = np_a6_get(v->addr[i].ip6);
	return true;
}

static bool view_has_ip(const struct np_local_view *v, int f, u128 ip)
{
	u128 x;
	for (size_t i = 0; v && i < v->n && i < NP_LOCAL_MAX; i++)
		if (view_ip(v, i, f, &x) && x == ip)
			return true;
	return false;
}

static bool view_has_pod(const struct np_local_view *v, const struct np_pod *p)
{
	for (size_t i = 0; v && i < v->n && i < NP_LOCAL_MAX; i++)
		if (v->addr[i].name && v->addr[i].name[0] && v->addr[i].ns &&
		    !strcmp(v->addr[i].ns, p->ns) && !strcmp(v->addr[i].name, p->name))
			return true;
	return false;
}

/* The pod of the store that has IPv4 ip and runs on node, or NULL. */
static const struct np_pod *pod_by_ip_on(const struct np_store *s, uint32_t ip, const char *node)
{
	for (size_t i = 0; i < np_store_count(s, NP_KIND_POD); i++) {
		const struct np_pod *p = np_store_pod(s, i);
		if (!np_pod_active(p) || (node && strcmp(p->node, node)))
			continue;
		for (size_t k = 0; k < p->nips; k++)
			if (p->ips[k] == ip)
				return p;
	}
	return NULL;
}

static size_t pod_nips(const struct np_pod *p, int f)
{
	return f == F4 ? p->nips : p->nips6;
}

static u128 pod_ip(const struct np_pod *p, int f, size_t k)
{
	return f == F4 ? (u128)p->ips[k] : np_a6_get(p->ips6[k]);
}

/* The pod addresses of family f: the view's (this node's pods, by the IPAM; an IPv6 one is
 * its IPv4 one mapped into range6) with the pod each was given to, then the store's pods'
 * addresses the view does not hold. An IPv4 address that a pod of the view had in the API
 * server's status before is not taken from the store (the view says whose it is now); a view
 * pod's IPv6 addresses from its status are (the view has IPv6 only with a range6). */
static int build_eps(struct cstate *c, const struct np_local_view *v, int f)
{
	const struct np_store *s = c->s;
	size_t max = (v ? v->n : 0);
	for (size_t i = 0; i < np_store_count(s, NP_KIND_POD); i++)
		max += pod_nips(np_store_pod(s, i), f);
	struct ep *eps = c->eps[f] = calloc(max ? max : 1, sizeof(*eps));
	size_t n = 0;
	if (!eps)
		return c->oom = true, -ENOMEM;
	const char *node = v && v->node && v->node[0] ? v->node : NULL;
	for (size_t i = 0; v && i < v->n && i < NP_LOCAL_MAX; i++) {
		u128 ip;
		const struct np_pod *p;
		if (!view_ip(v, i, f, &ip))
			continue;
		if (v->addr[i].name && v->addr[i].name[0]) {
			p = np_store_find_pod(s, v->addr[i].ns ? v->addr[i].ns : "", v->addr[i].name);
			if (!p) {
				if (addrs_push(c, &c->unknown[f], ip) < 0)
					return -ENOMEM;
				continue;
			}
		} else {
			p = pod_by_ip_on(s, ntohl(v->addr[i].ip), node);
		}
		if (!p || !np_pod_active(p))
			continue;
		eps[n++] = (struct ep){ ip, p, np_store_find_namespace(s, p->ns), true };
	}
	for (size_t i = 0; i < np_store_count(s, NP_KIND_POD); i++) {
		const struct np_pod *p = np_store_pod(s, i);
		if (!np_pod_active(p) || (f == F4 && view_has_pod(v, p)))
			continue;
		for (size_t k = 0; k < pod_nips(p, f); k++) {
			u128 ip = pod_ip(p, f, k);
			if (view_has_ip(v, f, ip))
				continue;       /* the view says whose address it is now */
			bool local = node && !strcmp(p->node, node);
			eps[n++] = (struct ep){ ip, p, np_store_find_namespace(s, p->ns), local };
		}
	}
	if (n)
		qsort(eps, n, sizeof(*eps), ep_cmp);
	c->neps[f] = n;
	addrs_uniq(&c->unknown[f]);
	return 0;
}

/* --- one policy rule ------------------------------------------------------------------- */

void np_counter_name(const struct np_policy *pol, unsigned direction, size_t index,
		     char out[NP_OBJ_NAME_MAX + 1])
{
	const char *d = direction == NP_TYPE_INGRESS ? "in" : "eg";
	if (pol->uid[0]) {
		snprintf(out, NP_OBJ_NAME_MAX + 1, "np_%s_%s_%zu", pol->uid, d, index);
		return;
	}
	uint64_t h = fnv(FNV_INIT, pol->ns, strlen(pol->ns) + 1);
	h = fnv(h, pol->name, strlen(pol->name) + 1);
	snprintf(out, NP_OBJ_NAME_MAX + 1, "np_h%016" PRIx64 "_%s_%zu", h, d, index);
}

struct port_el {
	u128 ip;                /* named: the pod's address */
	uint8_t proto;
	uint16_t lo, hi;
};

static int port_el_cmp(const void *a, const void *b)
{
	const struct port_el *x = a, *y = b;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* sorts, and merges overlapping or adjacent ranges of one (ip, proto) */
static size_t port_els_normalize(struct port_el *v, size_t n)
{
	size_t o = 0;
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), port_el_cmp);
	for (size_t i = 1; i < n; i++) {
		if (v[i].ip == v[o].ip && v[i].proto == v[o].proto &&
		    (uint32_t)v[i].lo <= (uint32_t)v[o].hi + 1) {
			if (v[i].hi > v[o].hi)
				v[o].hi = v[i].hi;
		} else {
			v[++o] = v[i];
		}
	}
	return o + 1;
}

static bool ip_in_ranges(const struct np_r128 *r, size_t n, u128 ip)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ip < r[mid].lo)
			hi = mid;
		else if (ip > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* sorts ranges and merges overlapping or adjacent ones; returns the new count */
static size_t ranges_normalize(struct np_r128 *r, size_t n)
{
	size_t o = 0;
	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), np_r128_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].lo <= r[o].hi || r[i].lo == r[o].hi + 1) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}

/* An ipBlock's addresses of family f as ranges into out; returns their count. */
static size_t block_ranges(const struct np_peer *pe, int f, struct np_r128 *out)
{
	size_t n = 0;
	if (f == F4) {
		struct np_range r[NP_MAX_EXCEPT + 1];
		n = np_block_ranges(pe, r);
		for (size_t i = 0; i < n; i++)
			out[i] = (struct np_r128){ r[i].lo, r[i].hi };
	} else {
		struct np_range6 r[NP_MAX_EXCEPT + 1];
		n = np_block_ranges6(pe, r);
		for (size_t i = 0; i < n; i++)
			out[i] = (struct np_r128){ np_a6_get(r[i].lo), np_a6_get(r[i].hi) };
	}
	return n;
}

/* The addresses of family f a rule's peers are (sorted disjoint ranges, *n of them): the pods
 * some selector peer covers (eps are sorted by address, so they come in order) and the
 * ipBlocks of the family. */
static struct np_r128 *peer_ranges(struct cstate *c, int f, const struct np_policy *pol,
				 const struct np_rule *rule, size_t *n)
{
	size_t cap = c->neps[f] + 1, k = 0;
	for (size_t i = 0; i < rule->npeers; i++)
		if (rule->peers[i].is_block)
			cap += NP_MAX_EXCEPT + 1;
	struct np_r128 *r = calloc(cap, sizeof(*r));
	if (!r)
		return c->oom = true, NULL;
	for (size_t e = 0; e < c->neps[f]; e++) {
		const struct ep *ep = &c->eps[f][e];
		for (size_t i = 0; i < rule->npeers; i++) {
			if (np_peer_covers_pod(&rule->peers[i], pol, ep->pod, ep->ns)) {
				if (k && r[k - 1].hi + 1 == ep->ip)
					r[k - 1].hi = ep->ip;
				else if (!k || r[k - 1].hi != ep->ip)
					r[k++] = (struct np_r128){ ep->ip, ep->ip };
				break;
			}
		}
	}
	for (size_t i = 0; i < rule->npeers; i++)
		if (rule->peers[i].is_block)
			k += block_ranges(&rule->peers[i], f, r + k);
	*n = ranges_normalize(r, k);
	return r;
}

/* The rules of family f for one policy rule (counter already registered): the pods selected
 * here of that family are in set sel (nsel of them, selected). No selected pod of the family:
 * nothing to do. */
static int compile_rule_family(struct cstate *c, int f, const struct np_policy *pol,
			       unsigned dir, const struct np_rule *rule, const char *counter,
			       const char *sel, const struct ep **selected, size_t nsel)
{
	struct textbuf *b = dir == NP_TYPE_INGRESS ? &c->in : &c->out;
	const char *verdict = dir == NP_TYPE_INGRESS ? "accept" : "return";
	const char *self = dir == NP_TYPE_INGRESS ? "daddr" : "saddr";
	const char *other = dir == NP_TYPE_INGRESS ? "saddr" : "daddr";
	const char *kw = FAM_KW[f];
	char peers[NP_OBJ_NAME_MAX + 1] = "", ports[NP_OBJ_NAME_MAX + 1] = "",
	     named[NP_OBJ_NAME_MAX + 1] = "", pfx[16];
	struct np_r128 *pr = NULL;
	struct port_el *num = NULL, *nam = NULL;
	char **e = NULL;
	size_t npr = 0, nnum = 0, nnam = 0, ne = 0;
	int ret = -ENOMEM;

	if (nsel == 0)
		return 0;
	if (rule->npeers) {
		if (!(pr = peer_ranges(c, f, pol, rule, &npr)))
			goto out;
		if (npr == 0) {
			ret = 0;        /* no peer of this family exists: nothing allowed (yet) */
			goto out;
		}
		if (!(e = ranges_elems(f, pr, npr)))
			goto out;
		ne = npr;
		snprintf(pfx, sizeof(pfx), "peer%s", FAM_SUFFIX[f]);
		if (set_reg(c, pfx, FAM_INTERVAL[f], e, npr, peers) < 0)
			goto out;
	}
	/* ports: numbers (and whole protocols) in one set, named ones per pod in another */
	size_t maxnam = 0;
	for (size_t i = 0; i < rule->nports; i++)
		if (rule->ports[i].name[0])
			maxnam += dir == NP_TYPE_INGRESS ? nsel : c->neps[f];
	num = calloc(rule->nports ? rule->nports : 1, sizeof(*num));
	nam = calloc(maxnam ? maxnam : 1, sizeof(*nam));
	if (!num || !nam)
		goto out;
	for (size_t i = 0; i < rule->nports; i++) {
		const struct np_port *p = &rule->ports[i];
		if (!p->name[0]) {
			num[nnum++] = (struct port_el){ 0, p->proto, p->has_port ? p->port : 0,
							p->has_port ? p->end_port : 65535 };
			continue;
		}
		uint16_t port;
		if (dir == NP_TYPE_INGRESS) {
			for (size_t k = 0; k < nsel; k++)
				if (np_named_port(selected[k]->pod, p->name, p->proto, &port) == 0)
					nam[nnam++] = (struct port_el){ selected[k]->ip, p->proto, port,
									port };
		} else {
			for (size_t k = 0; k < c->neps[f]; k++) {
				const struct ep *ep = &c->eps[f][k];
				if ((!rule->npeers || ip_in_ranges(pr, npr, ep->ip)) &&
				    np_named_port(ep->pod, p->name, p->proto, &port) == 0)
					nam[nnam++] = (struct port_el){ ep->ip, p->proto, port, port };
			}
		}
	}
	nnum = port_els_normalize(num, nnum);
	nnam = port_els_normalize(nam, nnam);
	strs_free(e, ne);
	e = NULL;
	ne = 0;
	if (nnum) {
		if (!(e = calloc(nnum, sizeof(*e))))
			goto out;
		for (ne = 0; ne < nnum; ne++) {
			if (!(e[ne] = malloc(32)))
				goto out;
			if (num[ne].lo == num[ne].hi)
				snprintf(e[ne], 32, "%s . %u", proto_nft(num[ne].proto), num[ne].lo);
			else
				snprintf(e[ne], 32, "%s . %u-%u", proto_nft(num[ne].proto), num[ne].lo,
					 num[ne].hi);
		}
		if (set_reg(c, "port", "inet_proto . inet_service; flags interval;", e, nnum, ports) < 0)
			goto out;
		strs_free(e, ne);
		e = NULL;
		ne = 0;
	}
	if (nnam) {
		if (!(e = calloc(nnam, sizeof(*e))))
			goto out;
		for (ne = 0; ne < nnam; ne++) {
			char a[INET6_ADDRSTRLEN];
			if (!(e[ne] = malloc(ELEM_MAX)))
				goto out;
			addr_str(f, nam[ne].ip, a);
			snprintf(e[ne], ELEM_MAX, "%s . %s . %u", a, proto_nft(nam[ne].proto),
				 nam[ne].lo);
		}
		snprintf(pfx, sizeof(pfx), "named%s", FAM_SUFFIX[f]);
		if (set_reg(c, pfx, FAM_NAMED[f], e, nnam, named) < 0)
			goto out;
	}
	if (rule->nports == 0 || nnum) {
		tb_printf(b, "add rule inet %s pol_%s %s %s @%s", c->table,
			  dir == NP_TYPE_INGRESS ? "in" : "out", kw, self, sel);
		if (peers[0])
			tb_printf(b, " %s %s @%s", kw, other, peers);
		if (nnum)
			tb_printf(b, " meta l4proto . th dport @%s", ports);
		tb_printf(b, " counter name %s %s\n", counter, verdict);
		c->nrules++;
	}
	if (nnam) {
		tb_printf(b, "add rule inet %s pol_%s", c->table, dir == NP_TYPE_INGRESS ? "in" : "out");
		if (dir == NP_TYPE_INGRESS && peers[0])
			tb_printf(b, " %s saddr @%s", kw, peers);
		if (dir == NP_TYPE_EGRESS)
			tb_printf(b, " %s saddr @%s", kw, sel);
		/* a named port is always the destination's */
		tb_printf(b, " %s daddr . meta l4proto . th dport @%s counter name %s %s\n", kw, named,
			  counter, verdict);
		c->nrules++;
	}
	ret = 0;
out:
	strs_free(e, ne);
	free(pr);
	free(num);
	free(nam);
	if (ret < 0)
		c->oom = true;
	return ret;
}

/* One rule of pol: its counter (in the objects and the JSON), then its rules of each family. */
static int compile_rule(struct cstate *c, const struct np_policy *pol, unsigned dir, size_t idx,
			char sel[NFAM][NP_OBJ_NAME_MAX + 1], const struct ep **selected[NFAM],
			const size_t nsel[NFAM], cJSON *jrules)
{
	const struct np_rule *rule = dir == NP_TYPE_INGRESS ? &pol->ingress[idx] : &pol->egress[idx];
	char counter[NP_OBJ_NAME_MAX + 1];

	np_counter_name(pol, dir, idx, counter);
	if (obj_add(c, NP_OBJ_COUNTER, counter) < 0)
		return -ENOMEM;
	if (grow(c, &c->objs.counters, &c->capcounters, c->objs.ncounters,
		 sizeof(*c->objs.counters)) < 0)
		return -ENOMEM;
	struct np_rule_counter *rc = &c->objs.counters[c->objs.ncounters++];
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->name, sizeof(rc->name), "%s", counter);
	snprintf(rc->ns, sizeof(rc->ns), "%s", pol->ns);
	snprintf(rc->policy, sizeof(rc->policy), "%s", pol->name);
	rc->direction = dir;
	rc->index = idx;
	cJSON *jr = cJSON_CreateObject();
	if (!jr || !cJSON_AddItemToArray(jrules, jr) ||
	    !cJSON_AddStringToObject(jr, "direction", dir == NP_TYPE_INGRESS ? "ingress" : "egress") ||
	    !cJSON_AddNumberToObject(jr, "index", (double)idx) ||
	    !cJSON_AddStringToObject(jr, "counter", counter))
		return c->oom = true, -ENOMEM;
	for (int f = 0; f < NFAM; f++)
		if (compile_rule_family(c, f, pol, dir, rule, counter, sel[f], selected[f], nsel[f]) < 0)
			return -ENOMEM;
	return 0;
}

/* --- one policy ------------------------------------------------------------------------ */

/* the policy's "selects" in the JSON: one entry per pod address, {"pod", "ip"}, and a pod's
 * IPv6 address as "ip6" of its first entry without one */
static int selects_json(cJSON *js, const struct ep **sel[NFAM], const size_t nsel[NFAM])
{
	for (int f = 0; f < NFAM; f++)
		for (size_t i = 0; i < nsel[f]; i++) {
			char pod[2 * NP_NAME_MAX + 2], a[INET6_ADDRSTRLEN];
			const char *key = f == F4 ? "ip" : "ip6";
			snprintf(pod, sizeof(pod), "%s/%s", sel[f][i]->pod->ns, sel[f][i]->pod->name);
			addr_str(f, sel[f][i]->ip, a);
			cJSON *o = NULL, *x;
			if (f == F6)
				cJSON_ArrayForEach(x, js)
					if (!strcmp(cJSON_GetObjectItem(x, "pod")->valuestring, pod) &&
					    !cJSON_GetObjectItem(x, "ip6")) {
						o = x;
						break;
					}
			if (!o && (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(js, o) ||
				   !cJSON_AddStringToObject(o, "pod", pod)))
				return -ENOMEM;
			if (!cJSON_AddStringToObject(o, key, a))
				return -ENOMEM;
		}
	return 0;
}

static int compile_policy(struct cstate *c, const struct np_policy *pol, cJSON *jpolicies,
			  bool *here)
{
	const struct ep **sel[NFAM] = { NULL };
	struct addrs ips[NFAM] = { { 0 } };
	char selname[NFAM][NP_OBJ_NAME_MAX + 1] = { "", "" };
	size_t nsel[NFAM] = { 0 };
	int ret = -ENOMEM;
	*here = false;
	for (int f = 0; f < NFAM; f++) {
		if (!(sel[f] = calloc(c->neps[f] ? c->neps[f] : 1, sizeof(*sel[f]))))
			goto out;
		for (size_t i = 0; i < c->neps[f]; i++)
			if (c->eps[f][i].local && np_policy_selects(pol, c->eps[f][i].pod))
				sel[f][nsel[f]++] = &c->eps[f][i];
		*here |= nsel[f] > 0;
	}
	ret = 0;
	if (!*here)
		goto out;       /* nothing of this policy is enforced here */
	ret = -ENOMEM;
	for (int f = 0; f < NFAM; f++) {
		if (nsel[f] == 0)
			continue;
		for (size_t i = 0; i < nsel[f]; i++)
			if (addrs_push(c, &ips[f], sel[f][i]->ip) < 0 ||
			    ((pol->types & NP_TYPE_INGRESS) &&
			     addrs_push(c, &c->iso_in[f], sel[f][i]->ip) < 0) ||
			    ((pol->types & NP_TYPE_EGRESS) &&
			     addrs_push(c, &c->iso_out[f], sel[f][i]->ip) < 0))
				goto out;
		addrs_uniq(&ips[f]);
		if (ip_set(c, f, "sel", &ips[f], selname[f]) < 0)
			goto out;
	}

	cJSON *jp = cJSON_CreateObject(), *jt, *js, *jr;
	if (!jp || !cJSON_AddItemToArray(jpolicies, jp) ||
	    !cJSON_AddStringToObject(jp, "namespace", pol->ns) ||
	    !cJSON_AddStringToObject(jp, "name", pol->name) ||
	    !(jt = cJSON_AddArrayToObject(jp, "types")) ||
	    !(js = cJSON_AddArrayToObject(jp, "selects")) ||
	    !(jr = cJSON_AddArrayToObject(jp, "rules")))
		goto out;
	if ((pol->types & NP_TYPE_INGRESS) && !cJSON_AddItemToArray(jt, cJSON_CreateString("Ingress")))
		goto out;
	if ((pol->types & NP_TYPE_EGRESS) && !cJSON_AddItemToArray(jt, cJSON_CreateString("Egress")))
		goto out;
	if (selects_json(js, sel, nsel) < 0)
		goto out;
	if (pol->types & NP_TYPE_INGRESS)
		for (size_t i = 0; i < pol->ningress; i++)
			if (compile_rule(c, pol, NP_TYPE_INGRESS, i, selname, sel, nsel, jr) < 0)
				goto out;
	if (pol->types & NP_TYPE_EGRESS)
		for (size_t i = 0; i < pol->negress; i++)
			if (compile_rule(c, pol, NP_TYPE_EGRESS, i, selname, sel, nsel, jr) < 0)
				goto out;
	ret = 0;
out:
	for (int f = 0; f < NFAM; f++) {
		free(sel[f]);
		free(ips[f].v);
	}
	if (ret < 0)
		c->oom = true;
	return ret;
}
/* --- the whole script ------------------------------------------------------------------ */

void np_compile_opts_init(struct np_compile_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->table = NP_TABLE_DEFAULT;
	o->multicast_allowed = true;
	o->log_rate = 10;
	o->log_burst = 20;
}

void np_generation_marker(uint64_t gen, char *out, size_t cap)
{
	snprintf(out, cap, "mesh-policy generation %" PRIu64 ";", gen);
}

static int obj_cmp(const void *a, const void *b)
{
	const struct np_object *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

bool np_objects_has(const struct np_objects *o, enum np_obj_kind kind, const char *name)
{
	struct np_object key = { .kind = kind };
	if (!o || !o->n || strlen(name) > NP_OBJ_NAME_MAX)
		return false;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, o->v, o->n, sizeof(*o->v), obj_cmp) != NULL;
}

void np_objects_free(struct np_objects *o)
{
	free(o->v);
	free(o->counters);
	cJSON_Delete(o->policies);
	memset(o, 0, sizeof(*o));
}

void np_compiled_free(struct np_compiled *c)
{
	free(c->script);
	np_objects_free(&c->objects);
	memset(c, 0, sizeof(*c));
}

static bool table_name_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 63 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
			return false;
	return true;
}

bool np_obj_name_ok(const char *n)
{
	size_t len = strnlen(n, NP_OBJ_NAME_MAX + 1);
	if (len == 0 || len > NP_OBJ_NAME_MAX || !((n[0] >= 'a' && n[0] <= 'z') ||
						  (n[0] >= 'A' && n[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '_' || n[i] == '-'))
			return false;
	return true;
}

static void emit_set(struct textbuf *b, const char *table, const struct setdef *d)
{
	tb_printf(b, "add set inet %s %s { type %s }\nflush set inet %s %s\n", table, d->name, d->type,
		  table, d->name);
	const char *p = d->elems;
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		tb_printf(b, "add element inet %s %s { %.*s }\n", table, d->name, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* the log-and-drop end of a chain */
static void emit_drop(struct cstate *c, struct textbuf *b, const char *chain, const char *prefix,
		      const char *counter)
{
	unsigned rate = c->o->log_rate ? c->o->log_rate : 10;
	unsigned burst = c->o->log_burst ? c->o->log_burst : 20;
	tb_printf(b, "add rule inet %s %s limit rate %u/second burst %u packets log prefix \"%s\" "
		  "group %u\n", c->table, chain, rate, burst, prefix, c->o->nflog_group);
	tb_printf(b, "add rule inet %s %s counter name %s drop\n", c->table, chain, counter);
	c->nrules += 2;
}

static int set_cmp(const void *a, const void *b)
{
	return strcmp(((const struct setdef *)a)->name, ((const struct setdef *)b)->name);
}

int np_compile(const struct np_store *s, const struct np_local_view *view,
	       const struct np_compile_opts *opts, const struct np_objects *prev,
	       struct np_compiled *out, char *err, size_t errlen)
{
	struct np_compile_opts defaults;
	struct cstate c = { 0 };
	struct textbuf b = { 0 };
	size_t nhere = 0;
	char marker[64];
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!opts) {
		np_compile_opts_init(&defaults);
		opts = &defaults;
	}
	c.s = s;
	c.o = opts;
	c.table = opts->table ? opts->table : NP_TABLE_DEFAULT;
	if (!table_name_ok(c.table)) {
		snprintf(err, errlen, "table name \"%.64s\": letters, digits and '_', at most 63",
			 c.table);
		return -EINVAL;
	}
	if (!(c.objs.policies = cJSON_CreateArray()))
		goto out;
	for (int f = 0; f < NFAM; f++)
		if (build_eps(&c, view, f) < 0)
			goto out;
	for (size_t i = 0; i < np_store_count(s, NP_KIND_POLICY); i++) {
		bool here;
		if (compile_policy(&c, np_store_policy(s, i), c.objs.policies, &here) < 0)
			goto out;
		nhere += here;
	}
	for (int f = 0; f < NFAM; f++) {
		addrs_uniq(&c.iso_in[f]);
		addrs_uniq(&c.iso_out[f]);
	}

	/* the fixed objects; the sets isolated_in/out and unknown (and their IPv6 twins) are
	 * registered under fixed names below, not by content */
	static const char *const chains[] = { "forward", "pol_in", "pol_out", "pend_drop",
					      "ll_drop" };
	static const char *const counters[] = { "drop_ingress", "drop_egress", "drop_pending",
						"drop_linklocal" };
	static const char *const fixed_sets[] = { "isolated_in", "isolated_out", "unknown" };
	enum { NCHAINS = 5, NCOUNTERS = 4, NFIXED = 3 };
	for (size_t i = 0; i < NCHAINS; i++)
		obj_add(&c, NP_OBJ_CHAIN, chains[i]);
	for (size_t i = 0; i < NCOUNTERS; i++)
		obj_add(&c, NP_OBJ_COUNTER, counters[i]);
	for (int f = 0; f < NFAM; f++)
		for (size_t i = 0; i < NFIXED; i++) {
			char n[32];
			snprintf(n, sizeof(n), "%s%s", fixed_sets[i], FAM_SUFFIX[f]);
			obj_add(&c, NP_OBJ_SET, n);
		}
	if (c.oom)
		goto out;
	/* sorted and unique (two policies of one uid, from a hostile API, share counters) */
	qsort(c.objs.v, c.objs.n, sizeof(*c.objs.v), obj_cmp);
	size_t nobj = 0;
	for (size_t i = 0; i < c.objs.n; i++)
		if (nobj == 0 || obj_cmp(&c.objs.v[nobj - 1], &c.objs.v[i]))
			c.objs.v[nobj++] = c.objs.v[i];
	c.objs.n = nobj;

	np_generation_marker(opts->generation, marker, sizeof(marker));
	tb_printf(&b, "# mesh NetworkPolicy rules, generation %" PRIu64 " (policy/compile.c)\n",
		  opts->generation);
	tb_printf(&b, "add table inet %s\n", c.table);
	/* the caller's sets: declared, never flushed */
	tb_printf(&b, "add set inet %s pending { type ipv4_addr; }\n", c.table);
	tb_printf(&b, "add set inet %s pending6 { type ipv6_addr; }\n", c.table);
	tb_printf(&b, "add chain inet %s forward { type filter hook forward priority filter; "
		  "policy accept; }\n", c.table);
	for (size_t i = 1; i < NCHAINS; i++)
		tb_printf(&b, "add chain inet %s %s\n", c.table, chains[i]);
	for (size_t i = 0; i < NCHAINS; i++)
		tb_printf(&b, "flush chain inet %s %s\n", c.table, chains[i]);
	/* chains of the previous compile that this one does not make: flushed first, deleted
	 * at the end, so that nothing refers to what is deleted */
	for (size_t i = 0; prev && i < prev->n; i++)
		if (prev->v[i].kind == NP_OBJ_CHAIN && !np_objects_has(&c.objs, NP_OBJ_CHAIN,
								     prev->v[i].name))
			tb_printf(&b, "flush chain inet %s %s\n", c.table, prev->v[i].name);
	for (size_t i = 0; i < c.objs.n; i++)
		if (c.objs.v[i].kind == NP_OBJ_COUNTER)
			tb_printf(&b, "add counter inet %s %s\n", c.table, c.objs.v[i].name);

	/* sets: the fixed ones, then the others by name */
	for (int f = 0; f < NFAM; f++) {
		const struct addrs *fixed_ips[NFIXED] = { &c.iso_in[f], &c.iso_out[f], &c.unknown[f] };
		for (size_t i = 0; i < NFIXED; i++) {
			struct textbuf e = { 0 };
			struct setdef d = { .type = FAM_ADDR[f] };
			for (size_t k = 0; k < fixed_ips[i]->n; k++) {
				char a[INET6_ADDRSTRLEN];
				addr_str(f, fixed_ips[i]->v[k], a);
				tb_printf(&e, "%s%s", k == 0 ? "" : (k % ELEMS_PER_LINE ? ", " : "\n"), a);
			}
			if (e.oom)
				goto out;
			snprintf(d.name, sizeof(d.name), "%s%s", fixed_sets[i], FAM_SUFFIX[f]);
			d.elems = e.p;
			emit_set(&b, c.table, &d);
			free(e.p);
			c.nelements += fixed_ips[i]->n;
		}
	}
	if (c.nsets)
		qsort(c.sets, c.nsets, sizeof(*c.sets), set_cmp);
	for (size_t i = 0; i < c.nsets; i++)
		emit_set(&b, c.table, &c.sets[i]);

	/* forward */
	const char *T = c.table;
	/* IPv6 neighbour discovery is what ARP is to IPv4 (which the inet table never sees):
	 * it carries no data, is not tracked, and without it no IPv6 flow starts */
	tb_printf(&b, "add rule inet %s forward icmpv6 type { nd-router-solicit, "
		  "nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } "
		  "accept\n", T);
	c.nrules++;
	for (int f = 0; f < NFAM; f++) {
		const char *kw = FAM_KW[f], *sx = FAM_SUFFIX[f];
		tb_printf(&b, "add rule inet %s forward %s saddr @pending%s goto pend_drop\n", T, kw, sx);
		tb_printf(&b, "add rule inet %s forward %s daddr @pending%s goto pend_drop\n", T, kw, sx);
		tb_printf(&b, "add rule inet %s forward %s saddr @unknown%s goto pend_drop\n", T, kw, sx);
		tb_printf(&b, "add rule inet %s forward %s daddr @unknown%s goto pend_drop\n", T, kw, sx);
		c.nrules += 4;
	}
	tb_printf(&b, "add rule inet %s forward ct state established,related accept comment \"%s\"\n",
		  T, marker);
	/* a pod's link-local IPv6 address (fe80::/10, made by its kernel) is on the mesh's one
	 * link with every other pod, and no policy can tell whose it is: a new flow (other than
	 * ICMPv6, protocol 58, given by number: a container image may have no /etc/protocols)
	 * to or from one is dropped, as it cannot cross a router in Calico's or Flannel's
	 * networks */
	tb_printf(&b, "add rule inet %s forward ip6 saddr fe80::/10 meta l4proto != 58 "
		  "goto ll_drop\n", T);
	tb_printf(&b, "add rule inet %s forward ip6 daddr fe80::/10 meta l4proto != 58 "
		  "goto ll_drop\n", T);
	c.nrules += 3;
	if (opts->multicast_allowed) {
		tb_printf(&b, "add rule inet %s forward ip daddr { 224.0.0.0/4, 255.255.255.255 } "
			  "accept\n", T);
		tb_printf(&b, "add rule inet %s forward ip6 daddr ff00::/8 accept\n", T);
		c.nrules += 2;
	}
	for (int f = 0; f < NFAM; f++) {
		const char *kw = FAM_KW[f], *sx = FAM_SUFFIX[f];
		tb_printf(&b, "add rule inet %s forward %s saddr @isolated_out%s jump pol_out\n", T, kw,
			  sx);
		tb_printf(&b, "add rule inet %s forward %s daddr @isolated_in%s jump pol_in\n", T, kw,
			  sx);
		c.nrules += 2;
	}
	emit_drop(&c, &b, "pend_drop", NP_LOG_PREFIX_PENDING, "drop_pending");
	emit_drop(&c, &b, "ll_drop", NP_LOG_PREFIX_LINKLOCAL, "drop_linklocal");
	/* the policies' rules, then what none of them allowed */
	if (c.out.p)
		tb_printf(&b, "%s", c.out.p);
	emit_drop(&c, &b, "pol_out", NP_LOG_PREFIX_EGRESS, "drop_egress");
	if (c.in.p)
		tb_printf(&b, "%s", c.in.p);
	emit_drop(&c, &b, "pol_in", NP_LOG_PREFIX_INGRESS, "drop_ingress");
	if (c.in.oom || c.out.oom)
		goto out;

	/* what the previous compile made and this one does not: deleted, chains first (their
	 * rules referred to sets and counters); the caller's sets stay */
	static const enum np_obj_kind order[] = { NP_OBJ_CHAIN, NP_OBJ_SET, NP_OBJ_COUNTER };
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; prev && i < prev->n; i++) {
			const struct np_object *o = &prev->v[i];
			if (o->kind != order[k] || np_objects_has(&c.objs, o->kind, o->name) ||
			    (o->kind == NP_OBJ_SET && (!strcmp(o->name, "pending") ||
						       !strcmp(o->name, "pending6"))) ||
			    !np_obj_name_ok(o->name))
				continue;
			tb_printf(&b, "delete %s inet %s %s\n", o->kind == NP_OBJ_CHAIN ? "chain"
				  : o->kind == NP_OBJ_SET ? "set" : "counter", T, o->name);
		}
	if (b.oom)
		goto out;
	out->script = b.p;
	out->len = b.len;
	b.p = NULL;
	out->objects = c.objs;
	c.objs = (struct np_objects){ 0 };
	out->nrules = c.nrules;
	out->nsets = c.nsets + NFAM * (NFIXED + 1);
	out->nelements = c.nelements;
	out->npolicies_here = nhere;
	out->nisolated_in = c.iso_in[F4].n + c.iso_in[F6].n;
	out->nisolated_out = c.iso_out[F4].n + c.iso_out[F6].n;
	out->nunknown = c.unknown[F4].n + c.unknown[F6].n;
	ret = 0;
out:
	if (ret < 0)
		snprintf(err, errlen, "out of memory compiling the NetworkPolicy rules");
	tb_free(&b);
	tb_free(&c.in);
	tb_free(&c.out);
	for (size_t i = 0; i < c.nsets; i++)
		free(c.sets[i].elems);
	free(c.sets);
	for (int f = 0; f < NFAM; f++) {
		free(c.eps[f]);
		free(c.iso_in[f].v);
		free(c.iso_out[f].v);
		free(c.unknown[f].v);
	}
	np_objects_free(&c.objs);
	return ret;
}
