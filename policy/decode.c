/* policy/decode.c: Pods, Namespaces, NetworkPolicies and Nodes from the API server's JSON into
 * policy/model.h, validated as policy/decode.h says. Pure: no I/O. */
#include "policy/decode.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What is being decoded, for the error message: "<kind> <ns/name>: <path>: <why>". */
struct dctx {
	const char *kind;
	char id[2 * NP_NAME_MAX + 2];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct dctx *c, const char *path,
						       const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s %s: %s: %s", c->kind, c->id[0] ? c->id : "(unnamed)",
			 path, why);
	return -EINVAL;
}

static int oom(struct dctx *c, const char *path)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s %s: %s: out of memory", c->kind,
			 c->id[0] ? c->id : "(unnamed)", path);
	return -ENOMEM;
}

/* s for an error message: printable ASCII, at most 48 characters, quoted. */
static const char *show(const char *s, char *buf, size_t cap)
{
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; s[i] && o + 5 < cap; i++) {
		if (i == 48) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsArray(j))
		return "a list";
	if (cJSON_IsObject(j))
		return "an object";
	return "not valid JSON";
}

/* child of obj named key (case-sensitive), NULL when absent or null */
static const cJSON *field(const cJSON *obj, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNull(j) ? NULL : j;
}

static void subpath(char *out, size_t cap, const char *path, const char *key)
{
	snprintf(out, cap, "%s%s%s", path, path[0] ? "." : "", key);
}

static void idxpath(char *out, size_t cap, const char *path, size_t i)
{
	snprintf(out, cap, "%s[%zu]", path, i);
}

/* obj.key as a string of at most max characters into out (absent: "" unless required) */
static int get_str(struct dctx *c, const cJSON *obj, const char *path, const char *key,
		   bool required, char *out, size_t max)
{
	char p[512];
	subpath(p, sizeof(p), path, key);
	const cJSON *j = field(obj, key);
	out[0] = '\0';
	if (!j)
		return required ? fail(c, p, "missing") : 0;
	if (!cJSON_IsString(j) || !j->valuestring)
		return fail(c, p, "must be a string, not %s", type_name(j));
	size_t n = strlen(j->valuestring);
	if (n > max)
		return fail(c, p, "longer than %zu characters (%zu)", max, n);
	if (required && n == 0)
		return fail(c, p, "empty");
	memcpy(out, j->valuestring, n + 1);
	return 0;
}

/* obj.key: an object, a list, or absent (NULL) */
static int get_kind(struct dctx *c, const cJSON *obj, const char *path, const char *key,
		    bool list, const cJSON **out)
{
	char p[512];
	*out = field(obj, key);
	if (!*out)
		return 0;
	if (list ? !cJSON_IsArray(*out) : !cJSON_IsObject(*out)) {
		subpath(p, sizeof(p), path, key);
		return fail(c, p, "must be %s, not %s", list ? "a list" : "an object",
			    type_name(*out));
	}
	return 0;
}

static int list_len(struct dctx *c, const cJSON *list, const char *path, size_t max, size_t *n)
{
	*n = (size_t)cJSON_GetArraySize(list);
	if (*n > max)
		return fail(c, path, "more than %zu entries (%zu)", max, *n);
	return 0;
}

static int get_int(struct dctx *c, const cJSON *j, const char *path, long lo, long hi, long *out)
{
	if (!cJSON_IsNumber(j))
		return fail(c, path, "must be a number, not %s", type_name(j));
	double d = j->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
		return fail(c, path, "must be a whole number in %ld..%ld", lo, hi);
	*out = (long)d;
	return 0;
}

static int parse_proto(struct dctx *c, const cJSON *obj, const char *path, uint8_t *out)
{
	char s[16], p[512], b[64];
	const cJSON *j = field(obj, "protocol");
	*out = NP_PROTO_TCP;
	if (!j)
		return 0;
	subpath(p, sizeof(p), path, "protocol");
	if (!cJSON_IsString(j) || !j->valuestring)
		return fail(c, p, "must be a string, not %s", type_name(j));
	snprintf(s, sizeof(s), "%s", j->valuestring);
	if (!strcmp(j->valuestring, "TCP"))
		*out = NP_PROTO_TCP;
	else if (!strcmp(j->valuestring, "UDP"))
		*out = NP_PROTO_UDP;
	else if (!strcmp(j->valuestring, "SCTP"))
		*out = NP_PROTO_SCTP;
	else
		return fail(c, p, "%s is not TCP, UDP or SCTP", show(j->valuestring, b, sizeof(b)));
	return 0;
}

