/* tests/fuzz/fuzz_nft_counter.c: the parser of nft's listing of the unencrypted-VXLAN counter
 * (fastdp/ipsec_filter.c), which reads what libnftables prints. The input is the listing (made
 * NUL-terminated). An accepted listing holds the number it gave, right after "packets ". */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fastdp/ipsec_filter.h"
#include "tests/fuzz/fuzz.h"

static char text[8192 + 1];

FUZZ_ENTRY(nft_counter)(const uint8_t *data, size_t size)
{
	uint64_t n = 0;
	if (size > sizeof(text) - 1)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int ret = mesh_ipsec_filter_parse_packets(text, &n);
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG);
	if (ret < 0)
		return 0;
	/* the number right after one of the "packets " in the text */
	bool found = false;
	for (const char *p = strstr(text, "packets "); p && !found; p = strstr(p + 1, "packets "))
		found = strtoull(p + strlen("packets "), NULL, 10) == n;
	FUZZ_CHECK(found);
	return 0;
}
