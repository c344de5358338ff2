# tests/integration/cni_lib.sh: what the tests that drive mesh-cni through real CNI callers
# share (sourced after lib.sh): finding mesh-cni, installing Debian packages a test needs, and
# building the callers Debian ships only as source (scripts/build-cni-tools.sh), once per build.
# shellcheck shell=bash

# mesh-cni: $MESH_CNI, else $MESH_BUILD_DIR/mesh-cni, else the repo root or build/.
CNI_BIN=${MESH_CNI:-}
if [[ -z $CNI_BIN ]]; then
	for c in "${MESH_BUILD_DIR:-/nonexistent}/mesh-cni" "$(dirname "$(meshd_bin)")/mesh-cni" \
		"$REPO_ROOT/mesh-cni" "$REPO_ROOT/build/mesh-cni"; do
		[[ -x $c ]] && { CNI_BIN=$c; break; }
	done
fi
[[ -x ${CNI_BIN:-} ]] || die "mesh-cni not built (looked in \$MESH_BUILD_DIR, the repo root; or set MESH_CNI)"

# need_pkgs PKG...: apt-get installs those of the Debian packages that are missing
# (scripts/deps.sh normally has them all).
need_pkgs() {
	local p st
	local -a miss=()
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $st == "install ok installed" ]] || miss+=("$p")
	done
	((${#miss[@]})) || return 0
	info "installing ${miss[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${miss[@]}" >/dev/null ||
		die "apt-get install ${miss[*]} failed"
}

# cni_tools TOOL...: prints the directory holding the built TOOLs (cnitool, meshcri), building
# what is missing. They are kept beside the build (MESH_BUILD_DIR/cni-tools), and a copy built
# for the plain build (<repo>/build/cni-tools) serves the sanitizer build too, so CI builds them
# once per run. MESH_CNI_TOOLS=DIR names another directory.
cni_tools() {
	local dir t ok
	if [[ -n ${MESH_CNI_TOOLS:-} ]]; then
		dir=$MESH_CNI_TOOLS
	else
		for dir in "$(dirname "$(meshd_bin)")/cni-tools" "$REPO_ROOT/build/cni-tools"; do
			ok=1
			for t in "$@"; do [[ -x $dir/$t ]] || ok=0; done
			((ok)) && break
		done
		((ok)) || dir="$(dirname "$(meshd_bin)")/cni-tools"
	fi
	local start=$SECONDS
	"$REPO_ROOT/scripts/build-cni-tools.sh" "$dir" "$@" >"$TEST_TMP/build-cni-tools.log" 2>&1 ||
		die "building $* failed: $(tail -n 20 "$TEST_TMP/build-cni-tools.log")"
	((SECONDS - start < 2)) || info "built $* in $((SECONDS - start)) s ($dir)" >&2
	(cd "$dir" && pwd)
}

# netns_add NAME: a network namespace this test owns; removed at cleanup.
netns_add() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	on_exit "ip netns del $1 2>/dev/null"
}

# ipam_ids h<i>: the container ids meshd of host i holds an address for (GET /v1/ipam).
ipam_ids() {
	curl -sf --unix-socket "$LAB_RUN/$1/meshd.sock" http://meshd/v1/ipam | jq -r '.allocations[].container_id'
}

# ipam_addr h<i> ID: the address meshd of host i holds for container ID ("" when none).
ipam_addr() {
	curl -sf --unix-socket "$LAB_RUN/$1/meshd.sock" http://meshd/v1/ipam |
		jq -r --arg id "$2" '[.allocations[] | select(.container_id == $id)][0] // {} | .ip // .address // ""'
}

# vethmesh_count h<i>: how many vethmesh* links host i has.
vethmesh_count() {
	lab exec "$1" ip -o link show | grep -c ' vethmesh' || true
}
