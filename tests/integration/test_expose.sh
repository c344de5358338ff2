#!/usr/bin/env bash
# test_expose: --expose puts each host on the container network with an address of the mesh
# IPAM and, with --ipalloc-range6 (on by default), that address's IPv6 (issue 18: what a
# dual-stack Kubernetes node needs, the pods' IPv6 gateway). 2 hosts, meshd --expose:
#  1. status (host.address, host.address6) and the bridge agree: the IPv6 is range6's prefix
#     with the IPv4 as its last 32 bits, with range6's prefix length, usable (not tentative);
#  2. an address the IPAM hands out comes with both gateways ("gateway", "gateway6");
#  3. a container reaches its own host and the other host over IPv4 and over IPv6;
#  4. addresses another program removes from the bridge are put back within 5 s, counted
#     (host.address_repairs) and logged;
#  5. `meshctl status` names both addresses;
#  6. h2 restarted with another --ipalloc-range6: both hosts say the ranges differ (their
#     containers cannot reach each other over IPv6): log, status, counter, meshctl's warning.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

lab up 2 -- --expose
wait_full_mesh 2 "$(now_ms)"

# mapped RANGE6 IPV4: IPV4's address in RANGE6 (its last 32 bits)
mapped() {
	python3 -c 'import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
print(ipaddress.IPv6Address(int(net.network_address) | int(ipaddress.IPv4Address(sys.argv[2]))))' "$1" "$2"
}
has_addr6() { jget "$1" '.host.address6 // empty' | grep -q .; }

declare -A A4 A6
range6=$(lab exec h1 meshctl status ipam -o json | jq -r .range6)
[[ $range6 == fd6d:6573:6800::/48 ]] || die "range6 is '$range6', want the default fd6d:6573:6800::/48"
for h in h1 h2; do
	wait_until 20 has_addr6 "$h" ||
		die "$h has no IPv6 address on the bridge after 20 s: $(jget "$h" '.host' | tr -d '\n')"
	a=$(jget "$h" .host.address)
	a6=$(jget "$h" .host.address6)
	A4[$h]=${a%/*}
	A6[$h]=${a6%/*}
	[[ $a == 10.40.*/12 ]] || die "$h: host address '$a', want one of 10.40.0.0/16 with the /12 of --ipalloc-default-subnet"
	[[ ${A6[$h]} == "$(mapped "$range6" "${A4[$h]}")" && $a6 == */48 ]] ||
		die "$h: host IPv6 '$a6' is not ${A4[$h]} in $range6 (want $(mapped "$range6" "${A4[$h]}")/48)"
	lab exec "$h" ip -4 addr show dev mesh | grep -q "inet $a " || die "$h: bridge mesh lacks $a"
	line=$(lab exec "$h" ip -6 addr show dev mesh | grep "inet6 $a6 ") ||
		die "$h: bridge mesh lacks $a6: $(lab exec "$h" ip -6 addr show dev mesh | tr '\n' ' ')"
	[[ $line != *tentative* ]] || die "$h: $a6 is tentative (duplicate address detection): $line"
	info "1. $h is $a and $a6 on bridge mesh"
done

