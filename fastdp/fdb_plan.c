/* fastdp/fdb_plan.c: sorted-list difference of FDB entries (see fdb_plan.h). */
#include <stdlib.h>
#include <string.h>

#include "fastdp/fdb_plan.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct mesh_fdb_entry *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);
	if (c)
		return c;
	return mesh_ip_cmp(&x->ip, &y->ip);
}

size_t mesh_fdb_normalize(struct mesh_fdb_entry *e, size_t n)
{
	if (n < 2)
		return n;
	qsort(e, n, sizeof(*e), entry_cmp);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (entry_cmp(&e[i], &e[k - 1]) != 0)
			e[k++] = e[i];
	return k;
}

/* Calls fn(add) for each entry of a that b lacks. */
static size_t only_in(const struct mesh_fdb_entry *a, size_t na, const struct mesh_fdb_entry *b,
		      size_t nb, bool add, void (*fn)(void *, bool, const struct mesh_fdb_entry *),
		      void *arg)
{
	size_t i = 0, j = 0, calls = 0;
	while (i < na) {
		int c = j < nb ? entry_cmp(&a[i], &b[j]) : -1;
		if (c < 0) {
			fn(arg, add, &a[i++]);
			calls++;
		} else if (c > 0) {
			j++;
		} else {
			i++;
			j++;
		}
	}
	return calls;
}

size_t mesh_fdb_diff(const struct mesh_fdb_entry *have, size_t nhave,
		     const struct mesh_fdb_entry *want, size_t nwant,
		     void (*fn)(void *arg, bool add, const struct mesh_fdb_entry *e), void *arg)
{
	return only_in(have, nhave, want, nwant, false, fn, arg) +
	       only_in(want, nwant, have, nhave, true, fn, arg);
}
