/* router/ipam_alloc.c: per-container allocation in our part of the IPAM ring (see ipam_alloc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/ipam_alloc.h"

static bool prefix_ok(uint32_t start, unsigned prefix)
{
	if (prefix < 1 || prefix > 32)
		return false;
	uint64_t size = 1ull << (32 - prefix);
	return ((uint64_t)start & (size - 1)) == 0;
}

static uint64_t prefix_end(uint32_t start, uint8_t prefix)
{
	return (uint64_t)start + (1ull << (32 - prefix));
}

int mesh_ipam_alloc_init(struct mesh_ipam_alloc *a, uint32_t subnet, uint8_t prefix)
{
	memset(a, 0, sizeof(*a));
	if (!prefix_ok(subnet, prefix))
		return -EINVAL;
	a->subnet = subnet;
	a->prefix = prefix;
	return 0;
}

void mesh_ipam_alloc_free(struct mesh_ipam_alloc *a)
{
	free(a->a);
	a->a = NULL;
	a->n = a->cap = 0;
}

int mesh_ipam_id_check(const char *id, char why[MESH_IPAM_WHY_LEN])
{
	size_t len = strnlen(id, MESH_IPAM_ID_MAX + 1);
	if (len == 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, "container id is empty");
		return -EINVAL;
	}
	if (len > MESH_IPAM_ID_MAX) {
		snprintf(why, MESH_IPAM_WHY_LEN, "container id \"%.32s...\" is longer than %d characters",
			 id, MESH_IPAM_ID_MAX);
		return -EINVAL;
	}
	/* "network/container": each part its own name; one '/' at most */
	const char *slash = memchr(id, '/', len);
	size_t part = 0;
	for (size_t i = 0; i < len; i++, part++) {
		unsigned char c = (unsigned char)id[i];
		if (slash && id + i == slash) {
			if (part == 0 || i + 1 == len) {
				snprintf(why, MESH_IPAM_WHY_LEN, "\"%.64s\": an empty network or container id around '/'", id);
				return -EINVAL;
			}
			part = (size_t)-1;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-';
		if (ok && part == 0 && (c == '.' || c == '-'))
			ok = false;
		if (!ok) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "container id has character 0x%02x at position %zu: only letters, digits, '_', '.' and '-' (not first) are allowed",
				 c, i);
			return -EINVAL;
		}
	}
	return 0;
}

/* prefix 0 → the default subnet; otherwise the subnet must be aligned. */
static int resolve_subnet(const struct mesh_ipam_alloc *a, uint32_t *subnet, uint8_t *prefix,
			  char why[MESH_IPAM_WHY_LEN])
{
	if (*prefix == 0) {
		*subnet = a->subnet;
		*prefix = a->prefix;
		return 0;
	}
	if (!prefix_ok(*subnet, *prefix)) {
		char s[16];
		mesh_ipam_addr_format(*subnet, s);
		snprintf(why, MESH_IPAM_WHY_LEN, "subnet %s/%u is not an aligned prefix of 1..32 bits", s,
			 *prefix);
		return -EINVAL;
	}
	return 0;
}

/* The network and broadcast addresses of a subnet of at most /31 are never handed out. */
static bool reserved_in(uint32_t subnet, uint8_t prefix, uint32_t ip)
{
	if (prefix >= 31)
		return false;
	return ip == subnet || (uint64_t)ip == prefix_end(subnet, prefix) - 1;
}

static bool reserved(const struct mesh_ipam_alloc *a, uint32_t subnet, uint8_t prefix, uint32_t ip)
{
	return reserved_in(subnet, prefix, ip) || reserved_in(a->subnet, a->prefix, ip);
}

