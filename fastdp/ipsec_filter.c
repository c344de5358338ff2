/* fastdp/ipsec_filter.c: the table that drops VXLAN which did not come through ESP (see
 * ipsec_filter.h), written in nft's own language and run as one transaction. */
#include "fastdp/ipsec_filter.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

/* Runs cmd; on failure, err gets nft's first error line. With out, what nft printed is
 * copied there (NUL-terminated, cut at outlen). */
static int run_out(const char *cmd, char *err, size_t errlen, char *out, size_t outlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		snprintf(err, errlen, "cannot start libnftables");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	int ret = nft_run_cmd_from_buffer(nft, cmd) == 0 ? 0 : -EIO;
	if (ret == 0 && out && outlen) {
		const char *o = nft_ctx_get_output_buffer(nft);
		snprintf(out, outlen, "%s", o ? o : "");
	}
	if (ret < 0 && err) {
		const char *e = nft_ctx_get_error_buffer(nft);
		size_t n = e ? strcspn(e, "\n") : 0;
		snprintf(err, errlen, "nftables: %.*s", (int)n, n ? e : "failed");
	}
	nft_ctx_free(nft);
	return ret;
}

static int run(const char *cmd, char *err, size_t errlen)
{
	return run_out(cmd, err, errlen, NULL, 0);
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
		 "    udp dport %u meta ipsec missing counter drop comment \"mesh: VXLAN of an "
		 "encrypted mesh must come through ESP\"\n"
		 "  }\n"
		 "}\n",
		 (unsigned)port);
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
	if (run_out("list table inet " MESH_IPSEC_FILTER_TABLE "\n", NULL, 0, out, sizeof(out)) < 0)
		return -EIO;
	return mesh_ipsec_filter_parse_packets(out, packets);
}
