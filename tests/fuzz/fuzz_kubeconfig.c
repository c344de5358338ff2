/* tests/fuzz/fuzz_kubeconfig.c: the kubeconfig parser (kube/config.c kube_config_parse) and
 * its base64 decoder.
 *
 * Input: a selector byte (bit 0: parse for the context named "fuzz" instead of the current
 * one; bit 1: a path with a directory, so relative paths get joined), then the YAML text (not
 * NUL-terminated). Invariants: an error says why and leaves the config empty; an accepted
 * config has an http(s) server, a source, paired client certificate and key, and absolute file
 * paths when the kubeconfig's path has a directory; base64 of the text decodes or says bad. */
#include <stdbool.h>
#include <string.h>

#include "kube/config.h"
#include "tests/fuzz/fuzz.h"

static bool absolute_or_null(const char *p)
{
	return !p || p[0] == '/';
}

FUZZ_ENTRY(kubeconfig)(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	char *text = (char *)fuzz_dup(data + 1, size - 1);
	size_t len = size - 1;
	if (!text)
		return 0;
	struct kube_config cfg;
	char err[256];
	err[0] = '\0';
	const char *path = (sel & 2) ? "/etc/mesh/kubeconfig" : "kubeconfig";
	int r = kube_config_parse(text, len, path, (sel & 1) ? "fuzz" : NULL, &cfg, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(err[0]);
		FUZZ_CHECK(!cfg.server && !cfg.token && !cfg.ca_data && !cfg.cert_file);
	} else {
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(cfg.server && (!strncmp(cfg.server, "https://", 8) || !strncmp(cfg.server, "http://", 7)));
		FUZZ_CHECK(cfg.source[0]);
		FUZZ_CHECK(!(cfg.cert_file || cfg.cert_data) == !(cfg.key_file || cfg.key_data));
		if (sel & 2) {
			FUZZ_CHECK(absolute_or_null(cfg.ca_file) && absolute_or_null(cfg.token_file));
			FUZZ_CHECK(absolute_or_null(cfg.cert_file) && absolute_or_null(cfg.key_file));
		}
	}
	kube_config_free(&cfg);

	size_t outlen = 0;
	bool bad = false;
	char *dec = kube_base64_decode(text, len, &outlen, &bad);
	if (dec) {
		FUZZ_CHECK(!bad && outlen <= len);
		free(dec);
	}
	free(text);
	return 0;
}
