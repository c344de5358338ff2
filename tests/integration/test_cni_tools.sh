#!/usr/bin/env bash
# test_cni_tools: mesh-cni under cnitool, the CNI project's own client (libcni 1.1.2, built
# offline from Debian's source package golang-github-appc-cni by scripts/build-cni-tools.sh),
# and the real binary's answers to bad input. In a 2-host lab, in each host's netns:
#  1. `cnitool add` (mesh IPAM, no "ipam" key; h2 with isDefaultGateway and "gateway", and
#     CNI_IFNAME net1) into a netns of its own; the Result is checked field by field against the
#     CNI 1.0.0 spec: cniVersion; interfaces with the host veth (vethmesh*, no sandbox, on bridge
#     mesh) and the container interface (name = CNI_IFNAME, sandbox = the netns, mac = the
#     link's); ips[] with an address in 10.40.0.0/16 and prefix /12 (what the lab's meshd
#     hands out) and, on h1 ("ipv6": true), an IPv6 one of fd6d:6573:6800::/48 (h2: "ipv6": false),
#     no "version" key, interface pointing at the container interface, gateway when
#     configured; routes as configured (none / the default via the gateway); and all of it as
#     the kernel has it (address, MTU from meshd, routes). meshd holds that address for
#     cnitool's container id.
#  2. `cnitool check` passes; with the address taken off the interface it fails; put back, it
#     passes again.
#  3. The two netns ping each other across the mesh, and the lab's static containers.
#  4. `cnitool del` (twice: DEL is idempotent) leaves no vethmesh link, nothing but lo in the
#     netns, no allocation in meshd (GET /v1/ipam, meshctl status ipam).
#  5. Bad input: a table of malformed configs and environments, and runtime failures (absent
#     netns, unreachable meshd, a CHECK that does not match), each run through the real
#     binary: non-zero exit (no crash), one CNI error object on stdout with the documented code,
#     a msg, and the config's cniVersion. (tests/unit/test_cni_config.c has the parser's own
#     table of 60 cases.)
#  6. DEL deletes only its own container's veth (ADD writes "mesh-cni IFNAME CONTAINERID" into
#     the host veth's alias, checked in 1): a link with the same (hashed) name and another
#     container's alias is left in place, one with its own alias is deleted.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"

need_pkgs golang-go golang-github-appc-cni-dev dpkg-dev containernetworking-plugins curl
TOOLS=$(cni_tools cnitool)
CNITOOL=$TOOLS/cnitool

lab_fresh
lab up 2
wait_established h1 h2

NET=${LAB_NAME}tool
PLUGIN_DIR=$TEST_TMP/bin
mkdir -p "$PLUGIN_DIR"
cp "$CNI_BIN" "$PLUGIN_DIR/mesh-cni"
GW=10.32.0.254

declare -A IFN NS RES
IFN[h1]=eth0
IFN[h2]=net1

# Per host: net.d/<NET>.conflist (h2 with the default route via $GW) and a netns.
for h in h1 h2; do
	mkdir -p "$TEST_TMP/$h/net.d"
	extra=""
	# h1 asks for meshd's IPv6 address too ("ipv6": true: CNI_ARGS name a Kubernetes pod, for
	# which the default is IPv4 only), h2 for IPv4 only
	extra=", \"ipv6\": true"
	[[ $h == h1 ]] || extra=", \"isDefaultGateway\": true, \"gateway\": \"$GW\", \"ipv6\": false"
	cat >"$TEST_TMP/$h/net.d/$NET.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$NET", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/$h/meshd.sock"$extra }
] }
J
	jq -e . "$TEST_TMP/$h/net.d/$NET.conflist" >/dev/null || die "bad conflist for $h"
	NS[$h]=$LAB_NAME-$h-cnitool
	netns_add "${NS[$h]}"
done

