#!/usr/bin/env bash
# test_mesh_full: five hosts, each told only about h1 (`lab up 5`). Within 10 s of `up`
# returning every container pings every other one (all 20 ordered pairs, in parallel; a pair
# passes once one ping answers before the deadline). Every host's status then lists the 5
# peers (itself included) and, once converged, 4 established connections, one to each other
# host: discovery made the full mesh.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=5
t=$(now_ms)
lab up $N
t0=$(now_ms)
info "lab up $N took $((t0 - t)) ms"

mapfile -t pairs < <(all_pairs $(seq 1 $N))
info "every container pings every other one (${#pairs[@]} pairs) within 10 s of up"
if ! ping_pairs "$t0" $((t0 + 10000)) "${pairs[@]}"; then
	for ((i = 1; i <= N; i++)); do status_brief "h$i" >&2; done
	die "not every pair of containers could ping within 10 s of lab up (see above)"
fi
info "all ${#pairs[@]} pairs answered, the last $PING_LATEST_MS ms after up"

info "every host lists $N peers"
for ((i = 1; i <= N; i++)); do
	n=$(jget "h$i" '.peers | length')
	((n == N)) || die "h$i lists $n peers, expected $N: $(status_brief "h$i")"
	nicks=$(jget "h$i" '[.peers[].nickname] | sort | join(" ")')
	want=$(printf 'h%s\n' $(seq 1 $N) | sort | paste -sd' ')
	[[ $nicks == "$want" ]] || die "h$i lists peers '$nicks', expected '$want'"
	self=$(jget "h$i" "[.peers[] | select(.nickname == \"h$i\") | .hops] | join(\",\")")
	[[ $self == 0 ]] || die "h$i lists itself with hops '$self', expected 0"
done

# Not an acceptance threshold: a bound for "once converged", reported as measured.
info "every host converges to $((N - 1)) established connections (the full mesh)"
for ((i = 1; i <= N; i++)); do
	t=$(wait_by $((t0 + 30000)) converged "h$i" $N) ||
		die "h$i has not $((N - 1)) established connections to distinct peers 30 s after up: $(status_brief "h$i")"
	info "h$i converged $((t - t0)) ms after up"
done
