#!/usr/bin/env bash
# test_ipv6_overlay: containers carry IPv6 as well as IPv4 across the mesh (issue 18, overlay).
# Two 3-host labs over the IPv4 underlay: the default (connections on the kernel VXLAN fast
# path), then with a password (no ESP in this kernel: every connection on the sealed sleeve)
# and --ipalloc-range6 off.
# In each:
#  1. every lab container (eth0: 10.32.0.<i>/12 and fd6d::<i>/64) pings every other over IPv6
#     and IPv4;
#  2. neighbour discovery crosses the mesh: c1 flushes its IPv6 neighbours and resolves c3's
#     address again to c3's MAC (NS to 33:33:ff:xx:xx:xx, flooded like ARP);
#  3. c2 sends 200 numbered datagrams to ff15::1:2:3 (hop limit 1); the listeners in c1 and c3
#     (joined with MLD) each get every one exactly once.
# In the first lab also:
#  3b. with the underlay between h1 and h2 blocked (c2's frames reach h1 relayed by h3): c1
#     resolves and pings c2 over IPv6, and the multicast round is still exactly once.
#  4. `meshctl status ipam` (text and JSON) and the metrics (mesh_ipam_range_info) show the
#     IPv6 range fd6d:6573:6800::/48;
#  5. mesh-cni through cnitool (mesh IPAM, no "ipam" key) gives a netns on h1 and one on h2 an
#     IPv4 address of the lab's range (10.40.0.0/16, /12) and an IPv6 one of fd6d:6573:6800::/48
#     (/48): the Result lists both (ips[0] IPv4, ips[1] IPv6, both on the container interface),
#     the IPv6 address is fd6d:6573:6800:: with the IPv4 address as its last 32 bits, the
#     kernel has it (not tentative, nodad) with the on-link route of the /48, meshd holds both
#     (GET /v1/ipam: ip and ip6; meshctl status ipam lists them); the two netns ping each other
#     over IPv6 (and IPv4); a new container on h1 with the same addresses and a new MAC
#     announces its IPv6 address (unsolicited NA) and h2's netns updates its neighbour entry;
#     cnitool check passes; cnitool del releases both (no allocation left, nothing in the
#     netns);
#  6. the delegated path: mesh-cni with host-local IPAM of an IPv4 and an IPv6 range passes both
#     through (Result and eth0), the netns on h1 pings the one on h2 over IPv6, DEL releases.
# In the second lab also:
#  7. `meshctl status ipam` says "IPv6 range: off", and mesh-cni's Result and eth0 have the
#     IPv4 address only.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"

need_pkgs golang-go golang-github-appc-cni-dev dpkg-dev containernetworking-plugins curl
TOOLS=$(cni_tools cnitool)
CNITOOL=$TOOLS/cnitool

N=3
GROUP6=ff15::1:2:3
COUNT=200
RANGE6=fd6d:6573:6800::/48

cip6() { echo "fd6d::${1#h}"; }

lab_fresh

# ping_all NAME: every container pings every other over IPv6 and IPv4 (within 20 s).
ping_all() {
	local name=$1 i j
	for ((i = 1; i <= N; i++)); do
		for ((j = 1; j <= N; j++)); do
			((i != j)) || continue
			wait_until 20 lab cexec "h$i" ping -6 -n -c1 -W1 "$(cip6 "h$j")" ||
				die "$name: c$i cannot ping c$j over IPv6 ($(cip6 "h$j"))"
			lab cexec "h$i" ping -n -c1 -W2 "$(cip "h$j")" >/dev/null ||
				die "$name: c$i cannot ping c$j over IPv4 ($(cip "h$j"))"
		done
	done
	info "$name: every container pings every other over IPv6 and IPv4"
}

