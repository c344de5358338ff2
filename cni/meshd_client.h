/* cni/meshd_client.h: mesh-cni's one question to meshd over its API socket (DESIGN §8):
 * GET /v1/status, for the bridge MTU and for STATUS. */
#ifndef MESH_CNI_MESHD_CLIENT_H
#define MESH_CNI_MESHD_CLIENT_H

/* GET /v1/status on the unix socket path (2 s timeout). 0 with *mtu (0 when the answer has
 * none), or -errno: -ECONNREFUSED/-ENOENT when meshd is not there, -EPROTO for a bad answer. */
int cni_meshd_status(const char *socket_path, int *mtu);

#endif
