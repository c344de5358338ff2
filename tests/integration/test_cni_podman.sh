#!/usr/bin/env bash
# test_cni_podman: mesh-cni under a real CNI caller. In a 2-host lab, podman 4.3 (CNI backend,
# runc, private config and storage per host, recipe of TESTBED.md) runs one container on h1 and
# one on h2, both attached by mesh-cni with meshd's mesh IPAM (no "ipam" key; the lab's meshd
# hands out 10.40.0.0/16 with prefix /12, and IPv6 addresses of fd6d:6573:6800::/48). They get
# distinct addresses of both families, ping each other across
# the mesh, podman's CHECK-free lifecycle runs ADD and DEL, and `podman rm` leaves no vethmesh*
# link and no allocation in meshd behind. A third container on h1, on a second network with
# delegated host-local IPAM (10.32.1.0/24), reaches the mesh IPAM container on h2 too, and its
# `podman rm` leaves no host-local allocation.
# mesh-cni is $MESH_BUILD_DIR/mesh-cni, else <repo>/mesh-cni, else $MESH_CNI.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build

CNI_BIN=${MESH_CNI:-}
if [[ -z $CNI_BIN ]]; then
	for c in "${MESH_BUILD_DIR:-/nonexistent}/mesh-cni" "$REPO_ROOT/mesh-cni" "$REPO_ROOT/build/mesh-cni"; do
		[[ -x $c ]] && { CNI_BIN=$c; break; }
	done
fi
[[ -x ${CNI_BIN:-} ]] || die "mesh-cni not built (looked in \$MESH_BUILD_DIR, the repo root; or set MESH_CNI)"

# podman, runc, the reference plugins (host-local, portmap) and busybox-static.
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
[[ -x /usr/lib/cni/host-local ]] || need+=(containernetworking-plugins)
[[ -x /bin/busybox ]] && /bin/busybox --list 2>/dev/null | grep -qx ping || need+=(busybox-static)
if ((${#need[@]})); then
	info "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
		die "apt-get install ${need[*]} failed"
fi

lab_fresh
lab up 2
wait_established h1 h2

NET=meshcni
NET_HL=meshhl
PLUGIN_DIR=$TEST_TMP/bin
mkdir -p "$PLUGIN_DIR"
cp "$CNI_BIN" "$PLUGIN_DIR/mesh-cni"

lim() { local v=$1 cap=$2; [[ $v == unlimited ]] && v=$cap; ((v > cap)) && v=$cap; echo "$v"; }
NOFILE=$(lim "$(ulimit -Hn)" 1048576)
NPROC=$(lim "$(ulimit -Hu)" 32768)

# Per host: containers.conf, storage.conf, net.d/<NET>.conflist, rootfs, run and storage dirs.
setup_host() {
	local h=$1 n=${1#h} d=$TEST_TMP/$1
	mkdir -p "$d/net.d" "$d/run" "$d/storage" "$d/ipam"
	cat >"$d/containers.conf" <<C
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["$PLUGIN_DIR", "/usr/lib/cni"]
network_config_dir = "$d/net.d"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/run/events.log"
tmp_dir = "$d/run/libpod"
volume_path = "$d/storage/volumes"
runtime = "runc"
C
	cat >"$d/storage.conf" <<C
[storage]
driver = "overlay"
graphroot = "$d/storage"
runroot = "$d/run/storage"
C
	cat >"$d/net.d/$NET.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$NET", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/$h/meshd.sock" },
  { "type": "portmap", "capabilities": { "portMappings": true } }
] }
J
	cat >"$d/net.d/$NET_HL.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$NET_HL", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/$h/meshd.sock",
    "ipam": { "type": "host-local", "dataDir": "$d/ipam",
              "ranges": [[{ "subnet": "10.32.0.0/12", "rangeStart": "10.32.$n.1",
                            "rangeEnd": "10.32.$n.254" }]] } },
  { "type": "portmap", "capabilities": { "portMappings": true } }
] }
J
	jq -e . "$d/net.d/$NET.conflist" >/dev/null || die "bad conflist for $h"
	jq -e . "$d/net.d/$NET_HL.conflist" >/dev/null || die "bad host-local conflist for $h"
	local r=$d/rootfs
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,etc,tmp,run,var}
	cp /bin/busybox "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s
	touch "$r/etc/hosts" "$r/etc/resolv.conf" "$r/etc/hostname"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
}

# pm h<i> ARGS...: podman inside lab host i with that host's private config. nsenter --net,
# not `ip netns exec` (= `lab exec`): the latter remounts /sys for the netns, which hides
# /sys/fs/cgroup from runc ("no cgroup mount found in mountinfo").
pm() {
	local h=$1
	shift
	CONTAINERS_CONF="$TEST_TMP/$h/containers.conf" CONTAINERS_STORAGE_CONF="$TEST_TMP/$h/storage.conf" \
		nsenter --net="/run/netns/$LAB_NAME-$h" podman "$@"
}

podman_cleanup() {
	local h try
	for h in h1 h2; do
		[[ -f $TEST_TMP/$h/containers.conf ]] || continue
		pm "$h" rm -f -t 0 "cni-$h" "hl-$h" >/dev/null 2>&1
	done
	# podman's overlay mounts of the private storage (in the root mount namespace)
	for try in 1 2 3; do
		grep -q "$TEST_TMP/" /proc/mounts || break
		grep -o "$TEST_TMP/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
		sleep 0.3
	done
}
on_exit podman_cleanup

for h in h1 h2; do setup_host "$h"; done

