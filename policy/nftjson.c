/* policy/nftjson.c: the policy table's counters and objects from libnftables' JSON listing,
 * and the policies' status with those counters (policy/nftjson.h). Pure: no I/O. */
#include "policy/nftjson.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, size_t i, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "nft listing: nftables[%zu]: %s", i, what);
	return -EBADMSG;
}

static int get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(j))
		return -1;
	double d = j->valuedouble;
	/* cJSON keeps numbers as doubles: exact up to 2^53, which counters reach after years */
	if (!isfinite(d) || d < 0 || d != floor(d) || d >= 18446744073709551616.0)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int val_cmp(const void *a, const void *b)
{
	return strcmp(((const struct np_counter_value *)a)->name,
		      ((const struct np_counter_value *)b)->name);
}

static int obj_cmp(const void *a, const void *b)
{
	const struct np_object *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

void np_counter_values_free(struct np_counter_values *v)
{
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

int np_nft_listing_parse(const char *text, size_t len, const char *table,
			 struct np_counter_values *vals, struct np_objects *objs, char *err,
			 size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *list, *e;
	size_t n, i = 0;
	int ret = -EBADMSG;
	memset(vals, 0, sizeof(*vals));
	if (objs)
		memset(objs, 0, sizeof(*objs));
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "nft listing: not JSON");
		return -EBADMSG;
	}
	list = cJSON_GetObjectItemCaseSensitive(root, "nftables");
	if (!cJSON_IsArray(list)) {
		if (err && errlen)
			snprintf(err, errlen, "nft listing: no \"nftables\" list");
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(list);
	if (n > NP_LISTING_MAX_OBJECTS) {
		if (err && errlen)
			snprintf(err, errlen, "nft listing: more than %d entries",
				 NP_LISTING_MAX_OBJECTS);
		goto out;
	}
	if (n) {
		vals->v = calloc(n, sizeof(*vals->v));
		if (objs)
			objs->v = calloc(n, sizeof(*objs->v));
		if (!vals->v || (objs && !objs->v)) {
			ret = -ENOMEM;
			if (err && errlen)
				snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	cJSON_ArrayForEach(e, list) {
		const cJSON *o = NULL;
		enum np_obj_kind kind;
		if (!cJSON_IsObject(e)) {
			ret = bad(err, errlen, i, "not an object");
			goto out;
		}
		if ((o = cJSON_GetObjectItemCaseSensitive(e, "counter")))
			kind = NP_OBJ_COUNTER;
		else if ((o = cJSON_GetObjectItemCaseSensitive(e, "set")))
			kind = NP_OBJ_SET;
		else if ((o = cJSON_GetObjectItemCaseSensitive(e, "chain")))
			kind = NP_OBJ_CHAIN;
		else {
			i++;
			continue;       /* metainfo, table, rule, map, ... */
		}
		if (!cJSON_IsObject(o)) {
			ret = bad(err, errlen, i, "its value is not an object");
			goto out;
		}
		const cJSON *fam = cJSON_GetObjectItemCaseSensitive(o, "family");
		const cJSON *tab = cJSON_GetObjectItemCaseSensitive(o, "table");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
		if (!cJSON_IsString(fam) || !cJSON_IsString(tab) || !fam->valuestring ||
		    !tab->valuestring) {
			ret = bad(err, errlen, i, "no family or table");
			goto out;
		}
		if (strcmp(fam->valuestring, "inet") || strcmp(tab->valuestring, table)) {
			i++;
			continue;
		}
		if (!cJSON_IsString(name) || !name->valuestring || !np_obj_name_ok(name->valuestring)) {
			ret = bad(err, errlen, i, "no name, or not a name of ours");
			goto out;
		}
		if (kind == NP_OBJ_COUNTER) {
			struct np_counter_value *v = &vals->v[vals->n];
			if (get_u64(o, "packets", &v->packets) < 0 || get_u64(o, "bytes", &v->bytes) < 0) {
				ret = bad(err, errlen, i, "counter without whole packets and bytes");
				goto out;
			}
			snprintf(v->name, sizeof(v->name), "%s", name->valuestring);
			vals->n++;
		}
		if (objs) {
			objs->v[objs->n].kind = kind;
			snprintf(objs->v[objs->n].name, sizeof(objs->v[0].name), "%s",
				 name->valuestring);
			objs->n++;
		}
		i++;
	}
	if (vals->n)
		qsort(vals->v, vals->n, sizeof(*vals->v), val_cmp);
	for (size_t k = 1; k < vals->n; k++)
		if (!strcmp(vals->v[k - 1].name, vals->v[k].name)) {
			ret = bad(err, errlen, 0, "a counter listed twice");
			goto out;
		}
	if (objs && objs->n)
		qsort(objs->v, objs->n, sizeof(*objs->v), obj_cmp);
	ret = 0;
out:
	cJSON_Delete(root);
	if (ret < 0) {
		np_counter_values_free(vals);
		if (objs)
			np_objects_free(objs);
	}
	return ret;
}

const struct np_counter_value *np_counter_values_get(const struct np_counter_values *v,
						     const char *name)
{
	struct np_counter_value key;
	if (!v || !v->n || strlen(name) > NP_OBJ_NAME_MAX)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, v->v, v->n, sizeof(*v->v), val_cmp);
}

cJSON *np_status_policies_json(const struct np_objects *made, const struct np_counter_values *vals)
{
	cJSON *out = made && made->policies ? cJSON_Duplicate(made->policies, 1)
					    : cJSON_CreateArray();
	cJSON *p, *r;
	if (!out)
		return NULL;
	cJSON_ArrayForEach(p, out) {
		cJSON *rules = cJSON_GetObjectItemCaseSensitive(p, "rules");
		cJSON_ArrayForEach(r, rules) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counter");
			const struct np_counter_value *v =
				cJSON_IsString(c) ? np_counter_values_get(vals, c->valuestring) : NULL;
			if (!cJSON_AddNumberToObject(r, "packets", v ? (double)v->packets : 0) ||
			    !cJSON_AddNumberToObject(r, "bytes", v ? (double)v->bytes : 0)) {
				cJSON_Delete(out);
				return NULL;
			}
		}
	}
	return out;
}