/* IANA_SVC_NAME: 1-15 of [a-z0-9-], a letter among them, no leading/trailing/double '-' */
static bool port_name_ok(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n > NP_PORT_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
	}
	return letter;
}

static bool uid_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* "a.b.c.d" into host order; 1 IPv4, 0 IPv6 (skipped), -1 neither */
static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;
	struct in6_addr a6;
	if (inet_pton(AF_INET, s, &a) == 1) {
		*out = ntohl(a.s_addr);
		return 1;
	}
	return inet_pton(AF_INET6, s, &a6) == 1 ? 0 : -1;
}

/* The length after '/' of "addr/n" (digits, no leading zero) into *len and the address into
 * buf: 0, or -1 when s is not of that shape. */
static int split_cidr(const char *s, char *buf, size_t buflen, int *len)
{
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= buflen || !slash[1] || strlen(slash + 1) > 3)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	for (const char *q = slash + 1; *q; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	if (slash[1] == '0' && slash[2])
		return -1;
	*len = atoi(slash + 1);
	return 0;
}

/* "a.b.c.d/n" or "x:y::/n": 1 IPv4 into out, 0 IPv6 into out6 (host bits cleared in both),
 * -1 neither */
static int parse_cidr(const char *s, struct np_cidr *out, struct np_cidr6 *out6)
{
	char buf[64];
	struct in_addr a;
	struct in6_addr a6;
	int len;
	if (split_cidr(s, buf, sizeof(buf), &len) < 0)
		return -1;
	if (inet_pton(AF_INET, buf, &a) == 1) {
		if (len > 32)
			return -1;
		out->len = (uint8_t)len;
		out->addr = len ? ntohl(a.s_addr) & (0xffffffffu << (32 - len)) : 0;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, &a6) != 1 || len > 128)
		return -1;
	out6->len = (uint8_t)len;
	for (int i = 0; i < 16; i++) {
		int keep = len - 8 * i; /* bits of byte i inside the prefix */
		out6->addr[i] = keep >= 8 ? a6.s6_addr[i]
			      : keep <= 0 ? 0 : (uint8_t)(a6.s6_addr[i] & (0xff << (8 - keep)));
	}
	return 0;
}

static bool cidr_within(const struct np_cidr *in, const struct np_cidr *outer)
{
	if (in->len < outer->len)
		return false;
	uint32_t mask = outer->len ? 0xffffffffu << (32 - outer->len) : 0;
	return (in->addr & mask) == outer->addr;
}

/* in inside outer, and strictly longer */
static bool cidr6_strictly_within(const struct np_cidr6 *in, const struct np_cidr6 *outer)
{
	if (in->len <= outer->len)
		return false;
	int full = outer->len / 8, rest = outer->len % 8;
	if (memcmp(in->addr, outer->addr, (size_t)full))
		return false;
	return !rest || (in->addr[full] & (0xff << (8 - rest))) == outer->addr[full];
}

/* --- metadata and labels ------------------------------------------------------------------- */

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct np_label *)a)->key, ((const struct np_label *)b)->key);
}

/* a JSON object of string -> string into l (sorted, keys unique) */
static int decode_labels(struct dctx *c, const cJSON *obj, const char *path,
			 struct np_labels *l)
{
	char p[512], b[64];
	size_t n;
	int ret;
	l->n = 0;
	l->v = NULL;
	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return fail(c, path, "must be an object of strings, not %s", type_name(obj));
	if ((ret = list_len(c, obj, path, NP_MAX_LABELS, &n)) < 0)
		return ret;
	if (n == 0)
		return 0;
	l->v = calloc(n, sizeof(*l->v));
	if (!l->v)
		return oom(c, path);
	const cJSON *j;
	cJSON_ArrayForEach(j, obj) {
		const char *key = j->string ? j->string : "";
		snprintf(p, sizeof(p), "%s[%s]", path, show(key, b, sizeof(b)));
		if (!key[0] || strlen(key) > NP_LABEL_KEY_MAX) {
			ret = fail(c, p, "a label key has 1..%d characters", NP_LABEL_KEY_MAX);
			goto errout;
		}
		if (!cJSON_IsString(j) || !j->valuestring) {
			ret = fail(c, p, "must be a string, not %s", type_name(j));
			goto errout;
		}
		if (strlen(j->valuestring) > NP_LABEL_VALUE_MAX) {
			ret = fail(c, p, "a label value has at most %d characters", NP_LABEL_VALUE_MAX);
			goto errout;
		}
		struct np_label *x = &l->v[l->n];
		x->key = strdup(key);
		x->value = strdup(j->valuestring);
		l->n++;
		if (!x->key || !x->value) {
			ret = oom(c, p);
			goto errout;
		}
	}
	qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (!strcmp(l->v[i - 1].key, l->v[i].key)) {
			snprintf(p, sizeof(p), "%s[%s]", path, show(l->v[i].key, b, sizeof(b)));
			ret = fail(c, p, "given twice");
			goto errout;
		}
	return 0;
errout:
	np_labels_free(l);
	return ret;
}

