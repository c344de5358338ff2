#!/usr/bin/env bash
# test_cni_cri: mesh-cni on containerd 1.6's CRI path, the one kubelet drives. A private
# containerd (Debian's package; its own config, root, state and socket under the test's temp
# dir) runs inside lab host h1's netns with mesh-cni as its only CNI network (mesh IPAM, no
# "ipam" key), and meshcri (tests/integration/cri/meshcri.go, built offline by
# scripts/build-cni-tools.sh: Debian has no crictl) makes the kubelet's calls:
#  - RunPodSandbox with a pause image made here from busybox-static (no registry): the pod's
#    PodSandboxStatus has an IP in 10.40.0.0/16 (containerd takes it from the Result's entry
#    for CNI_IFNAME), meshd of h1 holds that address for the sandbox id, the pod's netns has it
#    on eth0, and the pod pings h2's container across the mesh, and h2's container the pod;
#  - StopPodSandbox (CNI DEL): no vethmesh link and no allocation left;
#  - RemovePodSandbox (a second DEL, with an empty CNI_NETNS): succeeds, no sandbox left.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
# shellcheck source=cni_lib.sh
source "$(dirname "$0")/cni_lib.sh"

need_pkgs golang-go golang-google-grpc-dev golang-github-gogo-protobuf-dev dpkg-dev containerd runc \
	containernetworking-plugins busybox-static curl
TOOLS=$(cni_tools meshcri)
MESHCRI=$TOOLS/meshcri

# --- the pause image: busybox-static and a /pause that sleeps until TERM, as a docker archive
D=$TEST_TMP/ctd
mkdir -p "$D/rootfs/bin" "$D/net.d" "$D/cnibin" "$D/podlogs"
R=$D/rootfs
mkdir -p "$R"/{sbin,usr/bin,usr/sbin,proc,sys,dev,etc,tmp,run,var}
cp /bin/busybox "$R/bin/busybox"
chroot "$R" /bin/busybox --install -s
printf '#!/bin/sh\ntrap "exit 0" TERM INT\nwhile :; do sleep 3600 & wait $!; done\n' >"$R/pause"
chmod 755 "$R/pause"
touch "$R/etc/hosts" "$R/etc/resolv.conf" "$R/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
PAUSE_IMAGE=localhost/meshpause:1
python3 - "$R" "$D/pause.tar" "$PAUSE_IMAGE" <<'PY'
import hashlib, io, json, os, sys, tarfile
root, out, tag = sys.argv[1:]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name in sorted(os.listdir(root)):
        t.add(os.path.join(root, name), arcname=name)
layer = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Entrypoint": ["/pause"], "Env": ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "test_cni_cri"}],
}).encode()
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
layer_name = diff_id[7:] + "/layer.tar"
manifest = json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": [layer_name]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in ((cfg_name, config), (layer_name, layer), ("manifest.json", manifest)):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
PY

lab_fresh
lab up 2
wait_established h1 h2

# --- containerd in h1's netns ----------------------------------------------------------------
SOCK=$D/containerd.sock
export CRI_SOCK=$SOCK
cp "$CNI_BIN" "$D/cnibin/mesh-cni"
ln -s /usr/lib/cni/loopback "$D/cnibin/loopback"   # containerd runs it for the pod's lo
cat >"$D/net.d/10-mesh.conflist" <<J
{ "cniVersion": "1.0.0", "name": "mesh", "plugins": [
  { "type": "mesh-cni", "bridge": "mesh", "socket": "$LAB_RUN/h1/meshd.sock" }
] }
J
cat >"$D/config.toml" <<T
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # no CAP_SYS_RESOURCE here: the sandbox's oom_score_adj -998 would make runc init fail
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$D/cnibin"
    conf_dir = "$D/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$D/runc"
T

CTD_PID=
POD_UID=$(cat /proc/sys/kernel/random/uuid)
# Stops what the test made: pods through CRI, containerd (by pid), its mounts, the pod cgroups.
ctd_cleanup() {
	local id i g
	if [[ -n $CTD_PID ]] && kill -0 "$CTD_PID" 2>/dev/null; then
		for id in $("$MESHCRI" pods 2>/dev/null | awk '{print $1}'); do
			"$MESHCRI" stopp "$id" >/dev/null 2>&1
			"$MESHCRI" rmp "$id" >/dev/null 2>&1
		done
		kill -TERM "$CTD_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$CTD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$CTD_PID" 2>/dev/null
		wait "$CTD_PID" 2>/dev/null
	fi
	grep -o " $D/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	for g in /sys/fs/cgroup/*/meshcri/"$POD_UID" /sys/fs/cgroup/*/meshcri; do
		[[ -d $g ]] && find "$g" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	# containerd 1.6 keeps its shims' sockets in /run/containerd/s: remove what is left empty
	rmdir /run/containerd/s /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd 2>/dev/null
	if [[ $CTD_OK != 1 && -f $D/containerd.log ]]; then
		echo "----- containerd.log (last 30 lines) -----" >&2
		tail -n 30 "$D/containerd.log" >&2
	fi
}
CTD_OK=0
on_exit ctd_cleanup

