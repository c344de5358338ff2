#!/usr/bin/env bash
# test_k8s_node_restart: what happens to pods and addresses when a node's daemons go away.
#  1. kubelet restarted on h1 (SIGTERM, start): live pods keep their addresses, and no meshd
#     releases any (kubelet 1.20 over containerd 1.6 uses libcni 1.1.2, which never sends CNI
#     GC; what GC does is tested in tests/integration/test_cni_*);
#  2. node h2 hard-killed: SIGKILL of its kubelet, containerd and meshd; then containerd and
#     kubelet started again. kubelet restarts the mesh pod's meshd; the pods on h2 keep their
#     addresses and are reached from h1 again; new pods on every node get fresh addresses; no
#     address is held twice, neither among the pods nor among the meshds' allocations.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

make_ns

# every pod's and every allocation's address must be unique
no_duplicates() {
	local dup
	# pods being deleted (an earlier test's, forced) still show the address their DEL released
	dup=$(kc get pods -A -o json | jq -r '.items[] | select(.spec.hostNetwork != true) |
		select(.metadata.deletionTimestamp == null and .status.podIP != null) | .status.podIP' |
		sort | uniq -d)
	[[ -z $dup ]] || die "pods share an address: $dup"
	dup=$(all_allocations all | awk '{print $2}' | sort | uniq -d)
	[[ -z $dup ]] || die "meshds hold the same address twice: $dup"
}

# reach_all FROM_POD: FROM_POD reaches every pod of app=web
reach_all() {
	local from=$1 name ip node
	while read -r name ip node; do
		[[ $(in_pod "$from" curl -s -m 5 "http://$ip:8080/hostname") == "$name" ]] ||
			die "$from -> $name ($ip on $node): no answer"
	done < <(pods_of app=web)
}

for h in h1 h2 h3; do netexec_pod "web-$h" "$h" app=web; done
kn wait --for=condition=Ready pod -l app=web --timeout=120s >/dev/null || die "pods not Ready"
pods_of app=web | tee "$TEST_TMP/before"
all_allocations >"$TEST_TMP/alloc-before"
no_duplicates

info "1. kubelet restarted on h1"
k8s restart-kubelet h1
wait_until 60 bash -c "[[ \$('$K8S_LAB' kubectl get node h1 -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]" ||
	die "h1 not Ready after its kubelet restarted"
sleep 10 # kubelet's first sync of the pods it found
pods_of app=web >"$TEST_TMP/after1"
diff "$TEST_TMP/before" "$TEST_TMP/after1" >&2 || die "pods or their addresses changed after a kubelet restart"
all_allocations >"$TEST_TMP/alloc-after1"
diff "$TEST_TMP/alloc-before" "$TEST_TMP/alloc-after1" >&2 || die "allocations changed after a kubelet restart"
reach_all web-h3
info "  same pods, same addresses, same allocations; all reached from h3"

info "2. node h2 hard-killed (kubelet, containerd, meshd) and started again"
k8s kill-node h2
sleep 3
k8s start-node h2
wait_until 120 bash -c "[[ \$('$K8S_LAB' kubectl get node h2 -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]" ||
	die "h2 not Ready after its restart"
wait_until 120 bash -c "'$K8S_LAB' exec h2 meshctl status >/dev/null" ||
	die "meshd on h2 did not come back"
wait_until 120 bash -c "'$K8S_LAB' kubectl -n kube-system rollout status ds/mesh --timeout=5s" ||
	die "the mesh DaemonSet is not ready after h2's restart"
restarts=$(kc -n kube-system get pods -l app.kubernetes.io/name=mesh --field-selector spec.nodeName=h2 \
	-o 'jsonpath={.items[0].status.containerStatuses[0].restartCount}')
info "  meshd on h2 is back (container restarts: $restarts)"
wait_until 60 bash -c "[[ \$('$K8S_LAB' kubectl -n '$NS' exec web-h1 -- curl -s -m 3 http://$(pod_ip web-h2):8080/hostname) == web-h2 ]]" ||
	die "web-h1 does not reach web-h2 after h2's restart"
pods_of app=web >"$TEST_TMP/after2"
diff "$TEST_TMP/before" "$TEST_TMP/after2" >&2 || die "pods or their addresses changed after h2's hard kill"
reach_all web-h1
reach_all web-h2
no_duplicates

info "  new pods after the restart get fresh addresses"
for h in h1 h2 h3; do netexec_pod "new-$h" "$h" app=new; done
kn wait --for=condition=Ready pod -l app=new --timeout=120s >/dev/null || die "new pods not Ready"
pods_of app=new
no_duplicates
for p in new-h1 new-h3; do
	[[ $(in_pod "$p" curl -s -m 5 "http://$(pod_ip new-h2):8080/hostname") == new-h2 ]] ||
		die "$p -> new-h2: no answer"
done
info "  no address twice among $(kc get pods -A -o json | jq '[.items[] | select(.spec.hostNetwork != true and .metadata.deletionTimestamp == null)] | length') pods and $(all_allocations all | wc -l) allocations"
