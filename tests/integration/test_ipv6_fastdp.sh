#!/usr/bin/env bash
# test_ipv6_fastdp: the kernel VXLAN fast path over an IPv6 underlay (issue 18).
#  1. `lab up 3 --ipv6`, no password: every connection is on fastdp(vxlan) and says it runs
#     over IPv6; h1 has the IPv6 VXLAN device mesh-vxlan6 (an IPv6 socket on UDP 6784) beside
#     mesh-vxlan. Its FDB holds c2's and c3's MACs at 2001:2:0:6d::2 and ::3 (and sticky
#     bridge entries on mesh-vxlan6), mesh-vxlan none of them.
#  2. The containers ping each other over IPv4 and IPv6 (inside); a capture of h1's underlay
#     during c1's pings holds IPv6 UDP 6784 datagrams (VXLAN over IPv6) at least one per ping,
#     no IPv4 frame, and meshd's sleeve carried none of those frames (sleeve_tx_frames).
#  3. `lab block h1 h2 udp 6784`: h1 <-> h2 go to the sleeve within 6 s (both ends), status
#     says why (UDP 6784 over IPv6), the log says it failed, h1 -> h3 stays on the fast path and
#     c1 <-> c2 still ping (IPv4 and IPv6); unblocked, h1 <-> h2 are back on fastdp(vxlan)
#     within 60 s.
#  4. MTU: with `--mtu 1440` a heartbeat frame is 1454 bytes, a 1510-byte IPv6 packet on a
#     1500-byte underlay, which the kernel does not fragment: the connection stays on the
#     sleeve and says the size; the containers still ping (the sleeve fragments).
#  5. `lab up 3 --dual`, h3 IPv4 only: h1 -> h2 on the fast path over IPv6 and h1 -> h3 over
#     IPv4 at the same time; c3's MAC in mesh-vxlan's FDB at 198.18.0.3, c2's in mesh-vxlan6's
#     at 2001:2:0:6d::2; c1 pings both.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

cmac() { lab cexec "$1" cat /sys/class/net/eth0/address; }
fdb_has() { # fdb_has h<i> DEV MAC DST: a VXLAN (self) entry MAC -> DST on DEV
	lab exec "$1" bridge fdb show dev "$2" | grep -q "^$3 dst $4 self"
}
ping2() { # ping2 h<i> h<j>: c<i> pings c<j> over IPv4 and over IPv6
	lab cexec "$1" ping -c2 -W2 "$(cip "$2")" >/dev/null &&
		lab cexec "$1" ping -c2 -W2 "fd6d::${2#h}" >/dev/null
}

# --- 1. every connection on the fast path over IPv6 --------------------------------------
N=3
t0=$(now_ms)
lab up $N --ipv6
wait_full_mesh $N "$t0"
for h in h1 h2 h3; do
	wait_until 15 all_fast "$h" $N || die "$h: not every connection is on the fast path: $(status_json "$h" | jq -c '[.connections[] | {nickname, state, overlay, overlay_reason}]')"
done
lab exec h1 meshctl status connections | tee "$TEST_TMP/conns"
[[ $(grep -c 'fastdp(vxlan)' "$TEST_TMP/conns") == 2 ]] || die "meshctl status connections does not show fastdp(vxlan) twice"
why=$(reason_of h1 h2)
[[ $why == *"over IPv6"* ]] || die "h1 -> h2 does not say it runs over IPv6: $why"
lab exec h1 ip -d link show mesh-vxlan6 | grep -q "vxlan id $((0x6d6573)) .*dstport 6784" ||
	die "h1 has no VXLAN device mesh-vxlan6 on UDP 6784: $(lab exec h1 ip -d link show mesh-vxlan6 2>&1)"
lab exec h1 ss -Huln "sport = :6784" | grep -q '\[::\]:6784' ||
	die "nothing listens on [::]:6784 on h1: $(lab exec h1 ss -Huln)"
info "every connection on fastdp(vxlan): $why"

