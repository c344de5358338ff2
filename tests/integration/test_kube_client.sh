#!/usr/bin/env bash
# test_kube_client: meshd's Kubernetes API client (kube/) against a real kube-apiserver 1.20.2
# and etcd, alone in a network namespace of their own (no lab, no kubelet), through
# tests/tools/kube_watch_probe (prints every event it gets as a line):
#  - kubeconfig with a static bearer token (--token-auth-file) and a CA path relative to the
#    kubeconfig's dir; in-cluster config from a service-account-style dir (MESH_KUBE_SA_DIR);
#  - list+watch of pods and namespaces, in pages of 2 (limit/continue): LIST_BEGIN/ADDED.../SYNCED
#    with every namespace, then a pod created,
#    labelled and deleted with kubectl is seen ADDED, MODIFIED, DELETED;
#  - the server ends each watch after timeoutSeconds (3 s here): the client resumes from its
#    resourceVersion without relisting;
#  - kube-apiserver killed and restarted: the client retries with backoff and resumes the watch
#    (no relist); then killed again, etcd written and compacted past the client's
#    resourceVersion while it is down, restarted (--watch-cache=false so the watch goes to
#    etcd): the client gets 410 Gone and relists, and sees the pod created meanwhile;
#  - a watch event longer than the client's line cap (a pod with a big annotation, the probe
#    capped at 4000 bytes): the connection is dropped with a logged error and relisted, the
#    relist delivers the pod, the watch goes on;
#  - a token without RBAC rights: a clear 403 error naming the resource and the identity;
#  - a short watch under valgrind, with the client certificate and CA embedded in the
#    kubeconfig (libcurl blobs): no definite leak, no error.
# Needs: the Kubernetes binaries (scripts/k8s-build.sh; skipped, saying so, until they are
# built), etcd, openssl, curl, valgrind, jq. About 2.5 minutes on 2 cores.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${MESH_BUILD_DIR:-$REPO_ROOT/build}
PROBE=$BUILD/tests/tools/kube_watch_probe
[[ -x $PROBE ]] || die "$PROBE not built (make check builds it; or set MESH_BUILD_DIR)"
for t in openssl curl valgrind base64 jq; do
	command -v "$t" >/dev/null || die "missing tool $t (run scripts/deps.sh)"
done
ETCD=$(command -v etcd || echo /usr/bin/etcd)
[[ -x $ETCD ]] || die "etcd is missing: apt-get install etcd-server (scripts/deps.sh)"
# The binaries scripts/k8s-build.sh made. This test does not build them itself: that takes
# 10-15 minutes, and scripts/check.sh builds them in the background while this suite runs.
K8S_CACHE=${MESH_K8S_CACHE:-/var/cache/mesh-k8s}/1.20.2
KB=$(cat "$K8S_CACHE/bin-dir" 2>/dev/null) || KB=
if [[ -z $KB || ! -x $KB/kube-apiserver || ! -x $KB/kubectl ]]; then
	rm -rf "$TEST_TMP"
	skip "no Kubernetes 1.20.2 binaries in $K8S_CACHE yet (build them: scripts/k8s-build.sh)"
fi

NS=${MESH_LAB_NAME:-mesh}-kubeapi
IP=198.19.254.1
D=$TEST_TMP
# (bg_start gets `ip netns exec` itself, never in_ns: it execs, so the pid is the command's)
in_ns() { ip netns exec "$NS" "$@"; }
kctl() { in_ns "$KB/kubectl" --kubeconfig="$D/admin.kubeconfig" "$@"; }

