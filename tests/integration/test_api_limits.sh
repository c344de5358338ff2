#!/usr/bin/env bash
# test_api_limits: meshd's API socket and metrics listener hold at most 64 connections each
# (further ones are closed at once), and when accept() fails for want of descriptors (meshd
# run with a small RLIMIT_NOFILE) meshd pauses accepting instead of spinning on the pending
# connection; once the connections go, `meshctl status` answers again.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
command -v prlimit >/dev/null || die "missing tool prlimit (package util-linux)"
FLOOD="$REPO_ROOT/tests/integration/conn_flood.py"
lab_fresh

lab up 1
wait_until 10 lab exec h1 meshctl status >/dev/null || die "h1's API does not answer"
pid=$(meshd_pid h1)
sock="$LAB_RUN/h1/meshd.sock"

# CPU time (user + system, clock ticks) meshd used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

info "100 connections to the API socket, 100 to the metrics port"
api=$(python3 "$FLOOD" unix "$sock" 100 0) || die "flooding the API socket failed"
info "API socket: $api"
[[ $(jq .open <<<"$api") -le 64 ]] || die "the API socket holds more than 64 connections: $api"
[[ $(jq .opened <<<"$api") -gt 64 ]] || die "too few connections reached the API socket to tell: $api"
met=$(lab exec h1 python3 "$FLOOD" tcp 127.0.0.1 6782 100 0) || die "flooding the metrics port failed"
info "metrics: $met"
[[ $(jq .open <<<"$met") -le 64 ]] || die "the metrics port holds more than 64 connections: $met"
[[ $(jq .opened <<<"$met") -gt 64 ]] || die "too few connections reached the metrics port to tell: $met"
grep -q 'API socket: 64 connections open, closing new ones' "$LAB_RUN/h1/meshd.log" ||
	die "meshd did not log the API socket's connection cap"
wait_until 5 lab exec h1 meshctl status >/dev/null || die "h1's API does not answer after the flood"

info "out of descriptors: accepting pauses, meshd does not spin"
read -r soft hard < <(prlimit --pid "$pid" --nofile --noheadings --output SOFT,HARD)
nfd=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
limit=$((nfd + 10))
prlimit --pid "$pid" --nofile="$limit:$hard" || die "prlimit failed"
on_exit prlimit --pid "$pid" --nofile="$soft:$hard"
bg_start "$TEST_TMP/flood" python3 "$FLOOD" unix "$sock" 40 8
flood=$BG_LAST
sleep 2 # the flood's connections are in, the rest wait in the backlog
t0=$(cpu_ticks)
sleep 3
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
info "meshd used $((t1 - t0)) ticks of CPU in 3 s (clock $hz/s) with $limit descriptors"
(((t1 - t0) * 100 < 3 * hz * 30)) || die "meshd spins while out of descriptors ($((t1 - t0)) ticks in 3 s)"
grep -q 'accepting API connections: .*not accepting any for' "$LAB_RUN/h1/meshd.log" ||
	die "meshd did not say it paused accepting API connections"
bg_stop "$flood"
prlimit --pid "$pid" --nofile="$soft:$hard"
wait_until 5 lab exec h1 meshctl status >/dev/null || die "h1's API does not answer once the descriptors are back"
pid_alive "$pid" || die "meshd died"