info "containerd $(containerd --version | awk '{print $3}') in h1's netns"
# nsenter --net, not `ip netns exec`: the latter remounts /sys, hiding the cgroups from runc.
nsenter --net="/run/netns/$LAB_NAME-h1" containerd --config "$D/config.toml" >"$D/containerd.log" 2>&1 </dev/null &
CTD_PID=$!
cri_ready() {
	"$MESHCRI" version 2>/dev/null | jq -e '.status.conditions[] | select(.type == "NetworkReady") | .status' >/dev/null
}
wait_until 30 cri_ready || die "containerd's CRI did not come up with its network ready"
ctr -a "$SOCK" -n k8s.io images import "$D/pause.tar" >"$D/import.log" 2>&1 ||
	die "ctr images import failed: $(cat "$D/import.log")"

info "RunPodSandbox"
t0=$SECONDS
ID=$("$MESHCRI" runp mesh-pod meshtest "$POD_UID" "$D/podlogs/$POD_UID" 2>"$D/runp.err") ||
	die "RunPodSandbox failed: $(cat "$D/runp.err")"
info "  sandbox ${ID:0:12} in $((SECONDS - t0)) s"
"$MESHCRI" inspectp "$ID" >"$D/inspectp.json" || die "PodSandboxStatus failed"
state=$(jq -r .state "$D/inspectp.json")
pod_ip=$(jq -r .status.network.ip "$D/inspectp.json")
pod_ns=$(jq -r '.info.runtimeSpec.linux.namespaces[] | select(.type == "network") | .path' "$D/inspectp.json")
info "  state $state, pod IP $pod_ip, netns $pod_ns"
[[ $state == SANDBOX_READY ]] || die "the sandbox is not ready: $state"
[[ $pod_ip =~ ^10\.40\.[0-9]+\.[0-9]+$ ]] || die "the pod has no mesh IPAM address: '$pod_ip'"
[[ $(ipam_addr h1 "$ID") == "$pod_ip" ]] ||
	die "meshd of h1 does not hold $pod_ip for the sandbox: $(curl -s --unix-socket "$LAB_RUN/h1/meshd.sock" http://meshd/v1/ipam)"
[[ -n $pod_ns && -e $pod_ns ]] || die "the pod's netns '$pod_ns' does not exist"
nsenter --net="$pod_ns" ip -4 -o addr show dev eth0 | grep -q "inet $pod_ip/12 " ||
	die "the pod's eth0 has not $pod_ip/12: $(nsenter --net="$pod_ns" ip -o addr)"
(($(vethmesh_count h1) == 1)) || die "h1 has not one vethmesh link: $(lab exec h1 ip -o link show)"

info "the pod ($pod_ip) pings h2's container (10.32.0.2) across the mesh, and back"
wait_until 15 nsenter --net="$pod_ns" ping -c1 -W1 10.32.0.2 || die "the pod cannot ping 10.32.0.2"
lab cexec h2 ping -c2 -W2 "$pod_ip" >/dev/null || die "h2's container cannot ping the pod at $pod_ip"

info "StopPodSandbox"
"$MESHCRI" stopp "$ID" 2>"$D/stopp.err" || die "StopPodSandbox failed: $(cat "$D/stopp.err")"
(($(vethmesh_count h1) == 0)) || die "StopPodSandbox left a vethmesh link: $(lab exec h1 ip -o link show)"
[[ -z $(ipam_ids h1) ]] || die "StopPodSandbox left allocations in meshd: $(ipam_ids h1 | tr '\n' ' ')"
info "  no veth, no allocation"

info "RemovePodSandbox"
"$MESHCRI" rmp "$ID" 2>"$D/rmp.err" || die "RemovePodSandbox failed: $(cat "$D/rmp.err")"
[[ -z $("$MESHCRI" pods) ]] || die "sandboxes left: $("$MESHCRI" pods)"
[[ ! -e $pod_ns ]] || die "the pod's netns $pod_ns is left"
[[ -z $(ipam_ids h1) ]] || die "allocations in meshd after RemovePodSandbox: $(ipam_ids h1 | tr '\n' ' ')"
info "  no sandbox, no netns, no allocation"
CTD_OK=1
