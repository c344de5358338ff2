#!/usr/bin/env bash
# test_hostile_ipam (issue 16, finding 2): a peer with the password (tests/tools/hostile_peer)
# asks h1 for IPAM space on h2's behalf: refused and logged. Then it sends 50000 space
# requests (24 bytes each) and reads nothing: h1 answers at most a few (one a second per
# connection), so what it sends stays far below the requests' total, it counts the refused
# ones, and its RSS stays under 64 MB (on a meshd that answered each with its ring, the queue
# for the peer that never reads grew without bound).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
TOOL=$(dirname "$(meshd_bin)")/tests/tools/hostile_peer
[[ -x $TOOL ]] || die "$TOOL not built (make check builds it)"
lab_fresh

make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password"
wait_established h1 h2 15
h2name=$(jget h2 .name)

info "a space request for h2 ($h2name), sent by another peer"
out=$(lab exec h2 "$TOOL" 198.18.0.1 6783 "$TEST_TMP/password" mesh for-other "$h2name") ||
	die "hostile_peer failed: $out"
info "hostile_peer: $out"
grep -q "IPAM space request refused: .*it asks space for $h2name, but came from $(jq -r .name <<<"$out")" \
	"$LAB_RUN/h1/meshd.log" || die "h1 did not refuse (and log) a space request for another peer"
n=$(counter h1 ipam_requests_refused)
((n >= 1)) || die "h1 counted no refused space request"

info "50000 space requests from a peer that never reads"
tx0=$(counter h1 gossip_tx_bytes)
out=$(lab exec h2 "$TOOL" 198.18.0.1 6783 "$TEST_TMP/password" mesh flood 50000 5) ||
	die "hostile_peer failed: $out"
info "hostile_peer: $out"
[[ $(jq .sent <<<"$out") -eq 50000 ]] || die "h1 took fewer requests than sent: $out"
tx1=$(counter h1 gossip_tx_bytes)
refused=$(counter h1 ipam_requests_refused)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$(meshd_pid h1)/status")
info "h1: $((tx1 - tx0)) bytes of gossip sent meanwhile, $refused requests refused, RSS $rss kB"
((tx1 - tx0 < 1000000)) || die "h1 sent $((tx1 - tx0)) bytes of gossip in answer to the requests"
((refused >= 49000)) || die "h1 refused only $refused of 50000 requests"
((rss < 65536)) || die "h1's RSS is $rss kB"
wait_established h1 h2 5
pid_alive "$(meshd_pid h1)" || die "h1's meshd died"
