/* policy/store.c: the decoded objects of the watches, sorted by key (policy/store.h). */
#include "policy/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decode.h"

static void key_of(enum np_kind kind, const void *o, const char **ns, const char **name)
{
	switch (kind) {
	case NP_KIND_POD:
		*ns = ((const struct np_pod *)o)->ns;
		*name = ((const struct np_pod *)o)->name;
		return;
	case NP_KIND_NAMESPACE:
		*ns = "";
		*name = ((const struct np_namespace *)o)->name;
		return;
	default:
		*ns = ((const struct np_policy *)o)->ns;
		*name = ((const struct np_policy *)o)->name;
		return;
	}
}

static void obj_free(enum np_kind kind, void *o)
{
	if (!o)
		return;
	if (kind == NP_KIND_POD)
		np_pod_free(o);
	else if (kind == NP_KIND_NAMESPACE)
		np_namespace_free(o);
	else
		np_policy_free(o);
	free(o);
}

static bool obj_equal(enum np_kind kind, const void *a, const void *b)
{
	if (kind == NP_KIND_POD)
		return np_pod_equal(a, b);
	if (kind == NP_KIND_NAMESPACE)
		return np_namespace_equal(a, b);
	return np_policy_equal(a, b);
}

/* index of key, or where it would go (*found false) */
static size_t find(const struct np_store *s, enum np_kind kind, const char *ns, const char *name,
		   bool *found)
{
	const struct np_table *t = &s->t[kind];
	size_t lo = 0, hi = t->n;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *mns, *mname;
		key_of(kind, t->v[mid], &mns, &mname);
		int c = strcmp(mns, ns);
		if (!c)
			c = strcmp(mname, name);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void remove_at(struct np_store *s, enum np_kind kind, size_t i)
{
	struct np_table *t = &s->t[kind];
	obj_free(kind, t->v[i]);
	memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
	memmove(t->marked + i, t->marked + i + 1, (t->n - i - 1) * sizeof(*t->marked));
	t->n--;
}

/* takes o over */
static int put(struct np_store *s, enum np_kind kind, void *o)
{
	struct np_table *t = &s->t[kind];
	const char *ns, *name;
	bool found;
	key_of(kind, o, &ns, &name);
	size_t i = find(s, kind, ns, name, &found);
	if (found) {
		t->marked[i] = false;
		if (obj_equal(kind, t->v[i], o)) {
			obj_free(kind, o);
			return 0;
		}
		obj_free(kind, t->v[i]);
		t->v[i] = o;
		return 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		void **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			goto nomem;
		t->v = v;
		bool *m = realloc(t->marked, cap * sizeof(*m));
		if (!m)
			goto nomem;
		t->marked = m;
		t->cap = cap;
	}
	memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof(*t->v));
	memmove(t->marked + i + 1, t->marked + i, (t->n - i) * sizeof(*t->marked));
	t->v[i] = o;
	t->marked[i] = false;
	t->n++;
	return 1;
nomem:
	obj_free(kind, o);
	return -ENOMEM;
}

void np_store_init(struct np_store *s)
{
	memset(s, 0, sizeof(*s));
}

void np_store_free(struct np_store *s)
{
	for (int k = 0; k < NP_KIND_MAX; k++) {
		for (size_t i = 0; i < s->t[k].n; i++)
			obj_free((enum np_kind)k, s->t[k].v[i]);
		free(s->t[k].v);
		free(s->t[k].marked);
	}
	memset(s, 0, sizeof(*s));
}

int np_store_update(struct np_store *s, enum np_kind kind, bool deleted, const cJSON *obj,
		    char *err, size_t errlen)
{
	char ns[NP_NAME_MAX + 1], name[NP_NAME_MAX + 1];
	bool found;
	size_t i;
	int ret;
	if (kind < 0 || kind >= NP_KIND_MAX)
		return -EINVAL;
	if (deleted) {
		if ((ret = np_meta_decode(obj, ns, name, err, errlen)) < 0)
			return ret;
		i = find(s, kind, kind == NP_KIND_NAMESPACE ? "" : ns, name, &found);
		if (!found)
			return 0;
		remove_at(s, kind, i);
		return 1;
	}
	size_t size = kind == NP_KIND_POD ? sizeof(struct np_pod)
		    : kind == NP_KIND_NAMESPACE ? sizeof(struct np_namespace)
						: sizeof(struct np_policy);
	void *o = calloc(1, size);
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (kind == NP_KIND_POD)
		ret = np_pod_decode(obj, o, err, errlen);
	else if (kind == NP_KIND_NAMESPACE)
		ret = np_namespace_decode(obj, o, err, errlen);
	else
		ret = np_policy_decode(obj, o, err, errlen);
	if (ret < 0) {
		free(o);
		/* what we knew of this object is no longer true */
		if (np_meta_decode(obj, ns, name, NULL, 0) == 0) {
			i = find(s, kind, kind == NP_KIND_NAMESPACE ? "" : ns, name, &found);
			if (found)
				remove_at(s, kind, i);
		}
		return ret;
	}
	ret = put(s, kind, o);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static int put_copy(struct np_store *s, enum np_kind kind, void *obj, size_t size)
{
	void *o = malloc(size);
	if (!o) {
		if (kind == NP_KIND_POD)
			np_pod_free(obj);
		else if (kind == NP_KIND_NAMESPACE)
			np_namespace_free(obj);
		else
			np_policy_free(obj);
		return -ENOMEM;
	}
	memcpy(o, obj, size);
	memset(obj, 0, size);
	return put(s, kind, o);
}

int np_store_put_pod(struct np_store *s, struct np_pod *p)
{
	return put_copy(s, NP_KIND_POD, p, sizeof(*p));
}

int np_store_put_namespace(struct np_store *s, struct np_namespace *n)
{
	return put_copy(s, NP_KIND_NAMESPACE, n, sizeof(*n));
}

int np_store_put_policy(struct np_store *s, struct np_policy *p)
{
	return put_copy(s, NP_KIND_POLICY, p, sizeof(*p));
}

void np_store_mark(struct np_store *s, enum np_kind kind)
{
	if (kind < 0 || kind >= NP_KIND_MAX)
		return;
	for (size_t i = 0; i < s->t[kind].n; i++)
		s->t[kind].marked[i] = true;
}

size_t np_store_sweep(struct np_store *s, enum np_kind kind)
{
	size_t gone = 0;
	if (kind < 0 || kind >= NP_KIND_MAX)
		return 0;
	for (size_t i = s->t[kind].n; i-- > 0;)
		if (s->t[kind].marked[i]) {
			remove_at(s, kind, i);
			gone++;
		}
	return gone;
}

size_t np_store_count(const struct np_store *s, enum np_kind kind)
{
	return kind >= 0 && kind < NP_KIND_MAX ? s->t[kind].n : 0;
}

const struct np_pod *np_store_find_pod(const struct np_store *s, const char *ns, const char *name)
{
	bool found;
	size_t i = find(s, NP_KIND_POD, ns, name, &found);
	return found ? np_store_pod(s, i) : NULL;
}

const struct np_namespace *np_store_find_namespace(const struct np_store *s, const char *name)
{
	bool found;
	size_t i = find(s, NP_KIND_NAMESPACE, "", name, &found);
	return found ? np_store_namespace(s, i) : NULL;
}

bool np_store_pod_known(const struct np_store *s, const char *ns, const char *name)
{
	return np_store_find_pod(s, ns, name) != NULL;
}
