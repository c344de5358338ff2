#!/usr/bin/env bash
# tests/integration/test_policy_nft.sh: the NetworkPolicy table of policy/compile.c against the
# real kernel, no mocks: a host namespace with bridge `mesh` and br_netfilter's
# bridge-nf-call-iptables=1, four "pods" (each its own namespace, a veth on the bridge,
# 10.32.x.y), Kubernetes objects as JSON compiled by tests/tools/np_tool (linking
# policy/) and loaded with `nft -f`; real TCP/UDP flows (np_flow.py) check that allowed flows
# and their replies pass, denied ones do not, pods no policy selects are untouched, named
# ports and ipBlock except work, egress and ingress are both checked between two local pods,
# the same over IPv6 (dual-stack pods, an IPv6 ipBlock, neighbour discovery to an isolated
# pod, link-local addresses dropped),
# the caller's pending set survives recompiles, a connection established before a policy
# isolated its pod keeps going (ct state established) while new ones are dropped, per-rule counters keep their values across
# recompiles and the objects of a removed policy are deleted. Last, a compile of 500 policies
# selecting 200 pods is loaded; its size and load time are printed (no timing assertion).
# Needs root. Namespaces are named ${MESH_LAB_NAME:-npol}-<pid>-*, removed at exit by name.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${MESH_BUILD_DIR:-$ROOT/build}
TOOL=$BUILD/tests/tools/np_tool
FLOW=$ROOT/tests/integration/np_flow.py
P=${MESH_LAB_NAME:-npol}-$$
H=$P-h
T=$(mktemp -d /tmp/test_policy_nft.XXXXXX)
PIDS=()

info() { echo "[test_policy_nft] $*"; }
die() {
	echo "[test_policy_nft] FAIL: $*" >&2
	exit 1
}
cleanup() {
	local rc=$? pid i
	set +e
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for i in 1 2 3 4; do ip netns del "$P-p$i" 2>/dev/null; done
	ip netns del "$H" 2>/dev/null
	if ((rc != 0)) && [[ -f $T/script.nft ]]; then
		echo "----- the last script (first 80 lines) -----" >&2
		head -n 80 "$T/script.nft" >&2
	fi
	rm -rf "$T"
	((rc == 0)) && info PASS
	exit "$rc"
}
trap cleanup EXIT

[[ -x $TOOL ]] || die "np_tool not built ($TOOL): make check (or make tests/tools/np_tool)"
for t in nft ip python3; do command -v "$t" >/dev/null || die "missing tool $t"; done

hx() { ip netns exec "$H" "$@"; }
px() { ip netns exec "$P-$1" "${@:2}"; }

# --- the host and its pods ---------------------------------------------------------------
ip netns add "$H"
hx ip link set lo up
hx ip link add mesh type bridge
hx ip link set mesh up
hx sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
	die "no br_netfilter here (modprobe br_netfilter)"
hx sysctl -qw net.bridge.bridge-nf-call-ip6tables=1
declare -A IP=([1]=10.32.0.11 [2]=10.32.0.12 [3]=10.32.0.13 [4]=10.32.1.14)
declare -A IP6=([1]=fd00:10:32::11 [2]=fd00:10:32::12 [3]=fd00:10:32::13 [4]=fd00:10:32:1::14)
for i in 1 2 3 4; do
	ip netns add "$P-p$i"
	ip link add "vp$i" netns "$H" type veth peer name eth0 netns "$P-p$i"
	hx ip link set "vp$i" master mesh up
	px "p$i" ip link set lo up
	px "p$i" ip addr add "${IP[$i]}/16" dev eth0
	px "p$i" ip addr add "${IP6[$i]}/48" dev eth0 nodad
	px "p$i" ip link set eth0 up
done
# every pod serves the same ports: tcp 8080 (named http on web), 8081, 5432; udp 5353
for i in 1 2 3 4; do
	px "p$i" python3 "$FLOW" serve tcp:8080 tcp:8081 tcp:5432 udp:5353 tcpstream:7000 \
		>"$T/serve$i.log" 2>&1 &
	PIDS+=($!)
