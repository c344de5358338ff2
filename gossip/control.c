/* gossip/control.c: a control connection on libevent bufferevents (see control.h). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/control.h"
#include "gossip/tlv.h"

struct mesh_control {
	struct bufferevent *bev;
	struct event *heartbeat;
	struct event *deadline;    /* the handshake's, absolute: bytes trickling in do not move it */
	struct event *overflow;    /* closes the connection once its output went over the cap */
	struct mesh_hs hs;
	struct mesh_control_callbacks cb;
	struct sockaddr_storage remote;
	bool established;
	bool over_cap;             /* output went over MESH_CONTROL_OUT_MAX: closing */
	bool in_callback;
	bool freed_in_callback;
};

static void flush_hs_output(struct mesh_control *c)
{
	if (c->hs.out_len) {
		bufferevent_write(c->bev, c->hs.out, c->hs.out_len);
		c->hs.out_len = 0;
	}
}

#define LINGER_S 2

/* Sockets closing gracefully outlive their control; they are kept here so that
 * mesh_control_free_lingering() can end them at shutdown. */
struct lingering {
	struct bufferevent *bev;
	struct lingering *next, **pprev;
};
static struct lingering *lingering_list;

static void linger_end(struct lingering *l)
{
	*l->pprev = l->next;
	if (l->next)
		l->next->pprev = l->pprev;
	bufferevent_free(l->bev);
	free(l);
}

static void linger_read(struct bufferevent *bev, void *arg)
{
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

/* Everything queued is out: our side is shut for writing (a FIN after the last byte). */
static void linger_write(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		bufferevent_disable(bev, EV_WRITE);
	}
}

static void linger_event(struct bufferevent *bev, short what, void *arg)
{
	linger_end(arg);
}

void mesh_control_free_lingering(void)
{
	while (lingering_list)
		linger_end(lingering_list);
}

/* Closes gracefully: whatever is queued goes out (as much as the peer takes within LINGER_S),
 * then our side is shut for writing, and what the peer still sends is read and dropped until it
 * closes too (at most LINGER_S), so the close is a FIN rather than a reset that could destroy
 * our last messages (e.g. a HELLO the peer needs to see to report a wrong password, or the
 * topology and MESH_MSG_REFUSED of a refusal for the connection limit). The bufferevent
 * outlives the control. */
static void linger(struct mesh_control *c)
{
	struct bufferevent *bev = c->bev;
	c->bev = NULL;
	struct lingering *l = malloc(sizeof(*l));
	if (!l) {
		bufferevent_free(bev);
		return;
	}
	l->bev = bev;
	l->next = lingering_list;
	l->pprev = &lingering_list;
	if (lingering_list)
		lingering_list->pprev = &l->next;
	lingering_list = l;
	bufferevent_setcb(bev, linger_read, linger_write, linger_event, l);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	struct timeval tv = { LINGER_S, 0 };
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	linger_write(bev, l); /* nothing queued: the FIN at once */
}

static void close_with(struct mesh_control *c, int err, const char *reason)
{
	/* Stop I/O before telling the owner, then free. */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	linger(c);
	c->in_callback = true;
	if (c->cb.closed)
		c->cb.closed(c, err, reason, c->cb.arg);
	c->in_callback = false;
	mesh_control_free(c);
}

int mesh_control_send(struct mesh_control *c, uint8_t type, const uint8_t *payload, size_t len)
{
	if (!c->established || !c->bev)
		return -ENOTCONN;
	size_t msg_len = 1 + len;
	size_t fsize = mesh_frame_size(&c->hs.chan, msg_len);
	if (fsize - MESH_FRAME_HDR_LEN > MESH_FRAME_MAX)
		return -EMSGSIZE;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->over_cap)
		return -ENOBUFS;
	if (evbuffer_get_length(out) + fsize > MESH_CONTROL_OUT_MAX) {
		/* the peer does not read: the connection goes, but not under our caller's feet
		 * (it may be walking the connections) */
		c->over_cap = true;
		event_active(c->overflow, 0, 0);
		return -ENOBUFS;
	}
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(out, (ev_ssize_t)fsize, &v, 1) < 1)
		return -ENOMEM;
	uint8_t *p = v.iov_base;
	/* Build the message at its final place (after header room), then seal in place. */
	uint8_t *msg = p + MESH_FRAME_HDR_LEN;
	msg[0] = type;
	if (len)
		memcpy(msg + 1, payload, len);
	ssize_t n = mesh_frame_seal(&c->hs.chan, msg, msg_len, p, fsize);
	if (n < 0)
		return (int)n;
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(out, &v, 1) < 0)
		return -ENOMEM;
	return 0;
}

static void overflow_cb(evutil_socket_t fd, short what, void *arg)
{
	close_with(arg, -ENOBUFS, "peer does not read: over " MESH_STR(MESH_CONTROL_OUT_MAX_MIB)
		   " MiB queued for it");
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	close_with(arg, -ETIMEDOUT, "handshake not done within "
		   MESH_STR(MESH_HANDSHAKE_TIMEOUT_S) " s");
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mesh_control *c = arg;
	mesh_control_send(c, MESH_MSG_HEARTBEAT, NULL, 0);
}

