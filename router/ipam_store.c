/* router/ipam_store.c: atomic persistence of the IPAM ring and allocations (see ipam_store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/bytes.h"
#include "router/ipam_store.h"
#include "router/statefile.h"

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

ssize_t mesh_ipam_store_encode(const struct mesh_ipam_ring *r, const struct mesh_ipam_alloc *a,
			       uint8_t **out)
{
	size_t ring_len = mesh_ipam_ring_encoded_size(r);
	if (a->n > MESH_IPAM_ALLOC_MAX || r->n > MESH_IPAM_MAX_ENTRIES)
		return -EMSGSIZE;
	size_t len = MESH_IPAM_STORE_HDR_LEN + ring_len + 4 + 8;
	for (size_t i = 0; i < a->n; i++)
		len += 10 + strnlen(a->a[i].id, MESH_IPAM_ID_MAX);
	uint8_t *b = malloc(len);
	if (!b)
		return -ENOMEM;
	uint8_t *p = b;
	memcpy(p, MESH_IPAM_STORE_MAGIC, 8);
	put_be16(p + 8, MESH_IPAM_STORE_FORMAT);
	memcpy(p + 10, r->self.b, MESH_PEER_NAME_LEN);
	put_be32(p + 16, a->subnet);
	p[20] = a->prefix;
	put_be32(p + 21, (uint32_t)ring_len);
	p += MESH_IPAM_STORE_HDR_LEN;
	ssize_t n = mesh_ipam_ring_encode(r, p, ring_len);
	if (n < 0) {
		free(b);
		return n;
	}
	p += n;
	put_be32(p, (uint32_t)a->n);
	p += 4;
	for (size_t i = 0; i < a->n; i++) {
		const struct mesh_ipam_allocation *e = &a->a[i];
		size_t idl = strnlen(e->id, MESH_IPAM_ID_MAX);
		put_be32(p, e->ip);
		put_be32(p + 4, e->subnet);
		p[8] = e->prefix;
		p[9] = (uint8_t)idl;
		memcpy(p + 10, e->id, idl);
		p += 10 + idl;
	}
	put_be64(p, fnv1a64(b, (size_t)(p - b)));
	p += 8;
	*out = b;
	return (ssize_t)(p - b);
}

/* The checks every reader of the file makes first: long enough, magic, format, checksum. */
static int check_header(const uint8_t *buf, size_t len, char why[MESH_IPAM_WHY_LEN])
{
	if (len < MESH_IPAM_STORE_HDR_LEN + 4 + 8) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state of %zu bytes is shorter than the smallest one",
			 len);
		return -EBADMSG;
	}
	if (memcmp(buf, MESH_IPAM_STORE_MAGIC, 8) != 0) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state does not start with \"%s\"",
			 MESH_IPAM_STORE_MAGIC);
		return -EBADMSG;
	}
	if (get_be16(buf + 8) != MESH_IPAM_STORE_FORMAT) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state has format %u, this meshd reads %d",
			 get_be16(buf + 8), MESH_IPAM_STORE_FORMAT);
		return -EBADMSG;
	}
	if (get_be64(buf + len - 8) != fnv1a64(buf, len - 8)) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM state checksum (last 8 of %zu bytes) does not match: damaged or truncated",
			 len);
		return -EBADMSG;
	}
	return 0;
}

int mesh_ipam_store_writer(const uint8_t *buf, size_t len, struct mesh_peer_name *self,
			   char why[MESH_IPAM_WHY_LEN])
{
	int ret = check_header(buf, len, why);
	if (ret < 0)
		return ret;
	memcpy(self->b, buf + 10, MESH_PEER_NAME_LEN);
	return 0;
}

int mesh_ipam_store_decode(const uint8_t *buf, size_t len, struct mesh_ipam_ring *r,
			   struct mesh_ipam_alloc *a, char why[MESH_IPAM_WHY_LEN])
{
	struct mesh_ipam_ring in = { 0 };
	char n1[MESH_PEER_NAME_STRLEN], n2[MESH_PEER_NAME_STRLEN], s1[16], s2[16];
	int ret;