done
for i in 1 2 3 4; do
	for _ in $(seq 50); do grep -q ready "$T/serve$i.log" && break; sleep 0.1; done
done

# --- the Kubernetes objects ---------------------------------------------------------------
ns_json() { # name labels-json
	printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","uid":"ns-%s","labels":%s}}\n' "$1" "$1" "$2"
}
pod_json() { # ns name ip labels-json ports-json [ip6]
	local ips="{\"ip\":\"$3\"}"
	[[ -z ${6:-} ]] || ips+=",{\"ip\":\"$6\"}"
	cat <<EOT
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$2","namespace":"$1","uid":"pod-$2","labels":$4},
 "spec":{"nodeName":"node-1","containers":[{"name":"c","image":"busybox","ports":$5}]},
 "status":{"phase":"Running","podIP":"$3","podIPs":[$ips]}}
EOT
}
ns_json shop '{"kubernetes.io/metadata.name":"shop","team":"retail"}' >"$T/ns-shop.json"
ns_json other '{"kubernetes.io/metadata.name":"other","team":"data"}' >"$T/ns-other.json"
pod_json shop web "${IP[1]}" '{"app":"web"}' \
	'[{"name":"http","containerPort":8080},{"name":"dns","containerPort":5353,"protocol":"UDP"}]' >"$T/pod-web.json"
pod_json shop client "${IP[2]}" '{"app":"client"}' '[]' >"$T/pod-client.json"
pod_json other db "${IP[3]}" '{"app":"db"}' '[{"name":"pg","containerPort":5432}]' >"$T/pod-db.json"
pod_json shop stranger "${IP[4]}" '{"app":"stranger"}' '[]' >"$T/pod-stranger.json"
BASE=("$T/ns-shop.json" "$T/ns-other.json" "$T/pod-web.json" "$T/pod-client.json" "$T/pod-db.json"
      "$T/pod-stranger.json")

# A: ingress to web only from client (same namespace), on named ports http (tcp) and dns (udp)
cat >"$T/pol-a.json" <<'EOT'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
 "metadata":{"name":"web-from-client","namespace":"shop","uid":"aaaaaaaa-0000-4000-8000-000000000001"},
 "spec":{"podSelector":{"matchLabels":{"app":"web"}},
   "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],
               "ports":[{"port":"http"},{"port":"dns","protocol":"UDP"}]}]}}
EOT
# B: ingress to db from 10.32.0.0/16 except 10.32.1.0/24, tcp 5432 by number
cat >"$T/pol-b.json" <<'EOT'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
 "metadata":{"name":"db-from-block","namespace":"other","uid":"bbbbbbbb-0000-4000-8000-000000000002"},
 "spec":{"podSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["db"]}]},
   "policyTypes":["Ingress"],
   "ingress":[{"from":[{"ipBlock":{"cidr":"10.32.0.0/16","except":["10.32.1.0/24"]}}],
               "ports":[{"protocol":"TCP","port":5432}]}]}}
EOT
# C: client may send only to web, udp dns (named: resolved against web's ports)
cat >"$T/pol-c.json" <<'EOT'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
 "metadata":{"name":"client-egress","namespace":"shop","uid":"cccccccc-0000-4000-8000-000000000003"},
 "spec":{"podSelector":{"matchLabels":{"app":"client"}},"policyTypes":["Egress"],
   "egress":[{"to":[{"podSelector":{"matchLabels":{"app":"web"}}}],
              "ports":[{"port":"dns","protocol":"UDP"}]}]}}
EOT

LOCALS=(--local "${IP[1]}=shop/web" --local "${IP[2]}=shop/client" --local "${IP[3]}=other/db"
	--local "${IP[4]}=shop/stranger")
