#!/usr/bin/env bash
# tests/vm/capture_odp.sh: records the generic-netlink exchanges of Open vSwitch's own client,
# ovs-dpctl, with the VM's kernel: one pcap per command, taken on an nlmon device (every
# netlink message of the namespace, both ways). Runs INSIDE the test VM; from the host:
#   tests/vm/run.sh --out /tmp/caps tests/vm/capture_odp.sh
#   tests/vm/pcap2c.py /tmp/caps/*.pcap >tests/vm/captures/ovs_dpctl.h
# (tests/vm/captures/README.md says what each capture holds.) The pcaps land in /mesh-vm/out,
# which run.sh --out copies back.
[[ ${MESH_VM:-} == 1 ]] || {
	echo "capture_odp: this runs inside the test VM: tests/vm/run.sh --out DIR $0" >&2
	exit 2
}
set -euo pipefail
OUT=/mesh-vm/out
DP=mesh-dp
modprobe openvswitch
modprobe vport-vxlan
modprobe nlmon
ip link add nlmon0 type nlmon
ip link set nlmon0 up
# the underlay address the tunnel flows name
ip link add cap-u type dummy 2>/dev/null || ip link add cap-u type veth peer name cap-u2
ip addr add 198.18.0.1/24 dev cap-u
ip link set cap-u up

n=0
fails=0
# cap NAME [!] ovs-dpctl ARGS...: one ovs-dpctl run, captured to NN-NAME.pcap. With "!", the
# command is expected to fail (an error reply is what is captured).
cap() {
	local name=$1 expect_fail=0 pid f rc=0
	shift
	if [[ $1 == '!' ]]; then expect_fail=1; shift; fi
	n=$((n + 1))
	f=$OUT/$(printf '%02d' "$n")-$name.pcap
	# -Z root: Debian's tcpdump would switch to a user "tcpdump" that the VM does not have;
	# --immediate-mode: else packets still in the ring's block when tcpdump stops are lost
	tcpdump -Z root --immediate-mode -i nlmon0 -U -s 0 -w "$f" 2>/tmp/tcpdump.log &
	pid=$!
	# tcpdump is capturing once it has written the pcap file header
	for _ in $(seq 100); do [[ -s $f ]] && break; sleep 0.05; done
	[[ -s $f ]] || { echo "capture_odp: tcpdump did not start for $name"; exit 1; }
	echo "+ $*"
	"$@" || rc=$?
	sleep 0.5
	kill -INT "$pid" 2>/dev/null || { echo "capture_odp: tcpdump had died: $(cat /tmp/tcpdump.log)"; exit 1; }
	wait "$pid" || true
	if ((expect_fail ? rc == 0 : rc != 0)); then
		echo "capture_odp: FAIL $name: '$*' exited $rc"
		fails=$((fails + 1))
	fi
	echo "MESH-VM: captured $(basename "$f"): $* (exit $rc), $(stat -c %s "$f") bytes"
}

M1=02:00:00:00:00:01 # a local container
M2=02:00:00:00:00:02 # a container behind 198.18.0.2
cap dp-new ovs-dpctl add-dp $DP
cap dp-new-exists ! ovs-dpctl add-dp $DP
cap vport-new-internal ovs-dpctl add-if $DP mesh-int,type=internal,port_no=1
cap vport-new-vxlan ovs-dpctl add-if $DP vxlan_sys_6784,type=vxlan,port_no=2,dst_port=6784,remote_ip=flow,key=flow
cap flow-new-tunnel-out ovs-dpctl add-flow $DP \
	"in_port(1),eth(src=$M1,dst=$M2),eth_type(0x0800),ipv4()" \
	"set(tunnel(tun_id=0x10002,dst=198.18.0.2,ttl=64,flags(df|key))),2"
cap flow-new-tunnel-in ovs-dpctl add-flow $DP \
	"tunnel(tun_id=0x20001,src=198.18.0.2,dst=198.18.0.1,ttl=64/0,flags(+key)),in_port(2),eth(src=$M2,dst=$M1),eth_type(0x0800),ipv4()" "1"
cap flow-new-broadcast ovs-dpctl add-flow $DP \
	"in_port(1),eth(src=$M1,dst=ff:ff:ff:ff:ff:ff)" \
	"set(tunnel(tun_id=0x10002,dst=198.18.0.2,ttl=64,flags(df|key))),2,0"
cap flow-dump ovs-dpctl dump-flows $DP
cap dp-show ovs-dpctl show $DP
cap flow-del ovs-dpctl del-flow $DP "in_port(1),eth(src=$M1,dst=ff:ff:ff:ff:ff:ff)"
cap flow-del-missing ! ovs-dpctl del-flow $DP "in_port(1),eth(src=$M1,dst=ff:ff:ff:ff:ff:ff)"
cap flow-flush ovs-dpctl del-flows $DP
# ovs-dpctl names a VXLAN vport vxlan_sys_<UDP port> in the kernel, whatever add-if said
cap vport-del ovs-dpctl del-if $DP vxlan_sys_6784
cap dp-del ovs-dpctl del-dp $DP
cap dp-del-missing ! ovs-dpctl del-dp $DP

ip link del nlmon0
ip link del cap-u
((fails == 0)) || exit 1
