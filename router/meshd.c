/* router/meshd.c: meshd's main(): flags, password, identity, then the event loop until
 * SIGTERM or SIGINT, and a clean shutdown that removes what meshd created. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autoconfig.h"
#include "crypto/psk.h"
#include "crypto/session.h"
#include "gossip/wire.h"
#include "router/api.h"
#include "router/config.h"
#include "router/identity.h"
#include "router/log.h"
#include "router/router.h"
#include "router/statefile.h"

#define PASSWORD_MAX 4096

/* Reads the password file: its content less one trailing newline. Exit code 2 on problems. */
static int read_password_file(const char *path, char **out)
{
	char *buf = sodium_malloc(PASSWORD_MAX + 1);
	struct stat st;
	if (!buf) {
		fprintf(stderr, "meshd: out of memory\n");
		return 1;
	}
	ssize_t n = mesh_read_small(path, buf, PASSWORD_MAX + 1);
	if (n < 0) {
		fprintf(stderr, "meshd: --password-file %s: %s\n", path,
			n == -EFBIG ? "longer than 4096 bytes" : strerror((int)-n));
		sodium_free(buf);
		return 2;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "meshd: --password-file %s is empty\n", path);
		sodium_free(buf);
		return 2;
	}
	if (n < MESH_PASSWORD_MIN) {
		fprintf(stderr, "meshd: --password-file %s: the password is %zd bytes: a password "
			"must have at least %d (a short one can be guessed offline from one "
			"handshake)\n", path, n, MESH_PASSWORD_MIN);
		sodium_memzero(buf, PASSWORD_MAX + 1);
		sodium_free(buf);
		return 2;
	}
	if (stat(path, &st) == 0 && (st.st_mode & 0077))
		log_warn("password file %s can be read by group or others (chmod 600 it)", path);
	*out = strdup(buf);
	sodium_free(buf);
	return *out ? 0 : 1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(base);
}

/* unsetenv alone leaves the bytes where the kernel put them, and /proc/PID/environ shows that
 * memory to anyone who may read it: wipe the value in place first (the config holds a copy). */
static void scrub_env_password(void)
{
	static const char key[] = "MESH_PASSWORD=";
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, key, sizeof(key) - 1) == 0)
			explicit_bzero(*e + sizeof(key) - 1, strlen(*e + sizeof(key) - 1));
	}
	unsetenv("MESH_PASSWORD");
}

int main(int argc, char **argv)
{
	struct mesh_config cfg;
	char err[512], note[700];
	struct mesh_peer_name name;
	uint8_t psk[MESH_KEY_LEN];
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	struct mesh_router *r = NULL;
	struct mesh_api *api = NULL, *metrics = NULL;
	int ret = 1;

	int pr = mesh_config_parse(&cfg, argc, argv, getenv("MESH_PASSWORD"), err, sizeof(err));
	if (pr != MESH_CONFIG_OK) {
		fprintf(stderr, "meshd: %s\n", err);
		mesh_config_free(&cfg);
		return 2;
	}
	if (cfg.help) {
		fputs(mesh_config_usage(), stdout);
		mesh_config_free(&cfg);
		return 0;
	}
	if (cfg.version) {
		printf("meshd %s (protocol %d)\n", PACKAGE_VERSION, MESH_PROTO_MAX);
		mesh_config_free(&cfg);
		return 0;
	}
	mesh_log_set_level(cfg.log_level);
	scrub_env_password();

	if (sodium_init() < 0) {
		fprintf(stderr, "meshd: libsodium failed to initialise\n");
		goto out;
	}
	if (cfg.password_file[0]) {
		int rc = read_password_file(cfg.password_file, &cfg.password);
		if (rc) {
			ret = rc;
			goto out;
		}
	}
	if (geteuid() != 0)
		log_warn("not running as root: creating the bridge and TAP needs CAP_NET_ADMIN");

	if (cfg.password) {
		int rc = mesh_psk_derive(cfg.password, strlen(cfg.password), cfg.mesh_name, psk);
		mesh_wipe(cfg.password, strlen(cfg.password));
		if (rc < 0) {
			fprintf(stderr, "meshd: cannot derive a key from the password: %s\n", strerror(-rc));
			goto out;
		}
	} else {
		log_warn("no password (--password-file, --password or MESH_PASSWORD): traffic between "
			 "hosts is neither encrypted nor authenticated, and any host that reaches TCP "
			 "port %u can join the mesh", (unsigned)cfg.port);
	}

	if (cfg.have_name) {
		name = cfg.name;
	} else if (mesh_identity_load(cfg.state_dir, &name, note, sizeof(note), err, sizeof(err)) < 0) {
		fprintf(stderr, "meshd: %s\n", err);
		goto out;
	} else if (note[0]) {
		log_warn("%s", note);
	}

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base) {
		fprintf(stderr, "meshd: cannot create the event loop\n");
		goto out;
	}
	r = mesh_router_new(base, &cfg, &name, cfg.password ? psk : NULL, err, sizeof(err));
	if (!r) {
		log_error("%s", err);
		fprintf(stderr, "meshd: %s\n", err);
		goto out;
	}
	api = mesh_api_new(base, cfg.api_socket, r, err, sizeof(err));
	if (!api) {
		log_error("%s", err);
		fprintf(stderr, "meshd: %s\n", err);
		goto out;
	}
	if (!cfg.metrics_off) {
		metrics = mesh_metrics_new(base, cfg.metrics.host, cfg.metrics.port, r, err, sizeof(err));
		if (!metrics) {
			log_error("%s", err);
			fprintf(stderr, "meshd: %s\n", err);
			goto out;
		}
		log_info("metrics on http://%s:%u/metrics", cfg.metrics.host, cfg.metrics.port);
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0) {
		fprintf(stderr, "meshd: cannot install signal handlers\n");
		goto out;
	}
	log_info("API on %s", cfg.api_socket);
	event_base_dispatch(base);
	ret = 0;
out:
	mesh_api_free(metrics);
	mesh_api_free(api);
	mesh_router_free(r);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (base)
		event_base_free(base);
	mesh_wipe(psk, sizeof(psk));
	mesh_config_free(&cfg);
	if (ret == 0)
		log_info("stopped");
	return ret;
}
