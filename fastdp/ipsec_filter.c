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

/* The table: VXLAN must come through mesh's own SAs (reqid), or, where the kernel cannot match
 * on an SA (no nft_xfrm), at least through ESP. */
static int install(uint16_t port, bool own_sas, char *why, size_t cap)
{
	char cmd[1024];
	/* add + delete first, so that a table left behind goes; all in one transaction */
	int n = snprintf(cmd, sizeof(cmd),
			 "add table inet " MESH_IPSEC_FILTER_TABLE "\n"
			 "delete table inet " MESH_IPSEC_FILTER_TABLE "\n"
			 "table inet " MESH_IPSEC_FILTER_TABLE " {\n"
			 "  chain input {\n"
			 "    type filter hook input priority mangle; policy accept;\n"
			 "    udp dport %u jump vxlan\n"
			 "  }\n"
			 "  chain vxlan {\n", (unsigned)port);
	/* (a packet without ESP does not match `ipsec in`: it falls to the drop too; one counter
	 * for both, read by mesh_ipsec_filter_drops) */
	if (own_sas)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n,
			      "    ipsec in reqid %u return comment \"mesh: decrypted by one of mesh's "
			      "own SAs\"\n", (unsigned)MESH_IPSEC_IN_REQID);
	else
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, "    meta ipsec exists return\n");
	snprintf(cmd + n, sizeof(cmd) - (size_t)n,
		 "    counter drop comment \"mesh: VXLAN of an encrypted mesh must come through "
		 "mesh's own ESP SAs\"\n"
		 "  }\n"
		 "}\n");
	return mesh_nft_run(cmd, why, cap, NULL, 0);
}

int mesh_ipsec_filter_install(uint16_t port, char *err, size_t errlen)
{
	char why[512], why2[512];
	if (install(port, true, why, sizeof(why)) == 0)
		return 0;
	if (install(port, false, why2, sizeof(why2)) == 0) {
		snprintf(err, errlen, "VXLAN decrypted by IPsec SAs other than mesh's own is not dropped "
			 "on UDP %u: this kernel cannot match on an SA (nft_xfrm module? %s)",
			 (unsigned)port, why);
		return 1;
	}
	snprintf(err, errlen, "cannot install the rule that drops unencrypted VXLAN on UDP %u (%s)",
		 (unsigned)port, why2);
	return -EIO;
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
