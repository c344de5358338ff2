#!/usr/bin/env bash
# test_hostile_macs (issue 16, finding 3): a container sending frames from 3000 random source
# MACs cannot fill the MAC tables: its host learns at most 32 per bridge port (and 32 whose port
# it does not know), its peer only what the host announced, both count and show what they
# refused (status, meshctl status, metrics), and the containers still reach each other.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

lab up 2
wait_established h1 h2 15
wait_ping h1 "$(cip h2)" 15

info "h1's container sends frames from 3000 random MACs"
lab cexec h1 python3 "$REPO_ROOT/tests/integration/mac_spoof.py" eth0 3000 >/dev/null ||
	die "the spoofing tool failed"
sleep 3 # the bridge's notices and the gossip are through

for h in h1 h2; do
	n=$(counter "$h" mac_table_size)
	info "$h: $n MAC table entries"
	((n <= 100)) || die "$h's MAC table grew to $n entries from one spoofing container"
done
port=$(counter h1 mac_refused_port)
info "h1 refused $port MACs over a port's cap, $(counter h1 mac_refused_rate) over the rate"
((port > 0)) || die "h1 counted no MAC refused over a bridge port's cap"
lab exec h1 meshctl status | grep -q "MAC refused: .* over a bridge port's cap" ||
	die "meshctl status does not show the refused MACs: $(lab exec h1 meshctl status)"
lab exec h1 curl -sf http://127.0.0.1:6782/metrics | grep -q 'mesh_mac_refused_total{reason="port_limit"} [1-9]' ||
	die "the metrics do not count the refused MACs"
grep -q "MAC table: not learning .* on .*: that port holds 32 MACs" "$LAB_RUN/h1/meshd.log" ||
	die "h1 did not log why it refused MACs"
wait_ping h1 "$(cip h2)" 10
wait_ping h2 "$(cip h1)" 10
