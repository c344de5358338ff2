#!/usr/bin/env bash
# test_fault_kill9 (issue 16, fault injection): meshd killed with SIGKILL (no clean-up of its
# own) and started again over what it left: its links, bridge FDB, VXLAN FDB, nftables, state
# dir. Three hosts without a password, so the kernel VXLAN fast path (whose device and FDB outlive
# a killed meshd) is in use. After the restart, within 15 s c2 pings every other
# container again and h1 knows h2 as a new incarnation (new uid); h2's addresses handed out
# before the kill are still its own (lookup), new ones are distinct from them and from the other
# hosts'; h2's kernel state is what it was before the kill: the same links, no second VXLAN
# device or TAP, the same nftables tables, and its VXLAN FDB entries only what the mesh holds now
# (remote container MACs and peers' heartbeat MACs, no duplicate).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh
command -v curl >/dev/null || die "missing tool curl"

N=3
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
info "full mesh of $N hosts"

declare -A ip_of=()
for id in kill9-a kill9-b kill9-c; do
	ip_of[$id]=$(alloc_api h2 "$id") || die "allocate $id on h2 failed"
done
info "h2 handed out ${ip_of[*]}"

# kernel_state h<i>: links (name and kind), nftables tables, the VXLAN FDB (sorted).
links() { lab exec "$1" ip -o -d link show | awk '{ sub(":", "", $2); sub("@.*", "", $2); print $2 }' | sort; }
tables() { lab exec "$1" nft list tables | sort; }
# (without the device's own address: the bridge's "master permanent" entry of a device meshd
# made anew, with a new random MAC)
vxlan_fdb() {
	local own
	own=$(lab exec "$1" cat /sys/class/net/mesh-vxlan/address 2>/dev/null) || own=none
	{ lab exec "$1" bridge fdb show dev mesh-vxlan 2>/dev/null || true; } | grep -v "^$own master " | sort
}
links_before=$(links h2)
tables_before=$(tables h2)
fdb_before=$(vxlan_fdb h2)
[[ -n $fdb_before ]] || die "h2 has no VXLAN FDB before the kill: is the fast path off? $(status_brief h2)"
uid_before=$(jget h1 '.peers[] | select(.nickname == "h2") | .uid')

pid=$(meshd_pid h2)
kill -KILL "$pid"
for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
pid_alive "$pid" && die "h2's meshd survived SIGKILL"
info "SIGKILL to h2's meshd (pid $pid); starting it again over what it left"
lab start h2
ts=$(now_ms)
mapfile -t pairs < <(all_pairs 1 2 3 | grep 2)
ping_pairs "$ts" $((ts + 15000)) "${pairs[@]}" || {
	status_brief h2 >&2
	die "c2 does not reach every other container 15 s after the restart"
}
info "c2 pings every other container $PING_LATEST_MS ms after the restart"
for i in 1 2 3; do
	wait_by $((ts + 30000)) converged "h$i" $N >/dev/null ||
		die "h$i not in a full mesh 30 s after the restart: $(status_brief "h$i")"
done
uid_after=$(jget h1 '.peers[] | select(.nickname == "h2") | .uid')
[[ $uid_after != "$uid_before" ]] || die "h1 still lists h2 with its old uid $uid_before"
info "h1 lists h2 with a new uid ($uid_before -> $uid_after)"

# The addresses: what h2 handed out is still its own, and nothing is handed out twice.
for id in kill9-a kill9-b kill9-c; do
	got=$(alloc_api h2 "$id") || die "allocate $id again on h2 failed"
	[[ $got == "${ip_of[$id]}" ]] || die "$id had ${ip_of[$id]} before the SIGKILL, now $got"
done
declare -A seen=()
for id in "${!ip_of[@]}"; do seen[${ip_of[$id]}]=$id; done
for h in h1 h2 h3; do
	for k in 1 2 3; do
		id="kill9-new-$h-$k"
		a=$(alloc_api "$h" "$id") || die "allocate $id on $h failed"
		[[ -z ${seen[$a]:-} ]] || die "$a handed out twice: to ${seen[$a]} and to $id"
		seen[$a]=$id
	done
done
info "h2 kept its 3 allocations; 9 new ones on h1..h3 are all distinct: ${!seen[*]}"

# The kernel: same links and tables, the VXLAN FDB back to what it was (same remote MACs,
# peers and heartbeat MACs; no entry doubled or left from the old incarnation).
[[ $(links h2) == "$links_before" ]] ||
	die "h2's links changed over the SIGKILL: $(diff <(echo "$links_before") <(links h2) | tr '\n' ' ')"
[[ $(tables h2) == "$tables_before" ]] ||
	die "h2's nftables tables changed: $(diff <(echo "$tables_before") <(tables h2) | tr '\n' ' ')"
fdb_settled() { [[ $(vxlan_fdb h2) == "$fdb_before" ]]; }
wait_until 15 fdb_settled ||
	die "h2's VXLAN FDB differs from before the SIGKILL: $(diff <(echo "$fdb_before") <(vxlan_fdb h2) | tr '\n' ' ')"
info "h2's links, nftables tables and VXLAN FDB ($(wc -l <<<"$fdb_before") entries) are as before the SIGKILL"
