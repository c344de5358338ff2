/* tests/fuzz/fuzz_addr.c: the peer address parser (gossip/addr.c).
 *
 * Input: any bytes, taken as a string (up to the first NUL). When mesh_addr_parse accepts it,
 * the address must be of a known family with a non-zero port, its text form must parse back to
 * the same address, and the socket address round trip must give it back; when it refuses, it
 * must say why and leave out alone. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "mesh/addr.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(addr)(const uint8_t *data, size_t size)
{
	char s[256];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';

	struct mesh_addr a, b;
	memset(&a, 0xa5, sizeof(a));
	struct mesh_addr before = a;
	const char *why = NULL;
	if (mesh_addr_parse(s, 6783, &a, &why) < 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(memcmp(&a, &before, sizeof(a)) == 0);
		return 0;
	}
	FUZZ_CHECK(a.family == AF_INET || a.family == AF_INET6);
	FUZZ_CHECK(a.port != 0);
	char txt[MESH_ADDR_STRLEN];
	size_t len = mesh_addr_format(&a, txt, sizeof(txt));
	FUZZ_CHECK(len > 0 && len < sizeof(txt) && txt[len] == '\0');
	FUZZ_CHECK(mesh_addr_parse(txt, 1, &b, &why) == 0);
	FUZZ_CHECK(mesh_addr_eq(&a, &b));

	struct sockaddr_storage ss;
	socklen_t sl = mesh_addr_to_sockaddr(&a, AF_INET6, &ss);
	FUZZ_CHECK(sl == sizeof(struct sockaddr_in6));
	FUZZ_CHECK(mesh_addr_from_sockaddr((struct sockaddr *)&ss, sl, &b) == 0);
	FUZZ_CHECK(mesh_addr_eq(&a, &b));
	sl = mesh_addr_to_sockaddr(&a, AF_INET, &ss);
	FUZZ_CHECK((sl != 0) == (a.family == AF_INET));
	FUZZ_CHECK(!mesh_addr_dialable(&a) || !mesh_addr_is_unspecified(&a));
	return 0;
}
