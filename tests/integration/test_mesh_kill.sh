#!/usr/bin/env bash
# test_mesh_kill: four hosts in a full mesh. After `lab kill h2`, within 10 s no other host
# routes through h2 (no peer has next hop h2 on h1, h3, h4) and c1, c3, c4 still ping each
# other. After `lab start h2`, within 10 s c2 pings every other container, and h1 lists h2
# with a new uid (a restarted meshd is a new incarnation).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=4
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
uid_before=$(jget h1 '.peers[] | select(.nickname == "h2") | .uid')
uid_self=$(jget h2 '.uid')
[[ $uid_before =~ ^[0-9a-f]{16}$ ]] || die "h1 lists h2 with uid '$uid_before', expected 16 hex digits"
[[ $uid_before == "$uid_self" ]] || die "h1 lists h2 with uid $uid_before, but h2 says its uid is $uid_self"
info "full mesh of $N hosts, full connectivity; h2's uid is $uid_before"

no_via_h2='all(.peers[]; .next_hop_nickname != "h2")'
lab kill h2 || die "h2's meshd needed SIGKILL"
tk=$(now_ms)
info "killed h2; within 10 s no host may route through h2, and c1, c3, c4 still ping each other"
for h in h1 h3 h4; do
	t=$(wait_by $((tk + 10000)) json_true "$h" "$no_via_h2") ||
		die "$h still has a peer with next hop h2 10 s after the kill: $(status_brief "$h")"
	info "$h routes nothing through h2, $((t - tk)) ms after the kill"
done
mapfile -t pairs < <(all_pairs 1 3 4)
ping_pairs "$tk" $((tk + 10000)) "${pairs[@]}" ||
	die "c1, c3, c4 do not all ping each other within 10 s of the kill"
info "c1, c3, c4 ping each other ($PING_LATEST_MS ms after the kill)"

lab start h2
ts=$(now_ms)
info "started h2 again; within 10 s c2 must ping every other container"
if ! ping_pairs "$ts" $((ts + 10000)) 2:1 2:3 2:4; then
	for ((i = 1; i <= N; i++)); do status_brief "h$i" >&2; done
	die "c2 does not ping every other container within 10 s of the restart"
fi
info "c2 pings c1, c3, c4, the last $PING_LATEST_MS ms after the restart"
uid_new=$(jget h2 '.uid')
[[ $uid_new != "$uid_before" ]] || die "h2 kept its uid $uid_before across the restart"
new_uid="[.peers[] | select(.nickname == \"h2\")] | length == 1 and .[0].uid == \"$uid_new\""
t=$(wait_by $((ts + 10000)) json_true h1 "$new_uid") ||
	die "h1 does not list h2 with its new uid $uid_new 10 s after the restart (before: $uid_before): $(peer_json h1 h2)"
info "h1 lists h2 with its new uid $uid_new ($((t - ts)) ms after the restart; was $uid_before)"
