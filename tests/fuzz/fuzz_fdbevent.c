/* tests/fuzz/fuzz_fdbevent.c: bridge FDB notifications (router/fdbevent.c), parsed the way
 * router/bridgewatch.c walks a netlink read: message after message. Each parsed message must
 * stay inside the input, and the walk must end. */
#include <errno.h>

#include "router/fdbevent.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(fdbevent)(const uint8_t *data, size_t size)
{
	size_t off = 0, steps = 0;
	while (off < size) {
		struct mesh_fdb_event ev;
		size_t used = 0;
		const char *why = NULL;
		int ret = mesh_fdb_event_parse(data + off, size - off, &ev, &used, &why);
		FUZZ_CHECK(ret == 0 || ret == 1 || (ret == -EBADMSG && why && why[0]));
		FUZZ_CHECK(used <= size - off);
		if (!used)
			break;
		off += used;
		FUZZ_CHECK(++steps <= size);
	}
	return 0;
}