/* Returns false when the connection was closed (and c freed). */
static bool read_frames(struct mesh_control *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		if (avail < MESH_FRAME_HDR_LEN)
			return true;
		uint8_t hdr[MESH_FRAME_HDR_LEN];
		evbuffer_copyout(in, hdr, sizeof(hdr));
		ssize_t f = mesh_frame_peek(&c->hs.chan, hdr, sizeof(hdr));
		if (f < 0) {
			close_with(c, -EPROTO, f == -EMSGSIZE ? "peer sent a frame over 1 MiB"
							       : "peer sent a frame too short for a message");
			return false;
		}
		size_t flen = MESH_FRAME_HDR_LEN + get_be32(hdr);
		if (avail < flen)
			return true;
		uint8_t *buf = evbuffer_pullup(in, (ev_ssize_t)flen);
		uint8_t *msg;
		size_t mlen;
		if (!buf || mesh_frame_open(&c->hs.chan, buf, flen, &msg, &mlen) < 0) {
			close_with(c, -EACCES, "authentication failed (wrong password?)");
			return false;
		}
		uint8_t type = msg[0];
		if (type != MESH_MSG_HEARTBEAT && type != MESH_MSG_HELLO && c->cb.message) {
			c->in_callback = true;
			c->cb.message(c, type, msg + 1, mlen - 1, c->cb.arg);
			c->in_callback = false;
			if (c->freed_in_callback) {
				free(c);
				return false;
			}
		}
		evbuffer_drain(in, flen);
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct mesh_control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (!c->established) {
		size_t len = evbuffer_get_length(in);
		uint8_t *d = evbuffer_pullup(in, -1);
		size_t used;
		int r = mesh_hs_input(&c->hs, d, len, &used);
		evbuffer_drain(in, used);
		flush_hs_output(c);
		if (r < 0) {
			close_with(c, r, c->hs.error);
			return;
		}
		if (r == MESH_HS_AGAIN)
			return;
		c->established = true;
		event_del(c->deadline);
		struct timeval idle = { MESH_HEARTBEAT_TIMEOUT_S, 0 };
		struct timeval wr = { MESH_WRITE_TIMEOUT_S, 0 };
		bufferevent_set_timeouts(bev, &idle, &wr);
		struct timeval hb = { MESH_HEARTBEAT_INTERVAL_S, 0 };
		event_add(c->heartbeat, &hb);
		c->in_callback = true;
		if (c->cb.established)
			c->cb.established(c, c->cb.arg);
		c->in_callback = false;
		if (c->freed_in_callback) {
			free(c);
			return;
		}
	}
	read_frames(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mesh_control *c = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_WRITING)
			close_with(c, -ENOBUFS, "peer does not read: nothing could be sent for "
				   MESH_STR(MESH_WRITE_TIMEOUT_S) " s");
		else
			close_with(c, -ETIMEDOUT, "no message from peer for "
				   MESH_STR(MESH_HEARTBEAT_TIMEOUT_S) " s");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		close_with(c, -ECONNRESET, c->established ? "peer closed the connection"
							  : "peer closed the connection during the handshake");
		return;
	}
	int err = EVUTIL_SOCKET_ERROR();
	if (!err)
		err = ECONNRESET;
	close_with(c, -err, strerror(err));
}

struct mesh_control *mesh_control_new(struct event_base *base, int fd,
				      const struct sockaddr *connect_to, socklen_t addrlen,
				      const struct mesh_hs_config *cfg,
				      const struct mesh_control_callbacks *cb)
{
	struct mesh_control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cb = *cb;
	c->bev = bufferevent_socket_new(base, connect_to ? -1 : fd, BEV_OPT_CLOSE_ON_FREE);
	c->heartbeat = event_new(base, -1, EV_PERSIST, heartbeat_cb, c);
	c->deadline = evtimer_new(base, deadline_cb, c);
	c->overflow = event_new(base, -1, 0, overflow_cb, c);
	if (!c->bev || !c->heartbeat || !c->deadline || !c->overflow)
		goto errout;
	if (connect_to) {
		memcpy(&c->remote, connect_to, addrlen);
	} else {
		socklen_t sl = sizeof(c->remote);
		getpeername(fd, (struct sockaddr *)&c->remote, &sl);
	}
	mesh_hs_init(&c->hs, cfg);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	struct timeval hs_timeout = { MESH_HANDSHAKE_TIMEOUT_S, 0 };
	if (event_add(c->deadline, &hs_timeout) < 0)
		goto errout;
	flush_hs_output(c);
	if (connect_to && bufferevent_socket_connect(c->bev, connect_to, (int)addrlen) < 0)
		goto errout;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
errout:
	if (!c->bev && !connect_to)
		evutil_closesocket(fd);
	mesh_control_free(c);
	return NULL;
}

void mesh_control_close(struct mesh_control *c)
{
	if (!c)
		return;
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		linger(c);
	}
	mesh_control_free(c);
}

void mesh_control_free(struct mesh_control *c)
{
	if (!c)
		return;
	if (c->heartbeat)
		event_free(c->heartbeat);
	c->heartbeat = NULL;
	if (c->deadline)
		event_free(c->deadline);
	c->deadline = NULL;
	if (c->overflow)
		event_free(c->overflow);
	c->overflow = NULL;
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	mesh_hs_wipe(&c->hs);
	if (c->in_callback) {
		c->freed_in_callback = true; /* the callback's caller frees the struct */
		return;
	}
	free(c);
}

const struct mesh_hs *mesh_control_hs(const struct mesh_control *c)
{
	return &c->hs;
}

bool mesh_control_established(const struct mesh_control *c)
{
	return c->established;
}

const struct sockaddr_storage *mesh_control_remote(const struct mesh_control *c)
{
	return &c->remote;
}
