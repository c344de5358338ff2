#!/usr/bin/env bash
# scripts/build-cni-tools.sh: builds the CNI callers the integration tests drive mesh-cni with,
# offline, from Debian 12's packages only:
#   cnitool   the CNI project's own client, from Debian's source package golang-github-appc-cni
#             (the binary package golang-github-appc-cni-dev leaves cnitool/ out), compiled
#             against the Go libraries of golang-github-appc-cni-dev in /usr/share/gocode
#   meshcri   a small CRI client (tests/integration/cri/meshcri.go: RunPodSandbox,
#             PodSandboxStatus, StopPodSandbox, RemovePodSandbox, ListPodSandbox; Debian has no
#             crictl), compiled against k8s.io/cri-api as vendored in Debian's containerd source
#             package and the grpc and gogo-protobuf -dev packages
#
# Usage: scripts/build-cni-tools.sh OUTDIR [cnitool] [meshcri]   (default: both)
# Puts the binaries in OUTDIR/ and keeps the fetched sources (OUTDIR/src) and the Go build cache
# (OUTDIR/gocache) there, so a second run only checks that the binaries exist. Source packages
# come through apt with a private deb-src list and private lists (OUTDIR/apt); /etc/apt is not
# touched. Needs (Debian packages): golang-go, golang-github-appc-cni-dev, dpkg-dev (apt-get
# source), and for meshcri golang-google-grpc-dev and golang-github-gogo-protobuf-dev.
# Prints the path of each binary; exits non-zero, saying why, when one cannot be built.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:?usage: build-cni-tools.sh OUTDIR [cnitool] [meshcri]}
shift
(($#)) || set -- cnitool meshcri
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { echo "build-cni-tools: $*" >&2; }
die() { say "$*"; exit 1; }

command -v go >/dev/null || die "go not found (Debian package golang-go)"
command -v dpkg-source >/dev/null || die "dpkg-source not found (Debian package dpkg-dev)"
[[ -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ]] ||
	die "libcni sources missing (Debian package golang-github-appc-cni-dev)"

# Go without modules and without any network: GOPATH only, Debian's packaged sources.
gobuild() {
	local gopath=$1
	shift
	GO111MODULE=off GOPATH=$gopath GOCACHE=$OUT/gocache GOPROXY=off GOFLAGS= GOTOOLCHAIN=local \
		CGO_ENABLED=0 go build -trimpath "$@"
}

# apt_source SRCPKG: unpacks Debian's source package SRCPKG (the version of bookworm main)
# under OUT/src once; prints its directory.
apt_source() {
	local pkg=$1 a=$OUT/apt dir
	dir=$(find "$OUT/src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-[0-9]*" 2>/dev/null | sort | tail -n1)
	if [[ -n $dir ]]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$OUT/src"
	echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main' >"$a/sources.list"
	local -a o=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o APT::Sandbox::User=root -q)
	if ! compgen -G "$a/lists/*Sources*" >/dev/null; then
		say "apt-get update (private deb-src list for bookworm main)"
		apt-get "${o[@]}" update >"$a/update.log" 2>&1 || die "apt-get update failed: $(tail -n 5 "$a/update.log")"
	fi
	say "apt-get source $pkg"
	(cd "$OUT/src" && apt-get "${o[@]}" source "$pkg" >"$a/source-$pkg.log" 2>&1) ||
		die "apt-get source $pkg failed: $(tail -n 5 "$a/source-$pkg.log")"
	dir=$(find "$OUT/src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n1)
	[[ -n $dir ]] || die "apt-get source $pkg unpacked nothing"
	echo "$dir"
}

build_cnitool() {
	[[ -x $OUT/cnitool ]] && { echo "$OUT/cnitool"; return 0; }
	local src
	src=$(apt_source golang-github-appc-cni)
	[[ -f $src/cnitool/cnitool.go ]] || die "no cnitool/cnitool.go in $src"
	say "go build cnitool (libcni from /usr/share/gocode)"
	gobuild /usr/share/gocode -o "$OUT/cnitool.tmp" "$src/cnitool/cnitool.go"
	mv "$OUT/cnitool.tmp" "$OUT/cnitool"
	echo "$OUT/cnitool"
}

build_meshcri() {
	local main=$REPO_ROOT/tests/integration/cri/meshcri.go
	[[ -x $OUT/meshcri && $OUT/meshcri -nt $main ]] && { echo "$OUT/meshcri"; return 0; }
	[[ -d /usr/share/gocode/src/google.golang.org/grpc ]] ||
		die "grpc sources missing (Debian package golang-google-grpc-dev)"
	[[ -d /usr/share/gocode/src/github.com/gogo/protobuf ]] ||
		die "gogo-protobuf sources missing (Debian package golang-github-gogo-protobuf-dev)"
	local src g=$OUT/gopath-cri
	src=$(apt_source containerd)
	[[ -d $src/vendor/k8s.io/cri-api ]] || die "no vendor/k8s.io/cri-api in $src"
	rm -rf "$g"
	mkdir -p "$g/src/k8s.io" "$g/src/meshcri"
	cp -a "$src/vendor/k8s.io/cri-api" "$g/src/k8s.io/"
	cp "$main" "$g/src/meshcri/main.go"
	say "go build meshcri (cri-api from containerd's source, grpc and gogo from /usr/share/gocode)"
	gobuild "$g:/usr/share/gocode" -o "$OUT/meshcri.tmp" meshcri
	mv "$OUT/meshcri.tmp" "$OUT/meshcri"
	echo "$OUT/meshcri"
}

for t in "$@"; do
	case $t in
	cnitool) build_cnitool ;;
	meshcri) build_meshcri ;;
	*) die "unknown tool '$t' (cnitool, meshcri)" ;;
	esac
done
