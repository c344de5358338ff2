#!/usr/bin/env bash
# tests/vm/test_vm_ipsec.sh: the encrypted fast path (kernel IPsec ESP) on a kernel that has
# it. Runs INSIDE the test VM (the host kernel has no ESP); start it from the host with
#   tests/vm/run.sh [--build-dir DIR] tests/vm/test_vm_ipsec.sh
#   1. `scripts/lab up 3 --password-file F -- --fastdp=vxlan`: every container pings every
#      other one, every connection is on fastdp(vxlan) and says its encryption is ipsec-esp.
#   2. On the wire (nftables counters at h1's underlay ingress, a table the test makes): the
#      pings and heartbeats arrive as ESP, and no plain VXLAN does. `ip xfrm state` on h1 holds
#      exactly two SAs per peer (AES-GCM, ESN), `ip xfrm policy` one outbound policy per peer
#      and the two block policies (IPv4 and IPv6).
#   3. Nothing goes in the clear: h2's policy towards h1 is deleted by hand; h2's block policy
#      stops its VXLAN to h1 (none arrives plain at h1), h1-h2 moves to the encrypted sleeve
#      and c1 still pings c2. Plain VXLAN that a stranger on the underlay sends to h1 is
#      dropped by table inet mesh_ipsec, and status counts it (fastdp_unencrypted_dropped).
#      The table deleted by hand is back within seconds.
#   4. meshd on h3 killed (SIGKILL) leaves its SAs; started again, it deletes them (its status
#      counts them) and has exactly its new 4 SAs and 2 policies. Then stopped (SIGTERM): h1 and
#      h2 delete their SAs and policies towards h3, and h3 leaves no SA, policy or nftables
#      table behind.
#   5. The same mesh on the Open vSwitch datapath (--fastdp=odp, 2 hosts): fastdp(odp),
#      ipsec-esp, pings, ESP on the wire.
# Timings are printed as "MESH-VM: " lines (run.sh shows those).
# shellcheck source-path=SCRIPTDIR source=lib.sh
TEST_NAME=test_vm_ipsec
source /mesh/tests/vm/lib.sh jq ip nft meshd meshctl

load_esp_ovs_modules

PW=$TEST_TMP/password
make_password_file "$PW"