static int decode_meta(struct dctx *c, const cJSON *obj, const char *kind, bool namespaced,
		       char *ns, char *name, char *uid, struct np_labels *labels)
{
	const cJSON *meta, *k;
	char b[64];
	int ret;
	c->id[0] = '\0';
	if (!cJSON_IsObject(obj))
		return fail(c, "(object)", "must be a JSON object, not %s", type_name(obj));
	k = field(obj, "kind");
	if (k && kind[0] && (!cJSON_IsString(k) || !k->valuestring || strcmp(k->valuestring, kind)))
		return fail(c, "kind", "%s, expected \"%s\"",
			    cJSON_IsString(k) && k->valuestring ? show(k->valuestring, b, sizeof(b))
								: type_name(k), kind);
	if ((ret = get_kind(c, obj, "", "metadata", false, &meta)) < 0)
		return ret;
	if (!meta)
		return fail(c, "metadata", "missing");
	char nsbuf[NP_NAME_MAX + 1], namebuf[NP_NAME_MAX + 1];
	if ((ret = get_str(c, meta, "metadata", "name", true, namebuf, NP_NAME_MAX)) < 0)
		return ret;
	if ((ret = get_str(c, meta, "metadata", "namespace", namespaced, nsbuf, NP_NAME_MAX)) < 0)
		return ret;
	/* from here on errors name the object */
	snprintf(c->id, sizeof(c->id), "%s%s%s", nsbuf, nsbuf[0] ? "/" : "", namebuf);
	if (ns)
		memcpy(ns, nsbuf, sizeof(nsbuf));
	memcpy(name, namebuf, sizeof(namebuf));
	if ((ret = get_str(c, meta, "metadata", "uid", false, uid, NP_UID_MAX)) < 0)
		return ret;
	if (!uid_ok(uid))
		return fail(c, "metadata.uid", "%s has characters other than letters, digits, '-'",
			    show(uid, b, sizeof(b)));
	if (labels)
		return decode_labels(c, field(meta, "labels"), "metadata.labels", labels);
	return 0;
}

int np_meta_decode(const cJSON *obj, char ns[NP_NAME_MAX + 1], char name[NP_NAME_MAX + 1],
		   char *err, size_t errlen)
{
	struct dctx c = { .kind = "object", .err = err, .errlen = errlen };
	char uid[NP_UID_MAX + 1];
	return decode_meta(&c, obj, "", false, ns, name, uid, NULL) == 0 ? 0 : -EINVAL;
}

/* --- Pod, Namespace, Node ------------------------------------------------------------------ */