c2mac=$(cmac h2)
c3mac=$(cmac h3)
# the MACs are learned once the containers sent something
ping2 h2 h1 && ping2 h3 h1 || die "c2/c3 cannot ping c1"
wait_until 5 fdb_has h1 mesh-vxlan6 "$c2mac" 2001:2:0:6d::2 ||
	die "h1's mesh-vxlan6 has no entry for c2 ($c2mac): $(lab exec h1 bridge fdb show dev mesh-vxlan6 | tr '\n' ';')"
wait_until 5 fdb_has h1 mesh-vxlan6 "$c3mac" 2001:2:0:6d::3 || die "h1's mesh-vxlan6 has no entry for c3"
sticky_on() { lab exec "$1" bridge fdb show dev "$2" | grep -q "^$3 sticky master mesh"; }
wait_until 5 sticky_on h1 mesh-vxlan6 "$c2mac" || die "no sticky bridge entry for c2 on mesh-vxlan6"
if lab exec h1 bridge fdb show dev mesh-vxlan | grep -qE "^($c2mac|$c3mac) "; then
	die "mesh-vxlan (IPv4) holds a container MAC of an IPv6 peer: $(lab exec h1 bridge fdb show dev mesh-vxlan | tr '\n' ';')"
fi
wait_until 10 fdb_has h1 mesh-vxlan6 00:00:00:00:00:00 2001:2:0:6d::2 || die "no flood entry for h2 on mesh-vxlan6"
macs_local=$(jget h1 '[.macs[] | select(.local)] | length')
[[ $macs_local == 1 ]] || die "h1 takes $macs_local MACs for its own (remote MACs on mesh-vxlan6 taken for containers?): $(jget h1 '.macs | tostring')"
info "h1's mesh-vxlan6: c2 at 2001:2:0:6d::2, c3 at ::3, flood entries; mesh-vxlan: none of them"

# --- 2. pings over it, and what the underlay carries --------------------------------------
for p in 1:2 1:3 2:3 3:1; do
	ping2 "h${p%%:*}" "h${p##*:}" || die "c${p%%:*} cannot ping c${p##*:} (IPv4 and IPv6)"
done
info "every container pings the others over IPv4 and IPv6"
pcap=$TEST_TMP/fast6.pcap
bg_start "$TEST_TMP/tcpdump.log" lab exec h1 tcpdump -i underlay -n -U -w "$pcap"
tcpdump=$BG_LAST
wait_until 5 grep -q "listening on" "$TEST_TMP/tcpdump.log" || die "tcpdump did not start: $(cat "$TEST_TMP/tcpdump.log")"
tx0=$(counter h1 sleeve_tx_frames)
lab cexec h1 ping -q -c 40 -i 0.02 -W1 10.32.0.2 >/dev/null || die "c1 -> c2 lost pings over the fast path"
lab cexec h1 ping -q -c 20 -i 0.02 -W1 fd6d::3 >/dev/null || die "c1 -> c3 lost IPv6 pings over the fast path"
tx1=$(counter h1 sleeve_tx_frames)
sleep 0.5
bg_stop "$tcpdump"
fam=$(python3 "$PCAPTOOL" families "$pcap")
v4=$(awk '$1 == "ipv4" {print $2}' <<<"$fam")
vx6=$(python3 "$PCAPTOOL" udp6 "$pcap" --dport 6784)
info "capture on h1's underlay: $(tr '\n' ' ' <<<"$fam"); $vx6 IPv6 VXLAN datagrams; sleeve frames sent during the pings: $((tx1 - tx0))"
((vx6 >= 60)) || die "only $vx6 IPv6 UDP 6784 datagrams for 60 pings: not VXLAN over IPv6"
((${v4:-0} == 0)) || die "$v4 IPv4 frames on an IPv6-only underlay"
((tx1 - tx0 < 10)) || die "meshd's sleeve carried $((tx1 - tx0)) frames during the pings: they did not take the fast path"