/* Index of the first allocation with ip >= addr. */
static size_t lower_bound(const struct mesh_ipam_alloc *a, uint64_t addr)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->a[mid].ip < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static ssize_t find_id(const struct mesh_ipam_alloc *a, const char *id, uint32_t subnet, uint8_t prefix)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->a[i].subnet == subnet && a->a[i].prefix == prefix && strcmp(a->a[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

int mesh_ipam_alloc_lookup(const struct mesh_ipam_alloc *a, const char *id, uint32_t subnet,
			   uint8_t prefix, uint32_t *ip)
{
	char why[MESH_IPAM_WHY_LEN];
	if (resolve_subnet(a, &subnet, &prefix, why) < 0)
		return -ENOENT;
	ssize_t i = find_id(a, id, subnet, prefix);
	if (i < 0)
		return -ENOENT;
	*ip = a->a[i].ip;
	return 0;
}

static int insert(struct mesh_ipam_alloc *a, const char *id, uint32_t subnet, uint8_t prefix,
		  uint32_t ip)
{
	if (a->n >= MESH_IPAM_ALLOC_MAX)
		return -E2BIG;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct mesh_ipam_allocation *n = realloc(a->a, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->a = n;
		a->cap = cap;
	}
	size_t at = lower_bound(a, ip);
	memmove(&a->a[at + 1], &a->a[at], (a->n - at) * sizeof(a->a[0]));
	struct mesh_ipam_allocation *e = &a->a[at];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->ip = ip;
	e->subnet = subnet;
	e->prefix = prefix;
	a->n++;
	return 0;
}

/* The lowest address of [x, y) free for subnet/prefix, or -1. */
static int64_t lowest_free(const struct mesh_ipam_alloc *a, uint32_t subnet, uint8_t prefix,
			   uint64_t x, uint64_t y)
{
	size_t k = lower_bound(a, x);
	for (uint64_t c = x; c < y; c++) {
		if (reserved(a, subnet, prefix, (uint32_t)c))
			continue;
		while (k < a->n && a->a[k].ip < c)
			k++;
		if (k < a->n && a->a[k].ip == c)
			continue;
		return (int64_t)c;
	}
	return -1;
}

int mesh_ipam_alloc_allocate(struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
			     const char *id, uint32_t subnet, uint8_t prefix, uint32_t *ip,
			     char why[MESH_IPAM_WHY_LEN])
{
	int ret = mesh_ipam_id_check(id, why);
	if (ret < 0)
		return ret;
	ret = resolve_subnet(a, &subnet, &prefix, why);
	if (ret < 0)
		return ret;
	ssize_t have = find_id(a, id, subnet, prefix);
	if (have >= 0) {
		*ip = a->a[have].ip;
		return 0;
	}
	uint64_t s_end = prefix_end(subnet, prefix);
	uint64_t r_end = (uint64_t)r->start + mesh_ipam_ring_size(r);
	char sn[16], rn[16];
	if (s_end <= r->start || subnet >= r_end) {
		mesh_ipam_addr_format(subnet, sn);
		mesh_ipam_addr_format(r->start, rn);
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "subnet %s/%u does not overlap the allocation range %s/%u", sn, prefix, rn,
			 r->prefix);
		return -EDOM;
	}
	if (a->n >= MESH_IPAM_ALLOC_MAX) {
		snprintf(why, MESH_IPAM_WHY_LEN, "this peer already holds %d allocations",
			 MESH_IPAM_ALLOC_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (!mesh_peer_name_eq(&r->e[i].owner, &r->self))
			continue;
		uint64_t x = r->e[i].token, y = mesh_ipam_entry_end(r, i);
		if (x < subnet)
			x = subnet;
		if (y > s_end)
			y = s_end;
		if (x >= y)
			continue;
		int64_t c = lowest_free(a, subnet, prefix, x, y);
		if (c < 0)
			continue;
		ret = insert(a, id, subnet, prefix, (uint32_t)c);
		if (ret < 0) {
			snprintf(why, MESH_IPAM_WHY_LEN, "out of memory recording an allocation");
			return ret;
		}
		*ip = (uint32_t)c;
		return 1;
	}
	mesh_ipam_addr_format(subnet, sn);
	snprintf(why, MESH_IPAM_WHY_LEN, r->n ? "no free address of ours in %s/%u" :
		 "the IPAM ring is not seeded yet (no space of ours in %s/%u)", sn, prefix);
	return -ENOSPC;
}

int mesh_ipam_alloc_claim(struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r, const char *id,
			  uint32_t subnet, uint8_t prefix, uint32_t ip, char why[MESH_IPAM_WHY_LEN])
{
	char ipn[16];
	int ret = mesh_ipam_id_check(id, why);
	if (ret < 0)
		return ret;
	ret = resolve_subnet(a, &subnet, &prefix, why);
	if (ret < 0)
		return ret;
	mesh_ipam_addr_format(ip, ipn);
	if (ip < subnet || (uint64_t)ip >= prefix_end(subnet, prefix) || reserved(a, subnet, prefix, ip)) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "address %s for %.64s is outside its subnet or a reserved address", ipn, id);
		return -EINVAL;
	}
	ssize_t have = find_id(a, id, subnet, prefix);
	if (have >= 0) {
		if (a->a[have].ip == ip)
			return 0;
		snprintf(why, MESH_IPAM_WHY_LEN, "container %.64s already has another address than %s",
			 id, ipn);
		return -EEXIST;
	}
	size_t k = lower_bound(a, ip);
	if (k < a->n && a->a[k].ip == ip) {
		snprintf(why, MESH_IPAM_WHY_LEN, "address %s is already allocated to %.64s", ipn,
			 a->a[k].id);
		return -EEXIST;
	}
	if (r && !mesh_ipam_ring_owns(r, ip)) {
		snprintf(why, MESH_IPAM_WHY_LEN, "address %s is not in this peer's IPAM space", ipn);
		return -EPERM;
	}
	ret = insert(a, id, subnet, prefix, ip);
	if (ret < 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, ret == -E2BIG ? "this peer already holds the most allocations" :
			 "out of memory recording an allocation");
		return ret;
	}
	return 1;
}

