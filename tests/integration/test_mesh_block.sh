#!/usr/bin/env bash
# test_mesh_block: three hosts in a full mesh; `lab block h1 h3` cuts their underlay path.
# Within 15 s c1 and c3 reach each other again, relayed by h2, and h1's status shows h3 at 2
# hops via h2. After `lab unblock h1 h3`, within 60 s h1 reaches h3 directly again (hops 1)
# and c1 and c3 ping each other.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=3
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
# the routes follow the last topology update; right after the full mesh forms one may still
# be on its way
h1_h3_direct() { [[ $(jget h1 '.peers[] | select(.nickname == "h3") | .hops') == 1 ]]; }
wait_until 10 h1_h3_direct || die "h1 does not reach h3 directly before the block: $(peer_json h1 h3)"
info "full mesh of $N hosts, full connectivity"

via_h2='.peers[] | select(.nickname == "h3") | .hops == 2 and .next_hop_nickname == "h2"'
direct='.peers[] | select(.nickname == "h3") | .hops == 1 and .next_hop_nickname == "h3"'

lab block h1 h3
tb=$(now_ms)
info "blocked h1 <-> h3; c1 and c3 must reach each other again within 15 s"
if ! ping_pairs "$tb" $((tb + 15000)) 1:3 3:1; then
	status_brief h1 >&2
	status_brief h3 >&2
	die "c1 and c3 did not reach each other within 15 s of the block"
fi
info "c1 <-> c3 answer again $PING_LATEST_MS ms after the block"
t=$(wait_by $((tb + 15000)) json_true h1 "$via_h2") ||
	die "15 s after the block h1 does not show h3 at 2 hops via h2: $(peer_json h1 h3)"
info "h1 shows h3 at 2 hops via h2, $((t - tb)) ms after the block"
# Still relayed: the status must not flip back while the path is blocked.
json_true h1 "$via_h2" || die "h1's route to h3 changed while blocked: $(peer_json h1 h3)"
lab cexec h1 ping -n -c3 -W2 "$(cip h3)" >/dev/null || die "ping c1 -> c3 through h2 failed"
info "h3 sees h1 as: $(jget h3 '.peers[] | select(.nickname == "h1") | "hops \(.hops) via \(.next_hop_nickname)"')"

lab unblock h1 h3
tu=$(now_ms)
info "unblocked h1 <-> h3; h1 must reach h3 directly within 60 s"
t=$(wait_by $((tu + 60000)) json_true h1 "$direct") ||
	die "60 s after the unblock h1 does not reach h3 directly: $(peer_json h1 h3); $(status_brief h1)"
info "h1 reaches h3 directly again $((t - tu)) ms after the unblock"
ping_pairs "$tu" $((tu + 60000)) 1:3 3:1 || die "c1 and c3 do not ping each other after the unblock"
