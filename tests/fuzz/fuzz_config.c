/* tests/fuzz/fuzz_config.c: meshd's command line parser (router/config.c).
 *
 * Input: a selector byte, then the arguments separated by NUL bytes (argv[0] is "meshd"; at
 * most FUZZ_MAX_ARGS arguments, which is more than MESH_MAX_PEERS_ARG so that the peer limit
 * is reached too). Selector % 4 == 0: no MESH_PASSWORD; otherwise MESH_PASSWORD is a copy of
 * argument (selector / 4) % argc, or "" when there is none. Every argument is a writable heap
 * copy of exactly its size (mesh_config_parse scrubs --password values in place); afterwards
 * argv may only differ from the input by bytes overwritten with 'x'. Each argument is also
 * parsed alone as an --ipalloc-range6 value (router/ipam6.c), and an accepted range6 must map
 * the IPv4 range's ends into itself and back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "router/config.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_ARGS 72

static bool terminated(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

static void check_ok(const struct mesh_config *cfg)
{
	FUZZ_CHECK(cfg->port >= 1);
	FUZZ_CHECK(cfg->npeers <= MESH_MAX_PEERS_ARG);
	FUZZ_CHECK(cfg->nallow <= MESH_ALLOW_FROM_MAX);
	for (unsigned k = 0; k < cfg->nallow; k++) {
		const struct mesh_cidr *c = &cfg->allow_from[k];
		FUZZ_CHECK(c->family == AF_INET || c->family == AF_INET6);
		FUZZ_CHECK(c->prefix <= (c->family == AF_INET ? 32 : 128));
		char s[MESH_CIDR_STRLEN];
		struct mesh_cidr back;
		const char *why;
		mesh_cidr_format(c, s);
		FUZZ_CHECK(mesh_cidr_parse(s, &back, &why) == 0 && !memcmp(&back, c, sizeof(back)));
	}
	for (unsigned k = 0; k < cfg->npeers; k++) {
		FUZZ_CHECK(cfg->peers[k].family == AF_INET || cfg->peers[k].family == AF_INET6);
		FUZZ_CHECK(cfg->peers[k].port != 0);
	}
	FUZZ_CHECK(terminated(cfg->nickname, sizeof(cfg->nickname)));
	for (const char *c = cfg->nickname; *c; c++)
		FUZZ_CHECK(*c > ' ' && *c <= '~');
	FUZZ_CHECK(terminated(cfg->bridge, sizeof(cfg->bridge)) && cfg->bridge[0]);
	FUZZ_CHECK(strchr(cfg->bridge, '/') == NULL);
	FUZZ_CHECK(terminated(cfg->state_dir, sizeof(cfg->state_dir)) && cfg->state_dir[0]);
	FUZZ_CHECK(terminated(cfg->api_socket, sizeof(cfg->api_socket)) && cfg->api_socket[0]);
	FUZZ_CHECK(terminated(cfg->password_file, sizeof(cfg->password_file)));
	FUZZ_CHECK(!cfg->password || cfg->password[0]);
	FUZZ_CHECK(cfg->log_level >= MESH_LOG_ERROR && cfg->log_level <= MESH_LOG_DEBUG);
	FUZZ_CHECK(cfg->mtu == 0 || (cfg->mtu >= 576 && cfg->mtu <= 65000));
	/* IPAM: a range, a default subnet that contains it, one way to seed */
	FUZZ_CHECK(cfg->ipalloc_prefix >= 1 && cfg->ipalloc_prefix <= 32);
	FUZZ_CHECK(cfg->ipalloc_subnet_prefix >= 1 && cfg->ipalloc_subnet_prefix <= cfg->ipalloc_prefix);
	uint32_t mask = ~0u << (32 - cfg->ipalloc_subnet_prefix);
	FUZZ_CHECK(((cfg->ipalloc_start ^ cfg->ipalloc_subnet) & mask) == 0);
	FUZZ_CHECK((cfg->ipalloc_init.quorum > 0) != (cfg->ipalloc_init.nseeds > 0));
	FUZZ_CHECK(cfg->ipalloc_init.nseeds <= MESH_IPAM_MAX_SEEDS);
	FUZZ_CHECK(terminated(cfg->ipalloc_init_str, sizeof(cfg->ipalloc_init_str)) &&
		   cfg->ipalloc_init_str[0]);
	/* IPv6: off, or a /96 or wider that the range's first and last addresses map into and
	 * back from */
	const struct mesh_ipam6 *r6 = &cfg->ipalloc_range6;
	if (r6->on) {
		uint8_t a[16];
		uint32_t back, last = cfg->ipalloc_start + (uint32_t)((1ull << (32 - cfg->ipalloc_prefix)) - 1);
		FUZZ_CHECK(r6->prefix >= 8 && r6->prefix <= MESH_IPAM6_PREFIX_MAX);
		FUZZ_CHECK(r6->base[0] != 0 && r6->base[0] != 0xff);
		uint32_t ends[2] = { cfg->ipalloc_start, last };
		for (int k = 0; k < 2; k++) {
			if (ends[k] == 0) {
				FUZZ_CHECK(mesh_ipam6_map(r6, 0, a) == -ERANGE);
				continue;
			}
			FUZZ_CHECK(mesh_ipam6_map(r6, ends[k], a) == 0);
			FUZZ_CHECK(memcmp(a, r6->base, 12) == 0);
			FUZZ_CHECK(mesh_ipam6_unmap(r6, a, &back) == 0);
			FUZZ_CHECK(back == ends[k]);
		}
	}
}

