/* policy/store.h: the Pods, Namespaces and NetworkPolicies the API server's watches deliver,
 * decoded (policy/decode.h) and kept sorted by (namespace, name) so that everything made from
 * them is deterministic. Pure: no I/O.
 *
 * A relist (a watch's LIST after 410 Gone or a reconnect) is np_store_mark before the list,
 * np_store_update for each listed object, np_store_sweep after it: what the list no longer
 * holds is removed. */
#ifndef MESH_POLICY_STORE_H
#define MESH_POLICY_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/model.h"

/* In the order of router/netpol.c's watches. */
enum np_kind { NP_KIND_POD, NP_KIND_NAMESPACE, NP_KIND_POLICY, NP_KIND_MAX };

struct np_table {
	void **v;               /* struct np_pod * / np_namespace * / np_policy *, sorted */
	bool *marked;
	size_t n, cap;
};

/* Read the objects with the accessors below; change them only through the functions. */
struct np_store {
	struct np_table t[NP_KIND_MAX];
};

void np_store_init(struct np_store *s);
void np_store_free(struct np_store *s);

/* A watch event's object: decoded and added or replaced, or (deleted) removed. Returns 1 when
 * the store changed in a way enforcement sees, 0 when not (same object again, a status change
 * enforcement does not use, the deletion of an unknown object), -EINVAL with err (the
 * decoder's message) for an object that does not decode: a known object of that key is then
 * removed (its old state is no longer true), -ENOMEM. */
int np_store_update(struct np_store *s, enum np_kind kind, bool deleted, const cJSON *obj,
		    char *err, size_t errlen);

/* Adds an object decoded by the caller (the store takes it over, also on error), replacing
 * one of the same key: 1 changed, 0 the same, -ENOMEM. For tests and for callers that decode
 * themselves. */
int np_store_put_pod(struct np_store *s, struct np_pod *p);
int np_store_put_namespace(struct np_store *s, struct np_namespace *n);
int np_store_put_policy(struct np_store *s, struct np_policy *p);

void np_store_mark(struct np_store *s, enum np_kind kind);
/* Removes the objects of kind still marked; returns how many. */
size_t np_store_sweep(struct np_store *s, enum np_kind kind);

size_t np_store_count(const struct np_store *s, enum np_kind kind);
bool np_store_pod_known(const struct np_store *s, const char *ns, const char *name);

static inline const struct np_pod *np_store_pod(const struct np_store *s, size_t i)
{
	return (const struct np_pod *)s->t[NP_KIND_POD].v[i];
}
static inline const struct np_namespace *np_store_namespace(const struct np_store *s, size_t i)
{
	return (const struct np_namespace *)s->t[NP_KIND_NAMESPACE].v[i];
}
static inline const struct np_policy *np_store_policy(const struct np_store *s, size_t i)
{
	return (const struct np_policy *)s->t[NP_KIND_POLICY].v[i];
}

/* By key, NULL when unknown. */
const struct np_pod *np_store_find_pod(const struct np_store *s, const char *ns, const char *name);
const struct np_namespace *np_store_find_namespace(const struct np_store *s, const char *name);

#endif
