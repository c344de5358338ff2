#!/usr/bin/env bash
# test_mesh_partial (issue 17, part 3): a mesh with more hosts than --conn-limit. 9 hosts, each
# with --conn-limit 3 and naming only h1: h1 can take 3 of the 8, so at least 5 are refused by
# the one peer they know. Checks that
#  - h1 refuses for the limit (its counter), and tells the refused why: their log says so, and
#    their status lists h1's address with that reason;
#  - the refused still join (h1 sent them its topology before closing: they dial peers from
#    it), so every container reaches every other one, through relays where no connection is;
#  - no host has more connections than the limit, plus one for the peer it was given (a dial to
#    a configured peer always goes);
#  - every host knows all 9 as reachable and says it is in a partial mesh, dialling at most 2
#    (a third of the limit, at least 2) of the peers gossip taught it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=9
LIMIT=3
lab up "$N" -- --conn-limit "$LIMIT"
t0=$(now_ms)

mapfile -t pairs < <(all_pairs $(seq 1 "$N"))
ping_pairs "$t0" $((t0 + 60000)) "${pairs[@]}" ||
	die "not every container reaches every other within 60 s: $(for i in $(seq 1 "$N"); do status_brief "h$i"; done)"
info "all $((N * (N - 1))) pairs of containers ping each other, the last $PING_LATEST_MS ms after up"

partial_ok() {
	json_true "$1" "(.peers | length) == $N and all(.peers[]; .reachable) and
		.partial_mesh == true and .conn_limit == $LIMIT and .dial_limit == 2"
}
per_host=""
for i in $(seq 1 "$N"); do
	wait_by $((t0 + 60000)) partial_ok "h$i" >/dev/null ||
		die "h$i: not all $N peers reachable, or not a partial mesh with dial_limit 2: $(jget "h$i" '{partial_mesh, conn_limit, dial_limit, peers: (.peers | length)}' | tr -d '\n')"
	n=$(jget "h$i" '[.connections[] | select(.state == "established")] | length')
	((n >= 1 && n <= LIMIT + 1)) || die "h$i: $n established connections, expected 1..$((LIMIT + 1))"
	per_host+=" h$i:$n"
done
info "every host lists all $N reachable, in a partial mesh; established connections:$per_host"
lab exec h9 meshctl status | grep -q 'Discovery: on (a partial mesh: more peers than --conn-limit 3; dials at most 2' ||
	die "meshctl status does not say the mesh is partial: $(lab exec h9 meshctl status | grep Discovery)"

refused=$(counter h1 control_refused_limit)
((refused >= N - 1 - LIMIT)) || die "h1 refused $refused connections for its limit, expected at least $((N - 1 - LIMIT))"
grep -q "refused: connection limit ($LIMIT) reached; told it whom else to connect to" "$LAB_RUN/h1/meshd.log" ||
	die "h1's log does not say it refused for the limit"
info "h1 refused $refused connections for its limit, and said so"

told=0
for i in $(seq 2 "$N"); do
	grep -q "peer h1(.*the peer refused us: h1 reached its connection limit ($LIMIT)" "$LAB_RUN/h$i/meshd.log" ||
		continue
	told=$((told + 1))
	why=$(jget "h$i" '[.targets[] | select(.address == "198.18.0.1:6783") | .last_error][0] // ""')
	[[ $why == "refused us: h1 reached its connection limit ($LIMIT)"* || $(jget "h$i" '[.connections[] | select(.nickname == "h1" and .state == "established")] | length') == 1 ]] ||
		die "h$i: status gives no reason for h1's refusal: '$why'"
done
((told >= N - 1 - LIMIT)) || die "only $told hosts logged h1's refusal, expected at least $((N - 1 - LIMIT))"
info "$told hosts were refused by h1, the only peer they were given, were told why, and joined"
