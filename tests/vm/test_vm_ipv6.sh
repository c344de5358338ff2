#!/usr/bin/env bash
# tests/vm/test_vm_ipv6.sh: the fast path over an IPv6 underlay (issue 18) on a kernel with the
# Open vSwitch datapath and IPsec ESP. Runs INSIDE the test VM; start it from the host with
#   tests/vm/run.sh [--build-dir DIR] tests/vm/test_vm_ipv6.sh
#   1. `scripts/lab up 2 --ipv6 -- --fastdp=odp`, no password: both connections on fastdp(odp)
#      over IPv6; c1 <-> c2 ping over IPv4 and IPv6; at h1's underlay ingress the pings arrive
#      as IPv6 UDP 6784 (VXLAN over IPv6); `ovs-dpctl dump-flows` shows set(tunnel(...)) actions
#      with ipv6_dst=2001:2:0:6d::2. `lab block h1 h2 udp 6784` moves the connection to the
#      sleeve (status says over IPv6), c1 still pings c2; unblocked, back on fastdp(odp).
#   2. `scripts/lab up 3 --ipv6 --password-file F -- --fastdp=vxlan`: every connection on
#      fastdp(vxlan) with ipsec-esp; the pings arrive at h1 as ESP over IPv6 and no plain IPv6
#      VXLAN does; `ip xfrm state` holds 4 SAs between 2001:2:0:6d:: addresses (AES-GCM, ESN),
#      `ip xfrm policy` 2 outbound IPv6 policies and the IPv6 block policy. Plain IPv6 VXLAN
#      that a stranger on the underlay sends to h1 is dropped by table inet mesh_ipsec and
#      counted. meshd on h3 SIGKILLed leaves its IPv6 SAs; started again it deletes them and
#      has exactly its 4 new ones. h2's policy towards h1 deleted: no plain VXLAN reaches h1, h1-h2 goes to the
#      encrypted sleeve, c1 still pings c2.
#   3. `scripts/lab up 2 --ipv6 --password-file F -- --fastdp=odp`: fastdp(odp) with ipsec-esp,
#      pings, ESP over IPv6 on the wire and no plain VXLAN.
# Timings are printed as "MESH-VM: " lines (run.sh shows those).
# shellcheck source-path=SCRIPTDIR source=lib.sh
TEST_NAME=test_vm_ipv6
source /mesh/tests/vm/lib.sh jq ip nft ovs-dpctl meshd meshctl

load_esp_ovs_modules

PW=$TEST_TMP/password
make_password_file "$PW"