# This test brings up no lab: its own cleanup stops what it started and removes its netns.
kube_cleanup() {
	local rc=$? pid
	set +e
	for pid in "${BG_PIDS[@]}"; do bg_stop "$pid"; done
	ip netns del "$NS" 2>/dev/null
	if ((rc != 0)); then
		for f in "$D"/*.log "$D"/*.status; do
			[[ -f $f ]] || continue
			echo "----- ${f#"$D"/} (last 30 lines) -----" >&2
			tail -n 30 "$f" >&2
		done
	else
		info "PASS"
	fi
	rm -rf "$TEST_TMP"
	exit "$rc"
}
trap kube_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
in_ns ip link set lo up
in_ns ip addr add "$IP/32" dev lo

info "certificates, tokens, kubeconfigs in $D"
(
	cd "$D"
	openssl genrsa -out ca.key 2048 2>/dev/null
	openssl req -x509 -new -nodes -key ca.key -subj "/CN=mesh-kube-test-ca" -days 2 -out ca.crt 2>/dev/null
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	cert() { # cert NAME SUBJECT [SAN]
		openssl genrsa -out "$1.key" 2048 2>/dev/null
		openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
		{
			echo "basicConstraints=CA:FALSE"
			echo "keyUsage=critical,digitalSignature,keyEncipherment"
			if [[ -n ${3:-} ]]; then
				echo "extendedKeyUsage=serverAuth"
				echo "subjectAltName=$3"
			else
				echo "extendedKeyUsage=clientAuth"
			fi
		} >"$1.ext"
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	}
	cert apiserver "/CN=kube-apiserver" "IP:$IP,IP:127.0.0.1,DNS:kubernetes"
	cert admin "/O=system:masters/CN=mesh-kube-test-admin"
	cert reader "/CN=mesh-reader"
	printf 'tok-reader-%s,mesh-reader,u1\ntok-nobody-%s,mesh-nobody,u2\n' "$RANDOM$RANDOM" "$RANDOM$RANDOM" >tokens.csv
) || die "making the certificates failed"
READER_TOKEN=$(sed -n 's/,mesh-reader,.*//p' "$D/tokens.csv")
NOBODY_TOKEN=$(sed -n 's/,mesh-nobody,.*//p' "$D/tokens.csv")
kc() { "$KB/kubectl" --kubeconfig="$1" "${@:2}" >/dev/null; }
# admin: client certificate, everything embedded (base64 *-data fields)
kc "$D/admin.kubeconfig" config set-cluster t --server="https://$IP:6443" --certificate-authority="$D/ca.crt" --embed-certs
kc "$D/admin.kubeconfig" config set-credentials admin --client-certificate="$D/admin.crt" --client-key="$D/admin.key" --embed-certs
kc "$D/admin.kubeconfig" config set-context t --cluster=t --user=admin
kc "$D/admin.kubeconfig" config use-context t
# the reader: client certificate of mesh-reader, embedded (for the valgrind run)
cp "$D/admin.kubeconfig" "$D/reader-cert.kubeconfig"
kc "$D/reader-cert.kubeconfig" config set-credentials admin --client-certificate="$D/reader.crt" --client-key="$D/reader.key" --embed-certs
# the reader by token, the CA by a path relative to the kubeconfig; a second context for nobody
mkdir -p "$D/kc/pki"
cp "$D/ca.crt" "$D/kc/pki/ca.crt"
cat >"$D/kc/config" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: https://$IP:6443
    certificate-authority: pki/ca.crt
users:
- name: reader
  user:
    token: $READER_TOKEN
- name: nobody
  user:
    token: $NOBODY_TOKEN
contexts:
- name: reader
  context: {cluster: t, user: reader}
- name: nobody
  context: {cluster: t, user: nobody}
current-context: reader
EOK
# in-cluster: a service account dir with the reader's token
mkdir -p "$D/sa"
cp "$D/ca.crt" "$D/sa/ca.crt"
echo "$READER_TOKEN" >"$D/sa/token"
echo default >"$D/sa/namespace"

ETCD_PID=
APISERVER_PID=
start_etcd() {
	bg_start "$D/etcd.log" ip netns exec "$NS" "$ETCD" --name kube-test --data-dir "$D/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster kube-test=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
	ETCD_PID=$BG_LAST
	wait_until 30 in_ns curl -sf http://127.0.0.1:2379/health || die "etcd did not become healthy"
}
start_apiserver() {
	bg_start "$D/apiserver.log" ip netns exec "$NS" "$KB/kube-apiserver" \
		--advertise-address="$IP" --bind-address="$IP" --secure-port=6443 --insecure-port=0 \
		--etcd-servers=http://127.0.0.1:2379 --service-cluster-ip-range=10.96.0.0/16 \
		--authorization-mode=RBAC --disable-admission-plugins=ServiceAccount \
		--client-ca-file="$D/ca.crt" --tls-cert-file="$D/apiserver.crt" \
		--tls-private-key-file="$D/apiserver.key" --token-auth-file="$D/tokens.csv" \
		--service-account-key-file="$D/sa.pub" --service-account-signing-key-file="$D/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--watch-cache=false --etcd-compaction-interval=0 --profiling=false --v=1
	APISERVER_PID=$BG_LAST
	wait_until 90 kctl get --raw /readyz || die "kube-apiserver did not become ready"
}
# etcd's v3 JSON gateway (no etcdctl here): put a key, print the store's revision
etcd_put() {
	local k v
	k=$(printf '%s' "/mesh-kube-test/$1" | base64 -w0)
	v=$(printf 'x' | base64 -w0)
	in_ns curl -sf -X POST http://127.0.0.1:2379/v3/kv/put -d "{\"key\":\"$k\",\"value\":\"$v\"}" |
		jq -r .header.revision
}
etcd_compact() {
	in_ns curl -sf -X POST http://127.0.0.1:2379/v3/kv/compaction -d "{\"revision\":\"$1\",\"physical\":true}" >/dev/null
}

info "etcd and kube-apiserver in netns $NS ($IP:6443)"
start_etcd
start_apiserver
kctl create namespace probe-ns >/dev/null || die "kubectl create namespace failed"
kctl create clusterrole mesh-reader --verb=get,list,watch --resource=pods,namespaces >/dev/null ||
	die "kubectl create clusterrole failed"
kctl create clusterrolebinding mesh-reader --clusterrole=mesh-reader --user=mesh-reader >/dev/null ||
	die "kubectl create clusterrolebinding failed"
wait_until 10 in_ns "$KB/kubectl" --kubeconfig="$D/kc/config" get pods -A ||
	die "the reader's token cannot list pods"

pod() { # pod NAME: a pod that stays Pending (no scheduler, no kubelet)
	kctl -n probe-ns run "$1" --image=k8s.gcr.io/pause:3.2 --restart=Never >/dev/null ||
		die "kubectl run $1 failed"
}
st() { # st PATH FIELD: a field of the probe's status line for PATH
	local line
	line=$(grep "^$1 " "$D/probe.status" 2>/dev/null) || return 1
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$line"
}
seen() { grep -qE "$1" "$D/probe.log"; }
count() { grep -cE "$1" "$D/probe.log" || true; }

info "probe: kubeconfig with a bearer token, watching pods and namespaces (watch timeout 3 s, pages of 2)"
pod before
bg_start "$D/probe.log" ip netns exec "$NS" "$PROBE" --kubeconfig "$D/kc/config" --watch-timeout 3 --page-limit 2 --debug \
	--status-file "$D/probe.status" /api/v1/pods /api/v1/namespaces
PROBE_PID=$BG_LAST
wait_until 20 grep -q "^/api/v1/pods SYNCED" "$D/probe.log" || die "no SYNCED for pods"
wait_until 20 grep -q "^/api/v1/namespaces SYNCED" "$D/probe.log" || die "no SYNCED for namespaces"
seen "^/api/v1/pods LIST_BEGIN" || die "no LIST_BEGIN before SYNCED"
seen "^/api/v1/pods ADDED probe-ns/before " || die "the list did not deliver pod probe-ns/before"
seen "^/api/v1/namespaces ADDED /probe-ns " || die "the list did not deliver namespace probe-ns"
for n in default kube-node-lease kube-public kube-system probe-ns; do
	seen "^/api/v1/namespaces ADDED /$n " || die "the paged list did not deliver namespace $n"
done
[[ $(count "^/api/v1/namespaces (LIST_BEGIN|SYNCED)") == 2 ]] || die "a paged list is one LIST_BEGIN and one SYNCED"
grep -q "GET https://$IP:6443/api/v1/namespaces?limit=2&continue=" "$D/probe.log" || die "the list was not paged"
grep -q "from kubeconfig $D/kc/config (context reader)" "$D/probe.log" || die "the probe did not name its config source"

info "create, label, delete a pod"
pod p1
wait_until 10 seen "^/api/v1/pods ADDED probe-ns/p1 " || die "ADDED p1 not seen"
kctl -n probe-ns label pod p1 mesh=yes >/dev/null || die "kubectl label failed"
wait_until 10 seen "^/api/v1/pods MODIFIED probe-ns/p1 " || die "MODIFIED p1 not seen"
kctl -n probe-ns delete pod p1 --wait=false >/dev/null || die "kubectl delete failed"
wait_until 10 seen "^/api/v1/pods DELETED probe-ns/p1 " || die "DELETED p1 not seen"
kctl create namespace probe-ns2 >/dev/null
wait_until 10 seen "^/api/v1/namespaces ADDED /probe-ns2 " || die "ADDED namespace probe-ns2 not seen"

info "watches end every 3 s: resumed from the resourceVersion, no relist"
sleep 7
pod p2
wait_until 10 seen "^/api/v1/pods ADDED probe-ns/p2 " || die "ADDED p2 not seen after the watch timeouts"
[[ $(count "^/api/v1/pods LIST_BEGIN") == 1 ]] || die "the client relisted after a normal watch end"
wait_until 5 test -s "$D/probe.status" || die "no status file"
[[ $(st /api/v1/pods state) == watching ]] || die "pods watch not in state watching: $(cat "$D/probe.status")"

info "kube-apiserver killed and restarted: the watch resumes, no relist"
bg_stop "$APISERVER_PID"
wait_until 15 bash -c "[[ \$(grep '^/api/v1/pods ' '$D/probe.status' | sed -n 's/.* errors=\([0-9]*\).*/\1/p') -ge 1 ]]" ||
	die "the probe saw no error with the API server down: $(cat "$D/probe.status")"
grep -q "state=waiting to retry" "$D/probe.status" || die "not waiting to retry: $(cat "$D/probe.status")"
start_apiserver
pod p3
wait_until 40 seen "^/api/v1/pods ADDED probe-ns/p3 " || die "ADDED p3 not seen after the restart"
[[ $(count "^/api/v1/pods LIST_BEGIN") == 1 ]] || die "the client relisted after a restart it could resume from"
[[ $(st /api/v1/pods gone_relists) == 0 ]] || die "a 410 where none was due"

info "kube-apiserver down, etcd compacted past the client's resourceVersion: 410 Gone, relist"
bg_stop "$APISERVER_PID"
rev=
for i in 1 2 3; do rev=$(etcd_put "k$i") || die "etcd put failed"; done
etcd_compact "$rev" || die "etcd compaction at $rev failed"
info "compacted at revision $rev (the client is at $(st /api/v1/pods rv))"
start_apiserver
pod p4
wait_until 40 bash -c "[[ \$(grep -c '^/api/v1/pods LIST_BEGIN' '$D/probe.log') -ge 2 ]]" ||
	die "no relist after the compaction"
wait_until 10 bash -c "[[ \$(grep '^/api/v1/pods ' '$D/probe.status' | sed -n 's/.* gone_relists=\([0-9]*\).*/\1/p') -ge 1 ]]" ||
	die "the relist was not counted as a 410: $(cat "$D/probe.status")"
grep -q "is gone (410" "$D/probe.log" || die "no log line for the 410"
# after the second LIST_BEGIN the list holds p2, p3 (and p4 by the list or the watch) but not p1
sed -n '/^\/api\/v1\/pods LIST_BEGIN/h; /^\/api\/v1\/pods LIST_BEGIN/!H; ${x;p}' "$D/probe.log" >"$D/relist.out"
grep -q "^/api/v1/pods ADDED probe-ns/p3 " "$D/relist.out" || die "the relist did not deliver p3"
! grep -q "^/api/v1/pods ADDED probe-ns/p1 " "$D/relist.out" || die "the relist delivered the deleted p1"
wait_until 20 seen "^/api/v1/pods ADDED probe-ns/p4 " || die "ADDED p4 not seen"
wait_until 10 bash -c "grep -q '^/api/v1/pods state=watching' '$D/probe.status'" || die "not watching after the relist"
bg_stop "$PROBE_PID"
grep -q "ERROR.*Sanitizer\|runtime error" "$D/probe.log" && die "sanitizer report in the probe's log"

info "a watch event longer than the line cap: dropped, logged, relisted"
bg_start "$D/big.log" ip netns exec "$NS" "$PROBE" --kubeconfig "$D/kc/config" --max-line 4000 \
	--status-file "$D/big.status" /api/v1/pods
BIG_PID=$BG_LAST
wait_until 20 grep -q "^/api/v1/pods SYNCED" "$D/big.log" || die "no SYNCED for the capped probe"
kctl -n probe-ns run big --image=k8s.gcr.io/pause:3.2 --restart=Never \
	--annotations="mesh.test/big=$(head -c 3000 /dev/urandom | base64 -w0)" >/dev/null || die "kubectl run big failed"
wait_until 20 grep -q "WATCH stream dropped: watch event longer than 4000 bytes; relisting" "$D/big.log" ||
	die "no error logged for the oversize event"
wait_until 20 bash -c "[[ \$(grep -c '^/api/v1/pods LIST_BEGIN' '$D/big.log') -ge 2 ]]" || die "no relist after the oversize event"
wait_until 10 bash -c "sed -n '/^\/api\/v1\/pods LIST_BEGIN/h; /^\/api\/v1\/pods LIST_BEGIN/!H; \${x;p}' '$D/big.log' | grep -q '^/api/v1/pods ADDED probe-ns/big '" ||
	die "the relist did not deliver the big pod"
pod after-big
wait_until 20 grep -q "^/api/v1/pods ADDED probe-ns/after-big " "$D/big.log" || die "the watch did not go on after the relist"
bg_stop "$BIG_PID"

info "in-cluster configuration (MESH_KUBE_SA_DIR)"
in_ns env KUBERNETES_SERVICE_HOST="$IP" KUBERNETES_SERVICE_PORT=6443 MESH_KUBE_SA_DIR="$D/sa" \
	"$PROBE" --in-cluster --seconds 4 /api/v1/namespaces >"$D/incluster.log" 2>&1 ||
	die "the in-cluster probe failed"
grep -q "from in-cluster (KUBERNETES_SERVICE_HOST $IP:6443)" "$D/incluster.log" || die "in-cluster: source not named"
grep -q "^/api/v1/namespaces ADDED /probe-ns2 " "$D/incluster.log" || die "in-cluster: namespaces not listed"
grep -q "^/api/v1/namespaces SYNCED" "$D/incluster.log" || die "in-cluster: no SYNCED"

info "a token without rights: 403, naming the resource and the identity"
in_ns "$PROBE" --kubeconfig "$D/kc/config" --context nobody --seconds 3 --status-file "$D/nobody.status" \
	/api/v1/pods >"$D/nobody.log" 2>&1 || die "the probe failed"
grep -q "HTTP 403 Forbidden as bearer token of kubeconfig $D/kc/config (context nobody)" "$D/nobody.status" ||
	die "no clear 403: $(cat "$D/nobody.status")"
grep -q 'mesh-nobody.*cannot list resource \\\?"pods\\\?"' "$D/nobody.status" ||
	grep -q 'cannot list resource "pods"' "$D/nobody.status" || die "the 403 does not say what was refused: $(cat "$D/nobody.status")"
grep -q "retrying in 30 s" "$D/nobody.log" || die "a 403 is not retried slowly"
! grep -q "ADDED" "$D/nobody.log" || die "events despite the 403"

if grep -q libasan < <(ldd "$PROBE"); then
	info "PROBE is an AddressSanitizer build (its report would be in the logs above): no valgrind run"
	exit 0
fi
info "valgrind: a short watch with the client certificate and CA embedded in the kubeconfig"
bg_start "$D/valgrind.log" ip netns exec "$NS" valgrind --leak-check=full --errors-for-leak-kinds=definite \
	--error-exitcode=99 "$PROBE" --kubeconfig "$D/reader-cert.kubeconfig" --seconds 15 --watch-timeout 2 \
	/api/v1/pods /api/v1/namespaces
VG_PID=$BG_LAST
wait_until 40 grep -q "^/api/v1/pods SYNCED" "$D/valgrind.log" || die "no SYNCED under valgrind"
pod p5
kctl -n probe-ns delete pod p5 --wait=false >/dev/null
wait_until 20 grep -q "^/api/v1/pods DELETED probe-ns/p5 " "$D/valgrind.log" || die "DELETED p5 not seen under valgrind"
vg_rc=0
wait "$VG_PID" || vg_rc=$?
bg_stop "$VG_PID"
((vg_rc == 0)) || die "the probe under valgrind exited $vg_rc"
grep -q "ERROR SUMMARY: 0 errors" "$D/valgrind.log" || die "valgrind found errors"
grep -q "client certificate (kubeconfig client-certificate-data)" "$D/valgrind.log" ||
	die "the probe did not authenticate by the embedded client certificate"