cip_of() { # h<i> [CONTAINER]: the IPv4 address of eth0 in the container (default cni-h<i>)
	pm "$1" exec "${2:-cni-$1}" /bin/busybox ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1
}
# allocations h<i>: container ids meshd of host i holds an address for
allocations() {
	curl -s --unix-socket "$LAB_RUN/$1/meshd.sock" http://meshd/v1/ipam | jq -r '.allocations[].container_id'
}

for h in h1 h2; do
	info "$h: podman run --network $NET"
	t0=$(date +%s.%N)
	pm "$h" run -d --name "cni-$h" --network "$NET" --rootfs "$TEST_TMP/$h/rootfs" \
		/bin/busybox sleep 600 >"$TEST_TMP/$h/run.out" 2>&1 ||
		die "$h: podman run failed: $(cat "$TEST_TMP/$h/run.out")"
	info "$h: started in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
done

ip1=$(cip_of h1)
ip2=$(cip_of h2)
info "h1 container: $ip1, h2 container: $ip2"
[[ $ip1 == 10.40.* ]] || die "h1's container has no mesh IPAM address from 10.40.0.0/16: '$ip1'"
[[ $ip2 == 10.40.* ]] || die "h2's container has no mesh IPAM address from 10.40.0.0/16: '$ip2'"
[[ $ip1 != "$ip2" ]] || die "both containers got $ip1"
pfx=$(pm h1 exec cni-h1 /bin/busybox ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f2)
[[ $pfx == 12 ]] || die "h1's container has prefix /$pfx, meshd's default subnet is /12"
for h in h1 h2; do
	n=$(allocations "$h" | wc -l)
	((n == 1)) || die "$h: meshd holds $n allocations for one container: $(allocations "$h")"
done

# MTU from meshd, veth on the bridge with hairpin on.
mtu_d=$(jget h1 .mtu)
mtu_c=$(pm h1 exec cni-h1 /bin/busybox cat /sys/class/net/eth0/mtu)
[[ $mtu_c == "$mtu_d" ]] || die "container MTU $mtu_c, meshd says $mtu_d"
lab exec h1 ip -d -o link show master mesh | grep vethmesh | grep -q 'hairpin on' ||
	die "h1: no vethmesh* port with hairpin on: $(lab exec h1 ip -d link show master mesh)"

info "ping $ip1 -> $ip2 and back, across the mesh"
ok=0
for _ in $(seq 1 10); do
	if pm h1 exec cni-h1 /bin/busybox ping -c 2 -W 2 "$ip2" >/dev/null 2>&1; then ok=1; break; fi
	sleep 1
done
((ok)) || die "h1's container cannot ping h2's container ($ip2)"
pm h2 exec cni-h2 /bin/busybox ping -c 3 -W 2 "$ip1" || die "h2's container cannot ping $ip1"
# IPv6: meshd's address too (the lab's meshd runs with the default --ipalloc-range6)
cip6_of() {
	pm "$1" exec "cni-$1" /bin/busybox ip -6 -o addr show dev eth0 scope global | awk '{print $4}'
}
ip61=$(cip6_of h1)
ip62=$(cip6_of h2)
info "h1 container: $ip61, h2 container: $ip62"
[[ $ip61 == fd6d:6573:6800::a28:*/48 && $ip62 == fd6d:6573:6800::a28:*/48 ]] ||
	die "the podman containers have no IPv6 address of fd6d:6573:6800::/48 (/48): '$ip61' '$ip62'"
pm h1 exec cni-h1 /bin/busybox ping -6 -c 2 -W 2 "${ip62%/*}" >/dev/null ||
	die "h1's container cannot ping h2's container over IPv6 (${ip62%/*})"
info "the podman containers ping each other over IPv6 too"
info "the lab's static container on h2 (10.32.0.2) reaches h1's podman container too"
lab cexec h2 ping -c 2 -W 2 "$ip1" >/dev/null || die "10.32.0.2 cannot ping $ip1"

info "h1: podman run --network $NET_HL (delegated host-local IPAM)"
pm h1 run -d --name hl-h1 --network "$NET_HL" --rootfs "$TEST_TMP/h1/rootfs" \
	/bin/busybox sleep 600 >"$TEST_TMP/h1/run-hl.out" 2>&1 ||
	die "h1: podman run on $NET_HL failed: $(cat "$TEST_TMP/h1/run-hl.out")"
iphl=$(cip_of h1 hl-h1)
[[ $iphl == 10.32.1.* ]] || die "h1's host-local container has no address from 10.32.1.0/24: '$iphl'"
pm h1 exec hl-h1 /bin/busybox ping -c 2 -W 2 "$ip2" >/dev/null ||
	die "h1's host-local container ($iphl) cannot ping h2's mesh IPAM container ($ip2)"
info "host-local container $iphl reaches $ip2 too"

for h in h1 h2; do
	info "$h: podman rm"
	pm "$h" rm -f -t 0 "cni-$h" >/dev/null || die "$h: podman rm failed"
	[[ $h == h2 ]] || pm "$h" rm -f -t 0 "hl-$h" >/dev/null || die "$h: podman rm hl-$h failed"
	left=$(lab exec "$h" ip -o link show | grep -c vethmesh || true)
	((left == 0)) || die "$h: $left vethmesh link(s) left after podman rm: $(lab exec "$h" ip -o link show | grep vethmesh)"
	alloc=$(find "$TEST_TMP/$h/ipam" -type f -name '10.32.*' | wc -l)
	((alloc == 0)) || die "$h: host-local still holds $(find "$TEST_TMP/$h/ipam" -name '10.32.*')"
	n=$(allocations "$h" | wc -l)
	((n == 0)) || die "$h: meshd still holds an address for $(allocations "$h")"
done