# --- 3. UDP 6784 blocked: the sleeve, and back ----------------------------------------
lab block h1 h2 udp 6784
tb=$(now_ms)
wait_until 6 on_overlay h1 h2 sleeve || die "h1 -> h2 not on the sleeve 6 s after UDP 6784 was blocked: $(overlay_of h1 h2)"
wait_until 10 on_overlay h2 h1 sleeve || die "h2 -> h1 not on the sleeve after UDP 6784 was blocked"
info "UDP 6784 blocked: h1 <-> h2 on the sleeve after $(($(now_ms) - tb)) ms"
why=$(reason_of h1 h2)
[[ $why == *"VXLAN heartbeat"*"over IPv6"* ]] || die "status does not say why h1 -> h2 is on the sleeve: $why"
info "status says: $why"
grep -q "fast path fastdp(vxlan) failed, back on the sleeve" < <(lab logs h1) || die "h1's log does not say the fast path failed"
[[ $(overlay_of h1 h3) == "fastdp(vxlan)" ]] || die "h1 -> h3 left the fast path too"
ping2 h1 h2 || die "c1 cannot ping c2 over the sleeve"
ping2 h2 h1 || die "c2 cannot ping c1 over the sleeve"
lab unblock h1 h2 udp 6784
tu=$(now_ms)
wait_until 60 on_overlay h1 h2 "fastdp(vxlan)" || die "h1 -> h2 not back on the fast path 60 s after the unblock"
wait_until 10 on_overlay h2 h1 "fastdp(vxlan)" || die "h2 -> h1 not back on the fast path after the unblock"
info "unblocked: h1 <-> h2 back on fastdp(vxlan) after $(($(now_ms) - tu)) ms"
ping2 h1 h2 || die "c1 cannot ping c2 after the unblock"
lab_down ipv6

# --- 4. a container MTU that VXLAN over IPv6 cannot carry -----------------------------
t0=$(now_ms)
lab up 2 --ipv6 -- --mtu 1440
wait_established h1 h2 20
sleep 5 # past the 3.5 s in which heartbeats must have passed
[[ $(overlay_of h1 h2) == sleeve ]] || die "with --mtu 1440, h1 -> h2 is on $(overlay_of h1 h2) over IPv6"
why=$(reason_of h1 h2)
[[ $why == *"1510-byte IPv6 packets"* ]] || die "h1 -> h2 does not say the heartbeats are too large: $why"
info "--mtu 1440 over IPv6: on the sleeve: $why"
wait_ping h1 10.32.0.2 10
lab cexec h1 ping -c2 -W2 -s 1412 10.32.0.2 >/dev/null || die "c1 cannot send 1440-byte packets to c2 over the sleeve"
lab_down mtu

# --- 5. dual stack: IPv6 to h2 and IPv4 to h3 at once --------------------------------
t0=$(now_ms)
lab up 3 --dual
lab kill h3
lab exec h3 sysctl -qw net.ipv6.conf.underlay.disable_ipv6=1
sed -i 's/^\[2001:2:0:6d::1\]$/198.18.0.1/' "$LAB_RUN/h3/args"
grep -qx 198.18.0.1 "$LAB_RUN/h3/args" || die "cannot give h3 its IPv4 peer: $(cat "$LAB_RUN/h3/args")"
lab start h3
wait_full_mesh 3 "$t0"
for h in h1 h2 h3; do
	wait_until 15 all_fast "$h" 3 || die "$h: not every connection is on the fast path: $(status_json "$h" | jq -c '[.connections[] | {nickname, address, overlay, overlay_reason}]')"
done
[[ $(reason_of h1 h2) == *"over IPv6"* ]] || die "h1 -> h2 is not over IPv6: $(reason_of h1 h2)"
[[ $(reason_of h1 h3) != *"over IPv6"* ]] || die "h1 -> h3 claims IPv6: $(reason_of h1 h3)"
ping2 h1 h2 && ping2 h1 h3 && ping2 h3 h2 || die "the containers do not ping each other on the dual-stack mesh"
wait_until 5 fdb_has h1 mesh-vxlan6 "$(cmac h2)" 2001:2:0:6d::2 ||
	die "c2 is not in h1's mesh-vxlan6 FDB: $(lab exec h1 bridge fdb show dev mesh-vxlan6 | tr '\n' ';')"
wait_until 5 fdb_has h1 mesh-vxlan "$(cmac h3)" 198.18.0.3 ||
	die "c3 is not in h1's mesh-vxlan FDB at 198.18.0.3: $(lab exec h1 bridge fdb show dev mesh-vxlan | tr '\n' ';')"
info "dual stack: h1 -> h2 on the fast path over IPv6, h1 -> h3 over IPv4, both FDBs right"
