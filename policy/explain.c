/* policy/explain.c: why the table dropped a flow, for the drop log (np_explain_drop in
 * policy/compile.h): who the addresses are, which policies isolate them, and the model's
 * verdict on the flow. Pure: no I/O. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "policy/compile.h"
#include "policy/select.h"

const char *np_drop_direction_name(enum np_drop_dir d)
{
	switch (d) {
	case NP_DROP_INGRESS:
		return "ingress";
	case NP_DROP_EGRESS:
		return "egress";
	case NP_DROP_PENDING:
		return "pending";
	case NP_DROP_LINKLOCAL:
		return "link-local";
	default:
		return "unknown";
	}
}

/* An address of either family: IPv4 in host order, IPv6 in network order. */
struct xaddr {
	int family;
	uint32_t v4;
	uint8_t v6[16];
};

static bool pod_has_ip(const struct np_pod *p, const struct xaddr *a)
{
	if (a->family == AF_INET) {
		for (size_t k = 0; k < p->nips; k++)
			if (p->ips[k] == a->v4)
				return true;
	} else {
		for (size_t k = 0; k < p->nips6; k++)
			if (!memcmp(p->ips6[k], a->v6, 16))
				return true;
	}
	return false;
}

static bool view_is(const struct np_local_view *v, size_t i, const struct xaddr *a)
{
	if (a->family == AF_INET)
		return ntohl(v->addr[i].ip) == a->v4;
	return v->addr[i].has_ip6 && !memcmp(v->addr[i].ip6, a->v6, 16);
}

/* the pod at address a is: the view's, else an active store pod's; *unknown: the view names a
 * pod the store does not know */
static const struct np_pod *pod_of(const struct np_store *s, const struct np_local_view *v,
				   const struct xaddr *a, bool *unknown)
{
	*unknown = false;
	for (size_t i = 0; v && i < v->n && i < NP_LOCAL_MAX; i++) {
		if (!view_is(v, i, a) || !v->addr[i].name || !v->addr[i].name[0])
			continue;
		const struct np_pod *p = np_store_find_pod(s, v->addr[i].ns ? v->addr[i].ns : "",
							   v->addr[i].name);
		*unknown = p == NULL;
		return p;
	}
	for (size_t i = 0; i < np_store_count(s, NP_KIND_POD); i++) {
		const struct np_pod *p = np_store_pod(s, i);
		if (np_pod_active(p) && pod_has_ip(p, a))
			return p;
	}
	return NULL;
}

static void describe(const struct np_pod *p, bool unknown, const struct xaddr *ip, char *out,
		     size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	uint32_t n = htonl(ip->v4);
	inet_ntop(ip->family, ip->family == AF_INET ? (const void *)&n : (const void *)ip->v6, a,
		  sizeof(a));
	if (p)
		snprintf(out, cap, "%s/%s (%s)", p->ns, p->name, a);
	else
		snprintf(out, cap, "%s (%s)", a, unknown ? "pod not known yet" : "no pod");
}

/* Whether rule (of pol, direction dir) allows the flow between the selected pod and the peer
 * (peer_pod NULL when the peer address is no pod). */
static bool rule_allows(const struct np_store *s, const struct np_policy *pol,
			const struct np_rule *rule, const struct np_pod *peer_pod,
			const struct xaddr *peer_ip,
			const struct np_pod *dst_pod, uint8_t proto, uint16_t dport)
{
	bool peer_ok = rule->npeers == 0;
	for (size_t i = 0; i < rule->npeers && !peer_ok; i++) {
		const struct np_peer *pe = &rule->peers[i];
		if (pe->is_block)
			peer_ok = peer_ip->family == AF_INET ? np_peer_covers_ip(pe, peer_ip->v4)
				  : np_peer_covers_ip6(pe, peer_ip->v6);
		else if (peer_pod)
			peer_ok = np_peer_covers_pod(pe, pol, peer_pod,
						     np_store_find_namespace(s, peer_pod->ns));
	}
	return peer_ok && (proto == 0 || np_ports_match(rule, dst_pod, proto, dport));
}

/* The policies of direction dir selecting pod (written to list), and whether one of their
 * rules allows the flow. */
