/* tests/unit/test_meshsim.c: the mesh simulator itself (tests/sim/sim.h) on meshes small enough
 * to know the outcome: three routers in a full mesh converge (each knows the three topology
 * entries, reaches the other two in one hop, knows their MACs, and took router 0's IPAM ring);
 * one dies and the two left agree it is unreachable; a partition leaves each side to itself
 * and heals; loss only delays; a conn limit below n-1 still connects everyone through relays;
 * the same seed replays the same run. Times asserted are virtual (the simulator's clock), not
 * wall time. Nothing is mocked: the routers are meshd's core; the links are the simulator's. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "router/gossip.h"
#include "router/internal.h"
#include "router/log.h"
#include "tests/sim/sim.h"

static struct sim *start(unsigned peers, unsigned limit, double loss, uint64_t seed)
{
	struct sim_opts o = { .peers = peers, .conn_limit = limit, .loss = loss,
			      .latency_us = 1000, .bandwidth_bps = 1000000000, .seed = seed };
	struct sim *s = NULL;
	char err[256] = "";
	mesh_log_set_level(MESH_LOG_ERROR);
	int ret = sim_new(&o, &s, err, sizeof(err));
	cr_assert_eq(ret, 0, "sim_new: %s", err);
	return s;
}

static struct mesh_peer_name name_of(struct sim *s, unsigned i)
{
	return sim_router(s, i)->name;
}

static int hops(struct sim *s, unsigned from, unsigned to, struct mesh_peer_name to_name)
{
	(void)to;
	return mesh_routes_hops(&sim_router(s, from)->routes, &to_name);
}

static unsigned self_conns(struct sim *s, unsigned i)
{
	return mesh_topo_self(&sim_router(s, i)->topo)->nconns;
}

static char *ipam_seed(struct sim *s, unsigned i)
{
	cJSON *j = router_ipam_status_json(sim_router(s, i), false);
	cJSON *seed = cJSON_GetObjectItem(j, "seed");
	char *out = cJSON_IsString(seed) ? strdup(seed->valuestring) : NULL;
	cJSON_Delete(j);
	return out;
}

Test(meshsim, three_peers_converge_to_the_known_mesh)
{
	struct sim *s = start(3, 0, 0, 1);
	cr_assert_not(sim_converged(s), "nothing has arrived yet");
	int64_t ms = sim_run_until_converged(s, 5000);
	cr_assert(ms >= 0 && ms <= 100, "converged after %lld virtual ms", (long long)ms);
	char *seed0 = ipam_seed(s, 0);
	cr_assert_not_null(seed0, "router 0 seeds the IPAM ring");
	for (unsigned i = 0; i < 3; i++) {
		struct mesh_router *r = sim_router(s, i);
		cr_assert_eq(r->topo.n, 3);
		cr_assert_eq(self_conns(s, i), 2);
		cr_assert_eq(sim_degree(s, i), 2);
		for (unsigned j = 0; j < 3; j++) {
			uint8_t mac[6];
			sim_mac(j, mac);
			const struct mesh_mac_entry *e = mesh_mactable_lookup(&r->macs, mac);
			struct mesh_peer_name nj = name_of(s, j);
			cr_assert_not_null(e, "router %u knows router %u's MAC", i, j);
			cr_assert(mesh_peer_name_eq(&e->peer, &nj));
			if (j != i)
				cr_assert_eq(hops(s, i, j, nj), 1, "router %u reaches %u directly", i, j);
		}
		char *seed = ipam_seed(s, i);
		cr_assert_not_null(seed, "router %u has the ring", i);
		cr_assert_str_eq(seed, seed0);
		free(seed);
		cr_assert_gt(sim_tx_bytes(s, i), 0, "router %u's gossip went over the simulated links", i);
	}
	free(seed0);
	sim_free(s);
}

Test(meshsim, a_dead_peer_becomes_unreachable_everywhere)
{
	struct sim *s = start(3, 0, 0, 2);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	struct mesh_peer_name n2 = name_of(s, 2);
	sim_kill(s, 2);
	cr_assert_not(sim_alive(s, 2));
	cr_assert_null(sim_router(s, 2));
	int64_t ms = sim_run_until_converged(s, 5000);
	cr_assert(ms >= 0 && ms <= 100, "converged %lld virtual ms after the kill", (long long)ms);
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(hops(s, i, 2, n2), -1, "router %u no longer routes to the dead one", i);
		cr_assert_eq(self_conns(s, i), 1);
		cr_assert_eq(hops(s, i, !i, name_of(s, !i)), 1);
	}
	sim_free(s);
}

Test(meshsim, a_partition_splits_and_heals)
{
	struct sim *s = start(3, 0, 0, 3);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	bool side[3] = { false, false, true };
	sim_partition(s, side);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0, "each side converges on its own");
	struct mesh_peer_name n0 = name_of(s, 0), n1 = name_of(s, 1), n2 = name_of(s, 2);
	cr_assert_eq(hops(s, 0, 1, n1), 1);
	cr_assert_eq(hops(s, 0, 2, n2), -1);
	cr_assert_eq(hops(s, 2, 0, n0), -1);
	cr_assert_eq(sim_degree(s, 2), 0);
	sim_run(s, 2000);
	sim_heal(s, 0);
	cr_assert_not(sim_converged(s), "the healed links have not carried anything yet");
	int64_t ms = sim_run_until_converged(s, 5000);
	cr_assert(ms >= 0 && ms <= 100, "healed in %lld virtual ms", (long long)ms);
	cr_assert_eq(hops(s, 2, 0, n0), 1);
	cr_assert_eq(hops(s, 1, 2, n2), 1);
	sim_free(s);
}

/* A heal spread over time: the links come back one by one (here 2, 300 ms apart), and
 * sim_heal returns once the last is up, the mesh having run meanwhile. */