# ctool h<i> add|check|del: cnitool in lab host i for its netns; stdout is the Result of add.
ctool() {
	local h=$1 cmd=$2
	lab exec "$h" env CNI_PATH="$PLUGIN_DIR:/usr/lib/cni" NETCONFPATH="$TEST_TMP/$h/net.d" \
		CNI_IFNAME="${IFN[$h]}" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=test;K8S_POD_NAME=$h" \
		"$CNITOOL" "$cmd" "$NET" "/var/run/netns/${NS[$h]}"
}
# cnitool's container id: "cnitool-" and the first 10 bytes of sha512(netns path) in hex.
ctool_id() { echo "cnitool-$(printf '%s' "/var/run/netns/${NS[$1]}" | sha512sum | cut -c1-20)"; }
on_exit 'for h in h1 h2; do ctool $h del >/dev/null 2>&1; done'

# jcheck h<i> WHAT JQ_FILTER [ARGS...]: the filter must yield true over host i's Result.
jcheck() {
	local h=$1 what=$2 filter=$3
	shift 3
	jq -e "$@" "$filter" <<<"${RES[$h]}" >/dev/null ||
		die "$h: Result: $what: $(jq -c . <<<"${RES[$h]}")"
}

mtu_d=$(jget h1 .mtu)
for h in h1 h2; do
	ifn=${IFN[$h]} ns=${NS[$h]}
	info "$h: cnitool add $NET /var/run/netns/$ns (CNI_IFNAME=$ifn)"
	RES[$h]=$(ctool "$h" add 2>"$TEST_TMP/$h/add.err") ||
		die "$h: cnitool add failed: $(cat "$TEST_TMP/$h/add.err") ${RES[$h]}"
	jq -e 'type == "object"' <<<"${RES[$h]}" >/dev/null 2>&1 || die "$h: cnitool add printed no JSON: ${RES[$h]}"
	info "$h: Result $(jq -c . <<<"${RES[$h]}")"

	# cniVersion, interfaces, ips, routes (SPEC.md "Success", 1.0.0)
	jcheck "$h" 'cniVersion is not 1.0.0' '.cniVersion == "1.0.0"'
	jcheck "$h" 'interfaces must be a list of objects with a name' \
		'(.interfaces | type == "array" and length >= 1) and all(.interfaces[]; (.name | type == "string") and .name != "")'
	jcheck "$h" 'every interface mac must be a MAC address' \
		'all(.interfaces[]; (.mac // "00:00:00:00:00:00") | test("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"))'
	jcheck "$h" "exactly one interface named $ifn with sandbox /var/run/netns/$ns" \
		'[.interfaces[] | select(.name == $i and .sandbox == $s)] | length == 1' \
		--arg i "$ifn" --arg s "/var/run/netns/$ns"
	jcheck "$h" 'the host veth (vethmesh*, no sandbox) must be listed' \
		'[.interfaces[] | select((.name | startswith("vethmesh")) and ((.sandbox // "") == ""))] | length == 1'
	if [[ $h == h1 ]]; then
		jcheck "$h" 'ips must hold exactly two entries (IPv4, IPv6)' '(.ips | type == "array") and (.ips | length == 2)'
		jcheck "$h" 'ips[1].address must be in fd6d:6573:6800::a28:0/112 (the IPv4 address in the last 32 bits) with prefix /48' \
			'.ips[1].address | test("^fd6d:6573:6800::a28:[0-9a-f]{1,4}/48$")'
		jcheck "$h" "ips[1] must be on $ifn, without gateway or version" \
			'(.ips[1] | has("gateway") or has("version") | not) and .interfaces[.ips[1].interface].name == $i' --arg i "$ifn"
	else
		jcheck "$h" 'ips must hold exactly one entry ("ipv6": false)' '(.ips | type == "array") and (.ips | length == 1)'
	fi
	jcheck "$h" 'ips[0].address must be in 10.40.0.0/16 with prefix /12' \
		'.ips[0].address | test("^10\\.40\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])/12$")'
	jcheck "$h" 'ips[0] must not carry "version" (gone in 1.0.0)' '.ips[0] | has("version") | not'
	jcheck "$h" "ips[0].interface must index the $ifn entry" \
		'(.ips[0].interface | type == "number") and .interfaces[.ips[0].interface].name == $i and
		 .interfaces[.ips[0].interface].sandbox == $s' --arg i "$ifn" --arg s "/var/run/netns/$ns"
	if [[ $h == h1 ]]; then
		jcheck "$h" 'no routes configured, none expected' '(.routes // []) == []'
		jcheck "$h" 'no gateway configured, none expected' '.ips[0] | has("gateway") | not'
	else
		jcheck "$h" "routes must be exactly the default via $GW" \
			'[.routes[] | {dst, gw}] == [{dst: "0.0.0.0/0", gw: $g}]' --arg g "$GW"
		jcheck "$h" "ips[0].gateway must be $GW" '.ips[0].gateway == $g' --arg g "$GW"
	fi

	# what the kernel has
	addr=$(jq -r '.ips[0].address' <<<"${RES[$h]}")
	mac=$(jq -r --arg i "$ifn" '.interfaces[] | select(.name == $i) | .mac' <<<"${RES[$h]}")
	host_if=$(jq -r '.interfaces[] | select(.name | startswith("vethmesh")) | .name' <<<"${RES[$h]}")
	ip -n "$ns" -4 -o addr show dev "$ifn" | grep -q "inet $addr " ||
		die "$h: $ifn in $ns has not $addr: $(ip -n "$ns" -4 -o addr show)"
	[[ $(ip netns exec "$ns" cat "/sys/class/net/$ifn/address") == "$mac" ]] ||
		die "$h: $ifn's MAC is not the Result's $mac"
	[[ $(ip netns exec "$ns" cat "/sys/class/net/$ifn/mtu") == "$mtu_d" ]] ||
		die "$h: $ifn's MTU is not meshd's $mtu_d"
	# whose veth it is (DEL checks it: section 6)
	lab exec "$h" ip -d link show "$host_if" | grep -qF "alias mesh-cni $ifn $(ctool_id "$h")" ||
		die "$h: $host_if has no alias 'mesh-cni $ifn $(ctool_id "$h")': $(lab exec "$h" ip -d link show "$host_if")"
	if [[ $h == h1 ]]; then
		addr6=$(jq -r '.ips[1].address' <<<"${RES[$h]}")
		ip -n "$ns" -6 -o addr show dev "$ifn" | grep -q "inet6 $addr6 " ||
			die "$h: $ifn in $ns has not $addr6: $(ip -n "$ns" -6 -o addr show)"
	else
		[[ -z $(ip -n "$ns" -6 -o addr show dev "$ifn" scope global) ]] ||
			die "$h: an IPv6 address on $ifn although \"ipv6\": false: $(ip -n "$ns" -6 -o addr show)"
	fi
	ip -n "$ns" -4 route show 10.32.0.0/12 | grep -q "dev $ifn" ||
		die "$h: no subnet route 10.32.0.0/12 on $ifn: $(ip -n "$ns" -4 route)"
	if [[ $h == h2 ]]; then
		ip -n "$ns" -4 route show default | grep -q "via $GW dev $ifn" ||
			die "$h: no default route via $GW: $(ip -n "$ns" -4 route)"
	else
		[[ -z $(ip -n "$ns" -4 route show default) ]] || die "$h: a default route nobody asked for"
	fi
	lab exec "$h" ip -d -o link show dev "$host_if" | grep -q 'master mesh .*hairpin on' ||
		die "$h: $host_if is not a hairpin port of bridge mesh: $(lab exec "$h" ip -d link show dev "$host_if")"

	# meshd holds that address for cnitool's container id
	id=$(ctool_id "$h")
	[[ $(ipam_addr "$h" "$id") == "${addr%/*}" ]] ||
		die "$h: meshd does not hold ${addr%/*} for $id: $(ipam_ids "$h" | tr '\n' ' ')"