static int decode_cports(struct dctx *c, const cJSON *spec, struct np_pod *out)
{
	const cJSON *containers;
	char p[512], pp[512], q[512], b[64];
	size_t n;
	int ret;
	if ((ret = get_kind(c, spec, "spec", "containers", true, &containers)) < 0 || !containers)
		return ret;
	if ((ret = list_len(c, containers, "spec.containers", NP_MAX_CPORTS, &n)) < 0)
		return ret;
	size_t i = 0;
	const cJSON *ct;
	cJSON_ArrayForEach(ct, containers) {
		const cJSON *ports, *pt;
		size_t np, k = 0;
		idxpath(p, sizeof(p), "spec.containers", i++);
		if (!cJSON_IsObject(ct))
			return fail(c, p, "must be an object, not %s", type_name(ct));
		if ((ret = get_kind(c, ct, p, "ports", true, &ports)) < 0)
			return ret;
		if (!ports)
			continue;
		subpath(pp, sizeof(pp), p, "ports");
		if ((ret = list_len(c, ports, pp, NP_MAX_CPORTS, &np)) < 0)
			return ret;
		cJSON_ArrayForEach(pt, ports) {
			struct np_cport cp = { 0 };
			long port;
			idxpath(q, sizeof(q), pp, k++);
			if (!cJSON_IsObject(pt))
				return fail(c, q, "must be an object, not %s", type_name(pt));
			char qp[600];
			subpath(qp, sizeof(qp), q, "containerPort");
			const cJSON *cpj = field(pt, "containerPort");
			if (!cpj)
				return fail(c, qp, "missing");
			if ((ret = get_int(c, cpj, qp, 1, 65535, &port)) < 0)
				return ret;
			if ((ret = parse_proto(c, pt, q, &cp.proto)) < 0)
				return ret;
			char name[64];
			if ((ret = get_str(c, pt, q, "name", false, name, sizeof(name) - 1)) < 0)
				return ret;
			if (!name[0])
				continue;       /* an unnamed port cannot be asked for by name */
			if (!port_name_ok(name)) {
				subpath(qp, sizeof(qp), q, "name");
				return fail(c, qp, "%s is not a port name (1-15 of a-z, 0-9, '-')",
					    show(name, b, sizeof(b)));
			}
			if (out->ncports == NP_MAX_CPORTS)
				return fail(c, "spec.containers", "more than %d named ports",
					    NP_MAX_CPORTS);
			if (!out->cports) {
				out->cports = calloc(NP_MAX_CPORTS, sizeof(*out->cports));
				if (!out->cports)
					return oom(c, q);
			}
			snprintf(cp.name, sizeof(cp.name), "%s", name);
			cp.port = (uint16_t)port;
			out->cports[out->ncports++] = cp;
		}
	}
	return 0;
}