GEN=0
apply() { # extra compile args and object files
	hx nft -j list table inet mesh_policy >"$T/listing.json" 2>/dev/null || : >"$T/listing.json"
	GEN=$((GEN + 1))
	"$TOOL" compile --node node-1 --group 7 --gen "$GEN" --prev "$T/listing.json" "$@" >"$T/script.nft"
	hx nft -f "$T/script.nft" || die "nft refused the script"
}
counter() { # name -> packets
	hx nft -j list table inet mesh_policy >"$T/listing.json"
	"$TOOL" counters "$T/listing.json" | awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print "none" }'
}
ok() { # pod proto ip port
	px "p$1" python3 "$FLOW" probe "$2" "$3" "$4" || die "p$1 -> $3 $2/$4 should pass (${CASE})"
}
blocked() {
	if px "p$1" python3 "$FLOW" probe "$2" "$3" "$4"; then
		die "p$1 -> $3 $2/$4 should be dropped (${CASE})"
	fi
}

CASE="no policy"
apply "${LOCALS[@]}" "${BASE[@]}"
ok 2 tcp "${IP[1]}" 8080
ok 3 tcp "${IP[1]}" 8081
ok 4 udp "${IP[3]}" 5353
info "no policy: everything passes"

CASE="policy A (web: ingress from client on named ports)"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
ok 2 tcp "${IP[1]}" 8080         # named port http, and the reply comes back
ok 2 udp "${IP[1]}" 5353         # named port dns/udp
blocked 2 tcp "${IP[1]}" 8081    # not a port of the rule
blocked 3 tcp "${IP[1]}" 8080    # db is in another namespace
blocked 4 tcp "${IP[1]}" 8080    # stranger is not a client
ok 1 tcp "${IP[2]}" 8081         # web's own egress is not isolated; client's ingress neither
ok 3 tcp "${IP[2]}" 8081         # pods no policy selects: untouched
ok 4 udp "${IP[3]}" 5353
[[ $(counter np_aaaaaaaa-0000-4000-8000-000000000001_in_0) != 0 ]] || die "rule counter of A did not count"
(( $(counter drop_ingress) > 0 )) || die "drop_ingress did not count"
info "policy A: named ports, same-namespace podSelector, untouched pods, replies: ok"

CASE="policies A+B (db: ipBlock except)"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json" "$T/pol-b.json"
before=$(counter np_aaaaaaaa-0000-4000-8000-000000000001_in_0)
ok 2 tcp "${IP[3]}" 5432         # 10.32.0.12 inside the block
ok 1 tcp "${IP[3]}" 5432
blocked 4 tcp "${IP[3]}" 5432    # 10.32.1.14 is in except
blocked 2 tcp "${IP[3]}" 8081    # not the port
ok 4 udp "${IP[2]}" 5353         # client still untouched
info "policy B: ipBlock with except: ok"

CASE="policies A+B+C (client egress: only udp dns to web)"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json" "$T/pol-b.json" "$T/pol-c.json"
after=$(counter np_aaaaaaaa-0000-4000-8000-000000000001_in_0)
((after >= before && after > 0)) || die "A's rule counter went from $before to $after across a recompile"
ok 2 udp "${IP[1]}" 5353         # egress C (named, web's port) and ingress A both allow
blocked 2 tcp "${IP[1]}" 8080    # ingress A allows it, egress C does not
blocked 2 tcp "${IP[3]}" 5432    # ingress B allows it, egress C does not
(( $(counter np_cccccccc-0000-4000-8000-000000000003_eg_0) > 0 )) || die "C's rule counter did not count"
(( $(counter drop_egress) > 0 )) || die "drop_egress did not count"
ok 4 tcp "${IP[2]}" 8081         # client's ingress is still untouched
info "policy C: egress with a named port of the destination, both directions checked: ok"

