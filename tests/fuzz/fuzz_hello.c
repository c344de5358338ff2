/* tests/fuzz/fuzz_hello.c: the HELLO message (gossip/hello.c).
 *
 * Input: one opened HELLO message (type byte, then TLVs). When mesh_hello_decode accepts it,
 * the fields must be within what hello.h promises; mesh_hello_encode must write them back, and
 * decoding that must give the same fields. Encoding into a buffer that is too small must fail
 * cleanly. A strict prefix of the encoding is refused, unless it ends where only optional
 * fields (full, range6, features: written last) follow: then it decodes to the same required
 * fields with an optional one missing. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/hello.h"
#include "gossip/tlv.h"
#include "tests/fuzz/fuzz.h"

static bool required_eq(const struct mesh_hello *a, const struct mesh_hello *b)
{
	return mesh_peer_name_eq(&a->name, &b->name) && strcmp(a->nickname, b->nickname) == 0 &&
	       a->uid == b->uid && a->short_id == b->short_id && a->conn_id == b->conn_id &&
	       a->overlays == b->overlays && a->sleeve_port == b->sleeve_port &&
	       a->sleeve_index == b->sleeve_index &&
	       memcmp(a->confirm, b->confirm, sizeof(a->confirm)) == 0;
}

static bool hello_eq(const struct mesh_hello *a, const struct mesh_hello *b)
{
	return required_eq(a, b) && a->full == b->full && a->range6_prefix == b->range6_prefix &&
	       !memcmp(a->range6, b->range6, 16) && a->features == b->features;
}

/* b is a with some of its optional fields left out (a prefix of a's encoding) */
static bool lacks_optional(const struct mesh_hello *a, const struct mesh_hello *b)
{
	bool full = b->full == a->full || b->full == 0;
	bool range6 = (b->range6_prefix == a->range6_prefix && !memcmp(a->range6, b->range6, 16)) ||
		      b->range6_prefix == 0;
	bool features = b->features == a->features || b->features == 0;
	return required_eq(a, b) && full && range6 && features && !hello_eq(a, b);
}

FUZZ_ENTRY(hello)(const uint8_t *data, size_t size)
{
	struct mesh_hello h;
	const char *why = NULL;

	if (mesh_hello_decode(data, size, &h, &why) < 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(size >= 1 && data[0] == MESH_MSG_HELLO);
	size_t nick = strnlen(h.nickname, sizeof(h.nickname));
	FUZZ_CHECK(nick < sizeof(h.nickname));
	FUZZ_CHECK(mesh_nickname_valid(h.nickname, nick));
	FUZZ_CHECK(h.short_id <= 0xfff);
	FUZZ_CHECK(h.sleeve_port != 0);

	uint8_t *out = malloc(MESH_HELLO_MAX);
	if (!out)
		return 0;
	ssize_t n = mesh_hello_encode(&h, out, MESH_HELLO_MAX);
	FUZZ_CHECK(n > 1 && n <= MESH_HELLO_MAX);
	FUZZ_CHECK(out[0] == MESH_MSG_HELLO);

	/* Decoding the encoding gives the same fields back. */
	struct mesh_hello h2;
	const char *why2 = NULL;
	FUZZ_CHECK(mesh_hello_decode(out, (size_t)n, &h2, &why2) == 0);
	FUZZ_CHECK(hello_eq(&h, &h2));

	/* Re-encoding gives the same bytes again (decode ∘ encode is the identity). */
	uint8_t *out2 = malloc((size_t)n);
	if (out2) {
		FUZZ_CHECK(mesh_hello_encode(&h2, out2, (size_t)n) == n);
		FUZZ_CHECK(memcmp(out, out2, (size_t)n) == 0);
		/* one byte short: refused, never written past the end */
		FUZZ_CHECK(mesh_hello_encode(&h2, out2, (size_t)n - 1) == -EMSGSIZE);
		FUZZ_CHECK(mesh_hello_encode(&h2, out2, 0) == -EMSGSIZE);
		free(out2);
	}

	/* Every strict prefix of the encoding is refused (a field missing or cut). */
	for (size_t cut = 0; cut < (size_t)n; cut += 1 + cut / 4) {
		uint8_t *p = malloc(cut ? cut : 1);
		if (!p)
			break;
		memcpy(p, out, cut);
		why2 = NULL;
		int ret = mesh_hello_decode(p, cut, &h2, &why2);
		FUZZ_CHECK((ret == -EBADMSG && why2 != NULL) || (ret == 0 && lacks_optional(&h, &h2)));
		free(p);
	}
	free(out);
	return 0;
}