static size_t release_if(struct mesh_ipam_alloc *a, bool (*drop)(const struct mesh_ipam_allocation *, const void *),
			 const void *arg)
{
	size_t k = 0, gone = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (drop(&a->a[i], arg)) {
			gone++;
			continue;
		}
		if (k != i)
			a->a[k] = a->a[i];
		k++;
	}
	a->n = k;
	return gone;
}

static bool id_is(const struct mesh_ipam_allocation *e, const void *id)
{
	return strcmp(e->id, id) == 0;
}

size_t mesh_ipam_alloc_release(struct mesh_ipam_alloc *a, const char *id)
{
	return release_if(a, id_is, id);
}

struct keep_set {
	const char *network;
	size_t netlen;
	const char *const *ids;
	size_t n;
};

/* An allocation of the GC's network whose container is not kept. */
static bool not_kept(const struct mesh_ipam_allocation *e, const void *arg)
{
	const struct keep_set *k = arg;
	const char *slash = strchr(e->id, '/'), *container = e->id;
	if (k->network) {
		if (!slash || (size_t)(slash - e->id) != k->netlen ||
		    memcmp(e->id, k->network, k->netlen) != 0)
			return false;
		container = slash + 1;
	} else if (slash) {
		return false;
	}
	for (size_t i = 0; i < k->n; i++)
		if (k->ids[i] && strcmp(k->ids[i], container) == 0)
			return false;
	return true;
}

size_t mesh_ipam_alloc_release_except(struct mesh_ipam_alloc *a, const char *network,
				      const char *const *keep, size_t nkeep)
{
	struct keep_set k = { network, network ? strlen(network) : 0, keep, nkeep };
	return release_if(a, not_kept, &k);
}

size_t mesh_ipam_alloc_count_in(const struct mesh_ipam_alloc *a, uint32_t lo, uint64_t hi)
{
	if (hi <= lo)
		return 0;
	return lower_bound(a, hi) - lower_bound(a, lo);
}

bool mesh_ipam_alloc_has_in(void *ctx, uint32_t lo, uint64_t hi)
{
	return mesh_ipam_alloc_count_in(ctx, lo, hi) > 0;
}

uint64_t mesh_ipam_alloc_free_in(const struct mesh_ipam_alloc *a, uint32_t lo, uint64_t hi)
{
	if (hi <= lo)
		return 0;
	uint64_t n = hi - lo - mesh_ipam_alloc_count_in(a, lo, hi);
	/* the default subnet's reserved addresses, unless allocated anyway (they never are) */
	if (a->prefix < 31) {
		uint64_t rs[2] = { a->subnet, prefix_end(a->subnet, a->prefix) - 1 };
		for (int i = 0; i < 2; i++)
			if (rs[i] >= lo && rs[i] < hi && mesh_ipam_alloc_count_in(a, (uint32_t)rs[i], rs[i] + 1) == 0)
				n--;
	}
	return n;
}

