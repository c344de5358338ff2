/* include/mesh/nft.h: one way to run nftables commands, through libnftables (nft's own
 * language, one transaction per call), for the tables meshd owns: the fast path's
 * `inet mesh_ipsec` (fastdp/ipsec_filter.c) and the masquerade table `ip mesh_nat`
 * (router/expose.c), NetworkPolicy's `inet mesh_policy` (router/netpol.c). Header-only, so
 * each module links libnftables itself. */
#ifndef MESH_NFT_H
#define MESH_NFT_H

#include <errno.h>
#include <nftables/libnftables.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Runs cmd. On failure returns -EIO and err (when given) gets nft's first error line; with
 * out, what nft printed is copied there (NUL-terminated, cut at outlen). */
static inline int mesh_nft_run(const char *cmd, char *err, size_t errlen, char *out,
			       size_t outlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		if (err)
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

/* Runs a listing cmd with JSON output; *out gets what nft printed (malloc'd, caller frees).
 * 0 or -EIO/-ENOMEM with err as for mesh_nft_run. */
static inline int mesh_nft_list_json(const char *cmd, char **out, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	*out = NULL;
	if (!nft) {
		if (err)
			snprintf(err, errlen, "cannot start libnftables");
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	int ret = nft_run_cmd_from_buffer(nft, cmd) == 0 ? 0 : -EIO;
	if (ret == 0) {
		const char *o = nft_ctx_get_output_buffer(nft);
		if (!(*out = strdup(o ? o : "")))
			ret = -ENOMEM;
	} else if (err) {
		const char *e = nft_ctx_get_error_buffer(nft);
		size_t n = e ? strcspn(e, "\n") : 0;
		snprintf(err, errlen, "nftables: %.*s", (int)n, n ? e : "failed");
	}
	nft_ctx_free(nft);
	return ret;
}

#endif