# all_on h<i> N OVERLAY ENCRYPTION: N-1 established connections, all on OVERLAY over IPv6
all_on() {
	json_true "$1" "[.connections[] | select(.state == \"established\")] | length == $2 - 1 and
		all(.overlay == \"$3\" and .encryption == \"$4\" and (.overlay_reason | test(\"over IPv6\")))"
}
conns_brief() { status_json "$1" | jq -c '[.connections[] | {nickname, address, state, overlay, encryption, overlay_reason}]'; }
ping2() { # ping2 h<i> h<j>: c<i> pings c<j> over IPv4 and IPv6
	lab cexec "$1" ping -c2 -W3 "$(cip "$2")" >/dev/null &&
		lab cexec "$1" ping -c2 -W3 "fd6d::${2#h}" >/dev/null
}

# --- 1. the Open vSwitch datapath over IPv6, no password --------------------------------------
N=2
lab_fresh
lab up $N --ipv6 -- --fastdp=odp
wait_full_mesh $N "$(now_ms)"
for h in h1 h2; do
	wait_until 30 all_on "$h" $N 'fastdp(odp)' none ||
		die "$h: not on fastdp(odp) over IPv6: $(conns_brief "$h")"
done
lab exec h1 meshctl status connections
wire_table h1 6
read -r plain0 _ <<<"$(wire_counts h1)"
ping2 h1 h2 || die "c1 cannot ping c2 over fastdp(odp) over IPv6"
ping2 h2 h1 || die "c2 cannot ping c1 over fastdp(odp) over IPv6"
lab cexec h1 ping -q -c 20 -i 0.05 -W 2 10.32.0.2 >/dev/null || die "c1 -> c2 lost pings"
read -r plain1 _ <<<"$(wire_counts h1)"
((plain1 - plain0 >= 20)) || die "h1: only $((plain1 - plain0)) IPv6 VXLAN packets arrived for 24 pings"
flows=$(lab exec h1 ovs-dpctl dump-flows 2>/dev/null)
grep -q 'set(tunnel(.*ipv6_dst=2001:2:0:6d::2' <<<"$flows" ||
	die "h1: no flow sets an IPv6 tunnel to h2: $flows"
report "fastdp(odp) over IPv6: $((plain1 - plain0)) IPv6 VXLAN packets at h1, flows with ipv6_dst: $(grep -c 'ipv6_dst=' <<<"$flows")"
lab block h1 h2 udp 6784
wait_until 15 json_true h1 '[.connections[] | select(.nickname == "h2" and .state == "established") | .overlay][0] == "sleeve"' ||
	die "h1 -> h2 stayed on $(overlay_of h1 h2) with UDP 6784 blocked"
why=$(jget h1 '[.connections[] | select(.nickname == "h2") | .overlay_reason][0]')
[[ $why == *"over IPv6"* ]] || die "h1 -> h2 on the sleeve does not say why: $why"
ping2 h1 h2 || die "c1 cannot ping c2 over the sleeve"
lab unblock h1 h2 udp 6784
wait_until 60 all_on h1 $N 'fastdp(odp)' none || die "h1 -> h2 not back on fastdp(odp): $(conns_brief h1)"
report "UDP 6784 blocked: sleeve ($why); unblocked: back on fastdp(odp)"
step_done "fastdp(odp) over IPv6"
lab_down odp6

# --- 2. ESP over IPv6, kernel VXLAN device ----------------------------------------------------
N=3
lab up $N --ipv6 --password-file "$PW" -- --fastdp=vxlan
wait_full_mesh $N "$(now_ms)"
for h in h1 h2 h3; do
	wait_until 30 all_on "$h" $N 'fastdp(vxlan)' ipsec-esp ||
		die "$h: not every connection on fastdp(vxlan) with IPsec over IPv6: $(conns_brief "$h")"
done
lab exec h1 meshctl status connections
wire_table h1 6
read -r plain0 esp0 <<<"$(wire_counts h1)"
for h in h2 h3; do
	ping2 h1 "$h" || die "c1 cannot ping c${h#h} over ESP over IPv6"
done
read -r plain1 esp1 <<<"$(wire_counts h1)"
report "h1 underlay ingress during 8 pings: $((esp1 - esp0)) ESP over IPv6, $((plain1 - plain0)) plain IPv6 VXLAN"
((esp1 - esp0 >= 8)) || die "h1: only $((esp1 - esp0)) ESP packets over IPv6 for 8 pings"
((plain1 == 0)) || die "h1: $plain1 plain IPv6 VXLAN packets arrived in an encrypted mesh"
lab exec h1 ip xfrm state >"$TEST_TMP/xfrm-state"
lab exec h1 ip xfrm policy >"$TEST_TMP/xfrm-policy"
cat "$TEST_TMP/xfrm-state" "$TEST_TMP/xfrm-policy"
sas=$(grep -c '^src 2001:2:0:6d::[0-9]* dst 2001:2:0:6d::' "$TEST_TMP/xfrm-state")
gcm=$(grep -c 'aead rfc4106(gcm(aes))' "$TEST_TMP/xfrm-state")
esn=$(grep -c 'flag .*esn' "$TEST_TMP/xfrm-state")
pols=$(grep -A1 '^src 2001:2:0:6d::1/128 dst 2001:2:0:6d::[23]/128 proto udp dport 6784' "$TEST_TMP/xfrm-policy" |
	grep -c 'dir out priority 1000')
block6=$(grep -A1 '^src ::/0 dst ::/0 proto udp dport 6784' "$TEST_TMP/xfrm-policy" | grep -c 'dir out action block priority 1001')
((sas == 4 && gcm == 4 && esn == 4)) || die "h1: want 4 IPv6 ESP SAs (AES-GCM, ESN), have $sas ($gcm GCM, $esn ESN)"
((pols == 2 && block6 == 1)) || die "h1: want 2 outbound IPv6 policies and the IPv6 block policy, have $pols and $block6"
report "h1: $sas IPv6 SAs (rfc4106(gcm(aes)), esn), $pols outbound IPv6 policies, the IPv6 block policy"

# a stranger on the underlay sends plain VXLAN over IPv6: h1 drops it and counts it
X=$LAB_NAME-x
on_exit "ip netns del $X 2>/dev/null"
ip netns add "$X"
ip link add xa type veth peer name xb netns "$X"
ip link set xa netns "$LAB_NAME-u"
ip -n "$LAB_NAME-u" link set xa master br0 up
ip -n "$X" addr add 2001:2:0:6d::fa/64 dev xb nodad
ip -n "$X" link set xb up
ip -n "$X" link set lo up
frame='\x08\x00\x00\x00\x6d\x65\x73\x00\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\xfa\x08\x06'
d0=$(mesh_drops h1)
for _ in 1 2 3 4 5; do
	ip netns exec "$X" bash -c "printf '$frame' >/dev/udp/2001:2:0:6d::1/6784" || die "cannot send from $X"
	sleep 0.2
done
d1=$(mesh_drops h1)
((d1 - d0 >= 5)) || die "h1: table inet mesh_ipsec dropped $((d1 - d0)) of 5 plain IPv6 VXLAN packets"
shown=$(jget h1 .counters.fastdp_unencrypted_dropped)
((shown >= 5)) || die "h1: status shows fastdp_unencrypted_dropped=$shown"
report "5 plain IPv6 VXLAN packets from a stranger: h1 dropped $((d1 - d0)), status says $shown"

# a killed meshd's IPv6 SAs and policies go when it starts again (fastdp/xfrm_dump.c)
kill -KILL "$(meshd_pid h3)"
sleep 1
left=$(lab exec h3 ip xfrm state | grep -c '^src 2001:' || true)
((left > 0)) || die "h3: no IPv6 SA left behind by a SIGKILLed meshd (the check would prove nothing)"
lab start h3
wait_until 40 all_on h3 $N 'fastdp(vxlan)' ipsec-esp ||
	die "h3: not back on fastdp(vxlan) with IPsec after a restart: $(conns_brief h3)"
purged=$(jget h3 .counters.fastdp_xfrm_purged)
sas=$(lab exec h3 ip xfrm state | grep -c '^src 2001:' || true)
((purged >= left && sas == 4)) || die "h3: $left IPv6 SAs left, $purged purged at start, $sas SAs now (want 4)"
report "h3 SIGKILLed with $left IPv6 SAs; restarted: $purged SAs and policies purged, $sas SAs now"

# h2's policy towards h1 deleted: its IPv6 block policy stops its VXLAN to h1
lab exec h2 ip xfrm policy delete dir out src 2001:2:0:6d::2/128 dst 2001:2:0:6d::1/128 proto udp dport 6784 ||
	die "h2: cannot delete its policy towards h1"
read -r plain2 _ <<<"$(wire_counts h1)"
wait_until 30 json_true h1 '[.connections[] | select(.nickname == "h2" and .state == "established") | .overlay][0] == "sleeve"' ||
	die "h1 -> h2 stayed on $(overlay_of h1 h2) with h2's policy gone: $(conns_brief h1)"
ping2 h1 h2 || die "c1 cannot ping c2 on the encrypted sleeve"
read -r plain3 _ <<<"$(wire_counts h1)"
((plain3 == plain2)) || die "h1: $((plain3 - plain2)) plain IPv6 VXLAN packets arrived after h2's policy went"
json_true h1 '[.connections[] | select(.nickname == "h2") | .encryption][0] == "secretbox"' ||
	die "h1 -> h2 on the sleeve is not secretbox: $(conns_brief h1)"
report "h2's policy to h1 deleted: h1-h2 on the encrypted sleeve, no plain VXLAN at h1"
step_done "ESP over IPv6, fastdp(vxlan)"
lab_down esp6
ip netns del "$X" 2>/dev/null

# --- 3. ESP over IPv6 on the Open vSwitch datapath --------------------------------------------
N=2
lab up $N --ipv6 --password-file "$PW" -- --fastdp=odp
wait_full_mesh $N "$(now_ms)"
for h in h1 h2; do
	wait_until 30 all_on "$h" $N 'fastdp(odp)' ipsec-esp ||
		die "$h: not on fastdp(odp) with IPsec over IPv6: $(conns_brief "$h")"
done
wire_table h1 6
ping2 h1 h2 || die "c1 cannot ping c2 over fastdp(odp) with ESP over IPv6"
read -r plain esp <<<"$(wire_counts h1)"
((esp >= 4 && plain == 0)) || die "h1 (odp): $esp ESP and $plain plain IPv6 VXLAN packets for 4 pings"
report "fastdp(odp) with ESP over IPv6: $esp ESP, no plain VXLAN at h1"
step_done "ESP over IPv6, fastdp(odp)"

lab_down final
report_total