uint64_t mesh_ipam_alloc_free_total(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r)
{
	uint64_t f = 0;
	for (size_t i = 0; i < r->n; i++)
		if (mesh_peer_name_eq(&r->e[i].owner, &r->self))
			f += mesh_ipam_alloc_free_in(a, r->e[i].token, mesh_ipam_entry_end(r, i));
	return f;
}

int mesh_ipam_alloc_report_free(const struct mesh_ipam_alloc *a, struct mesh_ipam_ring *r)
{
	int changed = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!mesh_peer_name_eq(&r->e[i].owner, &r->self))
			continue;
		uint64_t f = mesh_ipam_alloc_free_in(a, r->e[i].token, mesh_ipam_entry_end(r, i));
		int ret = mesh_ipam_ring_set_free(r, i, f > UINT32_MAX ? UINT32_MAX : (uint32_t)f);
		if (ret < 0)
			return ret;
		changed += ret;
	}
	return changed;
}

size_t mesh_ipam_alloc_not_owned(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
				 struct mesh_ipam_allocation *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (mesh_ipam_ring_owns(r, a->a[i].ip))
			continue;
		if (out && n < cap)
			out[n] = a->a[i];
		n++;
	}
	return n;
}

int mesh_ipam_alloc_pick_donation(const struct mesh_ipam_alloc *a, const struct mesh_ipam_ring *r,
				  uint32_t *lo, uint64_t *hi)
{
	uint64_t best_lo = 0, best_len = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!mesh_peer_name_eq(&r->e[i].owner, &r->self))
			continue;
		uint64_t x = r->e[i].token, y = mesh_ipam_entry_end(r, i);
		size_t k = lower_bound(a, x);
		uint64_t at = x;
		for (;;) {
			uint64_t stop = k < a->n && a->a[k].ip < y ? a->a[k].ip : y;
			if (stop - at > best_len) {
				best_len = stop - at;
				best_lo = at;
			}
			if (stop >= y)
				break;
			at = stop + 1;
			k++;
		}
	}
	if (best_len == 0)
		return -ENOSPC;
	uint64_t give = best_len / 2 ? best_len / 2 : 1;
	*hi = best_lo + best_len;
	*lo = (uint32_t)(*hi - give);
	return 0;
}

int64_t mesh_ipam_alloc_donate(const struct mesh_ipam_alloc *a, struct mesh_ipam_ring *r,
			       const struct mesh_ipam_request *q, char why[MESH_IPAM_WHY_LEN])
{
	char who[MESH_PEER_NAME_STRLEN], s1[16], s2[16];
	mesh_peer_name_format(&q->requester, who);
	if (q->start != r->start || q->prefix != r->prefix) {
		mesh_ipam_addr_format(q->start, s1);
		mesh_ipam_addr_format(r->start, s2);
		snprintf(why, MESH_IPAM_WHY_LEN, "space request from %s is for range %s/%u, ours is %s/%u",
			 who, s1, q->prefix, s2, r->prefix);
		return -EDOM;
	}
	if (q->seed != r->seed || !r->n) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "space request from %s is for a ring seeded %016llx, ours is seeded %016llx", who,
			 (unsigned long long)q->seed, (unsigned long long)r->seed);
		return -EXDEV;
	}
	if (mesh_peer_name_eq(&q->requester, &r->self) || mesh_peer_name_is_zero(&q->requester)) {
		snprintf(why, MESH_IPAM_WHY_LEN, "space request names us (%s) as the requester", who);
		return -EINVAL;
	}
	uint32_t lo;
	uint64_t hi;
	if (mesh_ipam_alloc_pick_donation(a, r, &lo, &hi) < 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, "space request from %s: we have no free space to give",
			 who);
		return -ENOSPC;
	}
	int ret = mesh_ipam_ring_transfer(r, lo, hi, &q->requester);
	if (ret < 0) {
		mesh_ipam_addr_format(lo, s1);
		snprintf(why, MESH_IPAM_WHY_LEN, "space request from %s: cannot hand over %s+%llu: %s",
			 who, s1, (unsigned long long)(hi - lo), strerror(-ret));
		return ret;
	}
	ret = mesh_ipam_alloc_report_free(a, r);
	if (ret < 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, "free counts after the donation: %s", strerror(-ret));
		return ret;
	}
	return (int64_t)(hi - lo);
}
