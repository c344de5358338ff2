/* kube/config.c: the API server's address and credentials, from the in-cluster service account
 * or from a kubeconfig file (see config.h). The kubeconfig is read with libyaml into a small
 * tree (maps, sequences, scalars; anchors and aliases refused), then the context, its cluster
 * and its user are looked up by name. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "kube/config.h"

#define KUBECONFIG_MAX_BYTES (4u << 20)
#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 100000

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void kube_config_free(struct kube_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->ca_data);
	free(cfg->token);
	free(cfg->token_file);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->cert_data);
	free(cfg->key_data);
	free(cfg->namespace);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- base64 ------------------------------------------------------------------------------- */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *kube_base64_decode(const char *in, size_t len, size_t *outlen, bool *bad)
{
	char *out = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	bool pad = false;

	*bad = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (isspace(c))
			continue;
		if (c == '=') {
			pad = true;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6) /* one lone character: not a whole byte */
		goto bad;
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return out;
bad:
	free(out);
	*bad = true;
	return NULL;
}

int kube_in_cluster_url(const char *host, const char *port, char *out, size_t outlen)
{
	int n;
	if (!host || !*host || !port || !*port)
		return -EINVAL;
	for (const char *p = port; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:%", *p))
			return -EINVAL;
	if (strchr(host, ':'))
		n = snprintf(out, outlen, "https://[%s]:%s", host, port);
	else
		n = snprintf(out, outlen, "https://%s:%s", host, port);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* --- reading small files ------------------------------------------------------------------ */
/* The whole file into a NUL-terminated heap string (at most max bytes). */
static int read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			ret = -EFBIG;
			goto out;
		}
	}
	if (!buf && !(buf = malloc(1))) {
		ret = -ENOMEM;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

static void trim_right(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* --- in-cluster ---------------------------------------------------------------------------- */
static char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

int kube_config_in_cluster(struct kube_config *out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("MESH_KUBE_SA_DIR");
	char url[300];
	char *ns = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!dir || !*dir)
		dir = KUBE_SA_DIR;
	if (!host || !*host) {
		seterr(err, errlen, "not in a pod: KUBERNETES_SERVICE_HOST is not set");
		return -ENOENT;
	}
	if (!port || !*port)
		port = "443";
	ret = kube_in_cluster_url(host, port, url, sizeof(url));
	if (ret < 0) {
		seterr(err, errlen, "in-cluster: bad KUBERNETES_SERVICE_HOST/PORT '%s' '%s'", host, port);
		return -EINVAL;
	}
	out->server = strdup(url);
	out->token_file = path_join(dir, "token");
	out->ca_file = path_join(dir, "ca.crt");
	char *nsfile = path_join(dir, "namespace");
	if (!out->server || !out->token_file || !out->ca_file || !nsfile) {
		free(nsfile);
		ret = -ENOMEM;
		goto errout;
	}
	ret = read_file(out->token_file, 64 * 1024, &out->token, NULL);
	if (ret < 0) {
		seterr(err, errlen, "in-cluster: cannot read the service account token %s: %s",
		       out->token_file, strerror(-ret));
		free(nsfile);
		ret = ret == -ENOMEM ? -ENOMEM : -EINVAL; /* in a pod, but without its token: not -ENOENT */
		goto errout;
	}
	trim_right(out->token);
	if (access(out->ca_file, R_OK) < 0) {
		seterr(err, errlen, "in-cluster: cannot read the service account CA %s: %s",
		       out->ca_file, strerror(errno));
		ret = -EINVAL;
		free(nsfile);
		goto errout;
	}
	if (read_file(nsfile, 4096, &ns, NULL) == 0) {
		trim_right(ns);
		out->namespace = ns;
	}
	free(nsfile);
	snprintf(out->source, sizeof(out->source), "in-cluster (KUBERNETES_SERVICE_HOST %s%s%s:%s)",
		 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
	return 0;
errout:
	if (ret == -ENOMEM)
		seterr(err, errlen, "in-cluster: out of memory");
	kube_config_free(out);
	return ret;
}

/* --- a small YAML tree ------------------------------------------------------------------- */
enum ynode_type { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ynode_type type;
	char *value;          /* scalar */
	size_t line;          /* 1-based, for errors */
	struct ynode **kids;  /* map: key, value, key, value...; seq: items */
	size_t n, cap;
};

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static int ynode_add(struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* Parses the first document into a tree. */
static int yaml_tree(const char *text, size_t len, const char *path, struct ynode **root, char *err,
		     size_t errlen)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *stack[YAML_MAX_DEPTH];
	int depth = 0, ret = 0;
	size_t nodes = 0;
	bool done = false;

	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			seterr(err, errlen, "%s:%zu:%zu: not YAML: %s", path,
			       parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			       parser.problem ? parser.problem : "syntax error");
			ret = -EINVAL;
			goto out;
		}
		struct ynode *n = NULL;
		size_t line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			done = true;
			break;
		case YAML_ALIAS_EVENT:
			seterr(err, errlen, "%s:%zu: YAML aliases are not supported in a kubeconfig", path, line);
			ret = -EINVAL;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (++nodes > YAML_MAX_NODES) {
				seterr(err, errlen, "%s:%zu: too many YAML nodes (more than %d)", path, line,
				       YAML_MAX_NODES);
				ret = -EINVAL;
				break;
			}
			n = calloc(1, sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
				break;
			}
			n->line = line;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->type = Y_SCALAR;
				n->value = malloc(ev.data.scalar.length + 1);
				if (!n->value) {
					free(n);
					ret = -ENOMEM;
					break;
				}
				memcpy(n->value, ev.data.scalar.value, ev.data.scalar.length);
				n->value[ev.data.scalar.length] = '\0';
			} else {
				n->type = ev.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
			}
			if (depth == 0) {
				if (*root) { /* cannot happen: one document ends at its root's end */
					ynode_free(n);
					break;
				}
				*root = n;
			} else if (ynode_add(stack[depth - 1], n) < 0) {
				ynode_free(n);
				ret = -ENOMEM;
				break;
			}
			if (n->type != Y_SCALAR) {
				if (depth == YAML_MAX_DEPTH) {
					seterr(err, errlen, "%s:%zu: YAML nested deeper than %d levels", path,
					       line, YAML_MAX_DEPTH);
					ret = -EINVAL;
					break;
				}
				stack[depth++] = n;
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (ret < 0)
			goto out;
	}
out:
	if (ret == -ENOMEM)
		seterr(err, errlen, "%s: out of memory", path);
	if (ret < 0) {
		ynode_free(*root);
		*root = NULL;
	}
	yaml_parser_delete(&parser);
	return ret;
}

