/* fastdp/ipsec_filter.c: the table that drops VXLAN which did not come through ESP (see
 * ipsec_filter.h), written in nft's own language and run as one transaction. */
#include "fastdp/ipsec_filter.h"
#include "mesh/nft.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int run(const char *cmd, char *err, size_t errlen)
{
	return mesh_nft_run(cmd, err, errlen, NULL, 0);
}

int mesh_ipsec_filter_install(uint16_t port, char *err, size_t errlen)
{
	char cmd[768];
	/* add + delete first, so that a table left behind goes; all in one transaction */
	snprintf(cmd, sizeof(cmd),
		 "add table inet " MESH_IPSEC_FILTER_TABLE "\n"
		 "delete table inet " MESH_IPSEC_FILTER_TABLE "\n"
		 "table inet " MESH_IPSEC_FILTER_TABLE " {\n"
		 "  chain input {\n"
		 "    type filter hook input priority mangle; policy accept;\n"
		 "    udp dport %u jump vxlan\n"
		 "  }\n"
		 /* (a packet without ESP does not match `ipsec in`: it falls to the drop too;
		  * one counter for both, read by mesh_ipsec_filter_drops) */
		 "  chain vxlan {\n"
		 "    ipsec in reqid %u return comment \"mesh: decrypted by one of mesh's own SAs\"\n"
		 "    counter drop comment \"mesh: VXLAN of an encrypted mesh must come through "
		 "mesh's own ESP SAs\"\n"
		 "  }\n"
		 "}\n",
		 (unsigned)port, (unsigned)MESH_IPSEC_IN_REQID);
	char why[512];
	int ret = run(cmd, why, sizeof(why));
	if (ret < 0)
		snprintf(err, errlen, "cannot install the rule that drops unencrypted VXLAN on UDP "
			 "%u (%s)", (unsigned)port, why);
	return ret;
}

void mesh_ipsec_filter_remove(void)
{
	run("add table inet " MESH_IPSEC_FILTER_TABLE "\n"
	    "delete table inet " MESH_IPSEC_FILTER_TABLE "\n", NULL, 0);
}

int mesh_ipsec_filter_parse_packets(const char *listing, uint64_t *packets)
{
	const char *p = listing;
	/* the word "packets" followed by a number, not part of a longer word */
	while ((p = strstr(p, "packets ")) != NULL) {
		bool word = p == listing || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n';
		p += strlen("packets ");
		if (!word || *p < '0' || *p > '9')
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
			return -EBADMSG;
		*packets = v;
		return 0;
	}
	return -EBADMSG;
}

int mesh_ipsec_filter_drops(uint64_t *packets)
{
	char out[1024];
	/* the table's one counter is the rule's (an anonymous one: a named counter needs the
	 * nft_objref module, which not every kernel loads by itself) */
	if (mesh_nft_run("list table inet " MESH_IPSEC_FILTER_TABLE "\n", NULL, 0, out, sizeof(out)) < 0)
		return -EIO;
	return mesh_ipsec_filter_parse_packets(out, packets);
}
