/* include/mesh/textbuf.h: a growing text buffer that remembers running out of memory (every
 * later write is then a no-op and the caller checks oom once at the end), for text made in
 * many small pieces: the Prometheus metrics (router/metrics.c), the nftables script of
 * NetworkPolicy (policy/compile.c). Header-only. */
#ifndef MESH_TEXTBUF_H
#define MESH_TEXTBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct textbuf {
	char *p;                 /* NUL-terminated once anything was written */
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes and a NUL; false (and oom) when memory runs out. */
static inline bool tb_reserve(struct textbuf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->cap - b->len > n)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

__attribute__((format(printf, 2, 3))) static inline void tb_printf(struct textbuf *b,
								   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!tb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static inline void tb_append(struct textbuf *b, const char *s, size_t n)
{
	if (!tb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void tb_free(struct textbuf *b)
{
	free(b->p);
	*b = (struct textbuf){ 0 };
}

#endif
