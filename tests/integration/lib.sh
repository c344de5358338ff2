# tests/integration/lib.sh: helpers sourced by every tests/integration/test_*.sh.
# Owns: the test's temp dir, its background processes (stopped by pid), and the cleanup trap
# that brings the lab down, prints meshd's logs when the test failed and fails the test on
# any sanitizer report in them.
# shellcheck shell=bash

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$REPO_ROOT/scripts/lab"
# The lab's names (see scripts/lab): netns $LAB_NAME-h<i>, run dir $LAB_RUN.
LAB_NAME=${MESH_LAB_NAME:-mesh}
LAB_RUN=/run/$LAB_NAME-lab
# shellcheck disable=SC2034 # used by the tests
PCAPTOOL="$REPO_ROOT/tests/integration/pcaptool.py"
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/mesh-$TEST_NAME.XXXXXX")
BG_PIDS=()

info() { echo "[$TEST_NAME] $*"; }
# FAIL_WHY: the reasons this test failed, said again after the logs at cleanup (CI shows the
# end of a long output).
FAIL_WHY=()
die() {
	echo "[$TEST_NAME] FAIL: $*" >&2
	FAIL_WHY+=("$*")
	exit 1
}
# skip WHY: the test cannot run here; exit status 77 (automake's), which scripts/check.sh
# reports as SKIP, never as a pass.
skip() {
	echo "[$TEST_NAME] SKIP: $*"
	exit 77
}

lab() { "$LAB" "$@"; }

# bg_start OUTFILE CMD...: starts CMD in the background with stdout and stderr to OUTFILE,
# sets BG_LAST to its pid and stops it at cleanup. Through `lab exec`/`lab cexec` the pid is
# CMD's own (both exec it).
BG_LAST=
bg_start() {
	local out=$1
	shift
	# The lab script itself, not the lab() function: a function would run in a subshell
	# whose pid is not CMD's.
	[[ $1 != lab ]] || set -- "$LAB" "${@:2}"
	"$@" >"$out" 2>&1 &
	BG_LAST=$!
	BG_PIDS+=("$BG_LAST")
}

