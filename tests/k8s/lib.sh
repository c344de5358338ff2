# tests/k8s/lib.sh: helpers sourced by tests/k8s/test_*.sh, which run against a cluster that
# `scripts/k8s-lab up` made (scripts/check.sh brings one up, runs them in order, takes it down).
# Owns: the test's namespace (made at start, deleted at exit), its temp dir, its background
# processes.
# shellcheck shell=bash

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K8S_LAB=$REPO_ROOT/scripts/k8s-lab
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/mesh-$TEST_NAME.XXXXXX")
# shellcheck disable=SC2034 # used by the tests
AGNHOST=k8s.gcr.io/e2e-test-images/agnhost:2.21
# a name of its own per run: a namespace takes a while to go in 1.20, and the next run must
# not wait for it
NS=mesh-${TEST_NAME#test_k8s_}-$((RANDOM % 9000 + 1000))
NS=${NS//_/-}
BG_PIDS=()

info() { echo "[$TEST_NAME] $*"; }
die() {
	echo "[$TEST_NAME] FAIL: $*" >&2
	exit 1
}
k8s() { "$K8S_LAB" "$@"; }
kc() { "$K8S_LAB" kubectl "$@"; }
kn() { "$K8S_LAB" kubectl -n "$NS" "$@"; }

# wait_until SECONDS CMD...: CMD every 0.5 s until it succeeds; fails after SECONDS.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# bg_start OUTFILE CMD...: CMD in the background, stopped at exit; BG_LAST is its pid.
BG_LAST=
bg_start() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	BG_LAST=$!
	BG_PIDS+=("$BG_LAST")
}

cleanup() {
	local rc=$? p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if ((rc)) && [[ -n ${NS_MADE:-} ]]; then
		echo "----- pods of $NS -----"
		kn get pods -o wide 2>&1 || true
		echo "----- mesh pods -----"
		kc -n kube-system get pods -o wide 2>&1 || true
		kc -n kube-system logs ds/mesh -c meshd --tail=40 2>&1 || true
	fi
	if [[ -n ${NS_MADE:-} ]]; then
		# graceful deletion takes 5-60 s in 1.20: force it, kubelet still runs CNI DEL
		kn delete pods --all --grace-period=0 --force >/dev/null 2>&1 || true
		kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
	fi
	rm -rf "$TEST_TMP"
	((rc)) || info PASS
	exit "$rc"
}
trap cleanup EXIT

make_ns() {
	kc create namespace "$NS" >/dev/null
	NS_MADE=1
	# the namespace's default ServiceAccount comes a moment later; pods wait for it
	wait_until 30 kn get serviceaccount default || die "no default ServiceAccount in $NS"
}

nodes() { kc get nodes -o 'jsonpath={.items[*].metadata.name}'; }

# pod_ip POD, pod_node POD
pod_ip() { kn get pod "$1" -o 'jsonpath={.status.podIP}'; }
pod_node() { kn get pod "$1" -o 'jsonpath={.spec.nodeName}'; }

# pods_json SELECTOR: name, ip, node of the selected pods, one "name ip node" a line
pods_of() {
	kn get pods -l "$1" -o json |
		jq -r '.items[] | select(.metadata.deletionTimestamp == null) | "\(.metadata.name) \(.status.podIP) \(.spec.nodeName)"'
}

# A pod pinned to a node, serving HTTP (agnhost netexec: /hostname, /clientip, /echo) on 8080.
# netexec_pod NAME NODE [LABEL=VALUE] [extra YAML lines for the container, each indented 4]
netexec_pod() {
	local name=$1 node=$2 label=${3:-app=$1} extra=${4:-}
	kn apply -f - >/dev/null <<-YAML
		apiVersion: v1
		kind: Pod
		metadata:
		  name: $name
		  labels: {${label%%=*}: ${label#*=}}
		spec:
		  nodeName: $node
		  terminationGracePeriodSeconds: 1
		  containers:
		  - name: c
		    image: $AGNHOST
		    imagePullPolicy: Never
		    args: ["netexec", "--http-port=8080", "--udp-port=8081"]
		    ports:
		    - {containerPort: 8080}
		$extra
		    readinessProbe:
		      httpGet: {path: /hostname, port: 8080}
		      periodSeconds: 2
	YAML
}

# meshd's IPAM allocations on node h<i> as "ip container_id" lines: of network "mesh" (the
# pods'), or of every network (the node's own address too) with a second argument "all"
node_allocations() {
	local net=mesh
	[[ ${2:-} == all ]] && net=
	k8s exec "$1" meshctl status ipam -o json |
		jq -r --arg net "$net" '.allocations[]? | select($net == "" or (.network // "") == $net) |
			"\(.ip) \(.container_id)"' | sort
}

# every allocation of every node, "node ip container_id" lines (pass "all" as for
# node_allocations)
all_allocations() {
	local h
	for h in $(nodes); do
		node_allocations "$h" "${1:-}" | sed "s/^/$h /"
	done
}

# in_pod POD CMD...: CMD in the pod's (first) container
in_pod() {
	local p=$1
	shift
	kn exec "$p" -- "$@"
}
