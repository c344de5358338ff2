/* cni/meshd_client.h: mesh-cni's questions to meshd over its API socket (DESIGN §8): GET
 * /v1/status for the bridge MTU and for STATUS, and the mesh IPAM requests (POST
 * /v1/ipam/allocate, release, lookup, gc), through meshapi/client.h. */
#ifndef MESH_CNI_MESHD_CLIENT_H
#define MESH_CNI_MESHD_CLIENT_H

#include <cjson/cJSON.h>

/* One request on the unix socket path: method, path and a JSON body (NULL: none), with a
 * timeout of timeout_s seconds for each of connect, send and every read. 0 with *code (the HTTP
 * status) and *out (the parsed JSON body, NULL when it has none or is not JSON; caller frees),
 * or -errno as meshapi_request: -ENOENT/-ECONNREFUSED when meshd is not there, -EAGAIN when its
 * socket is too busy to accept, -ETIMEDOUT, -EPROTO for an answer that is not HTTP. */
int cni_meshd_request(const char *socket_path, const char *method, const char *path,
		      const char *body, int timeout_s, int *code, cJSON **out);

/* GET /v1/status on the unix socket path (2 s timeout). 0 with *mtu (0 when the answer has
 * none), or -errno: -ECONNREFUSED/-ENOENT when meshd is not there, -EPROTO for a bad answer. */
int cni_meshd_status(const char *socket_path, int *mtu);

#endif