done
ip1=$(jq -r '.ips[0].address | split("/")[0]' <<<"${RES[h1]}")
ip2=$(jq -r '.ips[0].address | split("/")[0]' <<<"${RES[h2]}")
[[ $ip1 != "$ip2" ]] || die "both netns got $ip1"
info "h1: $ip1 on ${IFN[h1]}, h2: $ip2 on ${IFN[h2]}; the Results match the spec and the kernel"

info "cnitool check on both hosts"
for h in h1 h2; do
	ctool "$h" check >"$TEST_TMP/$h/check.out" 2>&1 || die "$h: cnitool check failed: $(cat "$TEST_TMP/$h/check.out")"
done
info "h1: cnitool check fails with the address taken off ${IFN[h1]}, passes once it is back"
ip -n "${NS[h1]}" addr del "$ip1/12" dev "${IFN[h1]}"
if ctool h1 check >"$TEST_TMP/h1/check-bad.out" 2>&1; then die "h1: cnitool check passed without the address"; fi
info "  (it said: $(head -c 300 "$TEST_TMP/h1/check-bad.out"))"
ip -n "${NS[h1]}" addr add "$ip1/12" dev "${IFN[h1]}"
ctool h1 check >"$TEST_TMP/h1/check.out" 2>&1 || die "h1: cnitool check failed again: $(cat "$TEST_TMP/h1/check.out")"

