#!/usr/bin/env bash
# tests/vm/test_vm_odp_probe.sh: the project's OVS datapath client (fastdp/odp.c, driven by
# tests/vm/odp_probe) against the VM's real openvswitch module, checked with ovs-dpctl.
# Runs INSIDE the test VM; odp_probe is a check program, so build it first:
#   make check  (or: make tests/vm/odp_probe)  in BUILD, then
#   tests/vm/run.sh --build-dir BUILD tests/vm/test_vm_odp_probe.sh
#   1. odp_probe's whole cycle (create and adopt the datapath, internal and VXLAN vports, a
#      flow put twice, dump, delete, flush, vports and datapath deleted) exits 0, and leaves
#      no datapath behind (ovs-dpctl dump-dps).
#   2. odp_probe --keep, then ovs-dpctl, a client that is not ours, sees what it made: the
#      datapath, vport probe-int (internal) and vxlan-6784 (vxlan; `ip -d link` shows its
#      device on UDP 6784), and exactly one
#      flow: in_port(probe-int), the two Ethernet addresses, actions set(tunnel(tun_id=0x10203,
#      dst=198.18.0.2, ttl=64)) then output to the VXLAN port.
#   3. ovs-dpctl del-dp removes it.
[[ ${MESH_VM:-} == 1 ]] || {
	echo "test_vm_odp_probe: this runs inside the test VM: tests/vm/run.sh $0" >&2
	exit 2
}
set -euo pipefail
PROBE=$MESH_BUILD_DIR/tests/vm/odp_probe
DP=mesh-probe
fail() {
	echo "test_vm_odp_probe: FAIL: $*"
	exit 1
}
report() { echo "MESH-VM: $*"; }
[[ -x $PROBE ]] || fail "no $PROBE: build it in the build dir (make check, or make tests/vm/odp_probe)"
trap 'ovs-dpctl del-dp $DP >/dev/null 2>&1 || true' EXIT
modprobe openvswitch
modprobe vport-vxlan

# --- 1. the whole cycle ----------------------------------------------------------------------
"$PROBE" "$DP" | tee /tmp/probe.out || fail "odp_probe $DP failed"
grep -q '^odp_probe: PASS$' /tmp/probe.out || fail "odp_probe did not say PASS"
! ovs-dpctl dump-dps 2>/dev/null | grep -q "@$DP\$" || fail "odp_probe left datapath $DP behind"
report "odp_probe: create/adopt datapath, vports, flow put/dump/del/flush, deletes: PASS"

# --- 2. seen by ovs-dpctl --------------------------------------------------------------------
"$PROBE" "$DP" --keep | tee /tmp/probe-keep.out || fail "odp_probe $DP --keep failed"
ovs-dpctl show "$DP" 2>/dev/null | tee /tmp/show
grep -q "^system@$DP:" /tmp/show || fail "ovs-dpctl show: no datapath $DP"
grep -qE '^  port [0-9]+: probe-int \(internal\)$' /tmp/show || fail "ovs-dpctl show: no internal vport probe-int"
grep -qE '^  port [0-9]+: vxlan-6784 \(vxlan' /tmp/show || fail "ovs-dpctl show: no vxlan vport vxlan-6784"
# ovs-dpctl does not print the UDP port of a vport it did not make; the kernel's device says it
ip -d link show vxlan-6784 | tee /tmp/vxdev
grep -q 'vxlan external .*dstport 6784' /tmp/vxdev || fail "the kernel's vxlan-6784 device is not an external VXLAN device on UDP 6784"
in_port=$(sed -n 's/^  port \([0-9]*\): probe-int .*/\1/p' /tmp/show)
vx_port=$(sed -n 's/^  port \([0-9]*\): vxlan-6784 .*/\1/p' /tmp/show)
# without -m, ovs-dpctl prints port numbers, not names
ovs-dpctl dump-flows "$DP" 2>/dev/null | tee /tmp/flows
[[ $(grep -c . /tmp/flows) == 1 ]] || fail "ovs-dpctl dump-flows: not exactly one flow"
flow=$(cat /tmp/flows)
for want in "in_port($in_port)" "eth(src=0a:00:00:00:00:01,dst=0a:00:00:00:00:02)" \
	"tun_id=0x10203" "dst=198.18.0.2" "ttl=64" "),$vx_port"; do
	[[ $flow == *"$want"* ]] || fail "ovs-dpctl dump-flows: the flow lacks '$want': $flow"
done
[[ $flow == *"actions:set(tunnel("* ]] || fail "ovs-dpctl dump-flows: no set(tunnel(...)) action: $flow"
report "ovs-dpctl sees odp_probe's datapath, vports (internal $in_port, vxlan $vx_port on 6784) and its set-tunnel flow"

# --- 3. clean up with ovs-dpctl -------------------------------------------------------------
ovs-dpctl del-dp "$DP" 2>/dev/null || fail "ovs-dpctl del-dp $DP failed"
! ovs-dpctl dump-dps 2>/dev/null | grep -q "@$DP\$" || fail "$DP still there after del-dp"
report "ovs-dpctl del-dp of odp_probe's datapath: done"