# all_on h<i> N OVERLAY: N-1 established connections, all on OVERLAY and encrypted by IPsec.
all_on() {
	json_true "$1" "[.connections[] | select(.state == \"established\")] | length == $2 - 1 and
		all(.overlay == \"$3\" and .encrypted and .encryption == \"ipsec-esp\")"
}
conns_brief() { status_json "$1" | jq -c '[.connections[] | {nickname, state, overlay, encryption, overlay_reason}]'; }


# --- 1. an encrypted mesh on the kernel VXLAN fast path ---------------------------------------
N=3
lab_fresh
lab up $N --password-file "$PW" -- --fastdp=vxlan
step_done "lab up $N (password, --fastdp=vxlan)"
wait_full_mesh $N "$(now_ms)"
for h in h1 h2 h3; do
	wait_until 30 all_on "$h" $N 'fastdp(vxlan)' ||
		die "$h: not every connection on fastdp(vxlan) with IPsec: $(conns_brief "$h")"
done
for h in h1 h2 h3; do
	echo "--- $h: meshctl status connections"
	lab exec "$h" meshctl status connections
done
lab logs h1 | grep -i 'ipsec' | head -3
out=$(lab exec h1 meshctl status)
grep -q 'Fast path: fastdp(vxlan) (UDP 6784 in kernel IPsec ESP' <<<"$out" ||
	die "h1: meshctl status does not say the fast path is in IPsec: $out"
grep -Eq 'h2 .* yes \(ipsec-esp\)' <<<"$(lab exec h1 meshctl status connections)" ||
	die "h1: meshctl status connections does not show h2 as yes (ipsec-esp)"
step_done "every connection on fastdp(vxlan), ipsec-esp"

# --- 2. ESP on the wire, the kernel's SAs and policies ----------------------------------------
wire_table h1 4
read -r plain0 esp0 <<<"$(wire_counts h1)"
for ip in 10.32.0.2 10.32.0.3; do
	lab cexec h1 ping -c 5 -i 0.2 -W 2 "$ip" >/dev/null || die "c1 cannot ping $ip"
done
read -r plain1 esp1 <<<"$(wire_counts h1)"
report "h1 underlay ingress during 10 pings: $((esp1 - esp0)) ESP, $((plain1 - plain0)) plain VXLAN"
((esp1 - esp0 >= 10)) || die "h1: only $((esp1 - esp0)) ESP packets arrived for 10 pings"
((plain1 == 0)) || die "h1: $plain1 plain VXLAN packets arrived in an encrypted mesh"
lab exec h1 ip xfrm state >"$TEST_TMP/xfrm-state"
lab exec h1 ip xfrm policy >"$TEST_TMP/xfrm-policy"
cat "$TEST_TMP/xfrm-state" "$TEST_TMP/xfrm-policy"
sas=$(grep -c '^src ' "$TEST_TMP/xfrm-state")
gcm=$(grep -c 'aead rfc4106(gcm(aes))' "$TEST_TMP/xfrm-state")
esn=$(grep -c 'flag .*esn' "$TEST_TMP/xfrm-state")
pols=$(grep -c 'dir out priority 1000' "$TEST_TMP/xfrm-policy")
blocks=$(grep -c 'dir out action block priority 1001' "$TEST_TMP/xfrm-policy")
((sas == 4 && gcm == 4 && esn == 4)) || die "h1: want 4 ESP SAs (AES-GCM, ESN), have $sas ($gcm GCM, $esn ESN)"
# one block policy per family (issue 18: IPv6 peers get the fast path too)
blocks6=$(grep -c '^src ::/0 dst ::/0 proto udp dport 6784' "$TEST_TMP/xfrm-policy")
((pols == 2 && blocks == 2 && blocks6 == 1)) ||
	die "h1: want 2 outbound policies and 2 block policies (IPv4, IPv6), have $pols and $blocks ($blocks6 IPv6)"
report "h1: $sas SAs (rfc4106(gcm(aes)), esn), $pols outbound policies, $blocks block policies (IPv4, IPv6)"
step_done "ESP on the wire, SAs and policies"

# --- 3. nothing leaves in the clear; what comes in the clear is dropped -----------------------
# h2's policy towards h1 deleted by hand: h2's block policy stops its VXLAN to h1 (nothing
# plain reaches h1's underlay), and h1-h2 moves to the encrypted sleeve.
lab exec h2 ip xfrm policy delete dir out src 198.18.0.2/32 dst 198.18.0.1/32 proto udp dport 6784 ||
	die "h2: cannot delete its policy towards h1"
tb=$(now_ms)
wait_until 30 json_true h1 '[.connections[] | select(.nickname == "h2" and .state == "established") | .overlay][0] == "sleeve"' ||
	die "h1: the connection to h2 stayed on $(overlay_of h1 h2) with h2's policy gone: $(conns_brief h1)"
wait_ping h1 10.32.0.2 15
json_true h1 '[.connections[] | select(.nickname == "h2") | .encryption][0] == "secretbox"' ||
	die "h1: the connection to h2 on the sleeve does not say secretbox: $(conns_brief h1)"
read -r plain2 esp2 <<<"$(wire_counts h1)"
((plain2 == 0)) || die "h1: $plain2 plain VXLAN packets arrived after h2's policy was deleted (its block policy should stop them)"
report "h2's policy to h1 deleted: h1-h2 on the sleeve after $(($(now_ms) - tb)) ms ($(jget h1 '[.connections[] | select(.nickname == "h2") | .overlay_reason][0]')), no plain VXLAN at h1"

# Someone else on the underlay sends VXLAN in the clear: h1 drops it, and says so.
X=$LAB_NAME-x
on_exit "ip netns del $X 2>/dev/null"
ip netns add "$X"
ip link add xa type veth peer name xb netns "$X"
ip link set xa netns "$LAB_NAME-u"
ip -n "$LAB_NAME-u" link set xa master br0 up
ip -n "$X" addr add 198.18.0.250/24 dev xb
ip -n "$X" link set xb up
ip -n "$X" link set lo up
# a VXLAN header with our VNI, then a broadcast Ethernet frame
frame='\x08\x00\x00\x00\x6d\x65\x73\x00\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\xfa\x08\x06'
for _ in 1 2 3 4 5; do
	ip netns exec "$X" bash -c "printf '$frame' >/dev/udp/198.18.0.1/6784" || die "cannot send from $X"
	sleep 0.1
done
drops=$(mesh_drops h1)
((drops >= 5)) || die "h1: table inet mesh_ipsec dropped $drops of 5 plain VXLAN packets"
shown=$(jget h1 .counters.fastdp_unencrypted_dropped)
((shown >= 5)) || die "h1: status shows fastdp_unencrypted_dropped=$shown after $drops drops"
report "5 plain VXLAN packets from a stranger on the underlay: h1 dropped $drops, status says $shown"

# The stranger has an IPsec SA of its own with h1 (another tunnel on that host, say): VXLAN
# decrypted by it is not mesh's (issue 16, finding 12), and h1 drops it as well.
KEY=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
for ns in "$X" "$LAB_NAME-h1"; do
	ip -n "$ns" xfrm state add src 198.18.0.250 dst 198.18.0.1 proto esp spi 0x7000 reqid 7 \
		mode transport aead 'rfc4106(gcm(aes))' "$KEY" 128 || die "$ns: cannot add the stranger's SA"
done
ip -n "$X" xfrm policy add dir out src 198.18.0.250/32 dst 198.18.0.1/32 proto udp dport 6784 \
	tmpl src 198.18.0.250 dst 198.18.0.1 proto esp reqid 7 mode transport ||
	die "$X: cannot add its policy"
on_exit "ip -n $LAB_NAME-h1 xfrm state delete src 198.18.0.250 dst 198.18.0.1 proto esp spi 0x7000 2>/dev/null"
for _ in 1 2 3 4 5; do
	ip netns exec "$X" bash -c "printf '$frame' >/dev/udp/198.18.0.1/6784" || die "cannot send from $X"
	sleep 0.1
done
# h1 decrypted them with the stranger's SA...
# ("lifetime current:" then "  <n>(bytes), <n>(packets)")
foreign=$(lab exec h1 ip -s xfrm state get src 198.18.0.250 dst 198.18.0.1 proto esp spi 0x7000 |
	grep -oE '[0-9]+\(packets\)' | head -n 1 | cut -d'(' -f1)
((${foreign:-0} >= 5)) || die "h1: the stranger's SA decrypted ${foreign:-no} packets, not 5 (did they arrive?)"
# ...and the table dropped them: VXLAN only from mesh's own SAs
drops2=$(mesh_drops h1)
((drops2 - drops >= 5)) || die "h1: VXLAN decrypted by a foreign SA was not dropped ($((drops2 - drops)) of 5)"
lab exec h1 ip xfrm state delete src 198.18.0.250 dst 198.18.0.1 proto esp spi 0x7000 ||
	die "h1: cannot delete the stranger's SA"
report "5 VXLAN packets inside a stranger's own ESP SA (decrypted by h1: $foreign packets): dropped $((drops2 - drops))"

# The table flushed away (an nftables reload, say): meshd puts it back.
lab exec h1 nft delete table inet mesh_ipsec || die "h1: cannot delete table inet mesh_ipsec"
table_back() { lab exec h1 nft list table inet mesh_ipsec >/dev/null 2>&1; }
wait_until 10 table_back || die "h1: table inet mesh_ipsec not back 10 s after it was deleted"
report "h1: table inet mesh_ipsec deleted by hand, back ($(jget h1 .counters.fastdp_ipsec_repairs) repairs)"
step_done "nothing in the clear either way"

# --- 4. a killed meshd's SAs go when it starts again; a stopped one takes them with it ----------
kill -KILL "$(meshd_pid h3)"
sleep 1
left=$(lab exec h3 ip xfrm state | grep -c '^src ' || true)
((left > 0)) || die "h3: no SA left behind by a SIGKILLed meshd (the step below would prove nothing)"
lab start h3
wait_until 30 all_on h3 $N 'fastdp(vxlan)' ||
	die "h3: not back on fastdp(vxlan) with IPsec after a restart: $(conns_brief h3)"
purged=$(jget h3 .counters.fastdp_xfrm_purged)
((purged >= left)) || die "h3: $left SAs left by the killed meshd, but only $purged deleted at start"
sas=$(lab exec h3 ip xfrm state | grep -c '^src ' || true)
pols=$(lab exec h3 ip xfrm policy | grep -c 'dir out priority 1000' || true)
((sas == 4 && pols == 2)) || die "h3 after the restart: $sas SAs and $pols policies, want 4 and 2"
lab cexec h3 ping -c 2 -W 2 10.32.0.1 >/dev/null || die "c3 cannot ping c1 after h3's restart"
report "h3 SIGKILLed, $left SAs left; restarted: $purged SAs and policies deleted at start, now $sas SAs, $pols policies"
lab kill h3 || die "meshd on h3 did not stop on SIGTERM"
gone_h3() { ! lab exec "$1" ip xfrm state | grep -q '198.18.0.3' && ! lab exec "$1" ip xfrm policy | grep -q '198.18.0.3'; }
for h in h1 h2; do
	wait_until 15 gone_h3 "$h" || die "$h: SAs or policies towards h3 left after h3 stopped: $(lab exec "$h" ip xfrm state)"
done
[[ -z $(lab exec h3 ip xfrm state) && -z $(lab exec h3 ip xfrm policy) ]] ||
	die "h3: SAs or policies left after meshd stopped: $(lab exec h3 ip xfrm state; lab exec h3 ip xfrm policy)"
! lab exec h3 nft list table inet mesh_ipsec >/dev/null 2>&1 || die "h3: table inet mesh_ipsec left after meshd stopped"
report "h3 stopped: its SAs, policies and table are gone, and h1's and h2's towards it"
step_done "stop cleans up"
lab_down vxlan

# --- 5. the Open vSwitch datapath -------------------------------------------------------------
N=2
lab up $N --password-file "$PW" -- --fastdp=odp
wait_full_mesh $N "$(now_ms)"
for h in h1 h2; do
	wait_until 30 all_on "$h" $N 'fastdp(odp)' ||
		die "$h: not every connection on fastdp(odp) with IPsec: $(conns_brief "$h")"
done
wire_table h1 4
lab cexec h1 ping -c 5 -i 0.2 -W 2 10.32.0.2 >/dev/null || die "c1 cannot ping c2 over fastdp(odp)"
read -r plain esp <<<"$(wire_counts h1)"
((esp >= 5 && plain == 0)) || die "h1 (odp): $esp ESP and $plain plain VXLAN packets for 5 pings"
report "fastdp(odp): ipsec-esp on both hosts, $esp ESP and no plain VXLAN packets at h1"
step_done "fastdp(odp) with IPsec"

lab_down final
report_total