CASE="B and C removed"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
[[ $(counter np_bbbbbbbb-0000-4000-8000-000000000002_in_0) == none ]] || die "B's counter outlived B"
[[ $(counter np_cccccccc-0000-4000-8000-000000000003_eg_0) == none ]] || die "C's counter outlived C"
nsets=$(hx nft list sets table inet mesh_policy | grep -c '^\s*set ')
ok 2 tcp "${IP[3]}" 8081
ok 4 tcp "${IP[3]}" 5432
after2=$(counter np_aaaaaaaa-0000-4000-8000-000000000001_in_0)
((after2 >= after)) || die "A's rule counter went from $after to $after2"
info "removed policies: their counters and sets deleted ($nsets sets left), A's counter kept ($after2 packets)"

CASE="the caller's pending set"
hx nft add element inet mesh_policy pending "{ ${IP[4]} }"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
grep -q "${IP[4]}" < <(hx nft list set inet mesh_policy pending) || die "a recompile wiped the pending set"
blocked 4 tcp "${IP[2]}" 8081
blocked 2 tcp "${IP[4]}" 8081
hx nft delete element inet mesh_policy pending "{ ${IP[4]} }"
ok 4 tcp "${IP[2]}" 8081
(( $(counter drop_pending) > 0 )) || die "drop_pending did not count"
info "pending: kept across recompiles, everything to and from it dropped: ok"

CASE="an address whose pod is not known yet"
apply "${LOCALS[@]:0:6}" --local "${IP[4]}=shop/not-yet" "${BASE[@]:0:5}" "$T/pol-a.json"
blocked 4 tcp "${IP[2]}" 8081
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
ok 4 tcp "${IP[2]}" 8081
info "unknown pod: isolated until its pod is known: ok"

CASE="multicast off"
apply --no-multicast "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
grep -q 224.0.0.0/4 < <(hx nft list chain inet mesh_policy forward) && die "multicast accepted with --no-multicast"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"
grep -q 224.0.0.0/4 < <(hx nft list chain inet mesh_policy forward) || die "multicast not accepted by default"

CASE="a connection established before the policy"
px p3 python3 "$FLOW" stream "${IP[2]}" 7000 5 >"$T/stream.log" 2>&1 &
STREAM=$!
PIDS+=("$STREAM")
for _ in $(seq 50); do grep -q established "$T/stream.log" && break; sleep 0.1; done
grep -q established "$T/stream.log" || die "the stream did not start: $(cat "$T/stream.log")"
cat >"$T/pol-d.json" <<'EOT'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
 "metadata":{"name":"client-deny-all","namespace":"shop","uid":"dddddddd-0000-4000-8000-000000000004"},
 "spec":{"podSelector":{"matchLabels":{"app":"client"}},"policyTypes":["Ingress"]}}
EOT
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json" "$T/pol-d.json"
blocked 3 tcp "${IP[2]}" 8081    # a new connection to client: dropped
wait "$STREAM" || die "the established stream to client was cut by the new policy: $(cat "$T/stream.log")"
info "established before the policy: kept going ($(tail -n1 "$T/stream.log")); new connections dropped: ok"
apply "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json"

# --- IPv6: the same table matches a dual-stack pod's IPv6 flows -----------------------------
# the pods' IPv6 addresses come from status.podIPs; the view gives p4's (the IPAM's mapping)
pod_json shop web "${IP[1]}" '{"app":"web"}' \
	'[{"name":"http","containerPort":8080},{"name":"dns","containerPort":5353,"protocol":"UDP"}]' \
	"${IP6[1]}" >"$T/pod-web.json"
pod_json shop client "${IP[2]}" '{"app":"client"}' '[]' "${IP6[2]}" >"$T/pod-client.json"
pod_json other db "${IP[3]}" '{"app":"db"}' '[{"name":"pg","containerPort":5432}]' "${IP6[3]}" \
	>"$T/pod-db.json"
LOCALS6=("${LOCALS[@]:0:6}" --local "${IP[4]},${IP6[4]}=shop/stranger")
CASE="IPv6, no policy"
apply "${LOCALS6[@]}" "${BASE[@]}"
ok 2 tcp "${IP6[1]}" 8080
ok 4 udp "${IP6[3]}" 5353

