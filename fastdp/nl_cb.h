/* fastdp/nl_cb.h: a copy of a libnl socket's callbacks, to set a request's own handlers on.
 * nl_socket_get_cb() takes a reference that the caller must drop, or the socket's callbacks
 * outlive nl_socket_free(); this drops it. */
#ifndef MESH_FASTDP_NL_CB_H
#define MESH_FASTDP_NL_CB_H

#include <netlink/handlers.h>
#include <netlink/socket.h>

static inline struct nl_cb *mesh_nl_clone_cb(struct nl_sock *sk)
{
	struct nl_cb *s = nl_socket_get_cb(sk);
	struct nl_cb *cb = nl_cb_clone(s);
	nl_cb_put(s);
	return cb;
}

#endif