/* One address of a pod into out's IPv4 or IPv6 list: 0, or -1 when it is neither. */
static int add_pod_ip(const char *s, struct np_pod *out)
{
	struct in_addr a;
	struct in6_addr a6;
	if (inet_pton(AF_INET, s, &a) == 1) {
		out->ips[out->nips++] = ntohl(a.s_addr);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -1;
	memcpy(out->ips6[out->nips6++], a6.s6_addr, 16);
	return 0;
}

static int decode_pod_ips(struct dctx *c, const cJSON *status, struct np_pod *out)
{
	const cJSON *ips, *e;
	char p[512], ip[64], b[64];
	size_t n, i = 0;
	int ret;
	if ((ret = get_kind(c, status, "status", "podIPs", true, &ips)) < 0)
		return ret;
	if (!ips || cJSON_GetArraySize(ips) == 0) {
		/* older servers: status.podIP alone */
		if ((ret = get_str(c, status, "status", "podIP", false, ip, sizeof(ip) - 1)) < 0)
			return ret;
		if (ip[0] && add_pod_ip(ip, out) < 0)
			return fail(c, "status.podIP", "%s is not an IP address", show(ip, b, sizeof(b)));
		return 0;
	}
	/* at most NP_MAX_POD_IPS in all, so neither family's list can overflow */
	if ((ret = list_len(c, ips, "status.podIPs", NP_MAX_POD_IPS, &n)) < 0)
		return ret;
	cJSON_ArrayForEach(e, ips) {
		idxpath(p, sizeof(p), "status.podIPs", i++);
		if (!cJSON_IsObject(e))
			return fail(c, p, "must be an object, not %s", type_name(e));
		if ((ret = get_str(c, e, p, "ip", true, ip, sizeof(ip) - 1)) < 0)
			return ret;
		if (add_pod_ip(ip, out) < 0) {
			char pi[600];
			subpath(pi, sizeof(pi), p, "ip");
			return fail(c, pi, "%s is not an IP address", show(ip, b, sizeof(b)));
		}
	}
	return 0;
}

int np_pod_decode(const cJSON *obj, struct np_pod *out, char *err, size_t errlen)
{
	struct dctx c = { .kind = "Pod", .err = err, .errlen = errlen };
	const cJSON *spec, *status, *hn;
	char phase[32], b[64];
	int ret;
	memset(out, 0, sizeof(*out));
	if ((ret = decode_meta(&c, obj, "Pod", true, out->ns, out->name, out->uid, &out->labels)) < 0)
		goto errout;
	if ((ret = get_kind(&c, obj, "", "spec", false, &spec)) < 0 ||
	    (ret = get_kind(&c, obj, "", "status", false, &status)) < 0)
		goto errout;
	if (spec) {
		if ((ret = get_str(&c, spec, "spec", "nodeName", false, out->node, NP_NAME_MAX)) < 0)
			goto errout;
		hn = field(spec, "hostNetwork");
		if (hn && !cJSON_IsBool(hn)) {
			ret = fail(&c, "spec.hostNetwork", "must be true or false, not %s", type_name(hn));
			goto errout;
		}
		out->host_network = cJSON_IsTrue(hn);
		if ((ret = decode_cports(&c, spec, out)) < 0)
			goto errout;
	}
	if (status) {
		if ((ret = get_str(&c, status, "status", "phase", false, phase, sizeof(phase) - 1)) < 0)
			goto errout;
		if (!phase[0])
			out->phase = NP_PHASE_UNKNOWN;
		else if (!strcmp(phase, "Pending"))
			out->phase = NP_PHASE_PENDING;
		else if (!strcmp(phase, "Running"))
			out->phase = NP_PHASE_RUNNING;
		else if (!strcmp(phase, "Succeeded"))
			out->phase = NP_PHASE_SUCCEEDED;
		else if (!strcmp(phase, "Failed"))
			out->phase = NP_PHASE_FAILED;
		else if (!strcmp(phase, "Unknown"))
			out->phase = NP_PHASE_UNKNOWN;
		else {
			ret = fail(&c, "status.phase", "%s is not a pod phase", show(phase, b, sizeof(b)));
			goto errout;
		}
		if ((ret = decode_pod_ips(&c, status, out)) < 0)
			goto errout;
	}
	return 0;
errout:
	np_pod_free(out);
	return ret;
}

int np_namespace_decode(const cJSON *obj, struct np_namespace *out, char *err, size_t errlen)
{
	struct dctx c = { .kind = "Namespace", .err = err, .errlen = errlen };
	memset(out, 0, sizeof(*out));
	int ret = decode_meta(&c, obj, "Namespace", false, NULL, out->name, out->uid, &out->labels);
	if (ret < 0)
		np_namespace_free(out);
	return ret;
}

int np_node_decode(const cJSON *obj, struct np_node *out, char *err, size_t errlen)
{
	struct dctx c = { .kind = "Node", .err = err, .errlen = errlen };
	const cJSON *status, *addrs, *e;
	char p[512], type[32], addr[64], b[64];
	size_t n, i = 0;
	int ret;
	memset(out, 0, sizeof(*out));
	if ((ret = decode_meta(&c, obj, "Node", false, NULL, out->name, out->uid, NULL)) < 0)
		return ret;
	if ((ret = get_kind(&c, obj, "", "status", false, &status)) < 0 || !status)
		return ret;
	if ((ret = get_kind(&c, status, "status", "addresses", true, &addrs)) < 0 || !addrs)
		return ret;
	if ((ret = list_len(&c, addrs, "status.addresses", 64, &n)) < 0)
		return ret;
	cJSON_ArrayForEach(e, addrs) {
		idxpath(p, sizeof(p), "status.addresses", i++);
		if (!cJSON_IsObject(e))
			return fail(&c, p, "must be an object, not %s", type_name(e));
		if ((ret = get_str(&c, e, p, "type", true, type, sizeof(type) - 1)) < 0 ||
		    (ret = get_str(&c, e, p, "address", true, addr, sizeof(addr) - 1)) < 0)
			return ret;
		if (strcmp(type, "InternalIP"))
			continue;
		uint32_t a;
		int fam = parse_ip(addr, &a);
		if (fam < 0) {
			char pa[600];
			subpath(pa, sizeof(pa), p, "address");
			return fail(&c, pa, "%s is not an IP address", show(addr, b, sizeof(b)));
		}
		if (fam == 0)
			continue;
		if (out->nips == NP_MAX_NODE_IPS)
			return fail(&c, "status.addresses", "more than %d InternalIP addresses",
				    NP_MAX_NODE_IPS);
		out->ips[out->nips++] = a;
	}
	return 0;
}

/* --- NetworkPolicy ------------------------------------------------------------------------- */

static int decode_selector(struct dctx *c, const cJSON *j, const char *path, struct np_selector *s)
{
	const cJSON *ml, *me, *e;
	char p[512], q[600], b[64];
	size_t n, i = 0;
	int ret;
	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(j))
		return fail(c, path, "must be an object (a label selector), not %s", type_name(j));
	subpath(p, sizeof(p), path, "matchLabels");
	ml = field(j, "matchLabels");
	if ((ret = decode_labels(c, ml, p, &s->match)) < 0)
		return ret;
	if ((ret = get_kind(c, j, path, "matchExpressions", true, &me)) < 0 || !me)
		goto out;
	subpath(p, sizeof(p), path, "matchExpressions");
	if ((ret = list_len(c, me, p, NP_MAX_EXPRS, &n)) < 0)
		goto out;
	if (n && !(s->exprs = calloc(n, sizeof(*s->exprs)))) {
		ret = oom(c, p);
		goto out;
	}
	cJSON_ArrayForEach(e, me) {
		char key[NP_LABEL_KEY_MAX + 1], op[32];
		const cJSON *vals, *v;
		size_t nv, k = 0;
		idxpath(q, sizeof(q), p, i++);
		if (!cJSON_IsObject(e)) {
			ret = fail(c, q, "must be an object, not %s", type_name(e));
			goto out;
		}
		if ((ret = get_str(c, e, q, "key", true, key, NP_LABEL_KEY_MAX)) < 0 ||
		    (ret = get_str(c, e, q, "operator", true, op, sizeof(op) - 1)) < 0 ||
		    (ret = get_kind(c, e, q, "values", true, &vals)) < 0)
			goto out;
		struct np_expr *x = &s->exprs[s->nexprs];
		char qo[700], qv[700];
		subpath(qo, sizeof(qo), q, "operator");
		subpath(qv, sizeof(qv), q, "values");
		if (!strcmp(op, "In"))
			x->op = NP_OP_IN;
		else if (!strcmp(op, "NotIn"))
			x->op = NP_OP_NOT_IN;
		else if (!strcmp(op, "Exists"))
			x->op = NP_OP_EXISTS;
		else if (!strcmp(op, "DoesNotExist"))
			x->op = NP_OP_DOES_NOT_EXIST;
		else {
			ret = fail(c, qo, "%s is not In, NotIn, Exists or DoesNotExist",
				   show(op, b, sizeof(b)));
			goto out;
		}
		nv = vals ? (size_t)cJSON_GetArraySize(vals) : 0;
		if ((x->op == NP_OP_IN || x->op == NP_OP_NOT_IN) && nv == 0) {
			ret = fail(c, qv, "must be non-empty for operator %s", op);
			goto out;
		}
		if ((x->op == NP_OP_EXISTS || x->op == NP_OP_DOES_NOT_EXIST) && nv != 0) {
			ret = fail(c, qv, "must be empty for operator %s", op);
			goto out;
		}
		if ((ret = list_len(c, vals, qv, NP_MAX_VALUES, &nv)) < 0)
			goto out;
		if (!(x->key = strdup(key)) || (nv && !(x->values = calloc(nv, sizeof(char *))))) {
			free(x->key);
			x->key = NULL;
			ret = oom(c, q);
			goto out;
		}
		s->nexprs++;
		cJSON_ArrayForEach(v, vals) {
			char qi[800];
			idxpath(qi, sizeof(qi), qv, k++);
			if (!cJSON_IsString(v) || !v->valuestring) {
				ret = fail(c, qi, "must be a string, not %s", type_name(v));
				goto out;
			}
			if (strlen(v->valuestring) > NP_LABEL_VALUE_MAX) {
				ret = fail(c, qi, "a label value has at most %d characters",
					   NP_LABEL_VALUE_MAX);
				goto out;
			}
			if (!(x->values[x->nvalues] = strdup(v->valuestring))) {
				ret = oom(c, qi);
				goto out;
			}
			x->nvalues++;
		}
	}
	ret = 0;
out:
	if (ret < 0)
		np_selector_free(s);
	return ret;
}

