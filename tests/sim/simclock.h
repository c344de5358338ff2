/* tests/sim/simclock.h: the simulator's virtual clock and its seeded randomness
 * (tests/sim/simclock.c). While the clock runs, every clock_gettime in the process but the CPU
 * clocks (libevent's timers, mesh_mono_ms and mesh_wall_ms in include/mesh/clock.h) reads
 * virtual time; libsodium's randombytes come from one seeded generator, so a run is repeated
 * by its seed. */
#ifndef MESH_TESTS_SIMCLOCK_H
#define MESH_TESTS_SIMCLOCK_H

#include <stdint.h>

/* Starts the virtual clock at 0 µs (monotonic clocks then read SIMCLOCK_MONO_BASE_S, the wall
 * clock SIMCLOCK_WALL_BASE_S, plus virtual time) and seeds randombytes (after sodium_init, which draws its own). */
#define SIMCLOCK_MONO_BASE_S 1000u
#define SIMCLOCK_WALL_BASE_S 1767225600u /* 2026-01-01T00:00:00Z */
void simclock_start(uint64_t seed);
/* The real clock again. */
void simclock_stop(void);
/* Virtual µs since simclock_start; sets it (it never goes back). */
uint64_t simclock_now_us(void);
void simclock_set_us(uint64_t us);
/* Real CLOCK_MONOTONIC in ns, whether or not the virtual clock runs. */
uint64_t simclock_real_ns(void);
/* This thread's CPU time in ns (what a computation cost, however the machine is shared). */
uint64_t simclock_cpu_ns(void);
/* A 64-bit draw from the seeded generator (the simulator's own choices). */
uint64_t simclock_random(void);

#endif
