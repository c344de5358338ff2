#!/usr/bin/env bash
# tests/vm/test_vm_lab.sh: the lab on a kernel with the openvswitch module. Runs INSIDE the
# test VM; start it from the host with
#   tests/vm/run.sh [--build-dir DIR] tests/vm/test_vm_lab.sh
#   1. openvswitch: modprobe it, then `ovs-dpctl add-dp` / `show` / `dump-dps` / `del-dp`, a
#      client that is not ours, proves the datapath works on this kernel.
#   2. `scripts/lab up 3` with the project's meshd: every container pings every other one and
#      every host is in a full mesh.
#   3. `meshctl status connections`: two established connections on each host, all on the
#      Open vSwitch fast path, fastdp(odp) (the module is here, so --fastdp auto picks it).
#      Every lab host has datapath mesh-dp (`ovs-dpctl dump-dps` in its namespace), and
#      `ovs-dpctl dump-flows` lists the flows meshd installed for the pings, VXLAN
#      set(tunnel(...)) actions among them. (ovs-dpctl switches the datapath to per-CPU upcall
#      dispatch when it opens it; meshd puts its settings back within 250 ms.)
#   4. Throughput, iperf3 for 5 s: c1 -> c2 over the mesh; the bare underlay veth h1 -> h2 for
#      comparison; and the sleeve: `lab block h1 h2 udp 6784` moves that connection off the fast
#      path (this also proves the lab's nftables block works in the VM), iperf3 again, unblock,
#      back on the fast path.
#   5. `ovs-dpctl del-if` of meshd's netdev vport: meshd adds it again, the connections stay on
#      the fast path.
#   6. `scripts/lab down` leaves no namespace.
# Figures and timings are printed as "MESH-VM: " lines (run.sh shows those).
# shellcheck source-path=SCRIPTDIR source=lib.sh
TEST_NAME=test_vm_lab
source /mesh/tests/vm/lib.sh jq iperf3 ip ss nft ovs-dpctl meshd meshctl
gbits() { jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100' "$1"; }

# --- 1. the OVS datapath -------------------------------------------------------------------
DP=mesh-vmtest
modprobe openvswitch || die "modprobe openvswitch failed"
modprobe vport-vxlan || die "modprobe vport-vxlan failed"
[[ -d /sys/module/openvswitch ]] || die "openvswitch is not loaded"
ovs-dpctl add-dp "$DP" 2>/dev/null || die "ovs-dpctl add-dp $DP failed"
on_exit "ovs-dpctl del-dp $DP >/dev/null 2>&1"
ovs-dpctl show "$DP" 2>/dev/null | tee "$TEST_TMP/dp-show"
grep -q "^system@$DP:" "$TEST_TMP/dp-show" || die "ovs-dpctl show does not show $DP"
grep -q "port 0: $DP (internal)" "$TEST_TMP/dp-show" || die "ovs-dpctl show: no local port 0 of $DP"
ovs-dpctl dump-dps 2>/dev/null | grep -qx "system@$DP" || die "ovs-dpctl dump-dps does not list $DP"
ip link show "$DP" >/dev/null || die "no netdev for $DP's local port"
ovs-dpctl del-dp "$DP" 2>/dev/null || die "ovs-dpctl del-dp $DP failed"
! ovs-dpctl dump-dps 2>/dev/null | grep -q "$DP" || die "$DP is still listed after del-dp"
step_done "openvswitch: add-dp/show/del-dp"

# --- 2. the lab -----------------------------------------------------------------------------
N=3
lab_fresh
lab up $N
step_done "lab up $N"
t0=$(now_ms)
wait_full_mesh $N "$t0"
step_done "all pairs ping, full mesh"

# --- 3. connections -----------------------------------------------------------------------
for h in h1 h2 h3; do
	wait_until 30 all_fast "$h" $N "fastdp(odp)" ||
		die "$h: not every connection is on the fast path: $(status_json "$h" | jq -c '[.connections[] | {nickname, state, overlay, overlay_reason}]')"
done
for h in h1 h2 h3; do
	echo "--- $h: meshctl status connections"
	lab exec "$h" meshctl status connections
	report "$h: $(jget "$h" '[.connections[] | select(.state == "established") | "\(.nickname) \(.overlay)"] | join(", ")')"
done
step_done "every connection on the fast path"

# With an OVS backend in meshd, each host has a datapath in its namespace: then the flows meshd
# installed for the pings above must be there, VXLAN set-tunnel actions among them. Without
# one (meshd today: fastdp(vxlan)), there is no datapath and nothing to check.
odp_hosts=0
for h in h1 h2 h3; do
	dps=$(lab exec "$h" ovs-dpctl dump-dps 2>/dev/null || true)
	[[ -n $dps ]] || continue
	odp_hosts=$((odp_hosts + 1))
	for dp in $dps; do
		echo "--- $h: ovs-dpctl show $dp; dump-flows $dp"
		lab exec "$h" ovs-dpctl show "$dp" 2>/dev/null || true
		lab exec "$h" ovs-dpctl dump-flows "$dp" 2>/dev/null | tee "$TEST_TMP/flows-$h" || true
	done
	grep -q 'set(tunnel(' "$TEST_TMP/flows-$h" ||
		die "$h has an OVS datapath ($dps) but no flow with a set(tunnel(...)) action after the pings"
	report "$h: datapath $dps, $(grep -c . "$TEST_TMP/flows-$h") flows, $(grep -c 'set(tunnel(' "$TEST_TMP/flows-$h") with set(tunnel)"
done
((odp_hosts == 3)) || die "only $odp_hosts of 3 lab hosts have an OVS datapath"


# --- 4. throughput ---------------------------------------------------------------------------
h_listening() { out=$(lab exec "$1" ss -Htln "sport = :5201") && [[ -n $out ]]; }
# run_iperf3 NAME h<server> exec|cexec ADDR h<client>: a one-shot iperf3 server in the host (exec)
# or container (cexec) of h<server>, a 5 s client from the same kind of place on h<client> to
# ADDR; prints the Gbit/s received.
run_iperf3() {
	local name=$1 sh=$2 how=$3 addr=$4 ch=$5 j=$TEST_TMP/iperf3-$1.json pid
	bg_start "$TEST_TMP/iperf3-server-$name.log" lab "$how" "$sh" iperf3 -s -1
	pid=$BG_LAST
	if [[ $how == exec ]]; then
		wait_until 10 h_listening "$sh" || die "iperf3 server ($name) did not start"
	else
		wait_until 10 c_listening "$sh" 5201 || die "iperf3 server ($name) did not start"
	fi
	lab "$how" "$ch" timeout 40 iperf3 -c "$addr" -t 5 -J >"$j" ||
		die "iperf3 $name failed: $(jq -r '.error // empty' "$j" 2>/dev/null)"
	bg_stop "$pid"
	gbits "$j"
}
g_fast=$(run_iperf3 fastdp h2 cexec 10.32.0.2 h1)
report "iperf3 c1 -> c2, $(overlay_of h1 h2): $g_fast Gbit/s"
g_bare=$(run_iperf3 bare h2 exec 198.18.0.2 h1)
report "iperf3 h1 -> h2, bare underlay veth: $g_bare Gbit/s"
step_done "iperf3 fast path and bare veth"

both_on() { # both_on h<i> h<j> PATTERN: the connection is on a matching overlay, seen from both
	# shellcheck disable=SC2053 # a pattern on purpose
	[[ $(overlay_of "$1" "$2") == $3 && $(overlay_of "$2" "$1") == $3 ]]
}
lab cexec h1 ping -c2 -W2 10.32.0.3 >/dev/null || die "c1 cannot ping c3"
lab block h1 h2 udp 6784
tb=$(now_ms)
wait_until 60 both_on h1 h2 sleeve ||
	die "h1 <-> h2 not on the sleeve 60 s after blocking UDP 6784: $(status_json h1 | jq -c '[.connections[] | {nickname, overlay, overlay_reason}]')"
report "block udp 6784 h1-h2: on the sleeve after $(($(now_ms) - tb)) ms ($(jget h1 '[.connections[] | select(.nickname == "h2") | .overlay_reason][0]'))"
# The change was decided again flow by flow: the flows it made wrong (towards h2, floods) went,
# c1's flow to c3 over VXLAN stayed, and nothing was flushed wholesale.
wait_until 10 json_true h1 '.counters.fastdp_flows_stale > 0' ||
	die "h1: no flow deleted as decided otherwise after h2 left the fast path: $(status_json h1 | jq -c .counters)"
lab exec h1 ovs-dpctl dump-flows 2>/dev/null >"$TEST_TMP/flows-h1-after" || true
grep -q 'dst=198.18.0.3' "$TEST_TMP/flows-h1-after" ||
	die "h1: c1's flow to c3 went too when h2 left the fast path: $(cat "$TEST_TMP/flows-h1-after")"
for h in h1 h2 h3; do
	[[ $(jget "$h" '.counters.fastdp_flushes') == 0 ]] || die "$h flushed all its flows"
done
report "h1: $(jget h1 '.counters.fastdp_flows_stale') flows deleted as decided otherwise in $(jget h1 '.counters.fastdp_revalidations') revalidations, the flow to c3 kept"
wait_ping h1 10.32.0.2 15
g_sleeve=$(run_iperf3 sleeve h2 cexec 10.32.0.2 h1)
report "iperf3 c1 -> c2, sleeve: $g_sleeve Gbit/s"
lab unblock h1 h2 udp 6784
tu=$(now_ms)
wait_until 60 both_on h1 h2 'fastdp*' ||
	die "h1 <-> h2 not back on the fast path 60 s after the unblock"
report "unblock: back on $(overlay_of h1 h2) after $(($(now_ms) - tu)) ms"
step_done "sleeve: block, iperf3, unblock"

# Another program takes a vport of ours away (ovs-dpctl del-if; it can delete the veth's
# netdev vport, not our VXLAN one, which it looks for under another name): meshd adds it again
# within its 250 ms guard, and the connections stay on (or come back to) the fast path.
out=$(lab exec h1 ovs-dpctl del-if mesh-dp mesh-dpd 2>&1) || die "ovs-dpctl del-if mesh-dp mesh-dpd failed: $out"
td=$(now_ms)
vport_back() { lab exec h1 ovs-dpctl show mesh-dp 2>/dev/null | grep -q ': mesh-dpd'; }
wait_until 5 vport_back || die "h1: vport mesh-dpd not back 5 s after ovs-dpctl del-if: $(jget h1 .fastdp_last_error)"
report "h1: vport mesh-dpd deleted with ovs-dpctl, back within $(($(now_ms) - td)) ms ($(jget h1 .counters.fastdp_repairs) repairs by meshd so far)"
wait_until 20 all_fast h1 $N "fastdp(odp)" || die "h1: not every connection on the fast path after the vport came back"
lab cexec h1 ping -c2 -W2 10.32.0.2 >/dev/null || die "c1 cannot ping c2 after the vport came back"
step_done "vport deleted by another program"

report "throughput (Gbit/s, iperf3 5 s, 1 TCP stream, in the VM): bare veth $g_bare, $(overlay_of h1 h2) $g_fast, sleeve $g_sleeve"

# --- 5. down ----------------------------------------------------------------------------------
lab_down final
left=$(ip netns list | awk '{print $1}' | grep -E "^$LAB_NAME-" || true)
[[ -z $left ]] || die "namespaces left after lab down: $left"
step_done "lab down"
report_total
