/* kube/stream.c: line framing and decoding of watch streams, LIST bodies and Status errors
 * (see stream.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/stream.h"

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

void kube_stream_init(struct kube_stream *s, size_t max_line)
{
	memset(s, 0, sizeof(*s));
	s->max_line = max_line ? max_line : KUBE_STREAM_MAX_LINE;
}

void kube_stream_reset(struct kube_stream *s)
{
	s->len = 0;
	s->lines = 0;
	s->err[0] = '\0';
}

void kube_stream_free(struct kube_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

/* Parses exactly the JSON document in [text, text+len): trailing bytes other than whitespace
 * make it bad. On failure *at is where parsing stopped. */
static cJSON *parse_exact(const char *text, size_t len, size_t *at)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	*at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
	if (!root)
		return NULL;
	for (size_t i = *at; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
			*at = i;
			cJSON_Delete(root);
			return NULL;
		}
	}
	return root;
}

static const char *metadata_rv(const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
	return cJSON_IsString(rv) && rv->valuestring[0] ? rv->valuestring : NULL;
}

int kube_event_decode(const char *line, size_t len, kube_stream_fn fn, void *arg, char *err, size_t errlen)
{
	static const char *const names[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR" };
	struct kube_stream_event ev = { .message = "" };
	size_t at;
	int ret;

	cJSON *root = parse_exact(line, len, &at);
	if (!root) {
		seterr(err, errlen, "watch event is not JSON (at byte %zu of %zu)", at, len);
		return -EBADMSG;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	if (!cJSON_IsString(type)) {
		seterr(err, errlen, "watch event has no \"type\" string");
		ret = -EBADMSG;
		goto out;
	}
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(type->valuestring, names[i]) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		seterr(err, errlen, "watch event of unknown type \"%.40s\"", type->valuestring);
		ret = -EBADMSG;
		goto out;
	}
	if (!cJSON_IsObject(obj)) {
		seterr(err, errlen, "%s watch event has no \"object\"", names[i]);
		ret = -EBADMSG;
		goto out;
	}
	ev.type = (enum kube_stream_type)i;
	ev.object = obj;
	ev.resource_version = metadata_rv(obj);
	if (ev.type == KUBE_EV_ERROR) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
		if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1000)
			ev.code = (int)code->valuedouble;
		if (cJSON_IsString(msg))
			ev.message = msg->valuestring;
	} else if (ev.type == KUBE_EV_BOOKMARK && !ev.resource_version) {
		seterr(err, errlen, "BOOKMARK watch event has no metadata.resourceVersion");
		ret = -EBADMSG;
		goto out;
	}
	ret = fn(arg, &ev);
out:
	cJSON_Delete(root);
	return ret;
}

/* One complete line (newline stripped); blank lines are skipped. */
static int one_line(struct kube_stream *s, const char *line, size_t len, kube_stream_fn fn, void *arg)
{
	if (len && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 0;
	s->lines++;
	return kube_event_decode(line, len, fn, arg, s->err, sizeof(s->err));
}

static int too_long(struct kube_stream *s)
{
	seterr(s->err, sizeof(s->err), "watch event longer than %zu bytes", s->max_line);
	return -E2BIG;
}

int kube_stream_feed(struct kube_stream *s, const char *data, size_t len, kube_stream_fn fn, void *arg)
{
	int ret;

	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		if (s->len + take > s->max_line)
			return too_long(s);
		if (nl && s->len == 0) { /* a whole line in this chunk: no copy */
			ret = one_line(s, data, take, fn, arg);
		} else {
			if (s->len + take > s->cap) {
				size_t cap = s->cap ? s->cap : 4096;
				while (cap < s->len + take)
					cap *= 2;
				char *nb = realloc(s->buf, cap);
				if (!nb) {
					seterr(s->err, sizeof(s->err), "out of memory for a %zu byte watch event",
					       s->len + take);
					return -ENOMEM;
				}
				s->buf = nb;
				s->cap = cap;
			}
			memcpy(s->buf + s->len, data, take);
			s->len += take;
			if (!nl)
				return 0;
			size_t l = s->len;
			s->len = 0;
			ret = one_line(s, s->buf, l, fn, arg);
		}
		if (ret)
			return ret;
		data += take + 1;
		len -= take + 1;
	}
	return 0;
}

int kube_list_decode(const char *body, size_t len, cJSON **root, const cJSON **items, const char **rv,
		     const char **cont, char *err, size_t errlen)
{
	size_t at;
	*root = parse_exact(body, len, &at);
	if (!*root) {
		seterr(err, errlen, "list response is not JSON (at byte %zu of %zu)", at, len);
		return -EBADMSG;
	}
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(*root, "items");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(*root, "metadata");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(md, "continue");
	if (!cJSON_IsArray(it) && !cJSON_IsNull(it) && it) {
		seterr(err, errlen, "list response: \"items\" is not an array");
		goto bad;
	}
	if (!it) { /* an empty list may omit items; but a list has a kind ending in List */
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(*root, "kind");
		size_t kl = cJSON_IsString(kind) ? strlen(kind->valuestring) : 0;
		if (kl < 4 || strcmp(kind->valuestring + kl - 4, "List") != 0) {
			seterr(err, errlen, "list response has no \"items\"");
			goto bad;
		}
	}
	if (!cJSON_IsString(r) || !r->valuestring[0]) {
		seterr(err, errlen, "list response has no metadata.resourceVersion");
		goto bad;
	}
	*items = cJSON_IsArray(it) ? it : NULL;
	*rv = r->valuestring;
	*cont = cJSON_IsString(c) && c->valuestring[0] ? c->valuestring : NULL;
	return 0;
bad:
	cJSON_Delete(*root);
	*root = NULL;
	return -EBADMSG;
}

void kube_status_message(const char *body, size_t len, char *out, size_t outlen)
{
	cJSON *root;
	size_t n = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	if (cJSON_IsString(msg) && msg->valuestring[0]) {
		snprintf(out, outlen, "%s", msg->valuestring);
		cJSON_Delete(root);
		return;
	}
	cJSON_Delete(root);
	for (size_t i = 0; body && i < len && n + 1 < outlen && n < 200; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}