Test(meshsim, a_spread_heal_brings_links_back_one_by_one)
{
	struct sim *s = start(3, 0, 0, 3);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	bool side[3] = { false, false, true };
	sim_partition(s, side);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	uint64_t t0 = sim_now_ms(s);
	sim_heal(s, 600);
	uint64_t took = sim_now_ms(s) - t0;
	cr_assert(took >= 299 && took <= 301, "the second link came back after %llu ms",
		  (unsigned long long)took);
	cr_assert_eq(sim_degree(s, 2), 2);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	cr_assert_eq(hops(s, 2, 0, name_of(s, 0)), 1);
	cr_assert_eq(hops(s, 2, 1, name_of(s, 1)), 1);
	sim_free(s);
}

Test(meshsim, loss_delays_but_the_mesh_still_converges)
{
	struct sim *s = start(3, 0, 0.5, 4);
	int64_t ms = sim_run_until_converged(s, 60000);
	cr_assert_geq(ms, 0, "converged despite 50%% loss");
	sim_free(s);
	s = start(3, 0, 0, 4);
	int64_t clean = sim_run_until_converged(s, 60000);
	cr_assert_lt(clean, ms, "without loss (%lld ms) faster than with (%lld ms)",
		     (long long)clean, (long long)ms);
	sim_free(s);
}

Test(meshsim, a_conn_limit_below_n_minus_1_still_connects_all_through_relays)
{
	struct sim *s = start(12, 3, 0, 5);
	cr_assert_geq(sim_run_until_converged(s, 10000), 0);
	bool relayed = false;
	for (unsigned i = 0; i < 12; i++) {
		cr_assert_leq(sim_degree(s, i), 3, "router %u within the limit", i);
		for (unsigned j = 0; j < 12; j++) {
			if (j == i)
				continue;
			int h = hops(s, i, j, name_of(s, j));
			cr_assert_gt(h, 0, "router %u reaches %u", i, j);
			relayed |= h > 1;
		}
	}
	cr_assert(relayed, "some pairs talk through relays");
	sim_free(s);
}

Test(meshsim, the_same_seed_replays_the_same_run)
{
	uint64_t bytes[2];
	int64_t ms[2];
	for (int k = 0; k < 2; k++) {
		struct sim *s = start(8, 3, 0.1, 42);
		ms[k] = sim_run_until_converged(s, 30000);
		sim_run(s, 31000); /* a periodic full-state round, random fan-out included */
		bytes[k] = 0;
		for (unsigned i = 0; i < 8; i++)
			bytes[k] += sim_tx_bytes(s, i);
		sim_free(s);
	}
	cr_assert_geq(ms[0], 0);
	cr_assert_eq(ms[0], ms[1]);
	cr_assert_eq(bytes[0], bytes[1]);
}

/* Updates lost on a connection that stays up (a refused send) are healed by the digest round
 * once the topology has been quiet for a second (router/topo.c SETTLE_MS), not before. */
