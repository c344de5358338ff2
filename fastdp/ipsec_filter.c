/* fastdp/ipsec_filter.c: the table that drops VXLAN which did not come through ESP (see
 * ipsec_filter.h), written in nft's own language and run as one transaction. */
#include "fastdp/ipsec_filter.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

/* Runs cmd; on failure, err gets nft's first error line. */
static int run(const char *cmd, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		snprintf(err, errlen, "cannot start libnftables");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	int ret = nft_run_cmd_from_buffer(nft, cmd) == 0 ? 0 : -EIO;
	if (ret < 0 && err) {
		const char *e = nft_ctx_get_error_buffer(nft);
		size_t n = e ? strcspn(e, "\n") : 0;
		snprintf(err, errlen, "nftables: %.*s", (int)n, n ? e : "failed");
	}
	nft_ctx_free(nft);
	return ret;
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