FUZZ_ENTRY(config)(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *args[FUZZ_MAX_ARGS + 1];
	size_t lens[FUZZ_MAX_ARGS + 1];
	char *argv[FUZZ_MAX_ARGS + 2];
	int argc = 1;

	/* Split the rest on NUL bytes; a last argument without a NUL ends at the input's end. */
	const uint8_t *p = data + 1, *end = data + size;
	while (p < end && argc <= FUZZ_MAX_ARGS) {
		const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
		args[argc] = (const char *)p;
		lens[argc] = n;
		argc++;
		p += n + (nul ? 1 : 0);
	}

	bool ok = true;
	argv[0] = strdup("meshd");
	if (!argv[0])
		return 0;
	for (int i = 1; i < argc; i++) {
		argv[i] = malloc(lens[i] + 1);
		if (!argv[i]) {
			ok = false;
			argc = i;
			break;
		}
		memcpy(argv[i], args[i], lens[i]);
		argv[i][lens[i]] = '\0';
	}
	argv[argc] = NULL;
	char *saved[FUZZ_MAX_ARGS + 2];
	memcpy(saved, argv, sizeof(saved[0]) * (size_t)(argc + 1));

	char *env = NULL;
	if (ok && sel % 4 != 0) {
		int k = (sel / 4) % argc;
		env = k == 0 ? strdup("") : strdup(argv[k]);
		ok = env != NULL;
	}

	if (ok) {
		struct mesh_config cfg;
		char err[256];
		memset(err, 0x7f, sizeof(err));
		int r = mesh_config_parse(&cfg, argc, argv, env, err, sizeof(err));
		FUZZ_CHECK(r == MESH_CONFIG_OK || r == MESH_CONFIG_USAGE);
		if (r == MESH_CONFIG_OK)
			check_ok(&cfg);
		else
			FUZZ_CHECK(terminated(err, sizeof(err)) && err[0]);
		mesh_config_free(&cfg);
		FUZZ_CHECK(cfg.password == NULL);

		/* argv: same pointers, same lengths, changed only by scrubbing */
		FUZZ_CHECK(memcmp(saved, argv, sizeof(saved[0]) * (size_t)(argc + 1)) == 0);
		FUZZ_CHECK(strcmp(argv[0], "meshd") == 0);
		for (int i = 1; i < argc; i++) {
			FUZZ_CHECK(strlen(argv[i]) == lens[i]);
			for (size_t j = 0; argv[i][j]; j++)
				FUZZ_CHECK(argv[i][j] == args[i][j] || argv[i][j] == 'x');
		}

		/* every argument as an --ipalloc-range6 value on its own */
		for (int i = 1; i < argc; i++) {
			struct mesh_ipam6 r6;
			char why[MESH_IPAM_WHY_LEN];
			memset(why, 0x7f, sizeof(why));
			if (mesh_ipam6_parse(argv[i], &r6, why) == 0) {
				FUZZ_CHECK(!r6.on || (r6.prefix >= 8 && r6.prefix <= MESH_IPAM6_PREFIX_MAX));
				FUZZ_CHECK(r6.on || strcmp(argv[i], "off") == 0);
			} else {
				FUZZ_CHECK(!r6.on && terminated(why, sizeof(why)) && why[0]);
			}
		}

		/* every argument as a peer address on its own */
		for (int i = 1; i < argc; i++) {
			struct mesh_peer_addr pa;
			struct in_addr a;
			if (mesh_parse_peer_addr(argv[i], 6783, &pa) == 0) {
				FUZZ_CHECK(terminated(pa.host, sizeof(pa.host)));
				FUZZ_CHECK(inet_pton(AF_INET, pa.host, &a) == 1);
				FUZZ_CHECK(pa.port != 0);
			}
		}
	}

	free(env);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
