/* policy/nftjson.h: what the kernel holds of the policy table, read from libnftables' JSON
 * listing (`nft -j list table inet mesh_policy`, or nft_ctx_output_set_flags(NFT_CTX_OUTPUT_JSON)
 * and "list table inet mesh_policy"): the named counters' values, and the objects (chains,
 * sets, counters) the table holds, which can stand for the previous compile's objects when
 * they are not known (a restarted meshd). Pure: no I/O; fuzzed (tests/fuzz/fuzz_policy_counters.c).
 * And the status of the policies in force: what a compile described plus those counters. */
#ifndef MESH_POLICY_NFTJSON_H
#define MESH_POLICY_NFTJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"

#define NP_LISTING_MAX_OBJECTS 1000000

struct np_counter_value {
	char name[NP_OBJ_NAME_MAX + 1];
	uint64_t packets, bytes;
};

/* Sorted by name. */
struct np_counter_values {
	size_t n;
	struct np_counter_value *v;
};

/* Parses text (len bytes, need not be NUL-terminated) for the counters of table `inet table`
 * into vals and, when objs is not NULL, its chains, sets and counters into objs (only v and n
 * are filled). Entries of other tables and families, rules, and fields not needed are skipped;
 * an entry of ours with a missing or wrong field, a name np_obj_name_ok refuses, or a number
 * that is not a whole number in 0..2^64-1 is refused: -EBADMSG with err saying which entry and
 * why. -ENOMEM. On error nothing is to be freed. */
int np_nft_listing_parse(const char *text, size_t len, const char *table,
			 struct np_counter_values *vals, struct np_objects *objs, char *err,
			 size_t errlen);

void np_counter_values_free(struct np_counter_values *v);

/* The value of counter name, or NULL. */
const struct np_counter_value *np_counter_values_get(const struct np_counter_values *v,
						     const char *name);

/* The policies in force (made->policies, see struct np_objects) with each rule's "packets"
 * and "bytes" from vals (0 when vals has none; vals may be NULL). A new array; NULL when out of
 * memory. */
cJSON *np_status_policies_json(const struct np_objects *made, const struct np_counter_values *vals);

#endif
