/* policy/model.c: memory and comparison of the policy model's objects (policy/model.h). */
#include "policy/model.h"

#include <stdlib.h>
#include <string.h>

void np_labels_free(struct np_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void np_selector_free(struct np_selector *s)
{
	np_labels_free(&s->match);
	for (size_t i = 0; i < s->nexprs; i++) {
		free(s->exprs[i].key);
		for (size_t j = 0; j < s->exprs[i].nvalues; j++)
			free(s->exprs[i].values[j]);
		free(s->exprs[i].values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->nexprs = 0;
}

static void rules_free(struct np_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].npeers; j++) {
			np_selector_free(&r[i].peers[j].pod_sel);
			np_selector_free(&r[i].peers[j].ns_sel);
			free(r[i].peers[j].except);
			free(r[i].peers[j].except6);
		}
		free(r[i].peers);
		free(r[i].ports);
	}
	free(r);
}

void np_policy_free(struct np_policy *p)
{
	np_selector_free(&p->pod_sel);
	rules_free(p->ingress, p->ningress);
	rules_free(p->egress, p->negress);
	p->ingress = p->egress = NULL;
	p->ningress = p->negress = 0;
}

void np_pod_free(struct np_pod *p)
{
	np_labels_free(&p->labels);
	free(p->cports);
	p->cports = NULL;
	p->ncports = 0;
}

void np_namespace_free(struct np_namespace *n)
{
	np_labels_free(&n->labels);
}

const char *np_labels_get(const struct np_labels *l, const char *key)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].key, key);
		if (c == 0)
			return l->v[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool np_pod_active(const struct np_pod *p)
{
	return !p->host_network && p->phase != NP_PHASE_SUCCEEDED && p->phase != NP_PHASE_FAILED;
}

const char *np_proto_name(uint8_t proto)
{
	switch (proto) {
	case NP_PROTO_TCP:
		return "TCP";
	case NP_PROTO_UDP:
		return "UDP";
	case NP_PROTO_SCTP:
		return "SCTP";
	default:
		return "?";
	}
}

/* --- equality ------------------------------------------------------------------------------ */

static bool labels_equal(const struct np_labels *a, const struct np_labels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) || strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

static bool selector_equal(const struct np_selector *a, const struct np_selector *b)
{
	if (!labels_equal(&a->match, &b->match) || a->nexprs != b->nexprs)
		return false;
	for (size_t i = 0; i < a->nexprs; i++) {
		const struct np_expr *x = &a->exprs[i], *y = &b->exprs[i];
		if (strcmp(x->key, y->key) || x->op != y->op || x->nvalues != y->nvalues)
			return false;
		for (size_t j = 0; j < x->nvalues; j++)
			if (strcmp(x->values[j], y->values[j]))
				return false;
	}
	return true;
}

static bool cidr6_equal(const struct np_cidr6 *a, const struct np_cidr6 *b)
{
	return a->len == b->len && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static bool peer_equal(const struct np_peer *a, const struct np_peer *b)
{
	if (a->has_pod_sel != b->has_pod_sel || a->has_ns_sel != b->has_ns_sel ||
	    a->is_block != b->is_block || a->block_v6 != b->block_v6 ||
	    a->cidr.addr != b->cidr.addr || a->cidr.len != b->cidr.len || a->nexcept != b->nexcept ||
	    !cidr6_equal(&a->cidr6, &b->cidr6) || a->nexcept6 != b->nexcept6)
		return false;
	if (a->has_pod_sel && !selector_equal(&a->pod_sel, &b->pod_sel))
		return false;
	if (a->has_ns_sel && !selector_equal(&a->ns_sel, &b->ns_sel))
		return false;
	for (size_t i = 0; i < a->nexcept; i++)
		if (a->except[i].addr != b->except[i].addr || a->except[i].len != b->except[i].len)
			return false;
	for (size_t i = 0; i < a->nexcept6; i++)
		if (!cidr6_equal(&a->except6[i], &b->except6[i]))
			return false;
	return true;
}

static bool port_equal(const struct np_port *a, const struct np_port *b)
{
	return a->proto == b->proto && a->has_port == b->has_port && !strcmp(a->name, b->name) &&
	       a->port == b->port && a->end_port == b->end_port;
}

static bool rules_equal(const struct np_rule *a, const struct np_rule *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].npeers != b[i].npeers || a[i].nports != b[i].nports)
			return false;
		for (size_t j = 0; j < a[i].npeers; j++)
			if (!peer_equal(&a[i].peers[j], &b[i].peers[j]))
				return false;
		for (size_t j = 0; j < a[i].nports; j++)
			if (!port_equal(&a[i].ports[j], &b[i].ports[j]))
				return false;
	}
	return true;
}

bool np_policy_equal(const struct np_policy *a, const struct np_policy *b)
{
	return !strcmp(a->ns, b->ns) && !strcmp(a->name, b->name) && !strcmp(a->uid, b->uid) &&
	       a->types == b->types && selector_equal(&a->pod_sel, &b->pod_sel) &&
	       a->ningress == b->ningress && a->negress == b->negress &&
	       rules_equal(a->ingress, b->ingress, a->ningress) &&
	       rules_equal(a->egress, b->egress, a->negress);
}

bool np_pod_equal(const struct np_pod *a, const struct np_pod *b)
{
	if (strcmp(a->ns, b->ns) || strcmp(a->name, b->name) || strcmp(a->uid, b->uid) ||
	    strcmp(a->node, b->node) || !labels_equal(&a->labels, &b->labels) ||
	    a->nips != b->nips || a->nips6 != b->nips6 || a->host_network != b->host_network || a->phase != b->phase ||
	    a->ncports != b->ncports)
		return false;
	if (memcmp(a->ips, b->ips, a->nips * sizeof(a->ips[0])) ||
	    memcmp(a->ips6, b->ips6, a->nips6 * sizeof(a->ips6[0])))
		return false;
	for (size_t i = 0; i < a->ncports; i++)
		if (strcmp(a->cports[i].name, b->cports[i].name) ||
		    a->cports[i].proto != b->cports[i].proto || a->cports[i].port != b->cports[i].port)
			return false;
	return true;
}

bool np_namespace_equal(const struct np_namespace *a, const struct np_namespace *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->uid, b->uid) &&
	       labels_equal(&a->labels, &b->labels);
}
