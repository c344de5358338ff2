#!/usr/bin/env bash
# test_fastdp_vxlan: the kernel VXLAN fast path (issue 8) on a host without Open vSwitch.
#   1. `lab up 3`: every connection shows fastdp(vxlan) in `meshctl status connections`;
#      all containers ping each other.
#   2. `bridge fdb show dev mesh-vxlan` on h1 lists exactly the remote container MACs (apart
#      from the heartbeat MACs 0a:6d:.. and the flood entries 00:00:..), as VXLAN entries and
#      as sticky bridge entries; metrics count them.
#   3. A second container on h2 appears in h1's FDB, and is gone from h1's and h3's within 5 s
#      of its veth's removal; after `lab kill h3`, h3's MAC is gone from h1's FDB within 5 s.
#   4. `lab block h1 h2 udp 6784`: that connection moves to the sleeve within 6 s (the README
#      says "within about 4 s": 3.5 s without heartbeats, then the next one due), says why
#      in status and log, and c1 <-> c2 still ping; after unblock it is back on fastdp(vxlan)
#      within 60 s, again in status and log. h1 <-> h3 stays on the fast path throughout.
#   5. With a password, connections stay on the encrypted sleeve and status says why.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

cmac() { lab cexec "$1" cat /sys/class/net/eth0/address; }
# Container MACs in h<i>'s VXLAN FDB (self entries), sorted; likewise for the bridge's sticky
# entries on the VXLAN port.
fdb_self() {
	lab exec "$1" bridge fdb show dev mesh-vxlan | awk '$0 ~ / self / && $1 !~ /^(0a:6d:|00:00:00:00:00:00)/ { print $1 }' | sort
}
fdb_master() {
	lab exec "$1" bridge fdb show dev mesh-vxlan | awk '/ sticky master / && $1 !~ /^0a:6d:/ { print $1 }' | sort
}
fdb_lacks() { ! lab exec "$1" bridge fdb show dev mesh-vxlan | grep -q "^$2 "; }

# --- 1. on the fast path -----------------------------------------------------------------
N=3
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
for h in h1 h2 h3; do
	wait_until 15 all_fast "$h" $N || die "$h: not every connection is on the fast path: $(status_json "$h" | jq -c '[.connections[] | {nickname, state, overlay, overlay_reason}]')"
done
lab exec h1 meshctl status connections | tee "$TEST_TMP/conns"
[[ $(grep -c 'fastdp(vxlan)' "$TEST_TMP/conns") == 2 ]] || die "meshctl status connections does not show fastdp(vxlan) twice"
[[ $(jget h1 .fastdp) == "fastdp(vxlan)" ]] || die "status .fastdp is not fastdp(vxlan)"
info "every connection on fastdp(vxlan)"

