/* tests/fuzz/fuzz_odp.c: the Open vSwitch datapath reply parsers (fastdp/odp_codec.c). The
 * first byte picks the parser (datapath, vport, flow, upcall), the rest is one netlink
 * message. A parser must refuse with -EBADMSG or a kernel errno and a reason, or accept with
 * every result inside its bounds: names terminated, counts within their arrays, the upcall's
 * packet inside the message. */
#include <errno.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "fastdp/odp_codec.h"
#include "tests/fuzz/fuzz.h"

static _Alignas(8) uint8_t msg[65536];

FUZZ_ENTRY(odp)(const uint8_t *data, size_t size)
{
	char why[ODP_WHY_LEN] = "";
	if (size < 1 || size - 1 > sizeof(msg))
		return 0;
	size_t len = size - 1;
	memcpy(msg, data + 1, len);
	const struct nlmsghdr *h = (const struct nlmsghdr *)msg;
	int ret;
	switch (data[0] & 3) {
	case 0: {
		struct odp_dp dp;
		ret = odp_parse_dp(h, len, &dp, why, sizeof(why));
		if (ret == 0)
			FUZZ_CHECK(dp.name[0] && memchr(dp.name, 0, sizeof(dp.name)));
		break;
	}
	case 1: {
		struct odp_vport v;
		ret = odp_parse_vport(h, len, &v, why, sizeof(why));
		if (ret == 0)
			FUZZ_CHECK(v.npids <= ODP_MAX_PIDS && memchr(v.name, 0, sizeof(v.name)));
		break;
	}
	case 2: {
		static struct odp_flow f;
		ret = odp_parse_flow(h, len, &f, why, sizeof(why));
		if (ret == 0) {
			FUZZ_CHECK(f.has_key && f.actions.n <= ODP_MAX_ACTIONS);
			/* an IPv6 tunnel address is only ever set inside a tunnel key */
			FUZZ_CHECK(!f.key.tun.ipv6 || f.key.tun.present);
		}
		break;
	}
	default: {
		struct odp_upcall up;
		ret = odp_parse_upcall(h, len, &up, why, sizeof(why));
		if (ret == 0)
			FUZZ_CHECK(up.packet >= msg && up.len >= 14 && up.packet + up.len <= msg + len);
		break;
	}
	}
	FUZZ_CHECK(ret <= 0);
	if (ret < 0)
		FUZZ_CHECK(why[0] != '\0');
	return 0;
}
