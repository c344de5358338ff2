#!/usr/bin/env bash
# test_k8s_node_delete: the node lifecycle from the API server (3 nodes, scripts/k8s-lab; it
# removes node h3 for good: run it last).
#  1. peers come from the Node objects: h1's meshd names h2's and h3's InternalIPs as peers it
#     learned from Kubernetes, and says so in its status;
#  2. h3 is killed (kubelet, containerd, meshd: SIGKILL) and its Node object deleted: within
#     10 s the other meshds hold none of h3's IPAM space (its heir took it over, without waiting
#     for --ipam-reclaim-after), and no longer dial h3;
#  3. a new pod on h2 still gets an address and reaches a pod on h1.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

make_ns
read -ra N <<<"$(nodes)"
((${#N[@]} >= 3)) || die "needs 3 nodes, the cluster has ${#N[@]}"

status_json() { k8s exec "$1" meshctl status -o json; }

info "1. h1's peers from the Node objects"
st=$(status_json h1)
jq -e '.kubernetes.configured == true' <<<"$st" >/dev/null ||
	die "h1's meshd does not read the API server: $(jq -c .kubernetes <<<"$st")"
for i in 2 3; do
	jq -e --arg a "198.18.0.$i" --arg n "h$i" \
		'.kubernetes.nodes.peers | map(select(.node == $n and .address == $a)) | length == 1' \
		<<<"$st" >/dev/null || die "h1 does not name h$i (198.18.0.$i) as a peer from its Node: \
$(jq -c .kubernetes.nodes <<<"$st")"
done
k8s exec h1 meshctl status | grep -i 'kubernetes' || die "meshctl status does not say where peers come from"

owns() { # owns NODE H: H's meshd sees NODE owning some of the IPAM range
	k8s exec "$2" meshctl status ipam -o json |
		jq -e --arg n "$1" '[.owners[] | select(.nickname == $n and .owned > 0)] | length > 0' >/dev/null
}
owns h3 h1 || die "h3 owns no IPAM space to begin with"

info "2. h3 killed and its Node deleted"
k8s kill-node h3
kc delete node h3 --wait=false >/dev/null
t0=$SECONDS
gone() { ! owns h3 h1 && ! owns h3 h2; }
wait_until 10 gone || die "h3's IPAM space is still held after 10 s: \
$(k8s exec h1 meshctl status ipam -o json | jq -c '[.owners[] | {nickname, owned, reachable}]')"
info "  h3's space reclaimed within $((SECONDS - t0)) s"
k8s exec h1 meshctl status connections -o json |
	jq -e '.targets | map(select(.address | startswith("198.18.0.3:"))) | length == 0' >/dev/null ||
	die "h1 still dials h3"

info "3. a new pod on h2 reaches one on h1"
netexec_pod a1 h1
netexec_pod a2 h2
kn wait --for=condition=Ready pod a1 a2 --timeout=120s >/dev/null || die "pods not Ready"
in_pod a2 curl -s -m 5 "http://$(pod_ip a1):8080/hostname" | grep -qx a1 || die "a2 cannot reach a1"
