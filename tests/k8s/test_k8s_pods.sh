#!/usr/bin/env bash
# test_k8s_pods: pods on mesh under a real kubelet (3 nodes, scripts/k8s-lab):
#  1. a Deployment of 6 pods spread over the nodes (2 each) turns Ready: kubelet's readiness
#     probes reach the pods from the node (meshd --expose);
#  2. each pod has an address from the mesh IPAM, held by its node's meshd for that pod;
#  3. every pod reaches every other by pod IP (same node and across nodes);
#  4. a ClusterIP Service reaches its endpoint on another node through kube-proxy, from a pod
#     and from a node; so does a NodePort Service on a third node's address;
#  5. a hostPort (portmap in mesh's conflist) answers on the node's address, from another
#     node and from a pod;
#  6. a pod reaches the API server through the `kubernetes` Service (masquerade: the API server
#     is outside the pod range);
#  7. deleting a pod releases its address in its node's meshd (CNI DEL).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

make_ns
read -ra N <<<"$(nodes)"
((${#N[@]} >= 3)) || die "needs 3 nodes, the cluster has ${#N[@]}"

info "1. a Deployment of 6 pods spread over ${N[*]}"
kn apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: c
        image: $AGNHOST
        imagePullPolicy: Never
        args: ["netexec", "--http-port=8080", "--udp-port=8081"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /hostname, port: 8080}
          periodSeconds: 2
YAML
kn rollout status deploy/web --timeout=180s >/dev/null || die "the Deployment did not become Ready"
pods_of app=web >"$TEST_TMP/web"
cat "$TEST_TMP/web"
(($(wc -l <"$TEST_TMP/web") == 6)) || die "want 6 pods"
for h in "${N[@]:0:3}"; do
	c=$(awk -v h="$h" '$3 == h' "$TEST_TMP/web" | wc -l)
	((c == 2)) || die "node $h runs $c of the pods, want 2"
done

info "2. addresses from the mesh IPAM, held by each node's meshd"
range=$(k8s exec h1 meshctl status ipam -o json | jq -r .range)
info "  mesh IPAM range $range"
(($(awk '{print $2}' "$TEST_TMP/web" | sort -u | wc -l) == 6)) || die "two pods share an address"
while read -r name ip node; do
	[[ $ip == 10.3[2-9].* || $ip == 10.4[0-7].* ]] || die "$name has $ip, outside 10.32.0.0/12"
	node_allocations "$node" | grep -q "^$ip " ||
		die "$name's $ip is not among $node's meshd allocations: $(node_allocations "$node" | tr '\n' ';')"
done <"$TEST_TMP/web"

info "3. every pod reaches every other by pod IP"
ips=$(awk '{print $2}' "$TEST_TMP/web" | tr '\n' ' ')
while read -r name ip node; do
	out=$(in_pod "$name" bash -c "for ip in $ips; do echo \"\$ip \$(curl -s -m 5 http://\$ip:8080/hostname || echo UNREACHABLE)\"; done")
	while read -r dip dname; do
		want=$(awk -v ip="$dip" '$2 == ip { print $1 }' "$TEST_TMP/web")
		[[ $dname == "$want" ]] || die "$name ($node) -> $dip: got '$dname', want '$want'"
	done <<<"$out"
done <"$TEST_TMP/web"
info "  36 pairs answered"

info "4. a ClusterIP Service with its endpoint on another node"
netexec_pod backend h2
kn apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
YAML
kn wait --for=condition=Ready pod/backend --timeout=90s >/dev/null || die "pod backend not Ready"
vip=$(kn get svc backend -o 'jsonpath={.spec.clusterIP}')
client=$(awk '$3 == "h1" { print $1; exit }' "$TEST_TMP/web")
wait_until 30 bash -c "'$K8S_LAB' kubectl -n '$NS' exec '$client' -- curl -s -m 3 http://$vip/hostname | grep -qx backend" ||
	die "pod $client on h1 -> Service $vip: no answer from backend on h2"
wait_until 30 bash -c "'$K8S_LAB' exec h3 curl -s -m 3 http://$vip/hostname | grep -qx backend" ||
	die "node h3 -> Service $vip: no answer from backend on h2"
info "  $vip answered from pod $client (h1) and from node h3"
kn apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: backend-np}
spec:
  type: NodePort
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
YAML
np=$(kn get svc backend-np -o 'jsonpath={.spec.ports[0].nodePort}')
wait_until 30 bash -c "'$K8S_LAB' kubectl -n '$NS' exec '$client' -- curl -s -m 3 http://198.18.0.3:$np/hostname | grep -qx backend" ||
	die "pod $client on h1 -> NodePort 198.18.0.3:$np: no answer from backend on h2"
wait_until 30 bash -c "'$K8S_LAB' exec h1 curl -s -m 3 http://198.18.0.3:$np/hostname | grep -qx backend" ||
	die "node h1 -> NodePort 198.18.0.3:$np: no answer from backend on h2"
info "  NodePort 198.18.0.3:$np answered from pod $client and from node h1"

info "5. a hostPort on h3"
netexec_pod hostport h3 app=hostport "    ports: [{containerPort: 8080, hostPort: 30080}]"
kn wait --for=condition=Ready pod/hostport --timeout=90s >/dev/null || die "pod hostport not Ready"
wait_until 30 bash -c "'$K8S_LAB' exec h1 curl -s -m 3 http://198.18.0.3:30080/hostname | grep -qx hostport" ||
	die "node h1 -> 198.18.0.3:30080 (hostPort): no answer"
wait_until 30 bash -c "'$K8S_LAB' kubectl -n '$NS' exec '$client' -- curl -s -m 3 http://198.18.0.3:30080/hostname | grep -qx hostport" ||
	die "pod $client -> 198.18.0.3:30080 (hostPort): no answer"
info "  198.18.0.3:30080 answered from node h1 and from pod $client"

info "6. a pod reaches the API server through the kubernetes Service"
api=$(kc get svc kubernetes -o 'jsonpath={.spec.clusterIP}')
out=$(in_pod "$client" curl -sk -m 5 "https://$api/healthz") || die "pod $client -> https://$api/healthz failed"
[[ $out == ok ]] || die "pod $client -> https://$api/healthz: '$out'"
info "  https://$api/healthz: $out"

info "7. deleting a pod releases its address"
read -r victim vip_ node <<<"$(awk '$3 == "h2" { print; exit }' "$TEST_TMP/web")"
# the allocation's container id (the pod's sandbox): the ReplicaSet's replacement pod may get
# the same address right after the release, so what must go is this id
vid=$(node_allocations "$node" | awk -v ip="$vip_" '$1 == ip { print $2 }')
[[ -n $vid ]] || die "$vip_ not allocated on $node before the delete"
kn delete pod "$victim" --wait=false >/dev/null
wait_until 120 bash -c "! '$K8S_LAB' exec $node meshctl status ipam -o json | jq -r '.allocations[].container_id' | grep -qxF '$vid'" ||
	die "the address of deleted pod $victim ($vip_, container $vid) is still allocated on $node after 120 s"
now=$(node_allocations "$node" | awk -v ip="$vip_" '$1 == ip { print $2 }')
info "  $vip_ of $victim released on $node${now:+ (and since given to container $now)}"
