/* kube/http.h: libcurl's multi interface driven by a libevent event_base (no threads): the
 * sockets libcurl wants watched become libevent events, its timer an evtimer. The caller makes
 * and configures each easy handle; done is called once per handle when its transfer ends,
 * after the handle was taken out of the multi handle (the callee owns it again). */
#ifndef MESH_KUBE_HTTP_H
#define MESH_KUBE_HTTP_H

#include <curl/curl.h>
#include <event2/event.h>

struct kube_http;
typedef void (*kube_http_done_fn)(void *arg, CURL *easy, CURLcode result);

struct kube_http *kube_http_new(struct event_base *base);
/* Every handle must have been removed (kube_http_remove) or have completed. */
void kube_http_free(struct kube_http *h);
int kube_http_add(struct kube_http *h, CURL *easy, kube_http_done_fn done, void *arg);
/* Stops a transfer that has not completed; done is not called for it. Never call this from a
 * libcurl callback (write, header) of any handle. */
void kube_http_remove(struct kube_http *h, CURL *easy);

#endif