/* The value of key in map (NULL when absent or not a map). */
static const struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	if (!map || map->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->type == Y_SCALAR && strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

/* A scalar's text, "" for a YAML null (~, null, empty) so that "key:" reads as unset. */
static const char *yscalar(const struct ynode *n)
{
	if (!n || n->type != Y_SCALAR)
		return NULL;
	if (strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	    strcmp(n->value, "NULL") == 0)
		return "";
	return n->value;
}

/* --- kubeconfig ---------------------------------------------------------------------------- */
struct kc {
	const char *path;
	char *dir; /* where relative paths start, or NULL */
	char *err;
	size_t errlen;
};

/* The entry named name of the list key (clusters/users/contexts), and its body under inner. */
static int kc_find(struct kc *kc, const struct ynode *root, const char *list, const char *inner,
		   const char *name, const char *what, const struct ynode **out)
{
	const struct ynode *seq = ymap_get(root, list);
	if (seq && seq->type != Y_SEQ && !(seq->type == Y_SCALAR && !*yscalar(seq))) {
		seterr(kc->err, kc->errlen, "%s:%zu: '%s' is not a list", kc->path, seq->line, list);
		return -EINVAL;
	}
	for (size_t i = 0; seq && seq->type == Y_SEQ && i < seq->n; i++) {
		const struct ynode *e = seq->kids[i];
		const char *nm = yscalar(ymap_get(e, "name"));
		if (!nm || strcmp(nm, name) != 0)
			continue;
		const struct ynode *body = ymap_get(e, inner);
		if (!body || body->type != Y_MAP) {
			seterr(kc->err, kc->errlen, "%s:%zu: %s '%s' has no '%s' map", kc->path, e->line,
			       what, name, inner);
			return -EINVAL;
		}
		*out = body;
		return 0;
	}
	seterr(kc->err, kc->errlen, "%s: %s '%s' is not in '%s'", kc->path, what, name, list);
	return -ENOENT;
}

/* Reads a string field; *out stays NULL when absent or empty. */
static int kc_str(struct kc *kc, const struct ynode *map, const char *key, char **out)
{
	const struct ynode *n = ymap_get(map, key);
	const char *s;
	if (!n)
		return 0;
	s = yscalar(n);
	if (!s) {
		seterr(kc->err, kc->errlen, "%s:%zu: '%s' must be a string", kc->path, n->line, key);
		return -EINVAL;
	}
	if (!*s)
		return 0;
	if (!(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* A file path field, made absolute against the kubeconfig's directory. */
static int kc_path(struct kc *kc, const struct ynode *map, const char *key, char **out)
{
	int ret = kc_str(kc, map, key, out);
	if (ret < 0 || !*out || (*out)[0] == '/' || !kc->dir)
		return ret;
	char *abs = path_join(kc->dir, *out);
	free(*out);
	*out = abs;
	return abs ? 0 : -ENOMEM;
}

/* A base64 field, decoded. */
static int kc_b64(struct kc *kc, const struct ynode *map, const char *key, char **out)
{
	char *raw = NULL;
	bool bad;
	int ret = kc_str(kc, map, key, &raw);
	if (ret < 0 || !raw)
		return ret;
	*out = kube_base64_decode(raw, strlen(raw), NULL, &bad);
	free(raw);
	if (*out)
		return 0;
	if (bad) {
		seterr(kc->err, kc->errlen, "%s:%zu: '%s' is not base64", kc->path, ymap_get(map, key)->line,
		       key);
		return -EINVAL;
	}
	return -ENOMEM;
}

static int kc_bool(struct kc *kc, const struct ynode *map, const char *key, bool *out)
{
	const struct ynode *n = ymap_get(map, key);
	const char *s = yscalar(n);
	if (!n)
		return 0;
	if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) {
		*out = true;
		return 0;
	}
	if (s && (!*s || !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))) {
		*out = false;
		return 0;
	}
	seterr(kc->err, kc->errlen, "%s:%zu: '%s' must be true or false", kc->path, n->line, key);
	return -EINVAL;
}

static int kc_fill(struct kc *kc, const struct ynode *root, const char *context, struct kube_config *out)
{
	const struct ynode *ctx, *cluster, *user;
	const char *cname, *uname, *kcluster;
	int ret;

	if (!root || root->type != Y_MAP) {
		seterr(kc->err, kc->errlen, "%s: not a kubeconfig (the document is not a YAML map)", kc->path);
		return -EINVAL;
	}
	kcluster = yscalar(ymap_get(root, "kind"));
	if (kcluster && *kcluster && strcmp(kcluster, "Config") != 0) {
		seterr(kc->err, kc->errlen, "%s: kind is '%s', not Config", kc->path, kcluster);
		return -EINVAL;
	}
	if (!context || !*context) {
		context = yscalar(ymap_get(root, "current-context"));
		if (!context || !*context) {
			seterr(kc->err, kc->errlen, "%s: no context given and no current-context set", kc->path);
			return -ENOENT;
		}
	}
	if ((ret = kc_find(kc, root, "contexts", "context", context, "context", &ctx)) < 0)
		return ret;
	cname = yscalar(ymap_get(ctx, "cluster"));
	if (!cname || !*cname) {
		seterr(kc->err, kc->errlen, "%s: context '%s' names no cluster", kc->path, context);
		return -EINVAL;
	}
	if ((ret = kc_find(kc, root, "clusters", "cluster", cname, "cluster", &cluster)) < 0)
		return ret;

	if ((ret = kc_str(kc, cluster, "server", &out->server)) < 0)
		return ret;
	if (!out->server) {
		seterr(kc->err, kc->errlen, "%s: cluster '%s' has no server", kc->path, cname);
		return -EINVAL;
	}
	if (strncmp(out->server, "https://", 8) != 0 && strncmp(out->server, "http://", 7) != 0) {
		seterr(kc->err, kc->errlen, "%s: cluster '%s': server '%s' is not an http(s):// URL", kc->path,
		       cname, out->server);
		return -EINVAL;
	}
	if ((ret = kc_path(kc, cluster, "certificate-authority", &out->ca_file)) < 0 ||
	    (ret = kc_b64(kc, cluster, "certificate-authority-data", &out->ca_data)) < 0 ||
	    (ret = kc_bool(kc, cluster, "insecure-skip-tls-verify", &out->insecure)) < 0)
		return ret;
	if (ymap_get(cluster, "proxy-url")) {
		seterr(kc->err, kc->errlen, "%s: cluster '%s': proxy-url is not supported", kc->path, cname);
		return -ENOTSUP;
	}

	uname = yscalar(ymap_get(ctx, "user"));
	if (uname && *uname) {
		if ((ret = kc_find(kc, root, "users", "user", uname, "user", &user)) < 0)
			return ret;
		static const char *const unsupported[] = { "exec", "auth-provider", "username", "password",
							   "as", "as-groups" };
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
			const struct ynode *n = ymap_get(user, unsupported[i]);
			if (n && !(n->type == Y_SCALAR && !*yscalar(n))) {
				seterr(kc->err, kc->errlen,
				       "%s:%zu: user '%s' authenticates with '%s', which meshd does not support "
				       "(use a token, tokenFile or a client certificate)",
				       kc->path, n->line, uname, unsupported[i]);
				return -ENOTSUP;
			}
		}
		if ((ret = kc_str(kc, user, "token", &out->token)) < 0 ||
		    (ret = kc_path(kc, user, "tokenFile", &out->token_file)) < 0 ||
		    (ret = kc_path(kc, user, "client-certificate", &out->cert_file)) < 0 ||
		    (ret = kc_b64(kc, user, "client-certificate-data", &out->cert_data)) < 0 ||
		    (ret = kc_path(kc, user, "client-key", &out->key_file)) < 0 ||
		    (ret = kc_b64(kc, user, "client-key-data", &out->key_data)) < 0)
			return ret;
		bool cert = out->cert_file || out->cert_data, key = out->key_file || out->key_data;
		if (cert != key) {
			seterr(kc->err, kc->errlen, "%s: user '%s' has a client %s but no client %s", kc->path,
			       uname, cert ? "certificate" : "key", cert ? "key" : "certificate");
			return -EINVAL;
		}
	}
	if ((ret = kc_str(kc, ctx, "namespace", &out->namespace)) < 0)
		return ret;
	snprintf(out->source, sizeof(out->source), "kubeconfig %s (context %s)", kc->path, context);
	return 0;
}

int kube_config_parse(const char *yaml_text, size_t len, const char *path_for_errors, const char *context,
		      struct kube_config *out, char *err, size_t errlen)
{
	struct kc kc = { .path = path_for_errors ? path_for_errors : "kubeconfig", .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	const char *slash = path_for_errors ? strrchr(path_for_errors, '/') : NULL;
	if (slash) {
		size_t n = (size_t)(slash - path_for_errors);
		kc.dir = strndup(path_for_errors, n ? n : 1);
		if (!kc.dir) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = yaml_tree(yaml_text, len, kc.path, &root, err, errlen);
	if (ret < 0)
		goto out;
	ret = kc_fill(&kc, root, context, out);
out:
	if (ret == -ENOMEM)
		seterr(err, errlen, "%s: out of memory", kc.path);
	if (ret < 0)
		kube_config_free(out);
	ynode_free(root);
	free(kc.dir);
	return ret;
}

int kube_config_load(const char *path, const char *context, struct kube_config *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_file(path, KUBECONFIG_MAX_BYTES, &text, &len);
	if (ret < 0) {
		seterr(err, errlen, "kubeconfig %s: %s", path,
		       ret == -EFBIG ? "larger than 4 MiB" : strerror(-ret));
		return ret;
	}
	ret = kube_config_parse(text, len, path, context, out, err, errlen);
	free(text);
	return ret;
}