static int decode_peer(struct dctx *c, const cJSON *j, const char *path, struct np_peer *peer)
{
	const cJSON *ps, *ns, *ib, *ex, *e;
	char p[512], q[600], cidr[64], b[64];
	size_t n, i = 0;
	int ret;
	if (!cJSON_IsObject(j))
		return fail(c, path, "must be an object, not %s", type_name(j));
	ps = field(j, "podSelector");
	ns = field(j, "namespaceSelector");
	ib = field(j, "ipBlock");
	if (ib && (ps || ns))
		return fail(c, path, "ipBlock cannot be combined with podSelector or namespaceSelector");
	if (!ib && !ps && !ns)
		return fail(c, path, "names none of podSelector, namespaceSelector, ipBlock");
	if (ps) {
		subpath(p, sizeof(p), path, "podSelector");
		if ((ret = decode_selector(c, ps, p, &peer->pod_sel)) < 0)
			return ret;
		peer->has_pod_sel = true;
	}
	if (ns) {
		subpath(p, sizeof(p), path, "namespaceSelector");
		if ((ret = decode_selector(c, ns, p, &peer->ns_sel)) < 0)
			return ret;     /* the caller frees the pod selector with the peer */
		peer->has_ns_sel = true;
	}
	if (!ib)
		return 0;
	subpath(p, sizeof(p), path, "ipBlock");
	if (!cJSON_IsObject(ib))
		return fail(c, p, "must be an object, not %s", type_name(ib));
	peer->is_block = true;
	if ((ret = get_str(c, ib, p, "cidr", true, cidr, sizeof(cidr) - 1)) < 0)
		return ret;
	subpath(q, sizeof(q), p, "cidr");
	int fam = parse_cidr(cidr, &peer->cidr, &peer->cidr6);
	if (fam < 0)
		return fail(c, q, "%s is not a CIDR (address/length)", show(cidr, b, sizeof(b)));
	peer->block_v6 = fam == 0;
	if ((ret = get_kind(c, ib, p, "except", true, &ex)) < 0 || !ex)
		return ret;
	subpath(q, sizeof(q), p, "except");
	if ((ret = list_len(c, ex, q, NP_MAX_EXCEPT, &n)) < 0)
		return ret;
	if (n && !peer->block_v6 && !(peer->except = calloc(n, sizeof(*peer->except))))
		return oom(c, q);
	if (n && peer->block_v6 && !(peer->except6 = calloc(n, sizeof(*peer->except6))))
		return oom(c, q);
	cJSON_ArrayForEach(e, ex) {
		char qi[700];
		struct np_cidr x;
		struct np_cidr6 x6;
		idxpath(qi, sizeof(qi), q, i++);
		if (!cJSON_IsString(e) || !e->valuestring)
			return fail(c, qi, "must be a string, not %s", type_name(e));
		int f = parse_cidr(e->valuestring, &x, &x6);
		if (f < 0)
			return fail(c, qi, "%s is not a CIDR (address/length)",
				    show(e->valuestring, b, sizeof(b)));
		if (f != !peer->block_v6)
			return fail(c, qi, "%s is not of the family of cidr",
				    show(e->valuestring, b, sizeof(b)));
		if (f == 0 && !cidr6_strictly_within(&x6, &peer->cidr6))
			return fail(c, qi, "%s is not strictly inside cidr %s",
				    show(e->valuestring, b, sizeof(b)), cidr);
		if (f == 0) {
			peer->except6[peer->nexcept6++] = x6;
			continue;
		}
		if (!cidr_within(&x, &peer->cidr) || x.len == peer->cidr.len)
			return fail(c, qi, "%s is not strictly inside cidr %s",
				    show(e->valuestring, b, sizeof(b)), cidr);
		peer->except[peer->nexcept++] = x;
	}
	return 0;
}