	if ((ret = check_header(buf, len, why)) < 0)
		return ret;
	struct mesh_peer_name self;
	memcpy(self.b, buf + 10, MESH_PEER_NAME_LEN);
	if (!mesh_peer_name_eq(&self, &r->self)) {
		mesh_peer_name_format(&self, n1);
		mesh_peer_name_format(&r->self, n2);
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM state was written by peer %s, we are %s (--name changed?)", n1, n2);
		return -ESTALE;
	}
	size_t ring_len = get_be32(buf + 21);
	size_t body = len - 8; /* without the checksum */
	size_t at = MESH_IPAM_STORE_HDR_LEN;
	if (ring_len > body - at || body - at - ring_len < 4) {
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM state byte 21: ring length %zu runs past the end of the file", ring_len);
		return -EBADMSG;
	}
	char inner[MESH_IPAM_WHY_LEN];
	ret = mesh_ipam_ring_decode(buf + at, ring_len, &in, inner);
	if (ret < 0) {
		if (ret == -EBADMSG)
			snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state ring at byte %zu: %.150s", at, inner);
		else
			snprintf(why, MESH_IPAM_WHY_LEN, "out of memory reading the IPAM state");
		return ret;
	}
	if (in.start != r->start || in.prefix != r->prefix) {
		mesh_ipam_addr_format(in.start, s1);
		mesh_ipam_addr_format(r->start, s2);
		snprintf(why, MESH_IPAM_WHY_LEN,
			 "IPAM state is for range %s/%u, --ipalloc-range is %s/%u", s1, in.prefix, s2,
			 r->prefix);
		ret = -EDOM;
		goto errout;
	}
	at += ring_len;
	size_t count = get_be32(buf + at);
	if (count > MESH_IPAM_ALLOC_MAX) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state byte %zu: %zu allocations, over %d", at,
			 count, MESH_IPAM_ALLOC_MAX);
		ret = -EBADMSG;
		goto errout;
	}
	at += 4;
	/* the ring goes in first: claims check that each address is in our space */
	free(r->e);
	r->e = in.e;
	r->n = in.n;
	r->cap = in.cap;
	r->seed = in.seed;
	in.e = NULL;
	uint32_t prev_ip = 0;
	for (size_t i = 0; i < count; i++) {
		if (body - at < 10) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM state byte %zu: allocation %zu of %zu is cut off", at, i, count);
			ret = -EBADMSG;
			goto errout;
		}
		uint32_t ip = get_be32(buf + at), subnet = get_be32(buf + at + 4);
		uint8_t prefix = buf[at + 8];
		size_t idl = buf[at + 9];
		if (idl == 0 || idl > body - at - 10) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM state byte %zu: allocation %zu has an id of %zu bytes (empty or past the end)",
				 at + 9, i, idl);
			ret = -EBADMSG;
			goto errout;
		}
		if (prefix == 0) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM state byte %zu: allocation %zu has subnet prefix 0", at + 8, i);
			ret = -EBADMSG;
			goto errout;
		}
		if (i > 0 && ip <= prev_ip) {
			snprintf(why, MESH_IPAM_WHY_LEN,
				 "IPAM state byte %zu: allocation %zu is not after the one before in address order",
				 at, i);
			ret = -EBADMSG;
			goto errout;
		}
		prev_ip = ip;
		char id[MESH_IPAM_ID_MAX + 1];
		memcpy(id, buf + at + 10, idl);
		id[idl] = '\0';
		ret = mesh_ipam_alloc_claim(a, r, id, subnet, prefix, ip, inner);
		if (ret == -ENOMEM)
			goto errout;
		if (ret <= 0) { /* 0: the same (id, subnet) twice */
			snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state byte %zu: allocation %zu: %.150s", at,
				 i, ret == 0 ? "repeated" : inner);
			ret = -EBADMSG;
			goto errout;
		}
		at += 10 + idl;
	}
	if (at != body) {
		snprintf(why, MESH_IPAM_WHY_LEN, "IPAM state has %zu bytes after the last allocation",
			 body - at);
		ret = -EBADMSG;
		goto errout;
	}
	return 0;
errout:
	mesh_ipam_ring_free(&in);
	mesh_ipam_ring_free(r);
	r->seed = 0;
	a->n = 0;
	return ret;
}

int mesh_ipam_store_save(const char *path, const struct mesh_ipam_ring *r,
			 const struct mesh_ipam_alloc *a)
{
	uint8_t *b = NULL;
	ssize_t n = mesh_ipam_store_encode(r, a, &b);
	if (n < 0)
		return (int)n;
	int ret = mesh_write_atomic(path, b, (size_t)n);
	free(b);
	return ret;
}

int mesh_ipam_store_load(const char *path, struct mesh_ipam_ring *r, struct mesh_ipam_alloc *a,
			 char why[MESH_IPAM_WHY_LEN])
{
	uint8_t *b = NULL;
	int ret;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, MESH_IPAM_WHY_LEN, "cannot open %.120s: %s", path, strerror(-ret));
		return ret;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(why, MESH_IPAM_WHY_LEN, "cannot stat %.120s: %s", path, strerror(-ret));
		goto errout;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MESH_IPAM_STORE_MAX_LEN) {
		ret = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(why, MESH_IPAM_WHY_LEN, "%.120s is %s", path,
			 ret == -EFBIG ? "larger than any IPAM state" : "not a regular file");
		goto errout;
	}
	size_t len = (size_t)st.st_size, got = 0;
	b = malloc(len ? len : 1);
	if (!b) {
		ret = -ENOMEM;
		snprintf(why, MESH_IPAM_WHY_LEN, "out of memory reading %.120s", path);
		goto errout;
	}
	while (got < len) {
		ssize_t n = read(fd, b + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(why, MESH_IPAM_WHY_LEN, "cannot read %.120s: %s", path,
				 n < 0 ? strerror(-ret) : "shorter than its size");
			goto errout;
		}
		got += (size_t)n;
	}
	ret = mesh_ipam_store_decode(b, len, r, a, why);
errout:
	free(b);
	close(fd);
	return ret;
}
