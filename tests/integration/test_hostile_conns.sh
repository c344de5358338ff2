#!/usr/bin/env bash
# test_hostile_conns (issue 16, finding 1): a stranger without the password cannot use up
# meshd's connection slots. From one address (h3's namespace, its meshd stopped) 200 slow
# connections (a byte of handshake every 5 s) are held against h1's control port, every one
# the server closes opened again;
# meanwhile h2 restarts and must be connected to h1 again within 5 s, h1 must have refused
# the stranger's surplus (control_refused_unauth), and a connection dribbling a valid
# handshake one byte a second must be cut at the 10 s handshake deadline.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
FLOOD="$REPO_ROOT/tests/integration/hs_flood.py"
lab_fresh

lab up 3
wait_established h1 h2 15
wait_established h1 h3 15
lab kill h3 # its namespace is the stranger from now on (198.18.0.3)

info "a connection dribbling one byte a second, then 200 slow ones, to h1:6783 from 198.18.0.3"
bg_start "$TEST_TMP/dribble" lab exec h3 python3 "$FLOOD" dribble 198.18.0.1 6783 20
dribble=$BG_LAST
sleep 1
bg_start "$TEST_TMP/flood" lab exec h3 python3 "$FLOOD" hold 198.18.0.1 6783 200 30
flood=$BG_LAST
sleep 8 # the flood is at full strength (at 20 accepts a second, 100 slots take 5 s)

info "h2 restarts and must connect to h1 within 5 s"
lab kill h2
t0=$(now_ms)
lab start h2
wait_by $((t0 + 5000)) established h1 h2 >/dev/null ||
	die "h2 did not connect to h1 within 5 s of its restart while a stranger floods h1 ($(jget h1 ".connections | length") connections at h1)"
info "h2 connected again after $(($(now_ms) - t0)) ms"

wait "$dribble" || true
d=$(cat "$TEST_TMP/dribble")
info "dribbler: $d"
after=$(jq -r .closed_after_s <<<"$d") || die "dribbler said nothing useful: $d"
[[ $after != null ]] || die "a connection sending one byte a second stayed open 20 s (no handshake deadline)"
awk -v a="$after" 'BEGIN { exit !(a >= 8 && a <= 13) }' ||
	die "the dribbling connection was closed after $after s, not at the 10 s handshake deadline"

wait "$flood" || true
f=$(cat "$TEST_TMP/flood")
info "flood: $f"
[[ $(jq .opened <<<"$f") -gt 100 ]] || die "too few connections reached h1 to tell: $f"
refused=$(counter h1 control_refused_unauth)
((refused > 0)) || die "h1 counted no connection refused for the unauthenticated budget"
grep -q "connections from that address are already in their handshake" "$LAB_RUN/h1/meshd.log" ||
	die "h1 did not log why it refused the stranger's connections"
grep -q "handshake not done within 10 s" "$LAB_RUN/h1/meshd.log" ||
	die "h1 did not log the handshake deadline"
n=$(jget h1 '[.connections[] | select(.state == "established")] | length')
((n == 1)) || die "h1 has $n established connections, expected only h2's: $(status_brief h1)"
pid_alive "$(meshd_pid h1)" || die "h1's meshd died"
