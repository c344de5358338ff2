/* ctl/table.h: text tables for meshctl's views: rows of cells, columns as wide as their
 * widest cell. */
#ifndef MESH_CTL_TABLE_H
#define MESH_CTL_TABLE_H

#include <stddef.h>

#define TABLE_COLS 10

struct table {
	int ncols;
	size_t nrows, cap;
	char **cells;    /* nrows * ncols, owned */
	int width[TABLE_COLS];
};

void table_init(struct table *t, int ncols);
/* Appends a row of ncols cells, printf-style: the format has ncols fields separated by '\t'. */
void table_row(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints row r, after indent. */
void table_print_row(const struct table *t, size_t r, const char *indent);
void table_free(struct table *t);
/* Prints every row, then frees the table. */
void table_print(struct table *t);

#endif