info "ping $ip1 <-> $ip2 across the mesh, and the lab's static containers"
wait_until 15 ip netns exec "${NS[h1]}" ping -c1 -W1 "$ip2" || die "h1's netns cannot ping $ip2"
ip netns exec "${NS[h2]}" ping -c2 -W2 "$ip1" >/dev/null || die "h2's netns cannot ping $ip1"
ip netns exec "${NS[h1]}" ping -c1 -W2 10.32.0.2 >/dev/null || die "h1's netns cannot ping h2's container 10.32.0.2"
lab cexec h1 ping -c1 -W2 "$ip2" >/dev/null || die "h1's container cannot ping $ip2"

for h in h1 h2; do
	info "$h: cnitool del, twice"
	ctool "$h" del >"$TEST_TMP/$h/del.out" 2>&1 || die "$h: cnitool del failed: $(cat "$TEST_TMP/$h/del.out")"
	ctool "$h" del >"$TEST_TMP/$h/del2.out" 2>&1 || die "$h: second cnitool del failed: $(cat "$TEST_TMP/$h/del2.out")"
	n=$(vethmesh_count "$h")
	((n == 0)) || die "$h: $n vethmesh link(s) left: $(lab exec "$h" ip -o link show | grep vethmesh)"
	left=$(ip -n "${NS[$h]}" -o link show | grep -vc ': lo:' || true)
	((left == 0)) || die "$h: links left in ${NS[$h]}: $(ip -n "${NS[$h]}" -o link show)"
	[[ -z $(ipam_ids "$h") ]] || die "$h: meshd still holds addresses for $(ipam_ids "$h" | tr '\n' ' ')"
	c=$(lab exec "$h" meshctl status ipam -o json | jq -r .allocation_count)
	[[ $c == 0 ]] || die "$h: meshctl status ipam counts $c allocations"
	[[ ! -e /var/lib/cni/results/$NET-$(ctool_id "$h")-${IFN[$h]} ]] || die "$h: libcni's cached result left"
done
info "DEL left no veth, no address, no allocation"

# --- 5. bad input through the binary ------------------------------------------------------
info "bad input: malformed configs and environments, and failures at run time"
BADNS=$LAB_NAME-h1-cnibad
netns_add "$BADNS"
S1=$LAB_RUN/h1/meshd.sock
C='"cniVersion":"1.0.0","name":"bad","type":"mesh-cni"'
OKC="{$C,\"socket\":\"$S1\"}"
PREV_OK='"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/'$BADNS'"}],"ips":[{"address":"10.40.9.9/12","interface":0}]}'
ENV_ADD="CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni"

