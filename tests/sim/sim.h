/* tests/sim/sim.h: the mesh simulator's engine (tests/sim/sim.c). N routers made of meshd's
 * own core (router_core_new: the gossip hub router/gossip.c, the channels router/topo.c,
 * router/macs.c, router/ipam.c over gossip/topology.c, gossip/macs.c, gossip/ipam.c,
 * router/routes.c, router/mactable.c, router/ipam_alloc.c: the same objects meshd links) on one
 * libevent base, driven by a virtual clock (tests/sim/simclock.h), their connections simulated
 * links with latency, bandwidth and loss (the hub's transport seam, router_gossip_set_transport),
 * no sockets. What the simulator decides itself, because meshd decides it with sockets: who
 * connects to whom (conns.c and its discovery), and when a connection goes up or down. One
 * simulation per process at a time (the clock and the transport are process-wide). */
#ifndef MESH_TESTS_SIM_H
#define MESH_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mesh_router;
struct sim;

struct sim_opts {
	unsigned peers;          /* routers created at the start */
	unsigned conn_limit;     /* connections per router; 0: meshd's default (DEFAULT_CONN_LIMIT) */
	double loss;             /* a message's chance to be lost per transmission (TCP sends it
				  * again after SIM_RTO_MS; later messages on the link wait) */
	unsigned latency_us;     /* mean one-way latency; each link gets 0.5 to 1.5 times it */
	uint64_t bandwidth_bps;  /* per link and direction; 0: unlimited */
	uint64_t seed;           /* every random choice, the routers' included */
	unsigned spread_ms;      /* the initial routers start one after another over this long;
				  * 0: all at once, all their links up before any gossip moves
				  * (each connection's full state goes out once all are up) */
	unsigned turn_us;        /* arrivals are rounded up to a multiple of this, so that what
				  * reaches a router within one is handled in one event loop turn
				  * (as meshd handles what one epoll_wait returns); 0: exact */
	unsigned legacy_peers;   /* routers 0..legacy_peers-1 act as a meshd from before HELLO's
				  * features: they do not say MESH_FEATURE_TOPO_SUMMARY and use it
				  * with nobody, and the others send them full states (a mesh of
				  * mixed versions) */
	const char *state_root;  /* where each router's --state-dir goes (a fresh directory is
				  * made under it and removed by sim_free); NULL: /dev/shm or /tmp */
};

#define SIM_RTO_MS 200
#define SIM_DEFAULT_LATENCY_US 1000

/* Builds the simulation and starts opts->peers routers, each connected as it starts (see
 * sim_add_peer), over opts->spread_ms of virtual time. 0, or a negative errno with err filled. */
int sim_new(const struct sim_opts *opts, struct sim **out, char *err, size_t errlen);
void sim_free(struct sim *s);

/* Virtual milliseconds since sim_new. */
uint64_t sim_now_ms(const struct sim *s);
/* Runs the routers for ms of virtual time. */
void sim_run(struct sim *s, uint64_t ms);
/* Runs until sim_converged (checked every SIM_CHECK_MS) or limit_ms passed: the virtual ms it
 * took (a multiple of SIM_CHECK_MS, 0 when already converged), or -1. */
#define SIM_CHECK_MS 1
int64_t sim_run_until_converged(struct sim *s, uint64_t limit_ms);
/* Whether, within every group of live routers that reach each other over up links: all have
 * the same topology (same peers, same versions), each one's routes reach exactly the others of
 * its group, and each knows every other's MAC at the right peer. */
bool sim_converged(struct sim *s);

/* Starts one more router and connects it: to every live router when the limit allows a full
 * mesh, else to ceil(limit/3) random live routers that have fewer than limit connections (the
 * simulator's choice, not meshd's discovery). Its index, or a negative errno. */
int sim_add_peer(struct sim *s);
/* Router i dies: its links close (the other ends see the close after the link's latency,
 * behind what was in flight) and it is freed. */
void sim_kill(struct sim *s, unsigned i);
/* Cuts every up link between routers on different sides (side[i] for each router index),
 * at once at both ends, dropping what was in flight. */
void sim_partition(struct sim *s, const bool *side);
/* Brings back up every link sim_partition cut whose ends are still alive: all at once with
 * spread_ms 0, else one by one in a random order over spread_ms of virtual time (running the
 * mesh meanwhile; returns when the last is up). */
void sim_heal(struct sim *s, unsigned spread_ms);

/* While on, every gossip message sent is lost at once, the connection staying up (as when
 * meshd's control channel refuses a send: the hub goes on); closes still arrive. What the
 * periodic round is there to heal. */
void sim_set_blackhole(struct sim *s, bool on);

unsigned sim_peers(const struct sim *s);   /* started so far, dead included */
bool sim_alive(const struct sim *s, unsigned i);
struct mesh_router *sim_router(struct sim *s, unsigned i);   /* NULL once dead */
unsigned sim_conn_limit(const struct sim *s);
unsigned sim_degree(const struct sim *s, unsigned i);        /* its up links */
/* The MAC the simulator gave router i's one container. */
void sim_mac(unsigned i, uint8_t mac[6]);

/* Counters since the last sim_counters_reset: gossip bytes router i sent (the hub's count),
 * messages delivered, and the slowest route computation (µs of CPU time,
 * mesh_routes_compute). */
void sim_counters_reset(struct sim *s);
uint64_t sim_tx_bytes(const struct sim *s, unsigned i);
uint64_t sim_messages(const struct sim *s);
uint64_t sim_max_route_compute_us(const struct sim *s);
uint64_t sim_route_computes(const struct sim *s);

#endif
