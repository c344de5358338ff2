#!/usr/bin/env bash
# test_start_stop: meshd stops cleanly on SIGTERM (exit 0 within 5 s, removing the bridge
# `mesh` and TAP `mesh-tap` it made) and, started again, carries traffic within 20 s.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

lab up 2
wait_ping h1 10.32.0.2 15
lab exec h2 ip link show mesh-tap >/dev/null || die "h2 has no TAP mesh-tap while running"

info "SIGTERM to h2's meshd"
pid=$(meshd_pid h2)
lab kill h2 || die "meshd (pid $pid) did not exit within 5 s of SIGTERM"
status=$(cat "$LAB_RUN/h2/meshd.exit")
[[ $status == 0 ]] || die "meshd exited with status $status after SIGTERM, expected 0"
for dev in mesh mesh-tap; do
	if lab exec h2 ip link show "$dev" >/dev/null 2>&1; then
		die "$dev still exists in h2 after meshd exited"
	fi
done

info "starting h2 again"
lab start h2
wait_ping h1 10.32.0.2 20
lab cexec h2 ping -c3 -W2 10.32.0.1 || die "ping c2 -> c1 failed after the restart"
