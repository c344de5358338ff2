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
die() {
	echo "[$TEST_NAME] FAIL: $*" >&2
	exit 1
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
	local rc=$? pid hook
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
		rc=1
	fi
	if ((rc != 0)); then
		dump_logs
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