CASE="IPv6, policy A (web: ingress from client on named ports)"
apply "${LOCALS6[@]}" "${BASE[@]}" "$T/pol-a.json"
ok 2 tcp "${IP6[1]}" 8080        # named port http over IPv6
ok 2 udp "${IP6[1]}" 5353
blocked 2 tcp "${IP6[1]}" 8081
blocked 3 tcp "${IP6[1]}" 8080
blocked 4 tcp "${IP6[1]}" 8080   # stranger's IPv6 address is the view's
ok 3 tcp "${IP6[2]}" 8081        # untouched pods
hx nft list set inet mesh_policy isolated_in6 | grep -q "${IP6[1]}" || die "isolated_in6 lacks web's address"
info "IPv6 policy A: named ports, podSelector peers by their IPv6 addresses, untouched pods: ok"

CASE="IPv6 neighbour discovery to an isolated pod, multicast off"
apply --no-multicast "${LOCALS6[@]}" "${BASE[@]}" "$T/pol-a.json"
for i in 1 2; do px "p$i" ip -6 neigh flush dev eth0; done
ok 1 tcp "${IP6[2]}" 8081        # client's advertisement reaches web, which is isolated
px p1 ip -6 neigh show "${IP6[2]}" | grep -qE 'REACHABLE|STALE|DELAY|PROBE' ||
	die "web has no neighbour entry for client"
ok 2 tcp "${IP6[1]}" 8080
info "IPv6 neighbour discovery passes to and from an isolated pod: ok"

CASE="IPv6 ipBlock with except (B6), IPv4 not allowed by it"
cat >"$T/pol-b6.json" <<'EOT'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
 "metadata":{"name":"db-from-block6","namespace":"other","uid":"bbbbbbbb-0000-4000-8000-000000000006"},
 "spec":{"podSelector":{"matchLabels":{"app":"db"}},"policyTypes":["Ingress"],
   "ingress":[{"from":[{"ipBlock":{"cidr":"fd00:10:32::/48","except":["fd00:10:32:1::/64"]}}],
               "ports":[{"protocol":"TCP","port":5432}]}]}}
EOT
apply "${LOCALS6[@]}" "${BASE[@]}" "$T/pol-b6.json"
ok 2 tcp "${IP6[3]}" 5432        # inside the block
blocked 4 tcp "${IP6[3]}" 5432   # in its except
blocked 2 tcp "${IP[3]}" 5432    # an IPv6 block allows no IPv4
blocked 2 tcp "${IP6[3]}" 8081   # not the port
(( $(counter np_bbbbbbbb-0000-4000-8000-000000000006_in_0) > 0 )) || die "B6's rule counter did not count"
info "IPv6 ipBlock with except: ok; it allows no IPv4"

CASE="IPv6 egress (C): client only udp dns to web"
apply "${LOCALS6[@]}" "${BASE[@]}" "$T/pol-c.json"
ok 2 udp "${IP6[1]}" 5353        # named port of the destination, over IPv6
blocked 2 tcp "${IP6[1]}" 8080
blocked 2 tcp "${IP6[3]}" 8081
info "IPv6 egress with a named port: ok"

CASE="a link-local IPv6 address"
apply "${LOCALS6[@]}" "${BASE[@]}"
ll2=$(px p2 ip -6 -o addr show dev eth0 scope link | awk '{ sub("/.*", "", $4); print $4 }')
[[ -n $ll2 ]] || die "client has no link-local address"
blocked 3 tcp "$ll2%eth0" 8081   # no policy at all, yet link-local between pods is dropped
ok 3 tcp "${IP6[2]}" 8081
(( $(counter drop_linklocal) > 0 )) || die "drop_linklocal did not count"
info "a new flow to a pod's link-local address is dropped (drop_linklocal): ok"