out=$(api h1 POST /v1/ipam/allocate '{"container_id":"gwcheck"}')
[[ ${out##*$'\n'} == 200 ]] || die "allocate on h1: $out"
jq -e --arg g "${A4[h1]}" --arg g6 "${A6[h1]}" '.gateway == $g and .gateway6 == $g6' <<<"${out%$'\n'*}" >/dev/null ||
	die "h1's allocation answer lacks gateway ${A4[h1]} / gateway6 ${A6[h1]}: ${out%$'\n'*}"
api h1 POST /v1/ipam/release '{"container_id":"gwcheck"}' >/dev/null
info "2. an allocation on h1 comes with gateway ${A4[h1]} and gateway6 ${A6[h1]}"

# c1 (10.32.0.1/12) gets its own address in range6, as mesh-cni gives a container
c6=$(mapped "$range6" 10.32.0.1)
lab cexec h1 ip addr add "$c6/48" dev eth0 nodad
for h in h1 h2; do
	wait_until 15 lab cexec h1 ping -n -q -c1 -W1 "${A4[$h]}" >/dev/null ||
		die "c1 does not reach $h's host address ${A4[$h]}"
	wait_until 15 lab cexec h1 ping -6 -n -q -c1 -W1 "${A6[$h]}" >/dev/null ||
		die "c1 ($c6) does not reach $h's host address ${A6[$h]}"
done
info "3. c1 (10.32.0.1, $c6) reaches h1 and h2 over IPv4 and IPv6"

before=$(jget h2 .host.address_repairs)
lab exec h2 ip addr del "${A6[h2]}/48" dev mesh
lab exec h2 ip addr del "$(jget h2 .host.address)" dev mesh
back() {
	lab exec h2 ip -6 addr show dev mesh | grep -q "inet6 ${A6[h2]}/48" &&
		lab exec h2 ip -4 addr show dev mesh | grep -q "inet ${A4[h2]}/"
}
wait_until 5 back || die "h2's addresses were not put back on the bridge within 5 s"
wait_until 5 json_true h2 ".host.address_repairs >= $((before + 2))" ||
	die "h2 counted $(jget h2 .host.address_repairs) repairs, want $((before + 2))"
grep -q "expose: the address ${A6[h2]}/48 was gone from bridge mesh: put back" "$LAB_RUN/h2/meshd.log" ||
	die "h2's log does not say the IPv6 address was put back"
wait_until 15 lab cexec h1 ping -6 -n -q -c1 -W1 "${A6[h2]}" >/dev/null || die "c1 does not reach ${A6[h2]} after the repair"
info "4. removed from h2's bridge, both addresses were back within 5 s (counted, logged)"

lab exec h1 meshctl status | grep -q "Host: ${A4[h1]}/12 and ${A6[h1]}/48 on bridge mesh (the containers' gateway)" ||
	die "meshctl status does not name both addresses: $(lab exec h1 meshctl status | grep Host:)"
info "5. meshctl status: $(lab exec h1 meshctl status | grep Host: | sed 's/^ *//')"

# h2 again, with another IPv6 range (its args saved by the lab: the flag goes first)
lab kill h2
{ printf '%s\n' --ipalloc-range6 fd00:1::/48; cat "$LAB_RUN/h2/args"; } >"$TEST_TMP/args"
cp "$TEST_TMP/args" "$LAB_RUN/h2/args"
lab start h2
conflict() { json_true "$1" "([.connections[] | select(.state == \"established\" and .ipv6_range_conflict == \"$2\")] | length == 1) and .counters.ipam_range6_conflicts >= 1"; }
wait_until 30 conflict h1 fd00:1::/48 ||
	die "h1 does not say h2's IPv6 range differs: $(jget h1 '[.connections[] | {nickname, state, ipv6_range_conflict}]' | tr -d '\n')"
wait_until 5 conflict h2 fd6d:6573:6800::/48 || die "h2 does not say h1's IPv6 range differs"
grep -q "h2.*the peer's IPv6 range is fd00:1::/48, this host's fd6d:6573:6800::/48: their containers cannot reach ours over IPv6" "$LAB_RUN/h1/meshd.log" ||
	die "h1's log does not say the IPv6 ranges differ"
lab exec h1 meshctl status connections | grep -q "Warning: h2's IPv6 range is fd00:1::/48, not this host's" ||
	die "meshctl status connections gives no warning: $(lab exec h1 meshctl status connections)"
lab exec h1 curl -sf http://127.0.0.1:6782/metrics | grep -q '^mesh_ipam_range6_conflicts_total [1-9]' ||
	die "the metric mesh_ipam_range6_conflicts_total is not counted"
info "6. h2 with fd00:1::/48: both hosts log and show the conflict, meshctl warns, the metric counts it"
