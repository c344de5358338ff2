#!/usr/bin/env bash
# test_fault_state (issue 16, fault injection): meshd started over damaged state files, and over
# a full state file system. Three hosts; on h2 two containers attached by mesh-cni hold
# addresses from h2's IPAM. Then, one after the other, h2's meshd is stopped, a state file is
# damaged, and meshd started again:
#   IPAM state truncated, empty, garbage, deleted; peer-name corrupt, empty, deleted.
# Every time: meshd runs (no crash) and rejoins the full mesh, keeps its peer name (from the
# IPAM state when peer-name is lost), says in its log what it found, and a container attached
# now gets an address that no running container holds (with the IPAM state lost, meshd checks
# each address with ARP first and keeps those a container answers for), and reaches the old
# containers. Last, h2's state dir on a 64 KiB tmpfs that fills up: an allocation is refused
# with an error that says the state cannot be saved, meshd keeps running, and once there is
# room again the allocations made before are all still there after a restart.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"
lab_fresh

N=3
lab up $N
t0=$(now_ms)
wait_full_mesh $N "$t0"
STATE=$LAB_RUN/h2/state
NSP=$LAB_NAME-fs
netns_cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NSP-" || true); do ip netns del "$ns"; done
}
on_exit netns_cleanup
conf="{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\",\"type\":\"mesh-cni\",\"socket\":\"$LAB_RUN/h2/meshd.sock\"}"
# cni_on_h2 ADD|DEL ID: mesh-cni for container ID (netns $NSP-ID) on h2; prints its result.
cni_on_h2() {
	lab exec h2 env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/run/netns/$NSP-$2" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$CNI_BIN" <<<"$conf"
}
# attach ID: a new container on h2; prints its address.
attach() {
	local out
	ip netns add "$NSP-$1"
	out=$(cni_on_h2 ADD "$1") || { echo "mesh-cni ADD $1: $out" >&2; return 1; }
	jq -r '.ips[0].address' <<<"$out" | cut -d/ -f1
}

declare -A held=()
for id in old1 old2; do
	held[$id]=$(attach "$id") || die "cannot attach $id on h2"
done
info "on h2, containers old1 (${held[old1]}) and old2 (${held[old2]})"
name=$(jget h2 .name)

k=0
for damage in ipam-truncated ipam-empty ipam-garbage ipam-deleted name-corrupt name-empty name-deleted; do
	k=$((k + 1))
	lab kill h2 >/dev/null 2>&1 || true
	lines=$(wc -l <"$LAB_RUN/h2/meshd.log")
	case $damage in
	ipam-truncated) truncate -s 40 "$STATE/ipam" ;;
	ipam-empty) : >"$STATE/ipam" ;;
	ipam-garbage) head -c 3000 /dev/urandom >"$STATE/ipam" ;;
	ipam-deleted) rm -f "$STATE/ipam" ;;
	name-corrupt) printf 'mesh-peer-name 1\nnot-a-name\n' >"$STATE/peer-name" ;;
	name-empty) : >"$STATE/peer-name" ;;
	name-deleted) rm -f "$STATE/peer-name" ;;
	esac
	lab start h2 >/dev/null
	ts=$(now_ms)
	for i in 1 2 3; do
		wait_by $((ts + 30000)) converged "h$i" $N >/dev/null ||
			die "$damage: h$i not in a full mesh 30 s after h2 started: $(status_brief "h$i")"
	done
	pid_alive "$(meshd_pid h2)" || die "$damage: h2's meshd is gone: $(tail -n 5 "$LAB_RUN/h2/meshd.log")"
	[[ $(jget h2 .name) == "$name" ]] || die "$damage: h2's peer name changed from $name to $(jget h2 .name)"
	said=$(tail -n +"$((lines + 1))" "$LAB_RUN/h2/meshd.log" |
		grep -E "IPAM: .*(cannot be used|no IPAM state in)|peer-name|kept the peer name" | head -n 1 |
		sed 's/^[^ ]* *[A-Z]* *//') || said=""
	case $damage in
	ipam-deleted | name-*) ;;
	*) [[ -n $said ]] || die "$damage: h2's log does not say what it found" ;;
	esac
	# a new container: no address a running container holds
	a=$(attach "new$k") || die "$damage: cannot attach a new container on h2"
	for id in "${!held[@]}"; do
		[[ $a != "${held[$id]}" ]] || die "$damage: the new container got ${held[$id]}, which $id holds"
	done
	ip netns exec "$NSP-new$k" ping -c1 -W2 "${held[old1]}" >/dev/null ||
		die "$damage: the new container ($a) cannot reach old1 (${held[old1]})"
	held[new$k]=$a
	info "$damage: h2 back, name kept, new container got $a; ${said:-(nothing to report)}"
done
# every container attached before a loss is known again: as its own allocation, or as one
# found in use by ARP (lost-<address>)
allocs=$(api h2 GET /v1/ipam)
for id in "${!held[@]}"; do
	jq -e --arg ip "${held[$id]}" '.allocations | any(.ip == $ip)' <<<"${allocs%$'\n'*}" >/dev/null ||
		die "h2's IPAM does not know ${held[$id]} ($id) any more"
done
info "h2's IPAM holds every running container's address: $(jq -r '[.allocations[] | select(.container_id | startswith("lost-")) | .container_id] | join(" ")' <<<"${allocs%$'\n'*}") found by ARP"
info "h2 recovering: $(jget h2 '.ipam.recovering | tojson')"

# --- a full state file system ------------------------------------------------------------------
lab kill h2 >/dev/null 2>&1 || true
cp -a "$STATE" "$TEST_TMP/state-copy"
mount -t tmpfs -o size=64k,mode=0700 meshtest "$STATE"
on_exit "umount $STATE 2>/dev/null"
cp -a "$TEST_TMP/state-copy/." "$STATE/"
lab start h2 >/dev/null
ts=$(now_ms)
wait_by $((ts + 30000)) converged h2 $N >/dev/null || die "h2 not in a full mesh on its tmpfs: $(status_brief h2)"
before=$(alloc_api h2 tmpfs-before) || die "cannot allocate on h2 before the disk filled"
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true
# (a host still recovering first checks the address with ARP: 503 until that is done)
for _ in $(seq 20); do
	out=$(api h2 POST /v1/ipam/allocate '{"container_id":"tmpfs-full"}')
	code=${out##*$'\n'}
	[[ $code == 503 && $out == *"checking with ARP"* ]] || break
	sleep 0.3
done
[[ $code != 200 ]] || die "an allocation succeeded with the state file system full: $out"
grep -qiE "save|saved" <<<"${out%$'\n'*}" || die "the refusal does not say the state cannot be saved: $out"
info "state file system full: allocation refused ($code: $(jq -r .error <<<"${out%$'\n'*}"))"
pid_alive "$(meshd_pid h2)" || die "h2's meshd is gone with its disk full"
rm -f "$STATE/filler"
after=$(alloc_api h2 tmpfs-after) || die "cannot allocate on h2 once there is room again"
lab kill h2 >/dev/null 2>&1 || true
lab start h2 >/dev/null
ts=$(now_ms)
wait_by $((ts + 30000)) converged h2 $N >/dev/null || die "h2 not back after the restart: $(status_brief h2)"
for pair in "tmpfs-before=$before" "tmpfs-after=$after"; do
	got=$(alloc_api h2 "${pair%%=*}") || die "cannot look up ${pair%%=*}"
	[[ $got == "${pair#*=}" ]] || die "${pair%%=*} had ${pair#*=}, after the restart $got"
done
info "room again: allocation works; after a restart the allocations made before are all there"
umount "$STATE"