CASE="IPv6 of an address whose pod is not known yet"
apply "${LOCALS[@]:0:6}" --local "${IP[4]},${IP6[4]}=shop/not-yet" "${BASE[@]:0:5}" "$T/pol-a.json"
blocked 4 tcp "${IP6[2]}" 8081
hx nft list set inet mesh_policy unknown6 | grep -q "${IP6[4]}" || die "unknown6 lacks ${IP6[4]}"
apply "${LOCALS6[@]}" "${BASE[@]}" "$T/pol-a.json"
ok 4 tcp "${IP6[2]}" 8081
info "IPv6: unknown pod isolated until its pod is known: ok"
"$TOOL" explain "${IP6[2]}" "${IP6[1]}" 6 8081 "mesh-policy ingress " "${BASE[@]}" "$T/pol-a.json" \
	>"$T/explain6"
grep -q "^to=shop/web (${IP6[1]})" "$T/explain6" && grep -q "isolated by 1 policy" "$T/explain6" ||
	die "explain of an IPv6 drop: $(cat "$T/explain6")"

# --- scale: 500 policies selecting 200 pods ------------------------------------------------
python3 - "$T" <<'EOT'
import json, sys
t = sys.argv[1]
pods, pols = [], []
for i in range(200):
    pods.append({"metadata": {"name": "p%d" % i, "namespace": "bench", "uid": "pod-%d" % i,
                              "labels": {"group": "g%d" % (i % 50), "app": "bench"}},
                 "spec": {"nodeName": "node-1" if i % 2 == 0 else "node-%d" % (2 + i % 5),
                          "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8000 + i % 7}]}]},
                 "status": {"phase": "Running", "podIPs": [{"ip": "10.40.%d.%d" % (i // 250, 1 + i % 250)}]}})
for i in range(500):
    pols.append({"metadata": {"name": "pol%d" % i, "namespace": "bench",
                              "uid": "00000000-0000-4000-8000-%012d" % i},
                 "spec": {"podSelector": {"matchLabels": {"group": "g%d" % (i % 50)}},
                          "policyTypes": ["Ingress", "Egress"],
                          "ingress": [{"from": [{"podSelector": {"matchLabels": {"group": "g%d" % ((i + 1) % 50)}}},
                                                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.40.%d.0/24" % (i % 3)]}}],
                                       "ports": [{"port": 80 + i % 10}, {"port": "http"}]}],
                          "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "x"}}}]},
                                     {"ports": [{"port": 53, "protocol": "UDP"}]}]}})
json.dump({"kind": "PodList", "items": pods}, open(t + "/bench-pods.json", "w"))
json.dump({"kind": "NetworkPolicyList", "items": pols}, open(t + "/bench-pols.json", "w"))
json.dump({"kind": "Namespace", "metadata": {"name": "bench"}}, open(t + "/bench-ns.json", "w"))
EOT
hx nft -j list table inet mesh_policy >"$T/listing.json"
"$TOOL" compile --stats --node node-1 --prev "$T/listing.json" "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json" \
	"$T/bench-ns.json" "$T/bench-pods.json" "$T/bench-pols.json" >"$T/script.nft" 2>"$T/stats"
t0=$EPOCHREALTIME
hx nft -f "$T/script.nft" || die "nft refused the 500-policy script"
t1=$EPOCHREALTIME
info "scale: $(sed 's/^np_tool: //' "$T/stats"); $(wc -l <"$T/script.nft") lines; nft -f took $(python3 -c "print('%.0f ms' % (($t1 - $t0) * 1000))")"
hx nft -j list table inet mesh_policy >"$T/listing.json"
"$TOOL" compile --node node-1 --prev "$T/listing.json" "${LOCALS[@]}" "${BASE[@]}" "$T/pol-a.json" \
	"$T/bench-ns.json" "$T/bench-pods.json" "$T/bench-pols.json" >"$T/script.nft"
t0=$EPOCHREALTIME
hx nft -f "$T/script.nft" || die "nft refused the 500-policy script the second time"
t1=$EPOCHREALTIME
info "scale: reloading the same state took $(python3 -c "print('%.0f ms' % (($t1 - $t0) * 1000))")"
CASE="after the 500 policies"
ok 2 tcp "${IP[1]}" 8080
blocked 3 tcp "${IP[1]}" 8080