# Stops a process started with bg_start (SIGTERM, then SIGKILL after 3 s) and reaps it.
bg_stop() {
	local pid=$1 i p
	local -a keep=()
	for p in "${BG_PIDS[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# pid_alive PID: true while the process exists and is not a zombie.
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# wait_until SECONDS CMD...: runs CMD every 0.5 s until it succeeds; fails after SECONDS.
wait_until() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# Pings overlay address $2 from the container of host $1 until it answers or $3 s pass.
wait_ping() {
	local h=$1 ip=$2 timeout=${3:-15}
	wait_until "$timeout" lab cexec "$h" ping -c1 -W1 "$ip" ||
		die "$h's container cannot ping $ip within ${timeout}s"
}

# c_listening h<i> PORT: true when something in host i's container listens on TCP PORT.
c_listening() {
	local out
	out=$(lab cexec "$1" ss -Htln "sport = :$2") && [[ -n $out ]]
}

# start_iperf3_server h<i>: one-shot iperf3 server in host i's container; sets BG_LAST.
start_iperf3_server() {
	bg_start "$TEST_TMP/iperf3-server-$1.log" lab cexec "$1" iperf3 -s -1
	wait_until 5 c_listening "$1" 5201 ||
		die "iperf3 server in $1's container did not start: $(cat "$TEST_TMP/iperf3-server-$1.log")"
}

# meshctl status JSON of host $1.
status_json() { lab exec "$1" meshctl status -o json; }

# jget h<i> JQ_FILTER: runs a jq filter (raw output) over host's status JSON.
jget() {
	local h=$1 filter=$2 js
	js=$(status_json "$h") || die "meshctl status -o json failed on $h"
	jq -r "$filter" <<<"$js"
}

# counter h<i> NAME: one value of .counters.
counter() { jget "$1" ".counters.$2"; }

# established h<i> NICK: true when host i has an established connection to peer NICK.
established() {
	local n
	n=$(jget "$1" "[.connections[] | select(.state == \"established\" and .nickname == \"$2\")] | length" 2>/dev/null) &&
		((n >= 1))
}

# wait_established h<i> NICK [SECONDS]
wait_established() {
	wait_until "${3:-15}" established "$1" "$2" ||
		die "$1 has no established connection to $2 within ${3:-15}s: $(status_json "$1" 2>&1)"
}

# Writes a fresh random password to file $1 (mode 0600).
make_password_file() {
	(umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$1")
}

# meshd's pid of host $1 from the lab's pid file.
meshd_pid() { cat "$LAB_RUN/$1/meshd.pid"; }

# Prints the meshd binary the lab will run (same rules as scripts/lab).
meshd_bin() {
	if [[ -n ${MESHD:-} ]]; then
		echo "$MESHD"
	elif [[ -n ${MESH_BUILD_DIR:-} ]]; then
		echo "$MESH_BUILD_DIR/meshd"
	else
		local best="" c
		for c in "$REPO_ROOT/meshd" "$REPO_ROOT/build/meshd"; do
			[[ -x $c ]] || continue
			if [[ -z $best || $c -nt $best ]]; then best=$c; fi
		done
		echo "${best:-$REPO_ROOT/meshd}"
	fi
}

# Fails unless the build has meshd and meshctl where the lab will look, and the tools exist.
require_build() {
	local meshd t
	meshd=$(meshd_bin)
	[[ -x $meshd ]] || die "meshd not built ($meshd); build first or set MESH_BUILD_DIR"
	[[ -x $(dirname "$meshd")/meshctl ]] || die "meshctl not built next to $meshd"
	for t in jq python3 iperf3 tcpdump ip ss; do
		command -v "$t" >/dev/null || die "missing tool $t (run scripts/deps.sh)"
	done
}

# on_exit CMD...: runs CMD (by eval) at cleanup, before the lab goes down.
EXIT_HOOKS=()
on_exit() { EXIT_HOOKS+=("$*"); }

# lab_down NAME: brings the lab down mid-test, keeping its logs for the end of the test.
lab_down() {
	MESH_LAB_SAVE_LOGS="$TEST_TMP/logs-$1" lab down
}

# Prints the last lines of each lab host's log (saved by `lab down`).
dump_logs() {
	local f
	for f in "$TEST_TMP"/logs*/*.log; do
		[[ -f $f ]] || continue
		echo "----- ${f#"$TEST_TMP"/} (last 40 lines) -----" >&2
		tail -n 40 "$f" >&2
	done
}

cleanup() {
	# (in an EXIT trap BASH_COMMAND is the command that ended the script: under set -e, the one
	# that failed)
	local rc=$? last=$BASH_COMMAND pid hook
	set +e
	for pid in "${BG_PIDS[@]}"; do
		bg_stop "$pid"
	done
	for hook in "${EXIT_HOOKS[@]}"; do
		eval "$hook"
	done
	MESH_LAB_SAVE_LOGS="$TEST_TMP/logs" "$LAB" down >/dev/null 2>&1
	local san='ERROR: (Address|Leak)Sanitizer|runtime error:'
	if grep -qE "$san" "$TEST_TMP"/logs*/*.log 2>/dev/null; then
		echo "[$TEST_NAME] FAIL: sanitizer report in meshd's log:" >&2
		grep -E -A 30 "$san" "$TEST_TMP"/logs*/*.log >&2
		FAIL_WHY+=("sanitizer report in meshd's log (above)")
		rc=1
	fi
	# Under scripts/check.sh's sanitizer suite every sanitized program (mesh-cni run by podman
	# or containerd, whose stderr nobody shows, meshctl, the tools) writes its reports to
	# MESH_SAN_DIR (ASAN_OPTIONS/UBSAN_OPTIONS log_path): any there fails this test, and is
	# moved aside so the next test starts clean.
	if [[ -n ${MESH_SAN_DIR:-} ]] && compgen -G "$MESH_SAN_DIR/*.[0-9]*" >/dev/null; then
		echo "[$TEST_NAME] FAIL: sanitizer reports in $MESH_SAN_DIR:" >&2
		local f
		for f in "$MESH_SAN_DIR"/*.[0-9]*; do
			echo "----- $f -----" >&2
			head -n 40 "$f" >&2
			mkdir -p "$MESH_SAN_DIR/seen"
			mv "$f" "$MESH_SAN_DIR/seen/$TEST_NAME-${f##*/}"
			FAIL_WHY+=("sanitizer report ${f##*/}: $(grep -m1 -E 'ERROR|runtime error' "$MESH_SAN_DIR/seen/$TEST_NAME-${f##*/}")")
		done
		rc=1
	fi
	if ((rc == 77)); then
		:
	elif ((rc != 0)); then
		dump_logs
		local why
		for why in "${FAIL_WHY[@]}"; do
			echo "[$TEST_NAME] FAIL (said above the logs): $why" >&2
		done
		((${#FAIL_WHY[@]})) || echo "[$TEST_NAME] FAIL: exit status $rc from \`$last\` (failed under set -e?)" >&2
	else
		info "PASS"
	fi
	rm -rf "$TEST_TMP"
	exit "$rc"
}

# Every test starts from no lab and ends with none.
lab_fresh() {
	lab down >/dev/null 2>&1 || true
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# --- meshd's API (test_ipam, test_fault_*) -------------------------------------------------

sock() { echo "$LAB_RUN/$1/meshd.sock"; }

# api h<i> METHOD PATH [BODY]: prints "<body>\n<http code>".
api() {
	local h=$1 m=$2 p=$3 body=${4:-}
	curl -s --max-time 10 --unix-socket "$(sock "$h")" -X "$m" ${body:+-d "$body"} \
		-w '\n%{http_code}' "http://meshd$p"
}

# alloc_api h<i> ID: allocates through the API, retrying 503 answers for up to 30 s; prints
# the address.
alloc_api() {
	local h=$1 id=$2 out code deadline=$((SECONDS + 30))
	while :; do
		out=$(api "$h" POST /v1/ipam/allocate "{\"container_id\":\"$id\"}") || out=$'\n000'
		code=${out##*$'\n'}
		if [[ $code == 200 ]]; then
			jq -r .ip <<<"${out%$'\n'*}"
			return 0
		fi
		if [[ $code != 503 && $code != 000 ]] || ((SECONDS >= deadline)); then
			echo "allocate $id on $h: HTTP $code: ${out%$'\n'*}" >&2
			return 1
		fi
		sleep 0.2
	done
}

# --- helpers of the mesh tests (test_mesh_*.sh) ---------------------------------------------

# shellcheck disable=SC2034 # used by the tests
MCAST="$REPO_ROOT/tests/integration/mcast.py"

# Milliseconds since the epoch (bash's EPOCHREALTIME, so no fork).
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# Overlay address of host i's container: cip h<i> -> 10.32.0.<i> (see scripts/lab).
cip() { echo "10.32.0.${1#h}"; }

# ping_by DEADLINE_MS h<i> IP: pings IP from host i's container (one ping, 1 s wait, again
# and again) until one answers at or before DEADLINE_MS (epoch ms). Prints the epoch ms of the
# first answer; fails, printing nothing, when none came in time. Never dies.
ping_by() {
	local deadline=$1 h=$2 ip=$3 t
	while (($(now_ms) < deadline)); do
		if "$LAB" cexec "$h" ping -n -q -c1 -W1 "$ip" >/dev/null 2>&1; then
			t=$(now_ms)
			((t <= deadline)) || return 1
			echo "$t"
			return 0
		fi
		# A failed ping may return at once (no route, neighbour FAILED): do not spin.
		sleep 0.2
	done
	return 1
}

# ping_pairs T0_MS DEADLINE_MS PAIR...: for every PAIR "i:j" (container of host i pings
# container of host j), in parallel, runs ping_by DEADLINE_MS. Prints one line per failed
# pair to stderr and fails if any did; sets PING_LATEST_MS to the latest first answer,
# in ms after T0_MS (0 when no pair).
PING_LATEST_MS=0
ping_pairs() {
	local t0=$1 deadline=$2 p k rc=0 t
	shift 2
	local dir
	dir=$(mktemp -d "$TEST_TMP/ping.XXXXXX")
	local -a pids=() pairs=("$@")
	for k in "${!pairs[@]}"; do
		p=${pairs[k]}
		ping_by "$deadline" "h${p%%:*}" "$(cip "h${p##*:}")" >"$dir/$k" 2>/dev/null &
		pids+=($!)
	done
	PING_LATEST_MS=0
	for k in "${!pairs[@]}"; do
		p=${pairs[k]}
		if wait "${pids[k]}"; then
			t=$(<"$dir/$k")
			((t - t0 <= PING_LATEST_MS)) || PING_LATEST_MS=$((t - t0))
		else
			echo "  c${p%%:*} -> c${p##*:} ($(cip "h${p##*:}")): no answer by the deadline" >&2
			rc=1
		fi
	done
	rm -rf "$dir"
	return "$rc"
}

# all_pairs I...: prints every ordered pair "i:j" (i != j) of the given host numbers.
all_pairs() {
	local i j
	for i in "$@"; do
		for j in "$@"; do
			((i == j)) || echo "$i:$j"
		done
	done
}

# json_true h<i> JQ_FILTER: true when the filter, run over host i's status JSON, yields
# true (jq -e). Quiet; for wait_by / wait_until.
json_true() {
	local js
	js=$(status_json "$1" 2>/dev/null) || return 1
	jq -e "$2" >/dev/null 2>&1 <<<"$js"
}

# overlay_of h<i> NICK: the overlay of h<i>'s established connection to NICK ("none": none);
# reason_of: why it is on it; on_overlay h<i> NICK OVERLAY: whether it is.
overlay_of() {
	jget "$1" "[.connections[] | select(.nickname == \"$2\" and .state == \"established\") | .overlay][0] // \"none\""
}
reason_of() {
	jget "$1" "[.connections[] | select(.nickname == \"$2\" and .state == \"established\") | .overlay_reason][0] // \"\""
}
on_overlay() { [[ $(overlay_of "$1" "$2") == "$3" ]]; }
# all_fast h<i> N [OVERLAY]: N-1 established connections, all on OVERLAY (fastdp(vxlan)).
all_fast() {
	json_true "$1" "[.connections[] | select(.state == \"established\")] | length == $2 - 1 and
		all(.overlay == \"${3:-fastdp(vxlan)}\")"
}

# wait_by DEADLINE_MS CMD...: runs CMD every 0.25 s until it succeeds at or before DEADLINE_MS
# (epoch ms); prints the epoch ms of that success. Fails at the deadline.
wait_by() {
	local deadline=$1 t
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			t=$(now_ms)
			((t <= deadline)) || return 1
			echo "$t"
			return 0
		fi
		(($(now_ms) < deadline)) || return 1
		sleep 0.25
	done
}

# peer_json h<i> NICK: host i's .peers entry for NICK (compact JSON; "null" if none).
peer_json() {
	jget "$1" "[.peers[] | select(.nickname == \"$2\")][0] // null | tojson"
}

# Compact status summary of host i for failure messages: peers (hops, next hop, reachable)
# and connections (nickname, direction, state).
status_brief() {
	local js
	js=$(status_json "$1" 2>&1) || {
		echo "$1: meshctl status failed: $js"
		return 0
	}
	jq -c --arg h "$1" '{host: $h,
		peers: [.peers[]? | "\(.nickname) hops=\(.hops) via=\(.next_hop_nickname) reachable=\(.reachable)"],
		connections: [.connections[]? | "\(.nickname // .address) \(.direction) \(.state)"]}' <<<"$js" 2>&1
}

# converged h<i> N: host i lists N peers (itself included), all reachable, and has exactly N-1
# established connections, one to each other peer (discovery made the full mesh).
converged() {
	json_true "$1" "(.peers | length) == $2 and all(.peers[]; .reachable == true) and
		([.connections[] | select(.state == \"established\") | .nickname] | (length == $2 - 1)
		 and (unique | length) == $2 - 1)"
}

# wait_full_mesh N T0_MS: every container pings every other one, and every host is in a full
# mesh of N, within 30 s of T0_MS (flood trees are only consistent once every host has the
# same topology).
wait_full_mesh() {
	local n=$1 t0=$2 i
	local -a pairs
	mapfile -t pairs < <(all_pairs $(seq 1 "$n"))
	ping_pairs "$t0" $((t0 + 30000)) "${pairs[@]}" ||
		die "no full connectivity among $n containers 30 s after up"
	for ((i = 1; i <= n; i++)); do
		wait_by $((t0 + 30000)) converged "h$i" "$n" >/dev/null ||
			die "h$i not in a full mesh 30 s after up: $(status_brief "h$i")"
	done
}
