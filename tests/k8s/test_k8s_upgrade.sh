#!/usr/bin/env bash
# test_k8s_upgrade: a rolling upgrade of mesh (a new image tag rolled out with
# `kubectl -n kube-system set image` + `rollout status`), the way an operator does it, while a
# TCP stream and a 10 ms ping run between pods on h1 and h2:
#  - the rollout completes and every node is Ready after it;
#  - the TCP stream survives (one connection, never broken) and the pings go on after;
#  - pod IPs and each node's IPAM allocations are the same after as before;
#  - the traffic gaps are measured and printed (not pass/fail: timing never is): the longest
#    pause between two reads of the stream, and every run of lost pings.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

make_ns
tag=up$(date +%s)

info "a server pod on h2 (streamgap on 5000, netexec on 8080), a client pod on h1"
kn apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: server, labels: {app: server}}
spec:
  nodeName: h2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $AGNHOST
    imagePullPolicy: Never
    command: ["bash", "-c", "streamgap serve 5000 & exec /agnhost netexec --http-port=8080"]
    readinessProbe:
      httpGet: {path: /hostname, port: 8080}
      periodSeconds: 2
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  nodeName: h1
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $AGNHOST
    imagePullPolicy: Never
    args: ["pause"]
YAML
kn wait --for=condition=Ready pod/server pod/client --timeout=90s >/dev/null || die "pods not Ready"
sip=$(pod_ip server)
pods_before=$(kn get pods -o json | jq -r '.items[] | "\(.metadata.name) \(.status.podIP)"' | sort)
all_allocations >"$TEST_TMP/alloc-before"

info "the stream and the pings start (client on h1 -> $sip on h2)"
bg_start "$TEST_TMP/stream.out" "$K8S_LAB" kubectl -n "$NS" exec client -- streamgap send "$sip" 5000 600 /tmp/stop
stream_pid=$BG_LAST
bg_start "$TEST_TMP/ping.out" "$K8S_LAB" kubectl -n "$NS" exec client -- bash -c \
	"ping -D -n -i 0.01 -W 1 $sip & echo \$! > /tmp/ping.pid; wait"
sleep 3
grep -q 'icmp_seq=' "$TEST_TMP/ping.out" || die "the pings do not get through before the upgrade: $(head -3 "$TEST_TMP/ping.out")"

info "image localhost/mesh:$tag, rolled out"
k8s image "$tag" >/dev/null
t0=$SECONDS
kc -n kube-system set image ds/mesh "meshd=localhost/mesh:$tag" "install-cni=localhost/mesh:$tag" >/dev/null
kc -n kube-system rollout status ds/mesh --timeout=300s || die "the rollout did not complete"
rollout_s=$((SECONDS - t0))
kc -n kube-system get pods -l app.kubernetes.io/name=mesh -o json |
	jq -r '.items[] | "\(.spec.nodeName) \(.spec.containers[0].image) ready=\(.status.containerStatuses[0].ready)"'
for h in $(nodes); do
	[[ $(kc get node "$h" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
		die "node $h is not Ready after the rollout"
done
rollout_end=$(date +%s.%N)
sleep 5 # traffic after the last node's new meshd

in_pod client bash -c 'touch /tmp/stop; kill $(cat /tmp/ping.pid)' || true
wait "$stream_pid" || die "the TCP stream broke during the upgrade: $(cat "$TEST_TMP/stream.out")"
sleep 1
kn logs server >"$TEST_TMP/server.log"
end=$(grep '^end ' "$TEST_TMP/server.log" | tail -n 1)
[[ -n $end ]] || die "the server saw no end of the stream: $(tail -3 "$TEST_TMP/server.log")"

info "after: the same pod IPs and IPAM allocations"
pods_after=$(kn get pods -o json | jq -r '.items[] | "\(.metadata.name) \(.status.podIP)"' | sort)
[[ $pods_after == "$pods_before" ]] || die "pod IPs changed: before '$pods_before', after '$pods_after'"
all_allocations >"$TEST_TMP/alloc-after"
diff "$TEST_TMP/alloc-before" "$TEST_TMP/alloc-after" >&2 || die "IPAM allocations changed during the upgrade"

# The gaps: the stream's longest pause between reads (the receiver's clock), and each run of
# lost pings (-D: the reply times; a run of missing sequence numbers is a gap).
gap_stream=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' <<<"$end")
python3 - "$TEST_TMP/ping.out" "$gap_stream" "$rollout_s" "$rollout_end" <<'PY' || die "the pings"
import re, sys
seqs = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d+\.\d+)\].*icmp_seq=(\d+)", line)
    if m:
        seqs[int(m.group(2))] = float(m.group(1))
if not seqs:
    sys.exit("no ping replies at all")
got = sorted(seqs)
sent = got[-1] - got[0] + 1
gaps = []
for a, b in zip(got, got[1:]):
    if b - a > 1:
        gaps.append((seqs[a], b - a - 1, seqs[b] - seqs[a]))
print(f"[test_k8s_upgrade] rollout of 3 nodes took {sys.argv[3]} s")
print(f"[test_k8s_upgrade] TCP stream: longest pause between reads {sys.argv[2]} ms")
print(f"[test_k8s_upgrade] ping every 10 ms: {len(got)} of {sent} answered, "
      f"{len(gaps)} gap(s)" + (f", longest {max(g[2] for g in gaps) * 1000:.0f} ms" if gaps else ""))
for t, lost, dt in gaps:
    print(f"[test_k8s_upgrade]   at {t:.2f}: {lost} lost, {dt * 1000:.0f} ms without a reply")
if seqs[got[-1]] < float(sys.argv[4]):
    sys.exit("[test_k8s_upgrade] no ping was answered after the rollout ended")
PY
info "stream: $end"
