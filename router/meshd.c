/* router/meshd.c: meshd's main(): flags, password, identity, then the event loop until
 * SIGTERM or SIGINT (SIGHUP rereads the password file), and a clean shutdown that removes what
 * meshd created. */
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
#include "router/ipam_store.h"
#include "router/log.h"
#include "router/password.h"
#include "router/router.h"
#include "router/statefile.h"

/* The peer name that wrote the IPAM state in state_dir, when that file is sound. */
static bool ipam_writer(const char *state_dir, struct mesh_peer_name *self)
{
	char path[512], why[MESH_IPAM_WHY_LEN];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", state_dir, MESH_IPAM_STORE_FILE);
	/* the checksum covers the whole file: read it all (its size is bounded) */
	if (stat(path, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > MESH_IPAM_STORE_MAX_LEN)
		return false;
	size_t cap = (size_t)st.st_size + 1;
	uint8_t *all = malloc(cap);
	if (!all)
		return false;
	ssize_t n = mesh_read_small(path, (char *)all, cap);
	bool ok = n > 0 && mesh_ipam_store_writer(all, (size_t)n, self, why) == 0;
	free(all);
	return ok;
}

/* What SIGHUP needs: the password file's place and the router to give its keys to. */
struct reload_ctx {
	const struct mesh_config *cfg;
	struct mesh_router *r;
};

/* SIGHUP: reread the password file; new handshakes use what it holds now, established
 * connections keep their keys. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct reload_ctx *rc = arg;
	uint8_t psk[MESH_PASSWORDS_MAX][MESH_KEY_LEN];
	unsigned count = 0;
	char err[400];
	(void)sig;
	(void)what;
	if (!rc->cfg->password_file[0]) {
		log_warn("SIGHUP: nothing to reread: %s", rc->cfg->password
			 ? "the password came from --password or MESH_PASSWORD (use --password-file "
			   "to change it without a restart)"
			 : "this mesh runs without a password");
		return;
	}
	if (mesh_password_file_keys(rc->cfg->password_file, rc->cfg->mesh_name, psk, &count, err,
				    sizeof(err)) < 0) {
		log_error("SIGHUP: %s; the passwords in use stay", err);
		goto out;
	}
	if (mesh_router_set_passwords(rc->r, psk[0], count > 1 ? psk[1] : NULL) < 0) {
		log_error("SIGHUP: cannot change the password of a mesh started without one "
			  "(restart meshd with --password-file)");
		goto out;
	}
	if (count > 1)
		log_info("SIGHUP: reread %s: new handshakes seal with its first password and accept "
			 "its second as well; established connections keep their keys",
			 rc->cfg->password_file);
	else
		log_info("SIGHUP: reread %s: new handshakes use its one password; established "
			 "connections keep their keys", rc->cfg->password_file);
out:
	mesh_wipe(psk, sizeof(psk));
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
	uint8_t psk[MESH_PASSWORDS_MAX][MESH_KEY_LEN];
	unsigned npsk = 0;
	struct reload_ctx reload = { 0 };
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
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
	if (geteuid() != 0)
		log_warn("not running as root: creating the bridge and TAP needs CAP_NET_ADMIN");

	if (cfg.password_file[0]) {
		int rc = mesh_password_file_keys(cfg.password_file, cfg.mesh_name, psk, &npsk, err,
						 sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "meshd: %s\n", err);
			ret = rc == -ENOMEM ? 1 : 2;
			goto out;
		}
		if (npsk > 1)
			log_info("%s holds two passwords: sealing with the first, accepting the second "
				 "as well (a password change is under way)", cfg.password_file);
	} else if (cfg.password) {
		int rc = mesh_psk_derive(cfg.password, strlen(cfg.password), cfg.mesh_name, psk[0]);
		mesh_wipe(cfg.password, strlen(cfg.password));
		if (rc < 0) {
			fprintf(stderr, "meshd: cannot derive a key from the password: %s\n", strerror(-rc));
			goto out;
		}
		npsk = 1;
	} else {
		log_warn("no password (--password-file, --password or MESH_PASSWORD): traffic between "
			 "hosts is neither encrypted nor authenticated, and any host that reaches TCP "
			 "port %u can join the mesh", (unsigned)cfg.port);
	}

	if (cfg.have_name) {
		name = cfg.name;
	} else if (mesh_identity_load(cfg.state_dir, ipam_writer,
				      &name, note, sizeof(note), err, sizeof(err)) < 0) {
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
	r = mesh_router_new(base, &cfg, &name, npsk ? psk[0] : NULL, err, sizeof(err));
	if (!r) {
		log_error("%s", err);
		fprintf(stderr, "meshd: %s\n", err);
		goto out;
	}
	if (npsk > 1)
		mesh_router_set_passwords(r, psk[0], psk[1]);
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
	reload.cfg = &cfg;
	reload.r = r;
	sighup = evsignal_new(base, SIGHUP, on_sighup, &reload);
	if (!sigterm || !sigint || !sighup || event_add(sigterm, NULL) < 0 ||
	    event_add(sigint, NULL) < 0 || event_add(sighup, NULL) < 0) {
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
	if (sighup)
		event_free(sighup);
	if (base)
		event_base_free(base);
	mesh_wipe(psk, sizeof(psk));
	mesh_config_free(&cfg);
	if (ret == 0)
		log_info("stopped");
	return ret;
}
