#!/usr/bin/env bash
# test_ping_encrypted: two lab hosts sharing a password connect; container c1 pings c2 over the
# encrypted sleeve, and a 5 s iperf3 TCP run from c1 to c2 succeeds.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password"

info "waiting for c1 -> c2 (10.32.0.2) to answer pings"
wait_ping h1 10.32.0.2 15
lab cexec h1 ping -c3 -W2 10.32.0.2 || die "ping c1 -> c2 failed after the connection came up"

info "both ends report an encrypted, established connection"
for h in h1 h2; do
	[[ $(jget "$h" '.encryption') == true ]] || die "$h: status says encryption is off"
	n=$(jget "$h" '[.connections[] | select(.state == "established" and .encrypted == true)] | length')
	((n >= 1)) || die "$h: no established encrypted connection: $(status_json "$h")"
done

info "iperf3 c1 -> c2 for 5 s"
start_iperf3_server h2
server=$BG_LAST
lab cexec h1 timeout 30 iperf3 -c 10.32.0.2 -t 5 -J >"$TEST_TMP/iperf3.json" ||
	die "iperf3 c1 -> c2 failed: $(jq -r '.error // empty' "$TEST_TMP/iperf3.json" 2>/dev/null)"
bps=$(jq -r '.end.sum_received.bits_per_second' "$TEST_TMP/iperf3.json")
awk -v b="$bps" 'BEGIN { exit !(b > 0) }' || die "iperf3 moved no data"
info "iperf3 c1 -> c2: $(awk -v b="$bps" 'BEGIN { printf "%.2f Gbit/s", b / 1e9 }')"
bg_stop "$server"
