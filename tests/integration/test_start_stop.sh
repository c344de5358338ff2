#!/usr/bin/env bash
# test_start_stop: meshd stops cleanly on SIGTERM (exit 0 within 5 s, removing the TAP
# `mesh-tap` it made, and its bridge `mesh` only when no container is on it: h2's container
# keeps its veth on the bridge) and, started again, carries traffic within 20 s. Stopped once
# more with no container on the bridge, meshd removes the bridge too.
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
if lab exec h2 ip link show mesh-tap >/dev/null 2>&1; then
	die "mesh-tap still exists in h2 after meshd exited"
fi
lab exec h2 ip -o link show vethc1 | grep -q "master mesh" ||
	die "h2's container veth is not on bridge mesh after meshd exited (the bridge must stay while a container is on it)"
grep -q "bridge mesh kept: 1 container port is still on it" "$LAB_RUN/h2/meshd.log" ||
	die "h2's log does not say why it kept the bridge"

info "starting h2 again"
lab start h2
wait_ping h1 10.32.0.2 20
lab cexec h2 ping -c3 -W2 10.32.0.1 || die "ping c2 -> c1 failed after the restart"

info "stopped with no container on the bridge: meshd removes it"
lab exec h2 ip link set vethc1 nomaster
lab kill h2 || die "meshd did not exit within 5 s of SIGTERM"
if lab exec h2 ip link show mesh >/dev/null 2>&1; then
	die "bridge mesh still exists in h2 after meshd exited with no container on it"
fi
