#!/usr/bin/env bash
# scripts/deps.sh: install every build and test dependency of mesh on Debian 12.
# Idempotent: quiet when everything is already present.
set -euo pipefail

PKGS=(
  # build
  build-essential autoconf automake libtool pkg-config clang
  libevent-dev libsodium-dev libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libnftables-dev
  libcjson-dev libcriterion-dev libcurl4-openssl-dev libyaml-dev
  # lab and tests
  iproute2 iputils-ping iperf3 tcpdump nftables valgrind socat
  libclang-rt-14-dev procps psmisc curl prometheus jq python3
  podman runc containernetworking-plugins busybox-static
  # the tunnels scripts/bench compares against
  wireguard-go wireguard-tools nebula
  # the VM tests of the Open vSwitch datapath (tests/vm)
  qemu-system-x86 cpio kmod strace
  # CNI callers built from Debian source (scripts/build-cni-tools.sh), containerd's CRI path
  golang-go golang-github-modern-go-reflect2-dev golang-github-appc-cni-dev golang-google-grpc-dev golang-github-gogo-protobuf-dev
  dpkg-dev containerd
  # the Kubernetes manifest check
  python3-yaml python3-kubernetes yamllint
  # scripts/k8s-lab: Kubernetes 1.20 built from Debian's source (scripts/k8s-build.sh), etcd,
  # the nodes' tools, and what the upstream e2e specs run inside their agnhost image
  etcd-server iptables conntrack openssl rsync netcat-openbsd ethtool file
)

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: must run as root (apt-get install): log in as root, or use su -c (or sudo where it is installed)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done"
