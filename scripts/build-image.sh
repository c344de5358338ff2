#!/usr/bin/env bash
# scripts/build-image.sh: builds the mesh container image (Containerfile) from a build tree's
# meshd, meshctl and mesh-cni, with podman (no Docker daemon), and writes it as an OCI archive
# that `ctr images import`, `podman load` or `skopeo copy` take.
#
#   scripts/build-image.sh [--build-dir DIR] [--tag NAME:TAG] [--out FILE]
#
#   --build-dir DIR   where meshd, meshctl and mesh-cni were built (default: MESH_BUILD_DIR,
#                     else build/, else the source tree)
#   --tag NAME:TAG    the image's name (default localhost/mesh:latest)
#   --out FILE        the OCI archive to write (default mesh-image.oci.tar in the current dir)
#
# The image holds the three binaries, every shared library `ldd` lists for them (from this
# machine, Debian 12), and busybox-static as /bin/sh. podman runs with its own storage under
# $MESH_IMAGE_CACHE (default /var/cache/mesh-image), so the machine's podman storage and
# config are not touched. Needs podman and busybox-static (scripts/deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }

build_dir=${MESH_BUILD_DIR:-}
tag=localhost/mesh:latest
out=$PWD/mesh-image.oci.tar
while (($#)); do
	case $1 in
	--build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
	--tag) tag=${2:?--tag needs NAME:TAG}; shift 2 ;;
	--out) out=${2:?--out needs a file}; shift 2 ;;
	-h | --help) sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unexpected argument '$1' (see --help)" ;;
	esac
done
if [[ -z $build_dir ]]; then
	build_dir=$ROOT/build
	[[ -x $build_dir/meshd ]] || build_dir=$ROOT
fi
[[ $tag =~ ^[a-z0-9./_:-]+$ && $tag == *:* ]] || die "--tag must be NAME:TAG in lowercase, got '$tag'"
[[ $out == /* ]] || out=$PWD/$out
for b in meshd meshctl mesh-cni; do
	[[ -x $build_dir/$b ]] || die "$build_dir/$b is missing: build first (./configure && make)"
done
command -v podman >/dev/null || die "podman is missing: run scripts/deps.sh"
[[ -x /bin/busybox ]] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	die "/bin/busybox is not busybox-static: apt-get install busybox-static"

ctx=$(mktemp -d /tmp/mesh-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
R=$ctx/image-root
mkdir -p "$R"/{bin,sbin,usr/local/sbin,usr/local/bin,usr/local/lib/cni,etc,tmp,run/mesh,var/lib/mesh,proc,sys,dev,root}
chmod 1777 "$R/tmp"
install -m 0755 "$build_dir/meshd" "$R/usr/local/sbin/meshd"
install -m 0755 "$build_dir/meshctl" "$R/usr/local/bin/meshctl"
install -m 0755 "$build_dir/mesh-cni" "$R/usr/local/lib/cni/mesh-cni"
# the libraries the dynamic loader will look for, at the paths it looks in
for lib in $(ldd "$build_dir/meshd" "$build_dir/meshctl" "$build_dir/mesh-cni" |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
	[[ -e $R/bin/$a ]] || ln -s busybox "$R/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
: >"$R/etc/hosts"
: >"$R/etc/resolv.conf"
cp "$ROOT/Containerfile" "$ctx/Containerfile"

cache=${MESH_IMAGE_CACHE:-/var/cache/mesh-image}
mkdir -p "$cache/root" "$cache/conf"
# podman with its own storage and no systemd (a bare root shell on Debian 12 has none)
cat >"$cache/conf/containers.conf" <<-CONF
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	runtime = "runc"
CONF
cat >"$cache/conf/storage.conf" <<-CONF
	[storage]
	driver = "vfs"
	graphroot = "$cache/root"
	runroot = "/run/mesh-image-podman"
CONF
export CONTAINERS_CONF=$cache/conf/containers.conf CONTAINERS_STORAGE_CONF=$cache/conf/storage.conf
say "podman build -t $tag (from $build_dir)"
podman build -q --no-cache -f "$ctx/Containerfile" -t "$tag" "$ctx" >/dev/null
rm -f "$out"
podman save -q --format oci-archive -o "$out" "$tag"
# the archive holds it all: drop the image from podman's storage again
podman rmi -f "$tag" >/dev/null 2>&1 || true
say "wrote $out ($(du -h "$out" | cut -f1), image $tag)"
