/* tests/fuzz/fuzz_xfrm.c: the classifier of xfrm dump messages (fastdp/xfrm_dump.c), which
 * reads what the kernel lists to find the SAs and policies an earlier meshd left. The input is
 * one netlink message as a dump would carry it. An entry called ours must be of a known kind,
 * for the port asked about, IPv4 or IPv6, with a selector from one host to another; the verdict must not
 * depend on bytes past the message's own length. */
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <string.h>

#include "fastdp/xfrm_dump.h"
#include "tests/fuzz/fuzz.h"

static uint8_t copy[65536 + 64];

FUZZ_ENTRY(xfrm)(const uint8_t *data, size_t size)
{
	struct mesh_xfrm_item it, again;
	if (size > sizeof(copy) - 64)
		return 0;
	int ret = mesh_xfrm_classify(data, size, 6784, &it);
	FUZZ_CHECK(ret == -EBADMSG || ret == 0 || ret == 1);
	if (ret != 1)
		return 0;
	FUZZ_CHECK(it.kind == MESH_XFRM_SA || it.kind == MESH_XFRM_POLICY);
	FUZZ_CHECK(it.fl.dport == 6784);
	/* IPv4 or IPv6 (issue 18); an IPv4 address fills the first 4 bytes only */
	FUZZ_CHECK(it.fl.family == AF_INET || it.fl.family == AF_INET6);
	static const uint8_t zero[16];
	if (it.fl.family == AF_INET)
		FUZZ_CHECK(!memcmp(it.fl.src + 4, zero, 12) && !memcmp(it.fl.dst + 4, zero, 12));
	/* a peer's entry names two hosts; only a block policy is "any" */
	if (it.kind == MESH_XFRM_SA)
		FUZZ_CHECK(!mesh_xfrm_flow_is_any(&it.fl));
	struct nlmsghdr h;
	memcpy(&h, data, sizeof(h));
	FUZZ_CHECK(h.nlmsg_len <= size);
	/* the same message with other bytes after it: the same verdict */
	memcpy(copy, data, size);
	memset(copy + size, 0xa5, 64);
	FUZZ_CHECK(mesh_xfrm_classify(copy, size + 64, 6784, &again) == 1);
	FUZZ_CHECK(memcmp(&it, &again, sizeof(it)) == 0);
	/* and for another port, never ours */
	FUZZ_CHECK(mesh_xfrm_classify(data, size, 4789, &again) == 0);
	return 0;
}