Test(meshsim, the_settle_round_heals_lost_updates)
{
	struct sim *s = start(4, 0, 0, 6);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	sim_set_blackhole(s, true);
	sim_kill(s, 3); /* the others' new entries (without 3) are lost on the way */
	sim_run(s, 100);
	sim_set_blackhole(s, false);
	cr_assert_not(sim_converged(s), "the updates were lost");
	sim_run(s, 700);
	cr_assert_not(sim_converged(s), "nothing resends them before the topology is quiet");
	int64_t ms = sim_run_until_converged(s, 2 * ROUTER_GOSSIP_FULL_S * 1000);
	cr_assert_geq(ms, 0, "the settle round healed them");
	cr_assert_leq(ms, 1500, "a second after the last change (%lld ms)", (long long)ms);
	sim_free(s);
}

/* When the settle round is lost too, the periodic round (ROUTER_GOSSIP_FULL_S) heals. */
Test(meshsim, the_periodic_round_heals_what_the_settle_round_missed)
{
	struct sim *s = start(4, 0, 0, 6);
	cr_assert_geq(sim_run_until_converged(s, 5000), 0);
	sim_set_blackhole(s, true);
	sim_kill(s, 3);
	sim_run(s, 3000); /* past the settle round */
	sim_set_blackhole(s, false);
	cr_assert_not(sim_converged(s), "the updates and the digests were lost");
	int64_t ms = sim_run_until_converged(s, 2 * ROUTER_GOSSIP_FULL_S * 1000);
	cr_assert_geq(ms, 0, "the periodic round healed them");
	cr_assert_leq(ms, ROUTER_GOSSIP_FULL_S * 1000, "within one round (%lld ms)", (long long)ms);
	sim_free(s);
}

static uint64_t total_tx(struct sim *s)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < sim_peers(s); i++)
		if (sim_alive(s, i))
			sum += sim_tx_bytes(s, i);
	return sum;
}

/* A partition of 40 routers (at most 6 connections each) healed, three times from the same
 * seed: every router takes topology summaries, none does (legacy_peers = 40: each new
 * connection gets the full state, as before summaries), half do (a mesh of mixed versions).
 * All three converge; with summaries the heal sends fewer gossip bytes than without (the
 * links that come back after the first ones find both sides nearly equal). */
Test(meshsim, summaries_cut_the_heal_and_a_mesh_of_mixed_versions_converges)
{
	const unsigned n = 40, legacy[3] = { 0, 40, 20 };
	uint64_t heal_bytes[3];
	for (int k = 0; k < 3; k++) {
		struct sim_opts o = { .peers = n, .conn_limit = 6, .latency_us = 1000,
				      .bandwidth_bps = 1000000000, .seed = 11,
				      .legacy_peers = legacy[k] };
		struct sim *s = NULL;
		char err[256] = "";
		mesh_log_set_level(MESH_LOG_ERROR);
		cr_assert_eq(sim_new(&o, &s, err, sizeof(err)), 0, "sim_new: %s", err);
		cr_assert_geq(sim_run_until_converged(s, 10000), 0, "legacy %u: bootstrap", legacy[k]);
		bool side[40];
		for (unsigned i = 0; i < n; i++)
			side[i] = i % 2;
		sim_partition(s, side);
		cr_assert_geq(sim_run_until_converged(s, 10000), 0, "legacy %u: split", legacy[k]);
		sim_run(s, 2000);
		sim_counters_reset(s);
		sim_heal(s, 200);
		cr_assert_geq(sim_run_until_converged(s, 10000), 0, "legacy %u: heal", legacy[k]);
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = 0; j < n; j++)
				if (i != j)
					cr_assert_gt(hops(s, i, j, name_of(s, j)), 0,
						     "legacy %u: %u reaches %u", legacy[k], i, j);
		heal_bytes[k] = total_tx(s);
		sim_free(s);
	}
	cr_assert_lt(heal_bytes[0], heal_bytes[1],
		     "with summaries the heal sent %llu bytes, without %llu",
		     (unsigned long long)heal_bytes[0], (unsigned long long)heal_bytes[1]);
}

Test(meshsim, bad_options_are_refused_with_a_reason)
{
	struct sim_opts o = { .peers = 3, .loss = 1.0, .latency_us = 1000 };
	struct sim *s = NULL;
	char err[256] = "";
	cr_assert_eq(sim_new(&o, &s, err, sizeof(err)), -EINVAL);
	cr_assert_null(s);
	cr_assert(strstr(err, "loss"), "%s", err);
}
