/* tests/fuzz/fuzz_policy_counters.c: the parser of libnftables' JSON listing of the policy
 * table (policy/nftjson.c), which gives the per-rule counters and the table's objects. An
 * accepted listing gives names np_obj_name_ok accepts, sorted and unique counters that
 * np_counter_values_get finds, sorted objects; the status JSON made with them holds them. */
#include <errno.h>
#include <string.h>

#include "policy/nftjson.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(policy_counters)(const uint8_t *data, size_t size)
{
	struct np_counter_values vals;
	struct np_objects objs;
	char err[256];
	int ret = np_nft_listing_parse((const char *)data, size, "mesh_policy", &vals, &objs, err,
				       sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOMEM);
	if (ret < 0) {
		FUZZ_CHECK(!strncmp(err, "nft listing", 11) || ret == -ENOMEM);
		return 0;
	}
	size_t ncounters = 0;
	for (size_t i = 0; i < objs.n; i++) {
		FUZZ_CHECK(np_obj_name_ok(objs.v[i].name));
		FUZZ_CHECK(i == 0 || objs.v[i - 1].kind < objs.v[i].kind ||
			   (objs.v[i - 1].kind == objs.v[i].kind &&
			    strcmp(objs.v[i - 1].name, objs.v[i].name) <= 0));
		ncounters += objs.v[i].kind == NP_OBJ_COUNTER;
	}
	FUZZ_CHECK(ncounters == vals.n);
	for (size_t i = 0; i < vals.n; i++) {
		FUZZ_CHECK(i == 0 || strcmp(vals.v[i - 1].name, vals.v[i].name) < 0);
		FUZZ_CHECK(np_counter_values_get(&vals, vals.v[i].name) == &vals.v[i]);
		FUZZ_CHECK(np_objects_has(&objs, NP_OBJ_COUNTER, vals.v[i].name));
	}
	cJSON *st = np_status_policies_json(&objs, &vals);
	FUZZ_CHECK(st && cJSON_IsArray(st));
	cJSON_Delete(st);
	np_counter_values_free(&vals);
	np_objects_free(&objs);
	return 0;
}
