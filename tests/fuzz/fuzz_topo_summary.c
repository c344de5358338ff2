/* tests/fuzz/fuzz_topo_summary.c: the topology summary (gossip/topo_summary.c,
 * mesh_topo_summary_compare), the message a new connection and a differing digest get.
 *
 * Input: one summary, compared with a topology of four entries (us and three peers). Checked:
 *   - refused: a reason is given;
 *   - accepted: the input is 3 + 22·count bytes with no unknown flag; what it says to send and
 *     how many entries it says we need equal what a brute-force comparison finds (each entry
 *     of ours against every entry of the summary, in the merge order of gossip/topology.h);
 *     our own summary compared with our topology says nothing to send and nothing needed,
 *     and every strict prefix of it is refused. */
#include <errno.h>
#include <stdbool.h>

#include "gossip/topo_summary.h"
#include "mesh/bytes.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000000ull

static struct mesh_peer_name peer(uint8_t i)
{
	struct mesh_peer_name n = { { 0x02, 0x00, 0x00, 0x00, 0x00, i } };
	return n;
}

/* us (…:01, version 1000) and peers …:02..04 (uid i, version 2000 + i), each as its own
 * topology's entry, merged in */
static int make_topology(struct mesh_topology *t)
{
	struct mesh_peer_name self = peer(1);
	if (mesh_topo_init(t, &self, "self", 1, 1000, 1) < 0)
		return -1;
	for (uint8_t i = 2; i <= 4; i++) {
		struct mesh_topology o;
		struct mesh_peer_name name = peer(i);
		uint8_t buf[256];
		size_t nch = 0;
		const char *why;
		if (mesh_topo_init(&o, &name, "peer", i, 2000 + i, i) < 0)
			return -1;
		ssize_t len = mesh_topo_encode(&o, NULL, 0, buf, sizeof(buf));
		mesh_topo_free(&o);
		if (len < 0 || mesh_topo_merge(t, buf, (size_t)len, NOW, NULL, 0, &nch, &why) != 0)
			return -1;
	}
	return 0;
}

static bool older(uint64_t va, uint64_t ua, uint64_t vb, uint64_t ub)
{
	return va < vb || (va == vb && ua < ub);
}

FUZZ_ENTRY(topo_summary)(const uint8_t *data, size_t size)
{
	struct mesh_topology t;
	if (make_topology(&t) < 0)
		abort();
	struct mesh_peer_name send[8];
	struct mesh_topo_summary_diff d;
	const char *why = NULL;
	int ret = mesh_topo_summary_compare(&t, data, size, send, &d, &why);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		FUZZ_CHECK(ret == -EBADMSG && why && why[0]);
		goto out;
	}
	FUZZ_CHECK(ret == 0 && size >= MESH_TOPO_SUMMARY_HDR_LEN);
	size_t count = get_be16(data + 1);
	FUZZ_CHECK(size == MESH_TOPO_SUMMARY_HDR_LEN + count * MESH_TOPO_SUMMARY_ENTRY_LEN);
	FUZZ_CHECK(!(data[0] & ~MESH_TOPO_SUMMARY_NO_REPLY) && d.flags == data[0]);
	FUZZ_CHECK(d.nsend <= t.n);

	/* the oracle: entry k goes unless some entry of the summary is as new or newer */
	size_t nsend = 0, nneed = 0;
	for (size_t k = 0; k < t.n; k++) {
		const struct mesh_topo_peer *p = &t.peers[k];
		bool current = false;
		for (size_t i = 0; i < count; i++) {
			const uint8_t *e = data + MESH_TOPO_SUMMARY_HDR_LEN + i * MESH_TOPO_SUMMARY_ENTRY_LEN;
			if (memcmp(e, p->name.b, MESH_PEER_NAME_LEN) == 0 &&
			    !older(get_be64(e + 14), get_be64(e + 6), p->version, p->uid))
				current = true;
		}
		if (!current) {
			FUZZ_CHECK(nsend < d.nsend && mesh_peer_name_eq(&send[nsend], &p->name));
			nsend++;
		}
	}
	FUZZ_CHECK(nsend == d.nsend);
	for (size_t i = 0; i < count; i++) {
		const uint8_t *e = data + MESH_TOPO_SUMMARY_HDR_LEN + i * MESH_TOPO_SUMMARY_ENTRY_LEN;
		struct mesh_peer_name name;
		memcpy(name.b, e, MESH_PEER_NAME_LEN);
		const struct mesh_topo_peer *p = mesh_topo_find(&t, &name);
		nneed += !p || older(p->version, p->uid, get_be64(e + 14), get_be64(e + 6));
	}
	FUZZ_CHECK(nneed == d.nneed);

	/* our own summary: nothing either way; its prefixes are refused */
	uint8_t ours[MESH_TOPO_SUMMARY_HDR_LEN + 4 * MESH_TOPO_SUMMARY_ENTRY_LEN];
	ssize_t len = mesh_topo_summary_encode(&t, 0, ours, sizeof(ours));
	FUZZ_CHECK(len == (ssize_t)sizeof(ours));
	FUZZ_CHECK(mesh_topo_summary_compare(&t, ours, sizeof(ours), send, &d, &why) == 0);
	FUZZ_CHECK(d.nsend == 0 && d.nneed == 0);
	for (size_t cut = 0; cut < sizeof(ours); cut++)
		FUZZ_CHECK(mesh_topo_summary_compare(&t, ours, cut, send, &d, &why) == -EBADMSG);
	FUZZ_CHECK(mesh_topo_summary_encode(&t, 0, ours, sizeof(ours) - 1) == -EMSGSIZE);
out:
	mesh_topo_free(&t);
	return 0;
}
