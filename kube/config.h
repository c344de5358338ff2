/* kube/config.h: where the Kubernetes API server is and how meshd authenticates to it: the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/PORT and the token and CA a pod gets) or
 * a kubeconfig file (clusters, users, contexts, current-context), parsed with libyaml.
 * kube_config_parse is pure (no file is read; relative paths are only joined) and fuzzed. */
#ifndef MESH_KUBE_CONFIG_H
#define MESH_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Where a pod finds its service account (MESH_KUBE_SA_DIR overrides it, for tests). */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server;       /* "https://10.96.0.1:443" */
	char *ca_file;      /* PEM file, or NULL with ca_data */
	char *ca_data;      /* PEM text (kubeconfig certificate-authority-data, base64-decoded) */
	char *token;        /* bearer token read at load (token_file is re-read on every (re)connect) */
	char *token_file;
	char *cert_file, *key_file; /* client certificate and key (PEM files) ... */
	char *cert_data, *key_data; /* ... or PEM text (passed to libcurl as blobs) */
	char *namespace;    /* the service account's or the context's namespace, or NULL */
	bool insecure;      /* insecure-skip-tls-verify */
	char source[256];   /* "in-cluster (KUBERNETES_SERVICE_HOST 10.96.0.1:443)" or "kubeconfig /path (context X)" */
};

/* The in-cluster configuration: -ENOENT when not in a pod (KUBERNETES_SERVICE_HOST unset);
 * -EINVAL when in a pod whose service account token or CA cannot be read (err says which). */
int kube_config_in_cluster(struct kube_config *out, char *err, size_t errlen);
/* Reads and parses the kubeconfig at path; context NULL = its current-context. */
int kube_config_load(const char *path, const char *context, struct kube_config *out, char *err,
		     size_t errlen);
/* Parses kubeconfig YAML text (len bytes, no NUL needed). path_for_errors names the file in
 * errors and, when it has a '/', its directory is where relative paths start. Returns 0, or
 * -EINVAL/-ENOENT/-ENOTSUP/-ENOMEM with err naming what, where and why; *out is zeroed first
 * and left empty on error. */
int kube_config_parse(const char *yaml_text, size_t len, const char *path_for_errors,
		      const char *context, struct kube_config *out, char *err, size_t errlen);
void kube_config_free(struct kube_config *cfg);

/* Pure helpers, exposed for the tests. Base64 (standard alphabet, padding optional, whitespace
 * ignored) into a NUL-terminated heap string; NULL on bad input (*bad set) or no memory. */
char *kube_base64_decode(const char *in, size_t len, size_t *outlen, bool *bad);
/* "https://host:port" for a KUBERNETES_SERVICE_HOST/PORT pair (IPv6 hosts in brackets). */
int kube_in_cluster_url(const char *host, const char *port, char *out, size_t outlen);

#endif
