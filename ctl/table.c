/* ctl/table.c: text tables for meshctl's views (see table.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/table.h"



void table_init(struct table *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void table_row(struct table *t, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*nc));
		if (!nc) {
			free(line);
			return;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	char **row = &t->cells[t->nrows * (size_t)t->ncols];
	char *p = line;
	for (int c = 0; c < t->ncols; c++) {
		char *tab = c + 1 < t->ncols ? strchr(p, '\t') : NULL;
		if (tab)
			*tab = '\0';
		row[c] = strdup(p);
		if (row[c] && (int)strlen(row[c]) > t->width[c])
			t->width[c] = (int)strlen(row[c]);
		p = tab ? tab + 1 : p + strlen(p);
	}
	free(line);
	t->nrows++;
}

void table_print_row(const struct table *t, size_t r, const char *indent)
{
	char **row = &t->cells[r * (size_t)t->ncols];
	fputs(indent, stdout);
	for (int c = 0; c < t->ncols; c++) {
		const char *s = row[c] ? row[c] : "";
		if (c + 1 == t->ncols)
			printf("%s\n", s);
		else
			printf("%-*s  ", t->width[c], s);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void table_print(struct table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		table_print_row(t, r, "");
	table_free(t);
}
