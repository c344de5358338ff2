/* gossip/control.h: one TCP control connection on the event loop (DESIGN §4): runs the
 * handshake, then carries framed messages, sends a heartbeat every 30 s and closes the
 * connection after 60 s of silence. Reports what happens through callbacks; knows nothing of
 * peers or routes. */
#ifndef MESH_GOSSIP_CONTROL_H
#define MESH_GOSSIP_CONTROL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gossip/handshake.h"

/* The handshake must be done this long after the connection started, however the bytes
 * trickle in (an absolute deadline, issue 16 finding 1). */
#define MESH_HANDSHAKE_TIMEOUT_S 10
#define MESH_HEARTBEAT_INTERVAL_S 30
#define MESH_HEARTBEAT_TIMEOUT_S 60
/* Output towards a peer that does not read (issue 16 finding 2): the connection is closed when
 * more than MESH_CONTROL_OUT_MAX bytes would be queued, or when queued bytes could not be
 * written for MESH_WRITE_TIMEOUT_S. Both are reported as -ENOBUFS. */
#define MESH_CONTROL_OUT_MAX_MIB 4
#define MESH_CONTROL_OUT_MAX ((size_t)MESH_CONTROL_OUT_MAX_MIB << 20)
#define MESH_WRITE_TIMEOUT_S 30
#define MESH_XSTR(x) #x
#define MESH_STR(x) MESH_XSTR(x)

struct mesh_control;

struct mesh_control_callbacks {
	/* Handshake done: mesh_control_hs() holds the peer's HELLO and the session keys. */
	void (*established)(struct mesh_control *c, void *arg);
	/* A message other than HELLO and HEARTBEAT (type byte, then payload). */
	void (*message)(struct mesh_control *c, uint8_t type, const uint8_t *payload, size_t len,
			void *arg);
	/* The connection ended; err is a negative errno (see handshake.h for handshake errors,
	 * -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET, -ENOBUFS for a peer that does not read...) and
	 * reason says why in plain words.
	 * The control is freed right after this returns. */
	void (*closed)(struct mesh_control *c, int err, const char *reason, void *arg);
	void *arg;
};

/* Starts a control connection. With connect_to set, it connects to that address (client);
 * otherwise fd is an accepted socket (server). Returns NULL on allocation failure. */
struct mesh_control *mesh_control_new(struct event_base *base, int fd,
				      const struct sockaddr *connect_to, socklen_t addrlen,
				      const struct mesh_hs_config *cfg,
				      const struct mesh_control_callbacks *cb);
/* Frees without calling `closed`; what is queued is dropped. */
void mesh_control_free(struct mesh_control *c);
/* Frees without calling `closed`, but closes gracefully: what is queued still goes out. */
void mesh_control_close(struct mesh_control *c);

/* Ends the sockets still closing gracefully (call at shutdown, before the event base goes). */
void mesh_control_free_lingering(void);

/* Queues one message: 0, -ENOTCONN before the handshake ended, -EMSGSIZE, -ENOMEM, or
 * -ENOBUFS when the output is over MESH_CONTROL_OUT_MAX: then the connection is closed
 * (`closed` with -ENOBUFS) from the event loop, not within this call. */
int mesh_control_send(struct mesh_control *c, uint8_t type, const uint8_t *payload, size_t len);
const struct mesh_hs *mesh_control_hs(const struct mesh_control *c);
bool mesh_control_established(const struct mesh_control *c);
/* The peer's address (what we connected to, or where the accepted connection came from). */
const struct sockaddr_storage *mesh_control_remote(const struct mesh_control *c);

#endif