static int decode_port(struct dctx *c, const cJSON *j, const char *path, struct np_port *port)
{
	const cJSON *pj, *ej;
	char p[512], b[64];
	long v;
	int ret;
	if (!cJSON_IsObject(j))
		return fail(c, path, "must be an object, not %s", type_name(j));
	if ((ret = parse_proto(c, j, path, &port->proto)) < 0)
		return ret;
	pj = field(j, "port");
	ej = field(j, "endPort");
	subpath(p, sizeof(p), path, "port");
	if (pj && cJSON_IsString(pj) && pj->valuestring) {
		if (!port_name_ok(pj->valuestring))
			return fail(c, p, "%s is not a port number or name (1-15 of a-z, 0-9, '-')",
				    show(pj->valuestring, b, sizeof(b)));
		snprintf(port->name, sizeof(port->name), "%s", pj->valuestring);
		port->has_port = true;
	} else if (pj) {
		if (!cJSON_IsNumber(pj))
			return fail(c, p, "must be a number or a name, not %s", type_name(pj));
		if ((ret = get_int(c, pj, p, 1, 65535, &v)) < 0)
			return ret;
		port->has_port = true;
		port->port = port->end_port = (uint16_t)v;
	}
	if (!ej)
		return 0;
	subpath(p, sizeof(p), path, "endPort");
	if (!port->has_port || port->name[0])
		return fail(c, p, "needs a numeric port");
	if ((ret = get_int(c, ej, p, 1, 65535, &v)) < 0)
		return ret;
	if (v < port->port)
		return fail(c, p, "%ld is below port %u", v, port->port);
	port->end_port = (uint16_t)v;
	return 0;
}

