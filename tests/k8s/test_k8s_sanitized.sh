#!/usr/bin/env bash
# test_k8s_sanitized: meshd with its Kubernetes API client and NetworkPolicy enforcement, built
# with AddressSanitizer and UBSan, in a real cluster. The image of the build in
# MESH_SAN_BUILD_DIR (default build-san/, configured with --enable-sanitizers) is rolled out to
# the DaemonSet's meshd container (mesh-cni, which containerd runs on the node, stays the plain
# one) with ASAN_OPTIONS/UBSAN_OPTIONS writing reports under the node's /var/lib/mesh; the k8s
# tests named in MESH_SAN_TESTS (default: "netpol dualstack"; dualstack needs a --dual-stack
# cluster) run against it; then the image that was there before is rolled back, so every
# sanitized meshd gets SIGTERM and LeakSanitizer checks it as it exits. Passes when the tests
# pass and no node's report holds an error. Not in CI (an image of the sanitized build and a second
# rollout cost ~5 min); run by hand on a cluster of scripts/k8s-lab up.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

SAN=${MESH_SAN_BUILD_DIR:-$REPO_ROOT/build-san}
TESTS=${MESH_SAN_TESTS:-netpol dualstack}
[[ -x $SAN/meshd ]] || die "no sanitized meshd in $SAN (configure it with --enable-sanitizers, make)"
grep -q libasan < <(ldd "$SAN/meshd") || die "$SAN/meshd is not built with ASan"
REPORTS=/var/lib/mesh/sanitizer
ds_image() {
	kc -n kube-system get ds mesh -o jsonpath='{.spec.template.spec.containers[?(@.name=="meshd")].image}'
}
rollout() {
	kc -n kube-system rollout status ds/mesh --timeout=300s >/dev/null || die "the rollout of $1 did not complete"
}
before=$(ds_image)
[[ -n $before ]] || die "no meshd container in ds/mesh"
read -ra NODES <<<"$(nodes)"
for n in "${NODES[@]}"; do k8s exec "$n" sh -c "rm -rf $REPORTS && mkdir -p $REPORTS"; done

tag=san$(date +%s)
info "the sanitized build's image localhost/mesh:$tag, rolled out to meshd (was $before)"
MESH_BUILD_DIR=$SAN k8s image "$tag" >/dev/null
restore() {
	kc -n kube-system set env ds/mesh -c meshd ASAN_OPTIONS- UBSAN_OPTIONS- >/dev/null 2>&1 || :
	kc -n kube-system set image ds/mesh "meshd=$before" >/dev/null 2>&1 || :
}
trap 'restore; cleanup' EXIT
kc -n kube-system set env ds/mesh -c meshd \
	"ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:print_summary=1:verbosity=1:log_path=$REPORTS/asan" \
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan" >/dev/null
kc -n kube-system set image ds/mesh "meshd=localhost/mesh:$tag" >/dev/null
rollout "localhost/mesh:$tag"
for n in "${NODES[@]}"; do
	wait_until 60 bash -c "'$K8S_LAB' exec $n meshctl status policy -o json 2>/dev/null | jq -e .enforcing >/dev/null" ||
		die "$n's sanitized meshd does not enforce NetworkPolicy: $(k8s exec "$n" meshctl status policy 2>&1 | head -5)"
done
info "every node runs the sanitized meshd and enforces NetworkPolicy"

for t in $TESTS; do
	info "tests/k8s/test_k8s_$t.sh against it"
	bash "$REPO_ROOT/tests/k8s/test_k8s_$t.sh" >"$TEST_TMP/$t.log" 2>&1 ||
		die "test_k8s_$t failed with the sanitized meshd: $(tail -n 20 "$TEST_TMP/$t.log")"
	info "  $(tail -n 1 "$TEST_TMP/$t.log")"
done

info "rolling back to $before: each sanitized meshd exits (LeakSanitizer runs then)"
restore
trap cleanup EXIT
rollout "$before"
# verbosity=1: every sanitized meshd writes its start ("AddressSanitizer Init done") to its
# file, which shows the options reached it and the file could be written; an error, a leak, a
# UBSan finding or LeakSanitizer failing to run are lines no clean run writes
bad='ERROR: |SUMMARY: |runtime error|fatal error|Tracer caught'
found=0
for n in "${NODES[@]}"; do
	files=$(k8s exec "$n" sh -c "ls $REPORTS 2>/dev/null")
	[[ -n $(k8s exec "$n" sh -c "grep -l 'AddressSanitizer Init done' $REPORTS/asan.* 2>/dev/null") ]] ||
		die "$n: no sanitized meshd wrote its start to $REPORTS ($files): the options or the image did not apply"
	for f in $files; do
		if k8s exec "$n" sh -c "grep -qE '$bad' $REPORTS/$f" || [[ $f == ubsan* ]]; then
			found=1
			echo "----- $n: $REPORTS/$f -----" >&2
			k8s exec "$n" sh -c "grep -vE 'root region|failed to intercept' $REPORTS/$f | grep -A60 -E '$bad' | head -n 80" >&2
		fi
	done
done
((found == 0)) || die "sanitizer reports above"
info "no ASan, LeakSanitizer or UBSan report on ${#NODES[@]} nodes after: $TESTS"
