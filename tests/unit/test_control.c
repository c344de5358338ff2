/* tests/unit/test_control.c: a control connection (gossip/control.c) towards a peer that does
 * not read (issue 16, finding 2). Two real controls run their handshake over a socketpair on a
 * real event loop; then the reading side goes away while its socket stays open (a peer that
 * never reads), and what we queue for it must hit the cap and close the connection. No timing:
 * the cap is on bytes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip/control.h"

struct side {
	bool established;
	bool closed;
	int err;
	char reason[192];
};

static void on_established(struct mesh_control *c, void *arg)
{
	((struct side *)arg)->established = true;
}

static void on_closed(struct mesh_control *c, int err, const char *reason, void *arg)
{
	struct side *s = arg;
	s->closed = true;
	s->err = err;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

static void config(struct mesh_hs_config *c, bool client)
{
	memset(c, 0, sizeof(*c));
	c->is_client = client;
	c->proto_min = MESH_PROTO_MIN;
	c->proto_max = MESH_PROTO_MAX;
	memset(c->hello.name.b, client ? 0x11 : 0x22, 6);
	snprintf(c->hello.nickname, sizeof(c->hello.nickname), "%s", client ? "client" : "server");
	c->hello.overlays = MESH_OVERLAY_SLEEVE;
	c->hello.sleeve_port = 6783;
	c->hello.sleeve_index = client ? 1 : 2;
}

Test(control, output_to_a_peer_that_does_not_read_is_capped)
{
	cr_assert(sodium_init() >= 0);
	struct event_base *base = event_base_new();
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	int keep = dup(sv[1]); /* the client's socket outlives its control: nobody reads it */
	struct side ss = { 0 }, cs = { 0 };
	struct mesh_hs_config scfg, ccfg;
	config(&scfg, false);
	config(&ccfg, true);
	struct mesh_control_callbacks scb = { on_established, NULL, on_closed, &ss };
	struct mesh_control_callbacks ccb = { on_established, NULL, on_closed, &cs };
	struct mesh_control *server = mesh_control_new(base, sv[0], NULL, 0, &scfg, &scb);
	struct mesh_control *client = mesh_control_new(base, sv[1], NULL, 0, &ccfg, &ccb);
	cr_assert(server && client);
	for (int i = 0; i < 1000 && !(ss.established && cs.established); i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	cr_assert(ss.established && cs.established, "handshake over the socketpair");
	mesh_control_free(client);

	static uint8_t payload[60000];
	size_t queued = 0;
	int rc = 0;
	for (int i = 0; i < 400 && rc == 0; i++) { /* up to 24 MB, six times the cap */
		rc = mesh_control_send(server, MESH_MSG_GOSSIP, payload, sizeof(payload));
		if (rc == 0) {
			queued += sizeof(payload);
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); /* writes what it can */
		}
	}
	cr_assert_eq(rc, -ENOBUFS, "sending went on without bound (%zu bytes queued)", queued);
	cr_assert_leq(queued, MESH_CONTROL_OUT_MAX + ((size_t)4 << 20),
		      "%zu bytes were queued before the cap (the socket holds some)", queued);
	cr_assert_not(ss.closed, "the connection is not closed under the sender's feet");
	cr_assert_eq(mesh_control_send(server, MESH_MSG_GOSSIP, payload, 10), -ENOBUFS,
		     "nothing more is queued once over the cap");
	for (int i = 0; i < 10 && !ss.closed; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	cr_assert(ss.closed, "the event loop closes the connection");
	cr_assert_eq(ss.err, -ENOBUFS);
	cr_assert(strstr(ss.reason, "does not read"), "reason: %s", ss.reason);
	mesh_control_free_lingering();
	close(keep);
	event_base_free(base);
}
