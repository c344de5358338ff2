#!/usr/bin/env bash
# test_ipam: meshd's mesh-wide IPAM through mesh-cni and the API, in a 3-host lab (meshd hands
# out 10.40.0.0/16, prefix /12, h1 seeds the ring alone and the others get space from donors):
#  (a) 50 parallel ADDs on each host at once (10 of them through mesh-cni with a netns each,
#      40 through POST /v1/ipam/allocate): 150 distinct addresses, all in 10.40.0.0/16, and the
#      mesh-cni containers have theirs on eth0;
#  (b) `lab kill h3` + `lab start h3`: h3 still holds the same address for every id (from its
#      state file), and asking again gives the same address;
#  (c) h1 blocked from h2 and h3 until its connections end (60 s of silence): allocations go on
#      on both sides; after the heal the hosts' rings agree and no address is held twice
#      across all hosts;
#  (d) mesh-cni DEL (also with meshd down: it succeeds, and a DEL later releases), GC with
#      cni.dev/valid-attachments (only of its own network: another network's and the API's
#      allocations stay), and releases of the rest leave 0 allocations everywhere and no
#      vethmesh* link.
# mesh-cni is $MESH_BUILD_DIR/mesh-cni, else <repo>/mesh-cni, else $MESH_CNI.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
command -v curl >/dev/null || die "missing tool curl"

CNI_BIN=${MESH_CNI:-}
if [[ -z $CNI_BIN ]]; then
	for c in "${MESH_BUILD_DIR:-/nonexistent}/mesh-cni" "$REPO_ROOT/mesh-cni" "$REPO_ROOT/build/mesh-cni"; do
		[[ -x $c ]] && { CNI_BIN=$c; break; }
	done
fi
[[ -x ${CNI_BIN:-} ]] || die "mesh-cni not built (looked in \$MESH_BUILD_DIR, the repo root; or set MESH_CNI)"

PER_HOST=50   # ADDs per host in (a)
VIA_CNI=10    # of them through mesh-cni, each in its own netns
NS_PREFIX="$LAB_NAME-ipt"

lab_fresh
netns_cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX-" || true); do
		ip netns del "$ns" 2>/dev/null
	done
}
on_exit netns_cleanup

# cni h<i> COMMAND ID [CONFIG]: runs mesh-cni in lab host i for container ID (netns
# $NS_PREFIX-ID); prints its stdout. The default config has no "ipam": mesh IPAM.
cni() {
	local h=$1 cmd=$2 id=$3 conf=${4:-}
	[[ -n $conf ]] || conf="{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"socket\":\"$(sock "$h")\"}"
	local ns=/run/netns/$NS_PREFIX-$id
	[[ $cmd == ADD || -e $ns ]] || ns=""
	lab exec "$h" env CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="$ns" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$conf"
}

# add_cni h<i> ID: netns + mesh-cni ADD; prints the address (without prefix).
add_cni() {
	local h=$1 id=$2 out
	ip netns add "$NS_PREFIX-$id"
	out=$(cni "$h" ADD "$id") || {
		echo "mesh-cni ADD $id on $h failed: $out" >&2
		return 1
	}
	jq -r '.ips[0].address' <<<"$out" | cut -d/ -f1
}

# ipam_allocs h<i>: "id ip [network]" lines of GET /v1/ipam (mesh-cni names its network).
ipam_allocs() {
	local out
	out=$(api "$1" GET /v1/ipam) || return 1
	jq -r '.allocations[] | "\(.container_id) \(.ip) \(.network // "")"' <<<"${out%$'\n'*}"
}

in_range() { [[ $1 =~ ^10\.40\.[0-9]+\.[0-9]+$ ]]; }

info "lab up 3 (meshd: --ipalloc-range 10.40.0.0/16 --ipalloc-default-subnet 10.32.0.0/12)"
lab up 3
for p in "h1 h2" "h1 h3" "h2 h3"; do
	set -- $p
	wait_established "$1" "$2" 20
done
for h in h1 h2 h3; do
	wait_until 15 json_true "$h" '.ipam.seeded' || die "$h: IPAM ring not seeded: $(jget "$h" .ipam)"
done
seed=$(jget h1 .ipam.seed)
for h in h2 h3; do
	[[ $(jget "$h" .ipam.seed) == "$seed" ]] || die "$h has seed $(jget "$h" .ipam.seed), h1 $seed"