# Each row: code | version expected in the error ("" = any) | env (KEY=VALUE words; "-" none) | stdin | what
BAD=(
	# (without a known CNI_COMMAND the config is not read: the error says cniVersion 1.1.0)
	"4||CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|no CNI_COMMAND"
	"4||CNI_COMMAND=ATTACH CNI_CONTAINERID=bad1 CNI_PATH=/p|$OKC|unknown CNI_COMMAND"
	"4|1.0.0|CNI_COMMAND=ADD CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|ADD without CNI_CONTAINERID"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=a/b CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|CNI_CONTAINERID with a slash"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|ADD without CNI_NETNS"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=netns/x CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|relative CNI_NETNS"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_PATH=/p|$OKC|ADD without CNI_IFNAME"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0123456789abc CNI_PATH=/p|$OKC|CNI_IFNAME of 16 characters"
	"4|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0|$OKC|ADD without CNI_PATH"
	"4|1.0.0|$ENV_ADD CNI_ARGS=IgnoreUnknown=1;garbage|$OKC|CNI_ARGS pair without ="
	"6||$ENV_ADD||empty stdin"
	"6||$ENV_ADD|cniVersion: 1.0.0|not JSON"
	"6||$ENV_ADD|{$C,|truncated JSON"
	"6||$ENV_ADD|[\"mesh\"]|a JSON array"
	"7||$ENV_ADD|{\"name\":\"bad\",\"type\":\"mesh-cni\"}|no cniVersion"
	"1||$ENV_ADD|{\"cniVersion\":\"0.2.0\",\"name\":\"bad\",\"type\":\"mesh-cni\"}|cniVersion 0.2.0"
	"1||$ENV_ADD|{\"cniVersion\":\"9.9.9\",\"name\":\"bad\",\"type\":\"mesh-cni\"}|cniVersion 9.9.9"
	"1|1.0.0|CNI_COMMAND=GC CNI_PATH=/p|$OKC|GC on a 1.0.0 config"
	"7|1.0.0|$ENV_ADD|{\"cniVersion\":\"1.0.0\",\"type\":\"mesh-cni\"}|no name"
	"7|1.0.0|$ENV_ADD|{\"cniVersion\":\"1.0.0\",\"name\":\"bad\"}|no type"
	"7|1.0.0|$ENV_ADD|{$C,\"bridge\":\"abcdefghijklmnopq\"}|bridge name too long"
	"7|1.0.0|$ENV_ADD|{$C,\"mtu\":70000}|mtu too large"
	"7|1.0.0|$ENV_ADD|{$C,\"mtu\":\"1400\"}|mtu as a string"
	"7|1.0.0|$ENV_ADD|{$C,\"socket\":\"run/meshd.sock\"}|relative socket"
	"7|1.0.0|$ENV_ADD|{$C,\"socket\":\"$S1\",\"isDefaultGateway\":true}|mesh IPAM, isDefaultGateway without gateway, meshd without --expose"
	"7|1.0.0|$ENV_ADD|{$C,\"gateway\":\"fd00::1\"}|IPv6 gateway"
	"2|1.0.0|$ENV_ADD|{$C,\"ipMasq\":true}|ipMasq (unsupported)"
	"7|1.0.0|$ENV_ADD|{$C,\"ipam\":\"host-local\"}|ipam not an object"
	"7|1.0.0|$ENV_ADD|{$C,\"ipam\":{\"type\":\"../bin/sh\"}}|ipam type with a slash"
	"7|1.0.0|CNI_COMMAND=CHECK CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|CHECK without prevResult"
	"7|1.1.0|CNI_COMMAND=GC CNI_PATH=/p|{\"cniVersion\":\"1.1.0\",\"name\":\"bad\",\"type\":\"mesh-cni\",\"socket\":\"$S1\",\"cni.dev/valid-attachments\":[{\"ifname\":\"eth0\"}]}|GC attachment without containerID"
	"3|1.0.0|CNI_COMMAND=ADD CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$LAB_NAME-no-such-ns CNI_IFNAME=eth0 CNI_PATH=/p|$OKC|ADD into an absent netns"
	"3|1.0.0|CNI_COMMAND=CHECK CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$LAB_NAME-no-such-ns CNI_IFNAME=eth0 CNI_PATH=/p|{$C,\"socket\":\"$S1\",$PREV_OK}|CHECK of an absent netns"
	"11|1.0.0|$ENV_ADD|{$C,\"socket\":\"$TEST_TMP/no.sock\",\"bridge\":\"nosuchbr\"}|meshd unreachable, bridge missing"
	"50|1.1.0|CNI_COMMAND=STATUS CNI_PATH=/p|{\"cniVersion\":\"1.1.0\",\"name\":\"bad\",\"type\":\"mesh-cni\",\"socket\":\"$TEST_TMP/no.sock\"}|STATUS with meshd unreachable"
	"7|1.0.0|CNI_COMMAND=CHECK CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=net9 CNI_PATH=/p|{$C,\"socket\":\"$S1\",$PREV_OK}|CHECK: prevResult lacks CNI_IFNAME"
	"999|1.0.0|CNI_COMMAND=CHECK CNI_CONTAINERID=bad1 CNI_NETNS=/var/run/netns/$BADNS CNI_IFNAME=eth0 CNI_PATH=/p|{$C,\"socket\":\"$S1\",$PREV_OK}|CHECK: no veth was ever made"
	"7|1.0.0|$ENV_ADD|{$C,\"socket\":\"$S1\",\"ipam\":{\"type\":\"no-such-ipam\"}}|delegated IPAM plugin not in CNI_PATH"
)
nbad=0
badfail=()
for row in "${BAD[@]}"; do
	IFS='|' read -r code ver envs conf what <<<"$row"
	nbad=$((nbad + 1))
	envargs=()
	read -ra envargs <<<"$envs"
	rc=0
	out=$(printf '%s' "$conf" | timeout 20 ip netns exec "$LAB_NAME-h1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"${envargs[@]}" "$CNI_BIN" 2>"$TEST_TMP/bad.err") || rc=$?
	if ((rc == 0)); then
		badfail+=("'$what': exit 0 (stdout: $out)")
	elif ((rc >= 124)); then
		badfail+=("'$what': exit $rc (crash or hang): $(head -c 300 "$TEST_TMP/bad.err")")
	elif ! jq -e --argjson c "$code" --arg v "$ver" \
		'type == "object" and .code == $c and (.msg | type == "string" and length > 0) and
		 ($v == "" or .cniVersion == $v)' <<<"$out" >/dev/null 2>&1; then
		badfail+=("'$what': want code $code${ver:+ and cniVersion $ver}, got (exit $rc): $out")
	fi
done
if ((${#badfail[@]})); then
	printf '  %s\n' "${badfail[@]}" >&2
	die "${#badfail[@]} of $nbad bad inputs not answered as documented"
fi
((nbad >= 30)) || die "only $nbad bad-input cases"
info "$nbad bad inputs, each a CNI error with its documented code; nothing left behind:"
n=$(vethmesh_count h1)
((n == 0)) || die "h1: a failed ADD left $n vethmesh link(s)"
[[ -z $(ipam_ids h1) ]] || die "h1: a failed ADD left allocations: $(ipam_ids h1 | tr '\n' ' ')"
info "  no vethmesh link, no allocation"

# --- 6. DEL deletes only its own container's veth ----------------------------------------
# The host veth's name is a 28-bit hash of container id and ifname, so two containers can get
# the same name: mesh-cni writes whose veth it is into its alias, and DEL leaves a veth with
# another container's alias alone (it still succeeds, and says so on stderr).
info "DEL of a container whose veth name another container's veth holds"
veth=$(python3 -c '
import sys
h = 2166136261
for b in b"collide1" + b"\0" + b"eth0":
    h = ((h ^ b) * 16777619) & 0xffffffff
print("vethmesh%07x" % (h & 0x0fffffff))')
ip -n "$LAB_NAME-h1" link add "$veth" type veth peer name collide-peer
ip -n "$LAB_NAME-h1" link set "$veth" alias "mesh-cni eth0 someone-else"
del_collide1() {
	printf '%s' "$OKC" | timeout 20 ip netns exec "$LAB_NAME-h1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND=DEL CNI_CONTAINERID=collide1 CNI_NETNS=/var/run/netns/$LAB_NAME-no-such-ns \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$CNI_BIN" 2>"$TEST_TMP/collide.err"
}
del_collide1 || die "DEL failed with another container's veth in the way: $(cat "$TEST_TMP/collide.err")"
ip -n "$LAB_NAME-h1" link show "$veth" >/dev/null 2>&1 || die "DEL of collide1 deleted someone-else's $veth"
grep -q 'belongs to another container' "$TEST_TMP/collide.err" ||
	die "DEL did not say why it left $veth: $(cat "$TEST_TMP/collide.err")"
info "  $veth (someone-else's) left in place: $(cat "$TEST_TMP/collide.err")"
ip -n "$LAB_NAME-h1" link set "$veth" alias "mesh-cni eth0 collide1"
del_collide1 || die "DEL of collide1's own veth failed: $(cat "$TEST_TMP/collide.err")"
! ip -n "$LAB_NAME-h1" link show "$veth" >/dev/null 2>&1 || die "DEL of collide1 left its own $veth"
info "  with collide1's own alias, DEL deleted it"
