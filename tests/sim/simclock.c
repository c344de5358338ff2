/* tests/sim/simclock.c: the simulator's virtual clock and seeded randomness (simclock.h).
 * clock_gettime is defined here, so the program's own calls and those of the shared libraries
 * it loads (libevent's timers) resolve to it: this is the one thing the simulator replaces in
 * meshd's code paths, because virtual time cannot come from the kernel. The CPU clocks and,
 * while the clock is stopped, every clock read the kernel (the syscall, not the vDSO). */
#include <sodium.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tests/sim/simclock.h"

static bool running;
static uint64_t now_us;
static uint64_t rng_state;

static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, id, ts);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!running || id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID)
		return real_clock_gettime(id, ts);
	bool wall = id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
	uint64_t base = wall ? SIMCLOCK_WALL_BASE_S : SIMCLOCK_MONO_BASE_S;
	ts->tv_sec = (time_t)(base + now_us / 1000000);
	ts->tv_nsec = (long)(now_us % 1000000) * 1000;
	return 0;
}

uint64_t simclock_real_ns(void)
{
	struct timespec ts;
	real_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t simclock_cpu_ns(void)
{
	struct timespec ts;
	real_clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t simclock_now_us(void)
{
	return now_us;
}

void simclock_set_us(uint64_t us)
{
	if (us > now_us)
		now_us = us;
}

/* splitmix64 */
uint64_t simclock_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "meshsim-splitmix64";
}

static uint32_t rng_random(void)
{
	return (uint32_t)(simclock_random() >> 32);
}

static void rng_buf(void *buf, size_t size)
{
	unsigned char *p = buf;
	for (size_t i = 0; i < size; i++)
		p[i] = (unsigned char)(simclock_random() >> 56);
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

void simclock_start(uint64_t seed)
{
	rng_state = seed;
	randombytes_set_implementation(&rng);
	now_us = 0;
	running = true;
}

void simclock_stop(void)
{
	running = false;
}
