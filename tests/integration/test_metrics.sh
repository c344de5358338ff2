#!/usr/bin/env bash
# test_metrics: meshd's Prometheus endpoint (127.0.0.1:6782 in each lab host) passes
# `promtool check metrics`, and its sleeve frame counters move when containers talk (the lab
# runs sleeve only here: fast path frames never pass through meshd; test_fastdp_vxlan checks
# the fast path's metrics).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
command -v promtool >/dev/null || die "missing tool promtool (package prometheus; run scripts/deps.sh)"
command -v curl >/dev/null || die "missing tool curl (run scripts/deps.sh)"
lab_fresh

lab up 2 -- --fastdp off
wait_ping h1 10.32.0.2 15
metrics() { lab exec h1 curl -sf http://127.0.0.1:6782/metrics; }
metrics >"$TEST_TMP/m1" || die "no metrics on h1's 127.0.0.1:6782"
promtool check metrics <"$TEST_TMP/m1" || die "promtool check metrics failed"
sample() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
key='mesh_frames_total{overlay="sleeve",direction="tx"}'
before=$(sample "$key" "$TEST_TMP/m1")
[[ -n $before ]] || die "no $key sample in: $(head -40 "$TEST_TMP/m1")"
lab cexec h1 ping -c 20 -i 0.05 -W1 10.32.0.2 >/dev/null || die "ping c1 -> c2 failed"
metrics >"$TEST_TMP/m2"
after=$(sample "$key" "$TEST_TMP/m2")
info "$key: $before -> $after"
awk -v a="$after" -v b="$before" 'BEGIN { exit !(a >= b + 20) }' ||
	die "20 pings did not move $key by 20 ($before -> $after)"
lab exec h1 curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:6782/nope | grep -q 404 ||
	die "an unknown metrics path is not 404"