done
info "ring seeded ($seed, $(jget h1 .ipam.init) on h1); every host joined it"

# the API refuses what it cannot take, with a reason
expect_http() { # CODE METHOD PATH [BODY]
	local want=$1 out
	shift
	out=$(api h1 "$@")
	[[ ${out##*$'\n'} == "$want" ]] || die "$1 $2 ${3:-}: HTTP ${out##*$'\n'}, want $want: ${out%$'\n'*}"
	jq -e '.error | length > 0' >/dev/null <<<"${out%$'\n'*}" || die "$1 $2: no error message"
}
expect_http 400 POST /v1/ipam/allocate '{"container_id":"-bad"}'
expect_http 400 POST /v1/ipam/allocate '{"id":"x"}'
expect_http 400 POST /v1/ipam/gc '{"keep":"x"}'
expect_http 405 GET /v1/ipam/allocate
expect_http 404 POST /v1/ipam/lookup '{"container_id":"nobody"}'
expect_http 404 GET /v1/ipam/nothing
out=$(api h1 POST /v1/ipam/release '{"container_id":"nobody"}')
[[ $(jq -r .released <<<"${out%$'\n'*}") == 0 ]] || die "release of an unknown id: $out"
st='{"cniVersion":"1.1.0","name":"mesh","type":"mesh-cni","socket":"'"$(sock h1)"'"}'
lab exec h1 env CNI_COMMAND=STATUS CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$st" >/dev/null ||
	die "mesh-cni STATUS on h1 fails with a seeded ring"
info "API: bad requests get 400/404/405 with a reason; a release of nothing is fine; STATUS ok"

# --- (a) 3 x 50 parallel ADDs ----------------------------------------------------------------
info "(a) $PER_HOST parallel ADDs on each of h1, h2, h3 ($VIA_CNI per host through mesh-cni)"
A=$TEST_TMP/a
mkdir -p "$A"
t0=$(now_ms)
pids=()
for h in h1 h2 h3; do
	for ((k = 1; k <= PER_HOST; k++)); do
		id="$h-a$k"
		if ((k <= VIA_CNI)); then
			add_cni "$h" "$id" >"$A/$id" 2>"$A/$id.err" &
		else
			alloc_api "$h" "$id" >"$A/$id" 2>"$A/$id.err" &
		fi
		pids+=($!)
	done
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
((failed == 0)) || die "$failed of $((3 * PER_HOST)) ADDs failed: $(cat "$A"/*.err | head -5)"
info "(a) $((3 * PER_HOST)) ADDs done in $(($(now_ms) - t0)) ms"
sort_ips() { cat "$@" | sort; }
total=$(cat "$A"/h*-a[0-9]* 2>/dev/null | grep -c . || true)
distinct=$(cat "$A"/h*-a[0-9]* | sort -u | grep -c . || true)
((total == 3 * PER_HOST)) || die "(a) $total addresses, want $((3 * PER_HOST))"
((distinct == total)) || die "(a) only $distinct distinct addresses of $total: $(cat "$A"/h*-a[0-9]* | sort | uniq -d | head)"
for f in "$A"/h*-a[0-9]*; do
	[[ $f == *.err ]] && continue
	in_range "$(cat "$f")" || die "(a) $(basename "$f") got '$(cat "$f")', not in 10.40.0.0/16"
done
# the mesh-cni containers carry their address, with the default subnet's prefix
for h in h1 h2 h3; do
	id="$h-a1"
	got=$(ip -n "$NS_PREFIX-$id" -4 -o addr show eth0 | awk '{print $4}')
	[[ $got == "$(cat "$A/$id")/12" ]] || die "(a) $id: eth0 has '$got', ADD said $(cat "$A/$id")/12"
done
# and meshd lists exactly these
for h in h1 h2 h3; do
	n=$(ipam_allocs "$h" | wc -l)
	((n == PER_HOST)) || die "(a) $h lists $n allocations, want $PER_HOST"
done
info "(a) $distinct distinct addresses, all in 10.40.0.0/16"
# mesh-cni containers on different hosts reach each other across the mesh
ip netns exec "$NS_PREFIX-h1-a1" ping -c1 -W3 "$(cat "$A/h2-a1")" >/dev/null ||
	ip netns exec "$NS_PREFIX-h1-a1" ping -c2 -W3 "$(cat "$A/h2-a1")" >/dev/null ||
	die "(a) h1-a1 cannot ping h2-a1 ($(cat "$A/h2-a1"))"
info "(a) h1-a1 ($(cat "$A/h1-a1")) pings h2-a1 ($(cat "$A/h2-a1")) across the mesh"

# --- (b) h3 restarts with its allocations ----------------------------------------------------
info "(b) lab kill h3; lab start h3"
ipam_allocs h3 | sort >"$TEST_TMP/h3-before"
lab kill h3
lab start h3
wait_established h3 h1 20
wait_until 10 json_true h3 '.ipam.seeded' || die "(b) h3's ring is not seeded after the restart"
ipam_allocs h3 | sort >"$TEST_TMP/h3-after"
diff -u "$TEST_TMP/h3-before" "$TEST_TMP/h3-after" >&2 || die "(b) h3's allocations changed across the restart"
[[ $(jget h3 .ipam.seed) == "$seed" ]] || die "(b) h3 has another seed after the restart"
again=$(alloc_api h3 h3-a20) || die "(b) asking again failed"
[[ $again == "$(cat "$A/h3-a20")" ]] || die "(b) h3-a20 got $again now, $(cat "$A/h3-a20") before"
info "(b) h3 kept its $(wc -l <"$TEST_TMP/h3-after") allocations; h3-a20 still has $again"

# --- (c) partition ---------------------------------------------------------------------------
info "(c) block h1 from h2 and h3; allocate on both sides"
lab block h1 h2
lab block h1 h3
# the connections end after 60 s without heartbeats: then h1 is alone, a minority
t0=$(now_ms)
wait_until 80 json_true h1 '[.connections[] | select(.state == "established")] | length == 0' ||
	die "(c) h1 still has established connections 80 s into the partition"
info "(c) h1 lost its connections after $((($(now_ms) - t0) / 1000)) s; allocating on both sides"
C=$TEST_TMP/c
mkdir -p "$C"
pids=()
for ((k = 1; k <= 20; k++)); do
	alloc_api h1 "h1-c$k" >"$C/h1-c$k" 2>"$C/h1-c$k.err" &
	pids+=($!)
	h=$((k % 2 ? 2 : 3))
	alloc_api "h$h" "h$h-c$k" >"$C/h$h-c$k" 2>"$C/h$h-c$k.err" &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
((failed == 0)) || die "(c) $failed allocations failed during the partition: $(cat "$C"/*.err | head -5)"
info "(c) 40 allocations during the partition (20 on h1, 20 on h2+h3)"
lab unblock h1 h2
lab unblock h1 h3
wait_established h1 h2 90
wait_established h1 h3 90
# the rings converge: every host sees the same owners with the same shares
rings_agree() {
	local a b c
	a=$(jget h1 '[.ipam.owners[] | {name, owned}] | tojson')
	b=$(jget h2 '[.ipam.owners[] | {name, owned}] | tojson')
	c=$(jget h3 '[.ipam.owners[] | {name, owned}] | tojson')
	[[ $a == "$b" && $b == "$c" ]]
}
wait_until 40 rings_agree || die "(c) the rings differ after the heal: h1 $(jget h1 '.ipam.owners|tojson') h2 $(jget h2 '.ipam.owners|tojson') h3 $(jget h3 '.ipam.owners|tojson')"
for h in h1 h2 h3; do ipam_allocs "$h"; done >"$TEST_TMP/all"
n=$(wc -l <"$TEST_TMP/all")
dups=$(awk '{print $2}' "$TEST_TMP/all" | sort | uniq -d)
[[ -z $dups ]] || die "(c) addresses held twice after the heal: $dups"
((n == 3 * PER_HOST + 40)) || die "(c) $n allocations across the hosts, want $((3 * PER_HOST + 40))"
for h in h1 h2 h3; do
	! grep -q "refusing .*IPAM ring" "$LAB_RUN/$h/meshd.log" ||
		die "(c) $h refused a ring: $(grep "refusing .*IPAM ring" "$LAB_RUN/$h/meshd.log" | head -2)"
done
info "(c) after the heal: $n allocations, no address twice, the rings agree"

# --- (d) DEL, GC, release ----------------------------------------------------------------------
info "(d) mesh-cni DEL of the mesh-cni containers (one of them while h2's meshd is down)"
lab kill h2
cni h2 DEL h2-a1 >"$TEST_TMP/del-down.out" 2>&1 || die "(d) DEL with meshd down failed: $(cat "$TEST_TMP/del-down.out")"
lab start h2
wait_established h2 h1 20
ipam_allocs h2 | grep -q '^h2-a1 ' || die "(d) h2-a1 vanished although meshd was down at DEL"
pids=()
for h in h1 h2 h3; do
	for ((k = 1; k <= VIA_CNI; k++)); do
		cni "$h" DEL "$h-a$k" >"$TEST_TMP/del-$h-$k" 2>&1 &
		pids+=($!)
	done
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
((failed == 0)) || die "(d) $failed mesh-cni DELs failed: $(cat "$TEST_TMP"/del-h* | head -5)"
cni h1 DEL h1-a1 >/dev/null || die "(d) a repeated DEL failed"
for h in h1 h2 h3; do
	left=$(lab exec "$h" ip -o link show | grep -c vethmesh || true)
	((left == 0)) || die "(d) $h: $left vethmesh link(s) left after DEL"
done
# Containers of two CNI networks on h1 (as mesh-cni asks for them): g1 and g2 of "mesh", g1 of
# "other". mesh-cni's GC of "mesh" keeping g1 releases mesh's g2 only: not other's g1, and not
# the allocations made without a network (the API's above).
info "(d) GC on h1 through mesh-cni (cniVersion 1.1.0) of network mesh, keeping g1, h1-a11, h1-c1"
for nc in mesh/g1 mesh/g2 other/g1; do
	out=$(api h1 POST /v1/ipam/allocate "{\"container_id\":\"${nc#*/}\",\"network\":\"${nc%/*}\"}")
	[[ ${out##*$'\n'} == 200 ]] || die "(d) allocate $nc: $out"
done
gc="{\"cniVersion\":\"1.1.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"socket\":\"$(sock h1)\",
  \"cni.dev/valid-attachments\":[{\"containerID\":\"h1-a11\",\"ifname\":\"eth0\"},
                                 {\"containerID\":\"g1\",\"ifname\":\"eth0\"},
                                 {\"containerID\":\"h1-c1\",\"ifname\":\"eth0\"}]}"
nets_before=$(ipam_allocs h1 | awk '$3 == "" { n++ } END { print n + 0 }')
lab exec h1 env CNI_COMMAND=GC CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$gc" >"$TEST_TMP/gc.out" 2>&1 ||
	die "(d) GC failed: $(cat "$TEST_TMP/gc.out")"
[[ $(ipam_allocs h1 | awk '$3 != "" { print $3 "/" $1 }' | sort | tr '\n' ' ') == "mesh/g1 other/g1 " ]] ||
	die "(d) after mesh's GC h1 holds: $(ipam_allocs h1 | awk '$3 != ""' | tr '\n' ' ')"
[[ $(ipam_allocs h1 | awk '$3 == "" { n++ } END { print n + 0 }') == "$nets_before" ]] ||
	die "(d) mesh's GC released allocations made without a network"
info "(d) mesh's GC released mesh/g2 only ($nets_before allocations without a network kept)"
# the API's GC without a network: the allocations without one, keeping h1-a11 and h1-c1
out=$(api h1 POST /v1/ipam/gc '{"keep":["h1-a11","h1-c1"]}')
[[ ${out##*$'\n'} == 200 ]] || die "(d) GC without a network: $out"
[[ $(ipam_allocs h1 | awk '{ print ($3 == "" ? "" : $3 "/") $1 }' | sort | tr '\n' ' ') == "h1-a11 h1-c1 mesh/g1 other/g1 " ]] ||
	die "(d) after GC h1 holds: $(ipam_allocs h1 | tr '\n' ' ')"
for h in h1 h2 h3; do
	ipam_allocs "$h" | while read -r id _ net; do
		body="{\"container_id\":\"$id\"${net:+,\"network\":\"$net\"}}"
		out=$(api "$h" POST /v1/ipam/release "$body")
		[[ ${out##*$'\n'} == 200 ]] || { echo "release $body on $h: $out" >&2; exit 1; }
	done || die "(d) a release failed"
done
for h in h1 h2 h3; do
	wait_until 5 json_true "$h" '.ipam.allocation_count == 0' ||
		die "(d) $h still has $(jget "$h" .ipam.allocation_count) allocations"
done
info "(d) 0 allocations on every host, no veth left"
