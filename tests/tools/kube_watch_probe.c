/* tests/tools/kube_watch_probe.c: watches Kubernetes collections with meshd's API client
 * (kube/) and prints every event as a line, for tests/integration/test_kube_client.sh.
 *
 *   kube_watch_probe (--kubeconfig FILE [--context NAME] | --in-cluster)
 *                    [--seconds N] [--watch-timeout S] [--page-limit N] [--max-line BYTES] [--status-file FILE] PATH...
 *
 * Prints "<path> LIST_BEGIN", "<path> ADDED|MODIFIED|DELETED <namespace>/<name> <rv>",
 * "<path> SYNCED". Every second (and at exit) writes one line per watch to --status-file:
 * "<path> state=<state> rv=<rv> lists=N events=N errors=N gone_relists=N error=<last error>".
 * Stops after N seconds, or on SIGTERM/SIGINT, freeing everything (for valgrind). */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/config.h"
#include "kube/watch.h"
#include "router/log.h"

#define MAX_WATCHES 8

struct probe {
	const char *path;
	struct kube_watch *w;
};

static struct probe probes[MAX_WATCHES];
static int nprobes;
static const char *status_file;

static void on_event(void *arg, enum kube_event ev, const cJSON *obj)
{
	struct probe *p = arg;
	if (!obj) {
		printf("%s %s\n", p->path, kube_event_name(ev));
		return;
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
	printf("%s %s %s/%s %s\n", p->path, kube_event_name(ev), cJSON_IsString(ns) ? ns->valuestring : "",
	       cJSON_IsString(name) ? name->valuestring : "?", cJSON_IsString(rv) ? rv->valuestring : "?");
}

static void write_status(void)
{
	if (!status_file)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", status_file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	for (int i = 0; i < nprobes; i++) {
		struct kube_watch_status st;
		kube_watch_get_status(probes[i].w, &st);
		fprintf(f, "%s state=%s rv=%s lists=%llu events=%llu errors=%llu gone_relists=%llu error=%s\n",
			st.path, st.state, st.resource_version, (unsigned long long)st.lists,
			(unsigned long long)st.events, (unsigned long long)st.errors,
			(unsigned long long)st.gone_relists, st.last_error);
	}
	fclose(f);
	rename(tmp, status_file);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	write_status();
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void usage(void)
{
	fprintf(stderr, "usage: kube_watch_probe (--kubeconfig FILE [--context NAME] | --in-cluster) "
			"[--seconds N] [--watch-timeout S] [--page-limit N] [--max-line BYTES] [--status-file FILE] PATH...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'c' },
		{ "in-cluster", no_argument, NULL, 'i' },       { "seconds", required_argument, NULL, 's' },
		{ "watch-timeout", required_argument, NULL, 't' }, { "status-file", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },            { "page-limit", required_argument, NULL, 'p' },
		{ "max-line", required_argument, NULL, 'm' },            { NULL, 0, NULL, 0 },
	};
	const char *kubeconfig = NULL, *context = NULL;
	int in_cluster = 0, seconds = 0, watch_timeout = 0, page_limit = 0, max_line = 0, o, ret = 1;
	struct kube_config cfg;
	struct kube_client *client = NULL;
	char err[512];

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k': kubeconfig = optarg; break;
		case 'c': context = optarg; break;
		case 'i': in_cluster = 1; break;
		case 's': seconds = atoi(optarg); break;
		case 't': watch_timeout = atoi(optarg); break;
		case 'f': status_file = optarg; break;
		case 'p': page_limit = atoi(optarg); break;
		case 'm': max_line = atoi(optarg); break;
		case 'd': mesh_log_set_level(MESH_LOG_DEBUG); break;
		default: usage();
		}
	}
	if ((!kubeconfig == !in_cluster) || optind >= argc || argc - optind > MAX_WATCHES)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	int r = in_cluster ? kube_config_in_cluster(&cfg, err, sizeof(err))
			   : kube_config_load(kubeconfig, context, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "kube_watch_probe: %s\n", err);
		return 1;
	}
	fprintf(stderr, "kube_watch_probe: API server %s from %s\n", cfg.server, cfg.source);
	struct event_base *base = event_base_new();
	struct event *sigterm = evsignal_new(base, SIGTERM, on_stop, base);
	struct event *sigint = evsignal_new(base, SIGINT, on_stop, base);
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	struct event *deadline = evtimer_new(base, on_stop, base);
	struct timeval one = { 1, 0 }, dl = { seconds, 0 };
	if (!base || !sigterm || !sigint || !tick || !deadline)
		goto out;
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_add(tick, &one);
	if (seconds > 0)
		event_add(deadline, &dl);
	client = kube_client_new(base, &cfg, err, sizeof(err));
	if (!client) {
		fprintf(stderr, "kube_watch_probe: %s\n", err);
		goto out;
	}
	fprintf(stderr, "kube_watch_probe: authenticating as %s\n", kube_client_identity(client));
	if (watch_timeout > 0)
		kube_client_set_watch_timeout(client, (unsigned)watch_timeout);
	if (page_limit > 0)
		kube_client_set_page_limit(client, (unsigned)page_limit);
	if (max_line > 0)
		kube_client_set_max_line(client, (size_t)max_line);
	for (int i = optind; i < argc; i++) {
		probes[nprobes].path = argv[i];
		probes[nprobes].w = kube_watch_start(client, argv[i], on_event, &probes[nprobes]);
		if (!probes[nprobes].w) {
			fprintf(stderr, "kube_watch_probe: cannot watch %s\n", argv[i]);
			goto out;
		}
		nprobes++;
	}
	event_base_dispatch(base);
	write_status();
	ret = 0;
out:
	kube_client_free(client);
	kube_config_free(&cfg);
	if (deadline)
		event_free(deadline);
	if (tick)
		event_free(tick);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (base)
		event_base_free(base);
	libevent_global_shutdown();
	return ret;
}
