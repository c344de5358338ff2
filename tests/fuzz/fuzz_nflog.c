/* tests/fuzz/fuzz_nflog.c: packets from the kernel's nflog (router/nflog.c), parsed the way
 * mesh_nflog_read walks a netlink read: message after message. Each message must stay inside
 * the input, the walk must end, and a parsed packet names a family and a printable flow. */
#include <errno.h>
#include <sys/socket.h>

#include "router/nflog.h"
#include "tests/fuzz/fuzz.h"

FUZZ_ENTRY(nflog)(const uint8_t *data, size_t size)
{
	size_t off = 0, steps = 0;
	while (off < size) {
		struct mesh_nflog_pkt pkt;
		size_t used = 0;
		const char *why = NULL;
		int ret = mesh_nflog_parse(data + off, size - off, &pkt, &used, &why);
		FUZZ_CHECK(ret == 0 || ret == 1 || (ret == -EBADMSG && why && why[0]));
		FUZZ_CHECK(used <= size - off);
		if (ret == 1) {
			char line[160];
			FUZZ_CHECK(pkt.family == AF_INET || pkt.family == AF_INET6);
			FUZZ_CHECK(strlen(pkt.prefix) < sizeof(pkt.prefix));
			mesh_nflog_flow_format(&pkt, line, sizeof(line));
			FUZZ_CHECK(line[0] != '\0');
		}
		if (!used)
			break;
		off += used;
		FUZZ_CHECK(++steps <= size);
	}
	return 0;
}
