/* router/forward.c: the forwarding decision (DESIGN §5–6). Frames from our bridge go to the
 * peer where their destination MAC lives (through the next hop), or along our broadcast tree
 * when the MAC is unknown, broadcast or multicast. Frames from peers are delivered to our
 * bridge when they are for us or flooded, passed to our children in the source's broadcast
 * tree when flooded, and relayed towards their destination otherwise. Every hop re-seals with
 * its own connection's keys (the overlay does that). */
#include <string.h>

#include "router/internal.h"
#include "router/log.h"

static const struct mesh_peer_name everyone; /* dst for flooded frames */

static void send_via(struct mesh_router *r, const struct mesh_peer_name *hop,
		     const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
		     const struct mesh_offload *off, const uint8_t *frame, size_t len)
{
	struct mesh_conn *c = router_conn_to(r, hop);
	if (!c) {
		r->ctr.drop_no_route++;
		return;
	}
	r->ov->ops->send(c->fwd, src, dst, off, frame, len);
}

/* Floods a frame from src to our children in src's broadcast tree; returns how many. */
static size_t flood(struct mesh_router *r, const struct mesh_peer_name *src,
		    const struct mesh_offload *off, const uint8_t *frame, size_t len)
{
	const struct mesh_peer_name *children[MESH_TOPO_MAX_PEERS];
	size_t n = mesh_routes_bcast_children(&r->routes, src, children, MESH_TOPO_MAX_PEERS);
	if (n > MESH_TOPO_MAX_PEERS)
		n = MESH_TOPO_MAX_PEERS;
	bool ours = mesh_peer_name_eq(src, &r->name);
	for (size_t i = 0; i < n; i++)
		if (!ours || !router_fastpath_floods_to(r, children[i]))
			send_via(r, children[i], src, &everyone, off, frame, len);
	return n;
}

/* Unicast to the peer that owns the MAC, through its next hop; flood if we cannot. */
static void to_peer(struct mesh_router *r, const struct mesh_peer_name *src,
		    const struct mesh_peer_name *dst, const struct mesh_offload *off,
		    const uint8_t *frame, size_t len)
{
	const struct mesh_peer_name *hop = mesh_routes_next_hop(&r->routes, dst);
	if (hop)
		send_via(r, hop, src, dst, off, frame, len);
	else
		flood(r, src, off, frame, len);
}

void router_on_local_frame(void *arg, const struct mesh_offload *off, const uint8_t *frame,
			   size_t len)
{
	struct mesh_router *r = arg;
	const uint8_t *dst = frame, *src = frame + 6;

	if (!mesh_mac_is_multicast(src)) {
		int res = router_macs_learn(r, src, &r->name, 0);
		if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED)
			log_debug("%02x:%02x:%02x:%02x:%02x:%02x seen in a frame from our bridge "
				  "(to %02x:%02x:%02x:%02x:%02x:%02x, ethertype %04x)", src[0], src[1],
				  src[2], src[3], src[4], src[5], dst[0], dst[1], dst[2], dst[3], dst[4],
				  dst[5], len >= 14 ? (frame[12] << 8) | frame[13] : 0);
	}
	const struct mesh_mac_entry *e = mesh_mac_is_multicast(dst) ? NULL
								   : mesh_mactable_lookup(&r->macs, dst);
	if (!e) {
		flood(r, &r->name, off, frame, len);
		return;
	}
	if (mesh_peer_name_eq(&e->peer, &r->name))
		return; /* local: the bridge delivers it */
	to_peer(r, &r->name, &e->peer, off, frame, len);
}

void router_on_frame_received(void *arg, struct overlay_forwarder *fwd,
			      const struct mesh_peer_name *src, const struct mesh_peer_name *dst,
			      const struct mesh_offload *off, const uint8_t *frame, size_t len)
{
	struct mesh_router *r = arg;
	const uint8_t *smac = frame + 6;

	if (mesh_peer_name_eq(src, &r->name))
		return; /* our own frame came back: a stale route somewhere */
	bool flooded = mesh_peer_name_is_zero(dst);
	if (!flooded && !mesh_peer_name_eq(dst, &r->name)) {
		r->ctr.frames_relayed++;
		to_peer(r, src, dst, off, frame, len);
		return;
	}
	if (!mesh_mac_is_multicast(smac)) {
		int res = router_macs_learn(r, smac, src, 0);
		if (res == MESH_MAC_NEW || res == MESH_MAC_MOVED)
			router_fastpath_sync(r);
	}
	if (flooded && flood(r, src, off, frame, len))
		r->ctr.frames_relayed++;
	if (r->ov->ops->deliver(r->ov, off, frame, len) == 0)
		r->ctr.frames_delivered++;
}