# nd_check NAME: c1 forgets its IPv6 neighbours and resolves c3 again through the mesh.
nd_check() {
	local name=$1 mac3 got
	mac3=$(lab cexec h3 cat /sys/class/net/eth0/address)
	lab cexec h1 ip -6 neigh flush dev eth0
	got=$(lab cexec h1 ip -6 neigh show "$(cip6 h3)")
	[[ $got != *lladdr* ]] || die "$name: c1 still knows c3's MAC after the flush: $got"
	lab cexec h1 ping -6 -n -c1 -W2 "$(cip6 h3)" >/dev/null ||
		die "$name: c1 cannot ping $(cip6 h3) after flushing its neighbours (ND through the mesh)"
	got=$(lab cexec h1 ip -6 neigh show "$(cip6 h3)")
	[[ $got == *"lladdr $mac3"* ]] ||
		die "$name: c1 resolved $(cip6 h3) to '$got', expected c3's MAC $mac3"
	info "$name: neighbour discovery after a flush: $got"
}

# mcast6_round NAME PORT: c2 sends COUNT datagrams to GROUP6; c1 and c3 each get all, once.
mcast6_round() {
	local name=$1 port=$2 h k res got distinct dups
	local -a recv=(h1 h3) pids=()
	for h in "${recv[@]}"; do
		bg_start "$TEST_TMP/$name-$h.out" lab cexec "$h" python3 "$MCAST" recv "$GROUP6" "$port" \
			--timeout 30 --idle 5 --ready "$TEST_TMP/$name-$h.ready"
		pids+=("$BG_LAST")
	done
	for h in "${recv[@]}"; do
		wait_until 10 test -f "$TEST_TMP/$name-$h.ready" ||
			die "$name: the receiver in $h's container did not start: $(cat "$TEST_TMP/$name-$h.out")"
	done
	sleep 1 # the joins' MLD reports cross the bridges first
	lab cexec h2 python3 "$MCAST" send "$GROUP6" "$port" --count $COUNT --interval 0.002 --ttl 1 \
		>"$TEST_TMP/$name-send.out" 2>&1 ||
		die "$name: the sender in c2 failed: $(cat "$TEST_TMP/$name-send.out")"
	for k in "${!recv[@]}"; do
		h=${recv[k]}
		wait "${pids[k]}" || true
		bg_stop "${pids[k]}"
		res=$(tail -n 1 "$TEST_TMP/$name-$h.out")
		got=$(jq -r '.received' <<<"$res" 2>/dev/null) || got=""
		[[ -n $got && $got != null ]] || die "$name: c${h#h}: no result: $(cat "$TEST_TMP/$name-$h.out")"
		distinct=$(jq -r '.distinct' <<<"$res")
		dups=$(jq -r '.duplicates' <<<"$res")
		info "$name: c${h#h}: $res"
		((distinct == COUNT && dups == 0 && got == COUNT)) ||
			die "$name: c${h#h} got $got datagrams to $GROUP6, $distinct distinct, $dups duplicates; expected exactly $COUNT, once each"
	done
}

# overlay_round NAME PORT: sections 1-3.
overlay_round() {
	local t0
	t0=$(now_ms)
	wait_full_mesh $N "$t0"
	ping_all "$1"
	nd_check "$1"
	mcast6_round "$1" "$2"
}

# --- lab 1: the VXLAN fast path -----------------------------------------------------------
lab up $N
overlay_round vxlan 5001
for ((i = 1; i <= N; i++)); do
	[[ $(jget "h$i" '[.connections[] | select(.state == "established") | .overlay] | unique | join(",")') == "fastdp(vxlan)" ]] ||
		die "h$i: not every connection is on the VXLAN fast path: $(status_brief "h$i")"
done

# Relayed: with h1 <-> h2 blocked, c2's frames reach h1 through h3 (the sleeve relays; the
# fast path never does): ND and the multicast tree of c2 still deliver exactly once.
lab block h1 h2
tb=$(now_ms)
wait_by $((tb + 30000)) json_true h1 '.peers[] | select(.nickname == "h2") | .hops == 2' >/dev/null ||
	die "h1 does not reach h2 in 2 hops 30 s after the block: $(peer_json h1 h2)"
