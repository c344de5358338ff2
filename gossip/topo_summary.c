/* gossip/topo_summary.c: the topology summary's encoding and its comparison with our
 * topology (see topo_summary.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/topo_summary.h"
#include "mesh/bytes.h"

size_t mesh_topo_summary_size(const struct mesh_topology *t)
{
	return MESH_TOPO_SUMMARY_HDR_LEN + t->n * MESH_TOPO_SUMMARY_ENTRY_LEN;
}

ssize_t mesh_topo_summary_encode(const struct mesh_topology *t, uint8_t flags, uint8_t *out,
				 size_t cap)
{
	if (t->n > MESH_TOPO_MAX_PEERS || cap < mesh_topo_summary_size(t))
		return -EMSGSIZE;
	out[0] = flags;
	put_be16(out + 1, (uint16_t)t->n);
	uint8_t *o = out + MESH_TOPO_SUMMARY_HDR_LEN;
	for (size_t i = 0; i < t->n; i++, o += MESH_TOPO_SUMMARY_ENTRY_LEN) {
		const struct mesh_topo_peer *p = &t->peers[i];
		memcpy(o, p->name.b, MESH_PEER_NAME_LEN);
		put_be64(o + 6, p->uid);
		put_be64(o + 14, p->version);
	}
	return (ssize_t)mesh_topo_summary_size(t);
}

int mesh_topo_summary_compare(const struct mesh_topology *t, const uint8_t *p, size_t len,
			      struct mesh_peer_name *send, struct mesh_topo_summary_diff *d,
			      const char **why)
{
	if (len < MESH_TOPO_SUMMARY_HDR_LEN) {
		*why = "topology summary is shorter than its 3-byte header";
		return -EBADMSG;
	}
	if (p[0] & ~MESH_TOPO_SUMMARY_NO_REPLY) {
		*why = "topology summary has unknown flags set";
		return -EBADMSG;
	}
	size_t count = get_be16(p + 1);
	if (count > MESH_TOPO_MAX_PEERS) {
		*why = "topology summary names more peers than a topology holds (8192)";
		return -EBADMSG;
	}
	if (len != MESH_TOPO_SUMMARY_HDR_LEN + count * MESH_TOPO_SUMMARY_ENTRY_LEN) {
		*why = "topology summary's length is not its count of 22-byte entries";
		return -EBADMSG;
	}
	/* per entry of ours: the summary has it as new or newer (else it goes in send) */
	bool *current = calloc(t->n + 1, sizeof(*current));
	if (!current)
		return -ENOMEM;
	size_t nneed = 0;
	const uint8_t *e = p + MESH_TOPO_SUMMARY_HDR_LEN;
	for (size_t i = 0; i < count; i++, e += MESH_TOPO_SUMMARY_ENTRY_LEN) {
		struct mesh_peer_name name;
		memcpy(name.b, e, MESH_PEER_NAME_LEN);
		uint64_t uid = get_be64(e + 6), version = get_be64(e + 14);
		const struct mesh_topo_peer *ours = mesh_topo_find(t, &name);
		if (!ours) {
			nneed++;
			continue;
		}
		nneed += mesh_topo_newer(version, uid, ours->version, ours->uid);
		if (!mesh_topo_newer(ours->version, ours->uid, version, uid))
			current[ours - t->peers] = true;
	}
	size_t nsend = 0;
	for (size_t k = 0; k < t->n; k++)
		if (!current[k])
			send[nsend++] = t->peers[k].name;
	free(current);
	d->flags = p[0];
	d->nsend = nsend;
	d->nneed = nneed;
	return 0;
}
