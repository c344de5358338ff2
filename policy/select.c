/* policy/select.c: selectors, peers and named ports (policy/select.h). */
#include "policy/select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool value_in(const struct np_expr *x, const char *v)
{
	for (size_t i = 0; i < x->nvalues; i++)
		if (!strcmp(x->values[i], v))
			return true;
	return false;
}

bool np_selector_matches(const struct np_selector *s, const struct np_labels *labels)
{
	for (size_t i = 0; i < s->match.n; i++) {
		const char *v = np_labels_get(labels, s->match.v[i].key);
		if (!v || strcmp(v, s->match.v[i].value))
			return false;
	}
	for (size_t i = 0; i < s->nexprs; i++) {
		const struct np_expr *x = &s->exprs[i];
		const char *v = np_labels_get(labels, x->key);
		bool ok;
		switch (x->op) {
		case NP_OP_IN:
			ok = v && value_in(x, v);
			break;
		case NP_OP_NOT_IN:
			ok = !v || !value_in(x, v);
			break;
		case NP_OP_EXISTS:
			ok = v != NULL;
			break;
		default:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

bool np_policy_selects(const struct np_policy *pol, const struct np_pod *pod)
{
	return np_pod_active(pod) && !strcmp(pol->ns, pod->ns) &&
	       np_selector_matches(&pol->pod_sel, &pod->labels);
}

bool np_peer_covers_pod(const struct np_peer *peer, const struct np_policy *pol,
			const struct np_pod *pod, const struct np_namespace *ns)
{
	static const struct np_labels none = { 0 };
	if (peer->is_block || !np_pod_active(pod))
		return false;
	if (peer->has_ns_sel) {
		if (!np_selector_matches(&peer->ns_sel, ns ? &ns->labels : &none))
			return false;
	} else if (strcmp(pod->ns, pol->ns)) {
		return false;
	}
	return !peer->has_pod_sel || np_selector_matches(&peer->pod_sel, &pod->labels);
}

static bool in_cidr(const struct np_cidr *c, uint32_t ip)
{
	uint32_t mask = c->len ? 0xffffffffu << (32 - c->len) : 0;
	return (ip & mask) == c->addr;
}

bool np_peer_covers_ip(const struct np_peer *peer, uint32_t ip)
{
	if (!peer->is_block || peer->block_v6 || !in_cidr(&peer->cidr, ip))
		return false;
	for (size_t i = 0; i < peer->nexcept; i++)
		if (in_cidr(&peer->except[i], ip))
			return false;
	return true;
}

static int range_cmp(const void *a, const void *b)
{
	const struct np_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

size_t np_ranges_normalize(struct np_range *r, size_t n)
{
	size_t o = 0;
	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[o].hi == UINT32_MAX || r[i].lo <= r[o].hi + 1) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}

static struct np_range cidr_range(const struct np_cidr *c)
{
	uint32_t host = c->len ? ~(0xffffffffu << (32 - c->len)) : 0xffffffffu;
	return (struct np_range){ c->addr, c->addr | host };
}

size_t np_block_ranges(const struct np_peer *peer, struct np_range *out)
{
	struct np_range ex[NP_MAX_EXCEPT];
	size_t nex = 0, n = 0;
	if (!peer->is_block || peer->block_v6)
		return 0;
	for (size_t i = 0; i < peer->nexcept && i < NP_MAX_EXCEPT; i++)
		ex[nex++] = cidr_range(&peer->except[i]);
	nex = np_ranges_normalize(ex, nex);
	struct np_range all = cidr_range(&peer->cidr);
	uint64_t at = all.lo;           /* next address not yet decided */
	for (size_t i = 0; i < nex; i++) {
		if (ex[i].hi < at || ex[i].lo > all.hi)
			continue;
		if (ex[i].lo > at)
			out[n++] = (struct np_range){ (uint32_t)at, ex[i].lo - 1 };
		at = (uint64_t)ex[i].hi + 1;
	}
	if (at <= all.hi)
		out[n++] = (struct np_range){ (uint32_t)at, all.hi };
	return n;
}

/* --- IPv6: 128-bit arithmetic on addresses -------------------------------------------------- */

np_u128 np_a6_get(const uint8_t a[16])
{
	np_u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

void np_a6_put(np_u128 v, uint8_t out[16])
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static struct np_r128 cidr6_range(const struct np_cidr6 *c)
{
	np_u128 host = c->len ? ~(~(np_u128)0 << (128 - c->len)) : ~(np_u128)0;
	np_u128 net = np_a6_get(c->addr);
	return (struct np_r128){ net, net | host };
}

bool np_peer_covers_ip6(const struct np_peer *peer, const uint8_t ip[16])
{
	if (!peer->is_block || !peer->block_v6)
		return false;
	np_u128 v = np_a6_get(ip);
	struct np_r128 all = cidr6_range(&peer->cidr6);
	if (v < all.lo || v > all.hi)
		return false;
	for (size_t i = 0; i < peer->nexcept6; i++) {
		struct np_r128 x = cidr6_range(&peer->except6[i]);
		if (v >= x.lo && v <= x.hi)
			return false;
	}
	return true;
}

int np_r128_cmp(const void *a, const void *b)
{
	const struct np_r128 *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static void put_range6(struct np_range6 *out, np_u128 lo, np_u128 hi)
{
	np_a6_put(lo, out->lo);
	np_a6_put(hi, out->hi);
}

size_t np_block_ranges6(const struct np_peer *peer, struct np_range6 *out)
{
	struct np_r128 ex[NP_MAX_EXCEPT];
	size_t nex = 0, n = 0;
	if (!peer->is_block || !peer->block_v6)
		return 0;
	for (size_t i = 0; i < peer->nexcept6 && i < NP_MAX_EXCEPT; i++)
		ex[nex++] = cidr6_range(&peer->except6[i]);
	qsort(ex, nex, sizeof(*ex), np_r128_cmp);
	struct np_r128 all = cidr6_range(&peer->cidr6);
	np_u128 at = all.lo;            /* next address not yet decided */
	bool done = false;              /* every address up to all.hi decided */
	for (size_t i = 0; i < nex && !done; i++) {
		if (ex[i].hi < at || ex[i].lo > all.hi)
			continue;
		if (ex[i].lo > at)
			put_range6(&out[n++], at, ex[i].lo - 1);
		if (ex[i].hi >= all.hi)
			done = true;
		else
			at = ex[i].hi + 1;
	}
	if (!done)
		put_range6(&out[n++], at, all.hi);
	return n;
}

int np_named_port(const struct np_pod *pod, const char *name, uint8_t proto, uint16_t *port)
{
	for (size_t i = 0; i < pod->ncports; i++)
		if (pod->cports[i].proto == proto && !strcmp(pod->cports[i].name, name)) {
			*port = pod->cports[i].port;
			return 0;
		}
	return -ENOENT;
}

bool np_ports_match(const struct np_rule *rule, const struct np_pod *dst_pod, uint8_t proto,
		    uint16_t dport)
{
	if (rule->nports == 0)
		return true;
	for (size_t i = 0; i < rule->nports; i++) {
		const struct np_port *p = &rule->ports[i];
		uint16_t n;
		if (p->proto != proto)
			continue;
		if (!p->has_port)
			return true;
		if (p->name[0]) {
			if (dst_pod && np_named_port(dst_pod, p->name, proto, &n) == 0 && n == dport)
				return true;
		} else if (dport >= p->port && dport <= p->end_port) {
			return true;
		}
	}
	return false;
}