wait_by $((tb + 30000)) json_true h2 '.peers[] | select(.nickname == "h1") | .hops == 2' >/dev/null ||
	die "h2 does not reach h1 in 2 hops 30 s after the block: $(peer_json h2 h1)"
link_down='all(.peers[] | select(.nickname == "h1") | .connections[]; .nickname != "h2" or .established == false)
	and all(.peers[] | select(.nickname == "h2") | .connections[]; .nickname != "h1" or .established == false)'
for ((i = 1; i <= N; i++)); do
	wait_by $((tb + 30000)) json_true "h$i" "$link_down" >/dev/null ||
		die "h$i still sees the h1-h2 link up 30 s after the block: $(status_brief "h$i")"
done
lab cexec h1 ip -6 neigh flush dev eth0
wait_until 15 lab cexec h1 ping -6 -n -c1 -W1 "$(cip6 h2)" || die "blocked: c1 cannot ping $(cip6 h2) through h3"
info "h1 <-> h2 blocked: c1 resolves and pings $(cip6 h2) through h3"
mcast6_round blocked 5003
lab unblock h1 h2

info "meshctl status ipam shows the IPv6 range"
txt=$(lab exec h1 meshctl status ipam) || die "meshctl status ipam failed: $txt"
grep -qE "^ +IPv6 range: $RANGE6 " <<<"$txt" || die "meshctl status ipam has no 'IPv6 range: $RANGE6': $txt"
[[ $(lab exec h1 meshctl status ipam -o json | jq -r .range6) == "$RANGE6" ]] ||
	die "meshctl status ipam -o json has no range6 $RANGE6"
[[ $(jget h1 .ipam.range6) == "$RANGE6" ]] || die "meshctl status -o json: .ipam.range6 is not $RANGE6"
m=$(lab exec h1 curl -sf http://127.0.0.1:6782/metrics) || die "h1: no metrics on 127.0.0.1:6782"
grep -qxF "mesh_ipam_range_info{family=\"ipv6\",range=\"$RANGE6\"} 1" <<<"$m" ||
	die "h1's metrics have no mesh_ipam_range_info for $RANGE6: $(grep mesh_ipam <<<"$m")"

# --- mesh-cni through cnitool ---------------------------------------------------------------
NET=${LAB_NAME}v6
PLUGIN_DIR=$TEST_TMP/bin
mkdir -p "$PLUGIN_DIR"
cp "$CNI_BIN" "$PLUGIN_DIR/mesh-cni"
declare -A NS RES
for h in h1 h2; do
	mkdir -p "$TEST_TMP/$h/net.d"
	cat >"$TEST_TMP/$h/net.d/$NET.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$NET", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/$h/meshd.sock" }
] }
J
	NS[$h]=$LAB_NAME-$h-v6cni
	netns_add "${NS[$h]}"
done
ctool() {
	lab exec "$1" env CNI_PATH="$PLUGIN_DIR:/usr/lib/cni" NETCONFPATH="$TEST_TMP/$1/net.d" \
		CNI_IFNAME=eth0 "$CNITOOL" "$2" "$NET" "/var/run/netns/${NS[$1]}"
}
ctool_id() { echo "cnitool-$(printf '%s' "/var/run/netns/${NS[$1]}" | sha512sum | cut -c1-20)"; }
# shellcheck disable=SC2016 # run by eval at cleanup
on_exit 'for h in h1 h2; do ctool $h del >/dev/null 2>&1; done'

