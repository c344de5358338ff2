/* tests/vm/odp_probe.c: drives fastdp/odp.c against a real Open vSwitch datapath (inside the
 * test VM: this host has no openvswitch module). Creates datapath DP, an internal vport and a
 * VXLAN vport on UDP 6784, installs a flow (in_port + Ethernet addresses -> set tunnel +
 * output to the VXLAN port), dumps it back, and with --keep leaves everything in place for
 * `ovs-dpctl show` / `dump-flows` to confirm independently; otherwise deletes the flow, the
 * vports and the datapath again. Prints one line per step and exits 0 when every step did
 * what it should, 1 with the failing step's error otherwise. */
#include <arpa/inet.h>
#include <linux/openvswitch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastdp/odp.h"

static int fail(const char *step, const char *err)
{
	printf("odp_probe: FAIL %s: %s\n", step, err);
	return 1;
}

/* With ODP_PROBE_CAPTURE set, every kernel reply is printed as one hex line, for the unit
 * tests' captured byte arrays (tests/unit/test_odp_codec.c). */
static void capture(void *arg, const struct nlmsghdr *h)
{
	const uint8_t *p = (const uint8_t *)h;
	printf("odp_capture %s ", (const char *)arg);
	for (uint32_t i = 0; i < h->nlmsg_len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static int count_cb(void *arg, const struct odp_flow *f)
{
	int *n = arg;
	(*n)++;
	printf("odp_probe: flow in_port=%u tunnel=%s actions=%zu (+%zu other) packets=%llu\n",
	       f->key.in_port, f->key.tun.present ? "yes" : "no", f->actions.n, f->actions.unknown,
	       (unsigned long long)f->n_packets);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dpname = argc > 1 && argv[1][0] != '-' ? argv[1] : "mesh-dp";
	int keep = argc > 2 && !strcmp(argv[2], "--keep");
	struct odp_client c;
	char err[256];
	if (odp_open(&c, err, sizeof(err)) < 0)
		return fail("open", err);
	if (getenv("ODP_PROBE_CAPTURE")) {
		c.trace = capture;
		c.trace_arg = "reply";
	}
	printf("odp_probe: families datapath=%d vport=%d flow=%d packet=%d\n", c.fam_dp,
	       c.fam_vport, c.fam_flow, c.fam_packet);
	if (odp_dp_ensure(&c, dpname, err, sizeof(err)) < 0)
		return fail("datapath", err);
	printf("odp_probe: datapath %s ifindex %d\n", c.dp_name, c.dp_ifindex);
	if (odp_dp_ensure(&c, dpname, err, sizeof(err)) < 0)
		return fail("adopt datapath", err);

	struct odp_vport in = { .type = OVS_VPORT_TYPE_INTERNAL };
	snprintf(in.name, sizeof(in.name), "probe-int");
	if (odp_vport_add(&c, &in, err, sizeof(err)) < 0)
		return fail("internal vport", err);
	struct odp_vport vx = { .type = OVS_VPORT_TYPE_VXLAN, .dst_port = 6784 };
	snprintf(vx.name, sizeof(vx.name), "vxlan-6784");
	if (odp_vport_add(&c, &vx, err, sizeof(err)) < 0)
		return fail("vxlan vport", err);
	struct odp_vport got;
	if (odp_vport_get(&c, "vxlan-6784", &got, err, sizeof(err)) < 0)
		return fail("vport get", err);
	printf("odp_probe: vports %s=%u %s=%u (udp %u)\n", in.name, in.port_no, got.name,
	       got.port_no, got.dst_port);
	if (got.port_no != vx.port_no || got.dst_port != 6784)
		return fail("vport get", "the VXLAN vport read back differs");

	static struct odp_flow f;
	f.has_key = f.has_mask = f.has_actions = true;
	f.key.has_in_port = true;
	f.key.in_port = in.port_no;
	f.key.has_eth = true;
	memcpy(f.key.eth_src, "\x0a\x00\x00\x00\x00\x01", 6);
	memcpy(f.key.eth_dst, "\x0a\x00\x00\x00\x00\x02", 6);
	/* no ethertype: the kernel keys such a flow as 802.2, and a mask without one wildcards
	 * the ethertype (an IPv4 ethertype in the key would demand an IPv4 key too) */
	f.mask = f.key;
	f.mask.in_port = 0xffffffff;
	memset(f.mask.eth_src, 0xff, 6);
	memset(f.mask.eth_dst, 0xff, 6);
	f.actions.n = 2;
	f.actions.a[0].kind = ODP_ACTION_SET_TUNNEL;
	f.actions.a[0].tun = (struct odp_tunnel){ .present = true, .id = 0x010203,
						  .ipv4_dst = htonl(0xc6120002), .ttl = 64 };
	f.actions.a[1].kind = ODP_ACTION_OUTPUT;
	f.actions.a[1].port = vx.port_no;
	if (odp_flow_put(&c, &f, err, sizeof(err)) < 0)
		return fail("flow put", err);
	if (odp_flow_put(&c, &f, err, sizeof(err)) < 0)
		return fail("flow put again (replace)", err);
	int n = 0;
	if (odp_flow_dump(&c, count_cb, &n, err, sizeof(err)) < 0)
		return fail("flow dump", err);
	if (n != 1)
		return fail("flow dump", "not exactly the one flow installed");
	if (keep) {
		printf("odp_probe: PASS (kept for ovs-dpctl)\n");
		return 0;
	}
	if (odp_flow_del(&c, &f.key, &f.mask, err, sizeof(err)) < 0)
		return fail("flow del", err);
	if (odp_flow_put(&c, &f, err, sizeof(err)) < 0 ||
	    odp_flow_del(&c, NULL, NULL, err, sizeof(err)) < 0)
		return fail("flow flush", err);
	n = 0;
	if (odp_flow_dump(&c, count_cb, &n, err, sizeof(err)) < 0 || n != 0)
		return fail("flow dump after flush", n ? "flows left" : err);
	if (odp_vport_del(&c, vx.port_no, err, sizeof(err)) < 0 ||
	    odp_vport_del(&c, in.port_no, err, sizeof(err)) < 0)
		return fail("vport del", err);
	if (odp_dp_delete(&c, err, sizeof(err)) < 0)
		return fail("datapath del", err);
	odp_close(&c);
	printf("odp_probe: PASS\n");
	return 0;
}
