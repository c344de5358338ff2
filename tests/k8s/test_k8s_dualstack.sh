#!/usr/bin/env bash
# test_k8s_dualstack (issue 18): dual-stack pods under a real kubelet, on a cluster that
# `scripts/k8s-lab up N --dual-stack` made (the IPv6DualStack gate, both families' ranges,
# mesh-cni's "ipv6": true in the DaemonSet's ConfigMap, as a user sets it):
#  1. one pod per node, each with status.podIPs = [its IPv4 from the mesh IPAM, its IPv6 in
#     meshd's --ipalloc-range6: the range's prefix with the IPv4 address as the last 32 bits];
#  2. every pod reaches every other over IPv6 across nodes, TCP (HTTP) and UDP, and sees the other's own IPv6 address as the source (no NAT);
#  3. a pod's IPv6 default route is via its node's bridge address (meshd --expose, its IPv6
#     in range6), and an IPv6 Service (kube-proxy's ip6tables) reaches its endpoint on another
#     node;
#  4. NetworkPolicy holds over both families (ingress to p3 only from app=p1: p1 reaches p3
#     over IPv4 and IPv6, p2 over neither; p2's drops listed with the policy, the IPv6 one
#     by p2's IPv6 address); an IPv6 ipBlock then lets p2 in over IPv6 only.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