static size_t isolating(const struct np_store *s, unsigned dir, const struct np_pod *pod,
			const struct np_pod *peer_pod, const struct xaddr *peer_ip,
			const struct np_pod *dst_pod,
			uint8_t proto, uint16_t dport, char *list, size_t cap, bool *allowed)
{
	size_t n = 0, used = 0;
	*allowed = false;
	list[0] = '\0';
	for (size_t i = 0; pod && i < np_store_count(s, NP_KIND_POLICY); i++) {
		const struct np_policy *pol = np_store_policy(s, i);
		if (!(pol->types & dir) || !np_policy_selects(pol, pod))
			continue;
		size_t nrules = dir == NP_TYPE_INGRESS ? pol->ningress : pol->negress;
		const struct np_rule *rules = dir == NP_TYPE_INGRESS ? pol->ingress : pol->egress;
		for (size_t r = 0; r < nrules; r++)
			if (rule_allows(s, pol, &rules[r], peer_pod, peer_ip, dst_pod, proto, dport))
				*allowed = true;
		if (used < cap) {
			int w = snprintf(list + used, cap - used, "%s%s", n ? ", " : "", pol->name);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

/* Why a flow was dropped at the side (what: "egress of", rules: "egress") of pod, which n
 * policies (names) isolate; allowed: one of their rules allows it now. */
static void why_isolated(char *out, size_t cap, const char *what, const char *rules,
			 const char *side, const struct np_pod *pod, size_t n, const char *names,
			 bool allowed)
{
	if (n)
		snprintf(out, cap, "%s %s/%s is isolated by %zu polic%s of namespace %s (%s) and none "
			 "of their %s rules allows this flow%s", what, pod->ns, pod->name, n,
			 n == 1 ? "y" : "ies", pod->ns, names, rules,
			 allowed ? " (now one does: the rules changed since)" : "");
	else
		snprintf(out, cap, "%s %s was isolated when the packet was dropped; no policy "
			 "isolates it now", what, side);
}

void np_explain_drop_af(const struct np_store *s, const struct np_local_view *view, int family,
			const void *src, const void *dst, uint8_t proto, uint16_t dport,
			const char *prefix, struct np_drop_explained *ex)
{
	bool sunk, dunk;
	char egl[200], inl[200];
	struct xaddr sip = { .family = family == AF_INET6 ? AF_INET6 : AF_INET };
	struct xaddr dip = sip;
	if (sip.family == AF_INET) {
		uint32_t a, b;
		memcpy(&a, src, 4);
		memcpy(&b, dst, 4);
		sip.v4 = ntohl(a);
		dip.v4 = ntohl(b);
	} else {
		memcpy(sip.v6, src, 16);
		memcpy(dip.v6, dst, 16);
	}
	memset(ex, 0, sizeof(*ex));
	prefix = prefix ? prefix : "";
	if (!strncmp(prefix, NP_LOG_PREFIX_INGRESS, strlen(NP_LOG_PREFIX_INGRESS) - 1))
		ex->direction = NP_DROP_INGRESS;
	else if (!strncmp(prefix, NP_LOG_PREFIX_EGRESS, strlen(NP_LOG_PREFIX_EGRESS) - 1))
		ex->direction = NP_DROP_EGRESS;
	else if (!strncmp(prefix, NP_LOG_PREFIX_PENDING, strlen(NP_LOG_PREFIX_PENDING) - 1))
		ex->direction = NP_DROP_PENDING;
	else if (!strncmp(prefix, NP_LOG_PREFIX_LINKLOCAL, strlen(NP_LOG_PREFIX_LINKLOCAL) - 1))
		ex->direction = NP_DROP_LINKLOCAL;
	const struct np_pod *sp = pod_of(s, view, &sip, &sunk);
	const struct np_pod *dp = pod_of(s, view, &dip, &dunk);
	describe(sp, sunk, &sip, ex->from, sizeof(ex->from));
	describe(dp, dunk, &dip, ex->to, sizeof(ex->to));
	ex->negress_policies = isolating(s, NP_TYPE_EGRESS, sp, dp, &dip, dp, proto, dport, egl,
					 sizeof(egl), &ex->egress_allowed);
	ex->ningress_policies = isolating(s, NP_TYPE_INGRESS, dp, sp, &sip, dp, proto, dport, inl,
					  sizeof(inl), &ex->ingress_allowed);
	switch (ex->direction) {
	case NP_DROP_PENDING:
		snprintf(ex->why, sizeof(ex->why), "%s is a pod of this node whose labels are not known "
			 "yet: all its traffic is dropped until they are", sunk || !sp ? ex->from : ex->to);
		break;
	case NP_DROP_LINKLOCAL:
		snprintf(ex->why, sizeof(ex->why), "a new flow to or from a link-local IPv6 address: "
			 "every pod has one on the mesh's single link and NetworkPolicy cannot tell "
			 "whose it is; use the pod's own address");
		break;
	case NP_DROP_EGRESS:
		why_isolated(ex->why, sizeof(ex->why), "egress of", "egress", "the source", sp,
			     ex->negress_policies, egl, ex->egress_allowed);
		break;
	case NP_DROP_INGRESS:
		why_isolated(ex->why, sizeof(ex->why), "ingress to", "ingress", "the destination", dp,
			     ex->ningress_policies, inl, ex->ingress_allowed);
		break;
	default:
		snprintf(ex->why, sizeof(ex->why), "dropped by a rule of the policy table (log prefix "
			 "\"%.40s\")", prefix);
		break;
	}
}

void np_explain_drop(const struct np_store *s, const struct np_local_view *view, uint32_t src,
		     uint32_t dst, uint8_t proto, uint16_t dport, const char *prefix,
		     struct np_drop_explained *ex)
{
	np_explain_drop_af(s, view, AF_INET, &src, &dst, proto, dport, prefix, ex);
}