# --- 2. exactly the remote container MACs ------------------------------------------------
want=$(printf '%s\n' "$(cmac h2)" "$(cmac h3)" | sort)
fdb_is() { [[ $(fdb_self "$1") == "$2" ]]; }
wait_until 5 fdb_is h1 "$want" || die "h1's VXLAN FDB holds [$(fdb_self h1 | tr '\n' ' ')], want [$(tr '\n' ' ' <<<"$want")]"
[[ $(fdb_master h1) == "$want" ]] || die "h1's sticky bridge entries are [$(fdb_master h1 | tr '\n' ' ')], want [$(tr '\n' ' ' <<<"$want")]"
# flood entries go to the leaves of h1's broadcast tree: both, once h1's topology has every
# connection of the full mesh (until then h2 or h3 may look like a relay)
flood_to() { lab exec h1 bridge fdb show dev mesh-vxlan | grep -q "^00:00:00:00:00:00 dst $1 self"; }
wait_until 10 flood_to 198.18.0.2 || die "no flood entry for h2 on h1: $(lab exec h1 bridge fdb show dev mesh-vxlan | tr '\n' ';')"
wait_until 10 flood_to 198.18.0.3 || die "no flood entry for h3 on h1"
m=$(lab exec h1 curl -sf http://127.0.0.1:6782/metrics) || die "no metrics"
promtool check metrics <<<"$m" || die "promtool check metrics failed"
grep -q '^mesh_fastdp_fdb_entries 4$' <<<"$m" || die "mesh_fastdp_fdb_entries is not 4 (2 MACs + 2 flood entries): $(grep fastdp <<<"$m")"
grep -q '^mesh_connections{state="established",overlay="fastdp(vxlan)",encrypted="false"} 2$' <<<"$m" ||
	die "metrics do not count 2 fastdp(vxlan) connections: $(grep mesh_connections <<<"$m")"
info "h1's FDB: exactly c2 and c3 ($(tr '\n' ' ' <<<"$want")), plus flood and heartbeat entries"

# --- 3. stale entries go ------------------------------------------------------------------
cx=$LAB_NAME-h2-cx
ip netns add "$cx"
on_exit ip netns del "$cx"
ip -n "$LAB_NAME-h2" link add vethcx type veth peer name eth0 netns "$cx"
ip netns exec "$LAB_NAME-h2" sysctl -qw net.ipv6.conf.vethcx.disable_ipv6=1
ip -n "$LAB_NAME-h2" link set vethcx master mesh up
ip -n "$cx" addr add 10.32.0.52/12 dev eth0
ip -n "$cx" link set eth0 mtu "$(jget h2 .mtu)" up
xmac=$(ip netns exec "$cx" cat /sys/class/net/eth0/address)
wait_until 10 ip netns exec "$cx" ping -c1 -W1 10.32.0.1 || die "the extra container on h2 cannot ping c1"
wait_until 5 lab exec h1 sh -c "bridge fdb show dev mesh-vxlan | grep -q '^$xmac '" || die "h1's FDB never listed the extra container $xmac"
ip -n "$LAB_NAME-h2" link del vethcx
tr=$(now_ms)
wait_until 5 fdb_lacks h1 "$xmac" || die "h1 still lists $xmac 5 s after its container was removed"
wait_until 5 fdb_lacks h3 "$xmac" || die "h3 still lists $xmac 5 s after its container was removed"
info "a removed container left h1's and h3's FDB $(($(now_ms) - tr)) ms after its veth went"
c3mac=$(cmac h3)
lab kill h3
tk=$(now_ms)
wait_until 5 fdb_lacks h1 "$c3mac" || die "h1 still lists c3's MAC 5 s after h3 was killed"
info "h3 killed: its MAC left h1's FDB within $(($(now_ms) - tk)) ms"
lab start h3
wait_until 30 all_fast h1 $N || die "h3 did not come back on the fast path"

# --- 4. UDP 6784 blocked: sleeve and back ----------------------------------------------
lab block h1 h2 udp 6784
tb=$(now_ms)
wait_until 6 on_overlay h1 h2 sleeve || die "h1 -> h2 not on the sleeve 6 s after UDP 6784 was blocked (the README says about 4 s): $(overlay_of h1 h2)"
wait_until 10 on_overlay h2 h1 sleeve || die "h2 -> h1 not on the sleeve after UDP 6784 was blocked"
info "UDP 6784 blocked: h1 <-> h2 on the sleeve after $(($(now_ms) - tb)) ms"
why=$(jget h1 '.connections[] | select(.nickname == "h2" and .state == "established") | .overlay_reason')
grep -q "VXLAN heartbeat" <<<"$why" || die "status does not say why h1 -> h2 is on the sleeve: $why"
info "status says: $why"
grep -q "fast path fastdp(vxlan) failed, back on the sleeve" < <(lab logs h1) || die "h1's log does not say the fast path failed"
[[ $(overlay_of h1 h3) == "fastdp(vxlan)" ]] || die "h1 -> h3 left the fast path too"
ping_pairs "$(now_ms)" $(($(now_ms) + 10000)) 1:2 2:1 || die "c1 <-> c2 do not ping over the sleeve"
lab cexec h1 ping -c 20 -i 0.05 -W1 10.32.0.2 >/dev/null || die "c1 -> c2 lost pings on the sleeve"
lab unblock h1 h2 udp 6784
tu=$(now_ms)
wait_until 60 on_overlay h1 h2 "fastdp(vxlan)" || die "h1 -> h2 not back on the fast path 60 s after the unblock"
info "unblocked: h1 <-> h2 back on fastdp(vxlan) after $(($(now_ms) - tu)) ms"
grep -q "on the fast path fastdp(vxlan)" < <(lab logs h1) || die "h1's log does not say it is back on the fast path"
ping_pairs "$(now_ms)" $(($(now_ms) + 10000)) $(all_pairs 1 2 3) || die "not every pair pings after the unblock"

# --- 5. encrypted: the sleeve ------------------------------------------------------------
lab_down vxlan
make_password_file "$TEST_TMP/pw"
lab up 2 --password-file "$TEST_TMP/pw"
wait_ping h1 10.32.0.2 20
[[ $(overlay_of h1 h2) == sleeve ]] || die "an encrypted connection is on $(overlay_of h1 h2), not the sleeve"
why=$(jget h1 '.connections[] | select(.state == "established") | .overlay_reason')
grep -q "encrypted" <<<"$why" || die "status does not say the encrypted connection stays on the sleeve: $why"
lab exec h2 ip link show mesh-vxlan >/dev/null 2>&1 && die "an encrypted mesh made a VXLAN device"
info "encrypted: sleeve ($why)"