static int decode_rules(struct dctx *c, const cJSON *list, const char *path, const char *peers_key,
			struct np_rule **out, size_t *nout)
{
	char p[512], q[600], r[700];
	size_t n, i = 0;
	const cJSON *e;
	int ret;
	if ((ret = list_len(c, list, path, NP_MAX_RULES, &n)) < 0)
		return ret;
	if (n && !(*out = calloc(n, sizeof(**out))))
		return oom(c, path);
	cJSON_ArrayForEach(e, list) {
		const cJSON *peers, *ports, *x;
		struct np_rule *rule = &(*out)[*nout];
		size_t m, k;
		idxpath(p, sizeof(p), path, i++);
		if (!cJSON_IsObject(e))
			return fail(c, p, "must be an object, not %s", type_name(e));
		(*nout)++;
		if ((ret = get_kind(c, e, p, peers_key, true, &peers)) < 0 ||
		    (ret = get_kind(c, e, p, "ports", true, &ports)) < 0)
			return ret;
		if (peers) {
			subpath(q, sizeof(q), p, peers_key);
			if ((ret = list_len(c, peers, q, NP_MAX_PEERS, &m)) < 0)
				return ret;
			if (m && !(rule->peers = calloc(m, sizeof(*rule->peers))))
				return oom(c, q);
			k = 0;
			cJSON_ArrayForEach(x, peers) {
				idxpath(r, sizeof(r), q, k++);
				ret = decode_peer(c, x, r, &rule->peers[rule->npeers++]);
				if (ret < 0)
					return ret;
			}
		}
		if (ports) {
			subpath(q, sizeof(q), p, "ports");
			if ((ret = list_len(c, ports, q, NP_MAX_PORTS, &m)) < 0)
				return ret;
			if (m && !(rule->ports = calloc(m, sizeof(*rule->ports))))
				return oom(c, q);
			k = 0;
			cJSON_ArrayForEach(x, ports) {
				idxpath(r, sizeof(r), q, k++);
				ret = decode_port(c, x, r, &rule->ports[rule->nports++]);
				if (ret < 0)
					return ret;
			}
		}
	}
	return 0;
}

int np_policy_decode(const cJSON *obj, struct np_policy *out, char *err, size_t errlen)
{
	struct dctx c = { .kind = "NetworkPolicy", .err = err, .errlen = errlen };
	const cJSON *spec, *ps, *types, *ing, *eg, *t;
	char p[64], b[64];
	int ret;
	size_t n, i = 0;
	memset(out, 0, sizeof(*out));
	if ((ret = decode_meta(&c, obj, "NetworkPolicy", true, out->ns, out->name, out->uid,
			       NULL)) < 0)
		goto errout;
	if ((ret = get_kind(&c, obj, "", "spec", false, &spec)) < 0)
		goto errout;
	if (!spec) {
		ret = fail(&c, "spec", "missing");
		goto errout;
	}
	/* podSelector is required by the API; absent here means what {} means: every pod */
	ps = field(spec, "podSelector");
	if (ps && (ret = decode_selector(&c, ps, "spec.podSelector", &out->pod_sel)) < 0)
		goto errout;
	if ((ret = get_kind(&c, spec, "spec", "policyTypes", true, &types)) < 0 ||
	    (ret = get_kind(&c, spec, "spec", "ingress", true, &ing)) < 0 ||
	    (ret = get_kind(&c, spec, "spec", "egress", true, &eg)) < 0)
		goto errout;
	if (types && (ret = list_len(&c, types, "spec.policyTypes", 2, &n)) < 0)
		goto errout;
	cJSON_ArrayForEach(t, types) {
		idxpath(p, sizeof(p), "spec.policyTypes", i++);
		if (!cJSON_IsString(t) || !t->valuestring) {
			ret = fail(&c, p, "must be a string, not %s", type_name(t));
			goto errout;
		}
		if (!strcmp(t->valuestring, "Ingress"))
			out->types |= NP_TYPE_INGRESS;
		else if (!strcmp(t->valuestring, "Egress"))
			out->types |= NP_TYPE_EGRESS;
		else {
			ret = fail(&c, p, "%s is not Ingress or Egress",
				   show(t->valuestring, b, sizeof(b)));
			goto errout;
		}
	}
	if (ing && (ret = decode_rules(&c, ing, "spec.ingress", "from", &out->ingress,
				       &out->ningress)) < 0)
		goto errout;
	if (eg && (ret = decode_rules(&c, eg, "spec.egress", "to", &out->egress, &out->negress)) < 0)
		goto errout;
	/* the API's defaulting: no policyTypes means Ingress, and Egress if there are egress
	 * rules (len(spec.egress) != 0) */
	if (!out->types)
		out->types = NP_TYPE_INGRESS | (out->negress ? NP_TYPE_EGRESS : 0);
	return 0;
errout:
	np_policy_free(out);
	return ret;
}
