#!/usr/bin/env bash
# scripts/k8s-build.sh: builds Kubernetes 1.20.2 for scripts/k8s-lab, offline, from Debian 12's
# `kubernetes` source package (it ships vendor/), with Debian's golang-go, the way the package's
# own debian/rules does. Prints the directory holding the binaries.
#
#   scripts/k8s-build.sh [CACHE_DIR]      default CACHE_DIR: $MESH_K8S_CACHE or /var/cache/mesh-k8s
#
# Builds kubelet, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl,
# and the upstream test binaries e2e.test (run directly: no ginkgo needed) and agnhost.
# Everything (the source, the Go build cache, the binaries) stays in CACHE_DIR/1.20.2, outside
# the checkout, so a second run or a second clone reuses it: a run with every binary present
# only prints the directory. About 10-15 minutes on 2 cores from a cold cache
# (scripts/check.sh starts it in the background, at low priority, while the other suites run).
# Needs golang-go dpkg-dev rsync jq and golang-github-modern-go-reflect2-dev (deps.sh).
set -euo pipefail

VERSION=1.20.2
CACHE=${1:-${MESH_K8S_CACHE:-/var/cache/mesh-k8s}}
OUT=$CACHE/$VERSION
BINS=(kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl
	e2e.test agnhost)
WHAT="cmd/kubelet cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler \
cmd/kube-proxy cmd/kubectl test/e2e/e2e.test test/images/agnhost"

say() { echo "k8s-build: $*" >&2; }

mkdir -p "$OUT"
# Done before: the binaries are where the last build left them.
if [[ -f $OUT/bin-dir && -f $OUT/reflect2-fixed ]]; then
	bin=$(cat "$OUT/bin-dir")
	ok=1
	for b in "${BINS[@]}"; do [[ -x $bin/$b ]] || ok=0; done
	if ((ok)); then
		echo "$bin"
		exit 0
	fi
fi

for t in go dpkg-source rsync jq; do
	command -v "$t" >/dev/null || { say "$t is missing: run scripts/deps.sh"; exit 1; }
done

# The source, through a private apt config with a deb-src line for the mirror apt already uses
# for bookworm, so the machine's own sources.list is not touched.
src=$(find "$OUT" -maxdepth 1 -type d -name "kubernetes-*" | head -n 1)
if [[ -z $src ]]; then
	A=$OUT/apt
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
	mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
		awk '$2 == "bookworm" { print $1; exit }')
	[[ -n $mirror ]] || { say "no bookworm repository is configured in apt"; exit 1; }
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
		>"$A/sources.list"
	O=(-q -o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o APT::Sandbox::User=root)
	say "fetching Debian's kubernetes source package"
	apt-get "${O[@]}" update >/dev/null
	(cd "$OUT" && apt-get "${O[@]}" source --download-only kubernetes >/dev/null)
	# Debian calls it 1.20.5+really1.20.2: the source is 1.20.2
	orig=$(find "$OUT" -maxdepth 1 -name "kubernetes_*.orig.tar.gz" | head -n 1)
	[[ -n $orig ]] || { say "the source package has no kubernetes_*.orig.tar.gz"; exit 1; }
	tar -C "$OUT" -xzf "$orig"
	src=$(find "$OUT" -maxdepth 1 -type d -name "kubernetes-*" | head -n 1)
	[[ -n $src ]] || { say "unpacking $orig made no kubernetes-* directory"; exit 1; }
fi

# Kubernetes 1.20 vendors github.com/modern-go/reflect2 1.0.1, whose map iteration crashes
# under Go 1.18 and later (kubectl config panics in reflect.mapiternext; json-iterator#614).
# 1.0.2 fixes it without an API change: Debian packages it, so the vendored copy is replaced.
r2=$src/vendor/github.com/modern-go/reflect2
fix=/usr/share/gocode/src/github.com/modern-go/reflect2
if [[ ! -f $r2/go_above_118.go ]]; then
	[[ -f $fix/go_above_118.go ]] ||
		{ say "$fix is missing: apt-get install golang-github-modern-go-reflect2-dev"; exit 1; }
	say "vendor: github.com/modern-go/reflect2 1.0.1 -> 1.0.2 (Debian's, for Go >= 1.18)"
	rm -rf "$r2"
	mkdir -p "$r2"
	cp "$fix"/*.go "$fix"/*.s "$r2/"
fi

# GOPATH layout of debian/rules: the tree is k8s.io/kubernetes inside its own .go.
mkdir -p "$src/.go/src/k8s.io"
[[ -L $src/.go/src/k8s.io/kubernetes ]] || ln -s ../../.. "$src/.go/src/k8s.io/kubernetes"
say "building Kubernetes $VERSION in $src (log: $OUT/build.log)"
start=$SECONDS
if ! (cd "$src" && env GOPATH="$src/.go" HOME="$OUT/home" GOCACHE="$OUT/gocache" GOPROXY=off \
	CGO_ENABLED=0 make WHAT="$WHAT") >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	say "build failed (full log: $OUT/build.log)"
	exit 1
fi
bin=$src/_output/bin
for b in "${BINS[@]}"; do
	[[ -x $bin/$b ]] || { say "the build made no $b"; exit 1; }
done
echo "$bin" >"$OUT/bin-dir"
touch "$OUT/reflect2-fixed"
say "built in $((SECONDS - start)) s"
echo "$bin"
