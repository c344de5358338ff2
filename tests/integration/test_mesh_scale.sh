#!/usr/bin/env bash
# test_mesh_scale (issue 17, part 4): a big lab on this machine. MESH_SCALE_HOSTS hosts (default
# 50; `MESH_SCALE_HOSTS=100` for the full run), every one naming only h1, with the kernel VXLAN
# fast path (MESH_SCALE_PASSWORD=1: with a password, so on the encrypted sleeve here). Within
# 60 s of `lab up` every container reaches c1, and h1, the middle host and the last list every
# host as a reachable peer. Then, over 30 s of an idle mesh, it reports per host: gossip bytes/s
# sent and received, meshd's RSS and CPU (median and max over all hosts). Figures are reported,
# not judged (the machine is shared); what must hold is the reachability.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=${MESH_SCALE_HOSTS:-50}
[[ $N =~ ^[0-9]+$ ]] && ((N >= 3 && N <= 250)) || die "MESH_SCALE_HOSTS must be 3..250"
args=()
if [[ ${MESH_SCALE_PASSWORD:-0} == 1 ]]; then
	make_password_file "$TEST_TMP/password"
	args=(--password-file "$TEST_TMP/password")
fi
tu=$(now_ms)
lab up "$N" "${args[@]}" >"$TEST_TMP/up.log" 2>&1 || die "lab up $N failed: $(tail -n 5 "$TEST_TMP/up.log")"
t0=$(now_ms)
info "lab up $N${args[*]:+ (with a password)} took $(((t0 - tu) / 1000)) s"

# every container reaches c1 within 60 s of up
mapfile -t pairs < <(for ((i = 2; i <= N; i++)); do echo "$i:1"; done)
ping_pairs "$t0" $((t0 + 60000)) "${pairs[@]}" || die "not every container reaches c1 within 60 s of up"
info "all $((N - 1)) containers reach c1, the last $PING_LATEST_MS ms after up"
mid=$(((N + 1) / 2))
all_reachable() { json_true "$1" "(.peers | length) == $N and all(.peers[]; .reachable)"; }
for h in h1 "h$mid" "h$N"; do
	t=$(wait_by $((t0 + 60000)) all_reachable "$h") ||
		die "$h does not list all $N hosts as reachable 60 s after up: $(jget "$h" '.peers | length') peers"
	info "$h lists all $N hosts reachable, $((t - t0)) ms after up"
done

# 30 s of an idle mesh: gossip, RSS, CPU per host
declare -A tx0 rx0 cpu0
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
snapshot() { # prints "tx rx" of host i
	jget "h$1" '"\(.counters.gossip_tx_bytes) \(.counters.gossip_rx_bytes)"'
}
for ((i = 1; i <= N; i++)); do
	read -r tx0[$i] rx0[$i] <<<"$(snapshot "$i")"
	cpu0[$i]=$(cpu_ticks "$(meshd_pid "h$i")")
done
ts=$(now_ms)
sleep 30
dt=$(($(now_ms) - ts))
: >"$TEST_TMP/figures"
for ((i = 1; i <= N; i++)); do
	read -r tx rx <<<"$(snapshot "$i")"
	pid=$(meshd_pid "h$i")
	cpu=$(cpu_ticks "$pid")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	# bytes/s sent, received; RSS KiB; CPU % of one core
	echo "$(((tx - tx0[$i]) * 1000 / dt)) $(((rx - rx0[$i]) * 1000 / dt)) $rss $(((cpu - cpu0[$i]) * 100000 / hz / dt))" >>"$TEST_TMP/figures"
done
# median and max of column k
stat() {
	sort -n -k"$1" "$TEST_TMP/figures" | awk -v k="$1" '{ v[NR] = $k } END { printf "median %d, max %d", v[int((NR + 1) / 2)], v[NR] }'
}
info "idle ${dt} ms, per host: gossip sent B/s $(stat 1); received B/s $(stat 2)"
info "per host: meshd RSS KiB $(stat 3); CPU % of a core $(stat 4)"
