#!/usr/bin/env bash
# test_mesh_multicast: five hosts in a full mesh. c2 sends 200 numbered UDP datagrams to
# 239.1.2.3 (TTL 1, ~2 ms apart); the receivers in c1, c3, c4 and c5 must each get all 200,
# each exactly once (flooding follows the per-source spanning tree: no loss, no duplicate).
# Then the same with the h1 <-> h3 underlay path blocked, plus a round sent from c1, whose
# tree has to reach h3 through another host. Broadcast ARP resolves through the mesh in both
# states: c1 forgets its neighbours and pings c3 (and arpings it when arping is installed).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=5
GROUP=239.1.2.3
COUNT=200

# mcast_round NAME SENDER PORT RECEIVER...: receivers join GROUP, SENDER sends COUNT datagrams;
# every receiver must report COUNT distinct and no duplicate.
mcast_round() {
	local name=$1 sender=$2 port=$3 h
	shift 3
	local -a recv=("$@") pids=()
	info "$name: c${sender#h} sends $COUNT datagrams to $GROUP:$port; receivers ${recv[*]/#h/c}"
	for h in "${recv[@]}"; do
		rm -f "$TEST_TMP/$name-$h.ready"
		bg_start "$TEST_TMP/$name-$h.out" lab cexec "$h" python3 "$MCAST" recv "$GROUP" "$port" \
			--timeout 30 --idle 5 --ready "$TEST_TMP/$name-$h.ready"
		pids+=("$BG_LAST")
	done
	for h in "${recv[@]}"; do
		wait_until 10 test -f "$TEST_TMP/$name-$h.ready" ||
			die "$name: the receiver in $h's container did not start: $(cat "$TEST_TMP/$name-$h.out")"
	done
	sleep 1 # the joins' IGMP reports reach the bridges before the first datagram
	lab cexec "$sender" python3 "$MCAST" send "$GROUP" "$port" --count $COUNT --interval 0.002 \
		--ttl 1 >"$TEST_TMP/$name-send.out" 2>&1 ||
		die "$name: the sender in $sender's container failed: $(cat "$TEST_TMP/$name-send.out")"
	local k res got distinct dups bad=0
	for k in "${!recv[@]}"; do
		h=${recv[k]}
		# The receiver ends on END (+0.5 s), 5 s idle or 30 s in all.
		wait "${pids[k]}" || true
		bg_stop "${pids[k]}"
		res=$(tail -n 1 "$TEST_TMP/$name-$h.out")
		if ! got=$(jq -r '.received' <<<"$res" 2>/dev/null) || [[ -z $got || $got == null ]]; then
			echo "[$TEST_NAME] $name: c${h#h}: no result: $(cat "$TEST_TMP/$name-$h.out")" >&2
			bad=1
			continue
		fi
		distinct=$(jq -r '.distinct' <<<"$res")
		dups=$(jq -r '.duplicates' <<<"$res")
		info "$name: c${h#h}: $res"
		if ((distinct != COUNT || dups != 0 || got != COUNT)); then
			echo "[$TEST_NAME] $name: c${h#h} got $got datagrams, $distinct distinct, $dups duplicates; expected exactly $COUNT distinct, no duplicate" >&2
			bad=1
		fi
	done
	if ((bad)); then
		for ((i = 1; i <= N; i++)); do status_brief "h$i" >&2; done
		die "$name: multicast from c${sender#h} was not delivered exactly once to every receiver"
	fi
}

# arp_check NAME: c1 forgets its neighbours and must resolve c3 again by broadcast ARP.
arp_check() {
	local name=$1 mac3 got
	mac3=$(lab cexec h3 cat /sys/class/net/eth0/address)
	lab cexec h1 ip neigh flush dev eth0
	got=$(lab cexec h1 ip neigh show to "$(cip h3)")
	[[ $got != *lladdr* ]] || die "$name: c1 still knows c3's MAC after the flush: $got"
	wait_until 10 lab cexec h1 ping -n -c1 -W1 "$(cip h3)" ||
		die "$name: c1 cannot ping c3 after flushing its neighbours (ARP through the mesh)"
	got=$(lab cexec h1 ip neigh show "$(cip h3)")
	[[ $got == *"lladdr $mac3"* ]] ||
		die "$name: c1 resolved $(cip h3) to '$got', expected c3's MAC $mac3"
	info "$name: ARP after a neighbour flush: $got"
	if lab cexec h1 sh -c 'command -v arping' >/dev/null 2>&1; then
		lab cexec h1 arping -c 3 -w 5 -I eth0 "$(cip h3)" >"$TEST_TMP/arping-$name.out" 2>&1 ||
			die "$name: arping c1 -> c3 got no answer: $(cat "$TEST_TMP/arping-$name.out")"
		info "$name: arping c1 -> c3 answered"
	fi
}

lab up $N
t0=$(now_ms)
for ((i = 1; i <= N; i++)); do
	lab cexec "h$i" ip route add 224.0.0.0/4 dev eth0
done
wait_full_mesh $N "$t0"
info "full mesh of $N hosts, full connectivity"

mcast_round full-mesh h2 5001 h1 h3 h4 h5
arp_check full-mesh

lab block h1 h3
tb=$(now_ms)
ping_pairs "$tb" $((tb + 30000)) 1:3 || die "c1 cannot ping c3 30 s after blocking h1 <-> h3"
# Flood trees are consistent again once every host's topology has the h1-h3 link down (each
# end announces it not established, or not at all).
link_down='all(.peers[] | select(.nickname == "h1") | .connections[]; .nickname != "h3" or .established == false)
	and all(.peers[] | select(.nickname == "h3") | .connections[]; .nickname != "h1" or .established == false)'
for ((i = 1; i <= N; i++)); do
	wait_by $((tb + 30000)) json_true "h$i" "$link_down" >/dev/null ||
		die "h$i still sees the h1-h3 link up 30 s after the block: $(status_brief "h$i")"
done
wait_by $((tb + 30000)) json_true h1 '.peers[] | select(.nickname == "h3") | .hops == 2' >/dev/null ||
	die "h1 does not reach h3 in 2 hops 30 s after the block: $(peer_json h1 h3)"
wait_by $((tb + 30000)) json_true h3 '.peers[] | select(.nickname == "h1") | .hops == 2' >/dev/null ||
	die "h3 does not reach h1 in 2 hops 30 s after the block: $(peer_json h3 h1)"
info "h1 <-> h3 blocked; c1 reaches c3 through the mesh"

mcast_round blocked h2 5002 h1 h3 h4 h5
mcast_round blocked-from-c1 h1 5003 h2 h3 h4 h5
arp_check blocked
