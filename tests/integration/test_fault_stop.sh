#!/usr/bin/env bash
# test_fault_stop (issue 16, fault injection): a meshd frozen with SIGSTOP for 30 s, then
# SIGCONT. Four hosts, h1 <-> h3 blocked on the underlay, so c1 and c3 talk through a relay.
# While the relay h2 is frozen (its kernel keeps its TCP connections open, so only the silence
# of its heartbeats tells), within 10 s c1 and c3 reach each other through h4 and no host routes
# through h2; after SIGCONT, within 15 s c2 pings every other container again, h2 has its
# connections back, and its meshd has not restarted (same uid).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=4
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
lab block h1 h3
tb=$(now_ms)
ping_pairs "$tb" $((tb + 15000)) 1:3 3:1 || die "c1 and c3 do not reach each other through a relay"
h1_h3_relayed() { json_true h1 '.peers[] | select(.nickname == "h3") | .hops == 2'; }
wait_until 15 h1_h3_relayed || die "h1 does not reach h3 at 2 hops: $(peer_json h1 h3)"
relay=$(jget h1 '.peers[] | select(.nickname == "h3") | .next_hop_nickname')
info "h1 <-> h3 blocked; h1 reaches h3 through $relay"
# Freeze the relay h1 uses (name order makes it h2; take whichever it is).
[[ $relay == h2 || $relay == h4 ]] || die "h1's relay to h3 is '$relay', expected h2 or h4"
other=h4
[[ $relay == h4 ]] && other=h2
uid_before=$(jget "$relay" '.uid')
pid=$(meshd_pid "$relay")
kill -STOP "$pid"
on_exit "kill -CONT $pid 2>/dev/null || true"
ts=$(now_ms)
info "SIGSTOP to $relay's meshd (pid $pid) for 30 s; c1 and c3 must go through $other within 10 s"
ping_pairs "$ts" $((ts + 10000)) 1:3 3:1 || {
	status_brief h1 >&2
	status_brief h3 >&2
	die "c1 and c3 lost each other for more than 10 s while $relay was frozen"
}
info "c1 <-> c3 answer $PING_LATEST_MS ms after the freeze"
no_via_relay="all(.peers[]; .next_hop_nickname != \"$relay\")"
for h in h1 h3 "$other"; do
	t=$(wait_by $((ts + 10000)) json_true "$h" "$no_via_relay") ||
		die "$h still routes through the frozen $relay 10 s after SIGSTOP: $(status_brief "$h")"
	info "$h routes nothing through $relay, $((t - ts)) ms after the freeze"
done
via_other=".peers[] | select(.nickname == \"h3\") | .next_hop_nickname == \"$other\""
json_true h1 "$via_other" || die "h1 does not route to h3 through $other: $(peer_json h1 h3)"
# The rest of the 30 s: the route must hold (no flapping back to the frozen relay).
while (($(now_ms) < ts + 30000)); do
	json_true h1 "$no_via_relay" || die "h1 routed through the frozen $relay again: $(status_brief h1)"
	sleep 1
done

kill -CONT "$pid"
tc=$(now_ms)
info "SIGCONT; c${relay#h} must ping every other container within 15 s"
mapfile -t pairs < <(all_pairs 1 2 3 4 | grep "${relay#h}")
ping_pairs "$tc" $((tc + 15000)) "${pairs[@]}" || {
	status_brief "$relay" >&2
	die "c${relay#h} does not reach every other container 15 s after SIGCONT"
}
info "c${relay#h} pings every other container $PING_LATEST_MS ms after SIGCONT"
relay_back=".connections | map(select(.state == \"established\")) | length == 3"
t=$(wait_by $((tc + 15000)) json_true "$relay" "$relay_back") ||
	die "$relay has not its 3 connections back 15 s after SIGCONT: $(status_brief "$relay")"
info "$relay has its 3 connections established, $((t - tc)) ms after SIGCONT"
[[ $(jget "$relay" '.uid') == "$uid_before" ]] || die "$relay's meshd restarted (new uid)"
pid_alive "$pid" || die "$relay's meshd is gone"