make_ns
read -ra N <<<"$(nodes)"
((${#N[@]} >= 3)) || die "needs 3 nodes, the cluster has ${#N[@]}"
[[ $(kc get --raw /api/v1/namespaces/default/services/kubernetes | jq -r '.spec.ipFamilies // [] | length') != 0 ]] ||
	die "the cluster does not know ipFamilies: was it brought up with --dual-stack?"

info "1. one pod per node, with an IPv4 and an IPv6 address"
for i in 1 2 3; do netexec_pod "p$i" "${N[i - 1]}"; done
kn wait --for=condition=Ready pod/p1 pod/p2 pod/p3 --timeout=120s >/dev/null || die "the pods did not turn Ready"
range6=$(k8s exec h1 meshctl status ipam -o json | jq -r '.range6 // empty')
[[ -n $range6 ]] || die "h1's meshd has no IPv6 range (meshctl status ipam: no range6)"
declare -A V4 V6
for i in 1 2 3; do
	read -r V4[$i] V6[$i] n <<<"$(kn get pod "p$i" -o json | jq -r '[.status.podIPs[].ip] | "\(.[0]) \(.[1] // "-") \(length)"')"
	((n == 2)) || die "p$i has $n addresses in status.podIPs, want 2"
	[[ ${V4[$i]} == 10.* && ${V6[$i]} == *:* ]] || die "p$i: podIPs ${V4[$i]} ${V6[$i]}: want IPv4 then IPv6"
	want=$(python3 -c 'import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1])
print(ipaddress.IPv6Address(int(net.network_address) | int(ipaddress.IPv4Address(sys.argv[2]))))' "$range6" "${V4[$i]}")
	[[ $(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "${V6[$i]}") == "$want" ]] ||
		die "p$i: IPv6 ${V6[$i]} is not its IPv4 ${V4[$i]} in $range6 (want $want)"
	info "  p$i on ${N[i - 1]}: ${V4[$i]} ${V6[$i]}"
done

# dial FROM TO_ADDR PROTO: what the pod at TO_ADDR answers to "hostname", asked by pod FROM
# (netexec's /dial: FROM connects itself)
dial() {
	in_pod "$1" curl -s -m 8 -g \
		"http://localhost:8080/dial?request=hostname&protocol=$3&host=$2&port=$([[ $3 == udp ]] && echo 8081 || echo 8080)&tries=1" |
		jq -r '.responses[0] // "UNREACHABLE"' 2>/dev/null || echo UNREACHABLE
}

info "2. every pod reaches every other over IPv6, TCP and UDP"
for a in 1 2 3; do
	for b in 1 2 3; do
		((a != b)) || continue
		for proto in http udp; do
			got=$(dial "p$a" "${V6[$b]}" "$proto")
			[[ $got == "p$b" ]] || die "p$a -> p$b [${V6[$b]}] over $proto: got '$got'"
		done
		src=$(in_pod "p$a" curl -s -m 5 -g "http://[${V6[$b]}]:8080/clientip") || src=UNREACHABLE
		[[ $(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1].rsplit(":", 1)[0].strip("[]")))' "$src" 2>/dev/null) == \
			$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "${V6[$a]}") ]] ||
			die "p$b saw p$a's IPv6 connection come from '$src', want [${V6[$a]}]"
	done
done
info "  6 pairs answered over IPv6 (TCP and UDP), each from the other's own address"

info "3. the pods' IPv6 gateway, and an IPv6 Service"
for i in 1 2 3; do
	gw6=$(k8s exec "${N[i - 1]}" meshctl status -o json | jq -r '.host.address6 // empty')
	[[ -n $gw6 ]] || die "${N[i - 1]}'s meshd has no IPv6 address on the bridge: $(k8s exec "${N[i - 1]}" meshctl status -o json | jq -c .host)"
	in_pod "p$i" ip -6 route show default | grep -q "via ${gw6%/*} " ||
		die "p$i's IPv6 default route is not via ${gw6%/*}: $(in_pod "p$i" ip -6 route show default)"
done
kn apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: p2-v6}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  selector: {app: p2}
  ports: [{port: 80, targetPort: 8080}]
YAML
vip6=$(kn get svc p2-v6 -o 'jsonpath={.spec.clusterIP}')
[[ $vip6 == *:* ]] || die "Service p2-v6 got '$vip6', want an IPv6 ClusterIP"
wait_until 30 bash -c "'$K8S_LAB' kubectl -n '$NS' exec p1 -- curl -s -m 3 -g 'http://[$vip6]/hostname' | grep -qx p2" ||
	die "p1 (${N[0]}) -> Service [$vip6]: no answer from p2 (${N[1]})"
info "  each pod's ::/0 is via its node; Service [$vip6] answered p1 from p2"

info "4. NetworkPolicy in a dual-stack cluster, both families"
kn apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p3-ingress}
spec:
  podSelector: {matchLabels: {app: p3}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: p1}}
YAML
# expect FROM FAMILY WANT: p3 answers FROM over IPv4 or IPv6 (WANT yes) or does not (no); the
# policy takes a moment to reach p3's node, so a change is waited for
expect() {
	local from=$1 fam=$2 want=$3 got to
	[[ $fam == 4 ]] && to=${V4[3]} || to=${V6[3]}
	for ((try = 0; try < 20; try++)); do
		got=$(dial "$from" "$to" http)
		if [[ $want == yes && $got == p3 ]] || [[ $want == no && $got != p3 ]]; then
			return 0
		fi
		sleep 0.5
	done
	die "$from -> p3 over IPv$fam: got '$got', want $([[ $want == yes ]] && echo "an answer" || echo "no answer")"
}
expect p2 4 no
expect p2 6 no
expect p1 4 yes
expect p1 6 yes
h3=${N[2]}
for a in "${V4[2]}" "${V6[2]}"; do
	wait_until 10 bash -c "'$K8S_LAB' exec $h3 meshctl status policy -o json |
		jq -e --arg s '$a' '[.drops.recent[]? | select(.flow | contains(\$s)) | select(.why | contains(\"p3-ingress\"))] | length > 0'" >/dev/null ||
		die "$h3 lists no dropped flow from p2 ($a) naming policy p3-ingress: $(k8s exec "$h3" meshctl status policy -o json | jq -c '.drops.recent[:3]')"
done
info "  p1 reaches p3 over IPv4 and IPv6, p2 over neither, and $h3 lists both of p2's drops with the policy"
kn apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p3-ingress-block6}
spec:
  podSelector: {matchLabels: {app: p3}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - ipBlock: {cidr: "${V6[2]}/128"}
YAML
expect p2 6 yes
expect p2 4 no
info "  an IPv6 ipBlock lets p2 reach p3 over IPv6 and not over IPv4"