# expect6 IPV4: the IPv6 address meshd maps it to: fd6d:6573:6800:: with the IPv4 address's 32
# bits as its last 32 (router/ipam6.h)
expect6() {
	python3 -c 'import ipaddress, sys
v4 = ipaddress.IPv4Address(sys.argv[1])
print(ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd6d:6573:6800::")) + int(v4)))' "$1"
}

declare -A V4 V6
for h in h1 h2; do
	ns=${NS[$h]}
	RES[$h]=$(ctool "$h" add 2>"$TEST_TMP/$h/add.err") ||
		die "$h: cnitool add failed: $(cat "$TEST_TMP/$h/add.err") ${RES[$h]}"
	info "$h: Result $(jq -c . <<<"${RES[$h]}")"
	jq -e '. as $r | (.ips | length == 2) and (.ips[0].address | test("^10\\.40\\.[0-9]+\\.[0-9]+/12$"))
		and (.ips[1].address | test("^fd6d:6573:6800::a28:[0-9a-f]+/48$"))
		and all(.ips[]; has("version") | not)
		and all(.ips[]; $r.interfaces[.interface].name == "eth0" and $r.interfaces[.interface].sandbox == $s)' \
		--arg s "/var/run/netns/$ns" <<<"${RES[$h]}" >/dev/null ||
		die "$h: the Result does not list an IPv4 address of 10.40.0.0/16 (/12) and an IPv6 one of $RANGE6 (/48) on eth0: ${RES[$h]}"
	V4[$h]=$(jq -r '.ips[0].address | split("/")[0]' <<<"${RES[$h]}")
	V6[$h]=$(jq -r '.ips[1].address | split("/")[0]' <<<"${RES[$h]}")
	want=$(expect6 "${V4[$h]}")
	[[ ${V6[$h]} == "$want" ]] || die "$h: IPv6 address ${V6[$h]} is not $want, the image of ${V4[$h]}"
	# the kernel: the address, usable at once, and the on-link route of the range6
	got=$(ip -n "$ns" -6 -o addr show dev eth0 scope global)
	grep -q "inet6 ${V6[$h]}/48 " <<<"$got" || die "$h: eth0 in $ns has not ${V6[$h]}/48: $got"
	! grep -qE 'tentative|dadfailed' <<<"$got" || die "$h: ${V6[$h]} is not usable yet: $got"
	ip -n "$ns" -6 route show "$RANGE6" | grep -q "dev eth0" ||
		die "$h: no on-link route $RANGE6 on eth0: $(ip -n "$ns" -6 route)"
	[[ $(ip netns exec "$ns" cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6) == 0 ]] ||
		die "$h: IPv6 is off on eth0 in $ns"
	# meshd holds both
	id=$(ctool_id "$h")
	js=$(curl -sf --unix-socket "$LAB_RUN/$h/meshd.sock" http://meshd/v1/ipam) || die "$h: GET /v1/ipam failed"
	jq -e --arg id "$id" --arg v4 "${V4[$h]}" --arg v6 "${V6[$h]}" \
		'[.allocations[] | select(.container_id == $id and .ip == $v4 and .ip6 == $v6)] | length == 1' \
		<<<"$js" >/dev/null || die "$h: meshd does not hold ${V4[$h]} and ${V6[$h]} for $id: $(jq -c .allocations <<<"$js")"
	lab exec "$h" meshctl status ipam | grep -qE "$id +$NET +${V4[$h]} +${V6[$h]}\$" ||
		die "$h: meshctl status ipam does not list $id with ${V4[$h]} and ${V6[$h]}: $(lab exec "$h" meshctl status ipam)"
	ctool "$h" check >"$TEST_TMP/$h/check.out" 2>&1 || die "$h: cnitool check failed: $(cat "$TEST_TMP/$h/check.out")"
done
[[ ${V6[h1]} != "${V6[h2]}" ]] || die "both netns got ${V6[h1]}"
info "h1 got ${V4[h1]} and ${V6[h1]}, h2 got ${V4[h2]} and ${V6[h2]}; meshd holds both of each"

wait_until 15 ip netns exec "${NS[h1]}" ping -6 -c1 -W1 "${V6[h2]}" || die "h1's netns cannot ping ${V6[h2]}"
ip netns exec "${NS[h2]}" ping -6 -c2 -W2 "${V6[h1]}" >/dev/null || die "h2's netns cannot ping ${V6[h1]}"
ip netns exec "${NS[h2]}" ping -c1 -W2 "${V4[h1]}" >/dev/null || die "h2's netns cannot ping ${V4[h1]}"
info "the two netns ping each other over IPv6 (and IPv4) across the mesh"

# A new container with h1's address (DEL, ADD: the lowest free address again) has a new MAC; its
# unsolicited neighbour advertisement crosses the mesh and h2's netns, which knew the old MAC,
# updates its entry without sending anything itself.
old=$(ip netns exec "${NS[h2]}" ip -6 neigh show "${V6[h1]}")
[[ $old == *lladdr* ]] || die "h2's netns has no neighbour entry for ${V6[h1]} after the pings: '$old'"
ctool h1 del >"$TEST_TMP/h1/del-readd.out" 2>&1 || die "h1: cnitool del failed: $(cat "$TEST_TMP/h1/del-readd.out")"
RES[h1]=$(ctool h1 add 2>"$TEST_TMP/h1/readd.err") || die "h1: cnitool add again failed: $(cat "$TEST_TMP/h1/readd.err")"
[[ $(jq -r '.ips[1].address | split("/")[0]' <<<"${RES[h1]}") == "${V6[h1]}" ]] ||
	die "h1: the new container did not get ${V6[h1]} again: $(jq -c .ips <<<"${RES[h1]}")"
mac=$(ip netns exec "${NS[h1]}" cat /sys/class/net/eth0/address)
[[ $old != *"lladdr $mac "* ]] || die "the new container has the old MAC $mac"
nd_updated() { ip netns exec "${NS[h2]}" ip -6 neigh show "${V6[h1]}" | grep -q "lladdr $mac "; }
wait_until 3 nd_updated ||
	die "h2's netns still has '$(ip netns exec "${NS[h2]}" ip -6 neigh show "${V6[h1]}")' for ${V6[h1]}, not the new MAC $mac (no unsolicited NA across the mesh)"
info "h1's new container ($mac) announced ${V6[h1]}: h2's netns updated its neighbour entry"
ip netns exec "${NS[h2]}" ping -6 -c1 -W2 "${V6[h1]}" >/dev/null || die "h2's netns cannot ping the new ${V6[h1]}"

for h in h1 h2; do
	ctool "$h" del >"$TEST_TMP/$h/del.out" 2>&1 || die "$h: cnitool del failed: $(cat "$TEST_TMP/$h/del.out")"
	js=$(curl -sf --unix-socket "$LAB_RUN/$h/meshd.sock" http://meshd/v1/ipam) || die "$h: GET /v1/ipam failed"
	[[ $(jq '.allocations | length' <<<"$js") == 0 ]] || die "$h: meshd still holds $(jq -c .allocations <<<"$js")"
	left=$(ip -n "${NS[$h]}" -o link show | grep -vc ': lo:' || true)
	((left == 0)) || die "$h: links left in ${NS[$h]}: $(ip -n "${NS[$h]}" -o link show)"
done
info "cnitool del released both addresses"

# --- delegated IPAM: host-local with an IPv4 and an IPv6 range --------------------------------
HL=${LAB_NAME}v6hl
declare -A HLNS HLRES
for h in h1 h2; do
	k=${h#h}
	cat >"$TEST_TMP/$h/net.d/$HL.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$HL", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/$h/meshd.sock",
    "ipam": { "type": "host-local", "dataDir": "$TEST_TMP/$h/host-local",
              "ranges": [ [ { "subnet": "10.32.64.0/24", "rangeStart": "10.32.64.${k}0", "rangeEnd": "10.32.64.${k}9" } ],
                          [ { "subnet": "fd6d:64::/64", "rangeStart": "fd6d:64::${k}0", "rangeEnd": "fd6d:64::${k}9" } ] ] } }
] }
J
	HLNS[$h]=$LAB_NAME-$h-v6hl
	netns_add "${HLNS[$h]}"
done
hltool() {
	lab exec "$1" env CNI_PATH="$PLUGIN_DIR:/usr/lib/cni" NETCONFPATH="$TEST_TMP/$1/net.d" \
		CNI_IFNAME=eth0 "$CNITOOL" "$2" "$HL" "/var/run/netns/${HLNS[$1]}"
}
# shellcheck disable=SC2016 # run by eval at cleanup
on_exit 'for h in h1 h2; do hltool $h del >/dev/null 2>&1; done'
for h in h1 h2; do
	k=${h#h}
	HLRES[$h]=$(hltool "$h" add 2>"$TEST_TMP/$h/hl-add.err") ||
		die "$h: cnitool add (host-local) failed: $(cat "$TEST_TMP/$h/hl-add.err") ${HLRES[$h]}"
	info "$h: host-local Result $(jq -c .ips <<<"${HLRES[$h]}")"
	jq -e --arg a "10.32.64.${k}0/24" --arg b "fd6d:64::${k}0/64" \
		'[.ips[] | .address] == [$a, $b]' <<<"${HLRES[$h]}" >/dev/null ||
		die "$h: the Result does not pass through host-local's 10.32.64.${k}0/24 and fd6d:64::${k}0/64: ${HLRES[$h]}"
	got=$(ip -n "${HLNS[$h]}" -6 -o addr show dev eth0 scope global)
	if ! grep -q "inet6 fd6d:64::${k}0/64 " <<<"$got" || grep -qE 'tentative|dadfailed' <<<"$got"; then
		die "$h: eth0 has not a usable fd6d:64::${k}0/64: $got"
	fi
done
wait_until 15 ip netns exec "${HLNS[h1]}" ping -6 -c1 -W1 fd6d:64::20 ||
	die "the host-local netns on h1 cannot ping fd6d:64::20 on h2 over IPv6"
for h in h1 h2; do
	hltool "$h" del >"$TEST_TMP/$h/hl-del.out" 2>&1 || die "$h: cnitool del (host-local) failed: $(cat "$TEST_TMP/$h/hl-del.out")"
	! find "$TEST_TMP/$h/host-local" -name '*.*.*' -o -name '*:*' 2>/dev/null | grep -qv last_reserved ||
		die "$h: host-local still holds $(ls -R "$TEST_TMP/$h/host-local")"
done
info "delegated host-local IPAM: both of its families pass through, configured and released"

# --- lab 2: with a password (the sealed sleeve) and --ipalloc-range6 off ----------------------
lab_down vxlan
make_password_file "$TEST_TMP/password"
lab up $N --password-file "$TEST_TMP/password" -- --ipalloc-range6 off
overlay_round password 5002
txt=$(lab exec h1 meshctl status ipam) || die "meshctl status ipam failed: $txt"
grep -qE '^ +IPv6 range: off ' <<<"$txt" || die "meshctl status ipam does not say 'IPv6 range: off': $txt"
RES[h1]=$(ctool h1 add 2>"$TEST_TMP/h1/add-off.err") || die "h1: cnitool add failed: $(cat "$TEST_TMP/h1/add-off.err")"
jq -e '(.ips | length == 1) and (.ips[0].address | test("^10\\.40\\."))' <<<"${RES[h1]}" >/dev/null ||
	die "h1: with --ipalloc-range6 off the Result must hold the IPv4 address only: ${RES[h1]}"
[[ -z $(ip -n "${NS[h1]}" -6 -o addr show dev eth0 scope global) ]] ||
	die "h1: an IPv6 address on eth0 with --ipalloc-range6 off: $(ip -n "${NS[h1]}" -6 -o addr show)"
ctool h1 del >/dev/null 2>&1 || die "h1: cnitool del failed"
info "--ipalloc-range6 off: meshd hands out IPv4 only, and mesh-cni configures only that"
for ((i = 1; i <= N; i++)); do
	[[ $(jget "h$i" '[.connections[] | select(.state == "established") | .encryption] | unique | join(",")') != "none" ]] ||
		die "h$i: a connection is not encrypted: $(status_brief "h$i")"
done
