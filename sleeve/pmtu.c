/* sleeve/pmtu.c: path MTU search (see pmtu.h). */
#include "sleeve/pmtu.h"

static void choose(struct sleeve_pmtu *p)
{
	p->tries = 0;
	if (p->fail - p->ok <= SLEEVE_PMTU_PRECISION || p->ok >= p->max) {
		p->probe = 0;
		return;
	}
	p->probe = p->fail > p->max ? p->max : (uint16_t)(p->ok + (p->fail - p->ok) / 2);
}

void sleeve_pmtu_init(struct sleeve_pmtu *p, uint16_t floor, uint16_t max)
{
	p->ok = floor < max ? floor : max;
	p->max = max;
	p->fail = (uint16_t)(max + 1);
	choose(p);
}

uint16_t sleeve_pmtu_next(struct sleeve_pmtu *p)
{
	if (p->probe)
		p->tries++;
	return p->probe;
}

void sleeve_pmtu_acked(struct sleeve_pmtu *p, uint16_t size)
{
	if (size > p->ok && size < p->fail) {
		p->ok = size;
		choose(p);
	}
}

void sleeve_pmtu_lost(struct sleeve_pmtu *p, bool refused_locally)
{
	if (!p->probe)
		return;
	if (!refused_locally && p->tries < SLEEVE_PMTU_TRIES)
		return; /* try the same size again */
	p->fail = p->probe;
	choose(p);
}

bool sleeve_pmtu_done(const struct sleeve_pmtu *p)
{
	return p->probe == 0;
}
