#!/usr/bin/env bash
# scripts/check.sh: everything CI runs (.ci/run execs it), in order:
#   1. scripts/deps.sh (build and test dependencies)
#   2. the plain suite: autoreconf, configure, make, make check (criterion unit tests) in
#      build/ (or the source tree itself when it is configured in-tree), then every
#      tests/integration/test_*.sh, each with a timeout and `scripts/lab down` after it
#   3. the sanitizer suite: the same in build-san/ configured with --enable-sanitizers
#      (ASan + UBSan; a report in any meshd log fails the test that made it)
#   4. the VM tests (tests/vm/test_vm_*.sh): a Debian kernel with the openvswitch module in
#      qemu (TCG), after the plain suite (which built tests/vm/odp_probe)
#   5. the Kubernetes suite (tests/k8s): Kubernetes 1.20.2 built from Debian's source
#      (scripts/k8s-build.sh, cached in /var/cache/mesh-k8s), a 3-node cluster with a password
#      and IPv4 and IPv6 pods (scripts/k8s-lab up 3 --dual-stack), mesh deployed by its
#      DaemonSet, the tests in K8S_TESTS order,
#      then `scripts/k8s-lab down`, which must leave nothing behind
#   6. make distcheck in the plain build
# and ends with the line "N passed, N failed" (each suite's unit tests count as one),
# exiting non-zero when anything failed.
#
# Environment:
#   MESH_CHECK_SANITIZERS=0|1|only   skip the sanitizer suite / run both (default) / only it
#   MESH_CHECK_DISTCHECK=0           skip make distcheck
#   MESH_CHECK_VM=0                  skip the VM tests
#   MESH_CHECK_K8S=0                 skip the Kubernetes suite
#   MESH_CHECK_K8S_TESTS="a b"       run only these tests/k8s tests (names without test_k8s_, .sh)
#   MESH_CHECK_TESTS="a b"           run only these integration tests (names without .sh)
#   MESH_CHECK_TIMEOUT=N             seconds per integration test (default 300)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TEST_TIMEOUT=${MESH_CHECK_TIMEOUT:-300}
passed=0
failed=0
failed_names=()
skipped_names=()
# The integration tests' lab has a name of its own, so check.sh never tears down a lab someone
# else runs on this machine (scripts/lab's default "mesh"), nor they its.
export MESH_LAB_NAME=meshcheck

heading() { printf '\n=== %s ===\n' "$*"; }

# Prints the summary line and exits with its status.
finish() {
	if ((${#failed_names[@]})); then
		echo "failed: ${failed_names[*]}"
	fi
	# a skip is not a pass: said apart, with the names
	if ((${#skipped_names[@]})); then
		echo "skipped (not counted as passed): ${skipped_names[*]}"
	fi
	echo "$passed passed, $failed failed"
	if ((failed > 0)); then exit 1; fi
	exit 0
}

record() { # record NAME ok|skip|fail
	if [[ $2 == ok ]]; then
		passed=$((passed + 1))
		echo "PASS $1"
	elif [[ $2 == skip ]]; then
		skipped_names+=("$1")
		echo "SKIP $1"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		echo "FAIL $1"
	fi
}

verdict() { # verdict EXIT_STATUS: ok (0), skip (77, automake's), fail
	case $1 in 0) echo ok ;; 77) echo skip ;; *) echo fail ;; esac
}

heading "dependencies"
./scripts/deps.sh

# sanitizer_reports WHAT: true (after printing them and moving them aside) when sanitized
# programs left reports in MESH_SAN_DIR (the sanitizer suite's log_path).
sanitizer_reports() {
	[[ -n ${MESH_SAN_DIR:-} ]] && compgen -G "$MESH_SAN_DIR/*.[0-9]*" >/dev/null || return 1
	local f
	echo "sanitizer reports from the $1:"
	mkdir -p "$MESH_SAN_DIR/seen"
	for f in "$MESH_SAN_DIR"/*.[0-9]*; do
		echo "----- $f -----"
		head -n 60 "$f"
		mv "$f" "$MESH_SAN_DIR/seen/"
	done
	return 0
}

# run_suite LABEL BUILD_DIR [CONFIGURE_ARGS...]: build, unit tests, integration tests.
run_suite() {
	local label=$1 build_dir=$2
	shift 2
	export MESH_BUILD_DIR=$build_dir

	heading "$label: build in ${build_dir#"$ROOT"/}"
	mkdir -p "$build_dir"
	if ! (cd "$build_dir" && "$ROOT/configure" "$@" && make -j2); then
		record "$label-build" fail
		return
	fi

	heading "$label: unit tests (make check)"
	if (cd "$build_dir" && make -j2 check) && ! sanitizer_reports "unit tests"; then
		# Criterion's own summary line of each test program.
		grep -h -E 'Synthesis|Tested:' "$build_dir"/tests/unit/*.log 2>/dev/null || true
		record "$label-unit" ok
	else
		local log
		for log in "$build_dir"/tests/unit/*.log; do
			[[ -f $log ]] || continue
			echo "----- $log -----"
			cat "$log"
		done
		record "$label-unit" fail
	fi

	heading "$label: integration tests"
	./scripts/lab down >/dev/null 2>&1 || true
	local -a tests=()
	local t name start rc
	if [[ -n ${MESH_CHECK_TESTS:-} ]]; then
		for t in $MESH_CHECK_TESTS; do tests+=("tests/integration/${t%.sh}.sh"); done
	else
		for t in tests/integration/test_*.sh; do
			# needs the Kubernetes binaries: runs in the k8s suite, after their build
			[[ $t == */test_kube_client.sh ]] && continue
			# the plain suite only: they measure the mesh under loss, at 20 and 50 hosts, or
			# wait out long timers (a 30 s freeze, a minute of 10 ms pings), which a sanitized
			# meshd (several times slower) distorts or only lengthens; the code they reach is
			# run sanitized by the other tests (and the handshake's by its unit tests)
			if [[ $label == sanitizer ]]; then
				case $t in
				*/test_fault_loss.sh | */test_mesh_scale.sh | */test_mesh_20.sh | \
					*/test_fault_stop.sh | */test_password_rotation.sh) continue ;;
				esac
			fi
			# the sanitizer suite only: nothing in them depends on speed, and one run with
			# AddressSanitizer and UBSan checks more than a plain one (CI's hour has room for
			# one run of each, not two; the plain build runs in every other test)
			if [[ $label == plain && $sanitizers != 0 ]]; then
				case $t in
				*/test_ipv6_underlay.sh | */test_ipv6_overlay.sh | */test_ipv6_fastdp.sh | \
					*/test_policy_nft.sh | */test_mesh_multicast.sh | */test_ipam.sh) continue ;;
				esac
			fi
			[[ -e $t ]] && tests+=("$t")
		done
	fi
	for t in "${tests[@]}"; do
		name=$(basename "$t" .sh)
		heading "$label: $name"
		start=$SECONDS
		rc=0
		timeout -k 10 "$TEST_TIMEOUT" bash "$t" </dev/null || rc=$?
		((rc != 124 && rc != 137)) || echo "$name: timed out after ${TEST_TIMEOUT}s"
		./scripts/lab down >/dev/null 2>&1 || true
		echo "($name took $((SECONDS - start))s, exit status $rc)"
		record "$label-$name" "$(verdict "$rc")"
	done
}

trap './scripts/lab down >/dev/null 2>&1 || true; MESH_LAB_NAME=k8scheck ./scripts/k8s-lab down >/dev/null 2>&1 || true' EXIT

# Kubernetes takes 10-15 minutes to build from a cold cache: it builds in the background, at the
# lowest priority, while the suites below run, and the Kubernetes suite waits for it.
k8s_build_pid=""
if [[ ${sanitizers:-${MESH_CHECK_SANITIZERS:-1}} != only && ${MESH_CHECK_K8S:-1} != 0 ]]; then
	k8s_build_out=$(mktemp /tmp/mesh-k8s-build.XXXXXX)
	heading "k8s: building Kubernetes 1.20.2 in the background (scripts/k8s-build.sh, nice 19)"
	k8s_build_start=$SECONDS
	(
		rc=0
		nice -n 19 ./scripts/k8s-build.sh >"$k8s_build_out.bin" 2>"$k8s_build_out" </dev/null || rc=$?
		echo "$rc" >"$k8s_build_out.rc"
	) &
	k8s_build_pid=$!
fi

heading "autoreconf"
if ! autoreconf -fi; then
	record autoreconf fail
	finish
fi

in_tree=0
[[ -f $ROOT/config.status ]] && in_tree=1
sanitizers=${MESH_CHECK_SANITIZERS:-1}

if [[ $sanitizers != only ]]; then
	# A developer's in-tree build is reused rather than refused.
	if ((in_tree)); then plain_dir=$ROOT; else plain_dir=$ROOT/build; fi
	run_suite plain "$plain_dir"
fi

# The OVS datapath needs a kernel with the openvswitch module: tests/vm boots one in qemu (TCG)
if [[ $sanitizers != only && ${MESH_CHECK_VM:-1} != 0 ]]; then
	for t in tests/vm/test_vm_*.sh; do
		name=$(basename "$t" .sh)
		heading "VM: $name"
		start=$SECONDS
		if tests/vm/run.sh --build-dir "$plain_dir" "$t" </dev/null; then
			record "vm-$name" ok
		else
			record "vm-$name" fail
		fi
		echo "($name took $((SECONDS - start))s)"
	done
fi

# The Kubernetes suite, on the plain build: one cluster for all its tests, in this order (the
# disruptive ones last).
K8S_TESTS=${MESH_CHECK_K8S_TESTS:-"pods dualstack e2e_pods e2e_services node_restart upgrade e2e_netpol netpol node_delete"}
if [[ $sanitizers != only && ${MESH_CHECK_K8S:-1} != 0 ]]; then
	export MESH_LAB_NAME=k8scheck
	heading "k8s: Kubernetes 1.20.2 (scripts/k8s-build.sh, started in the background)"
	start=$SECONDS
	wait "$k8s_build_pid" || true
	cat "$k8s_build_out"
	kbin=$(cat "$k8s_build_out.bin" 2>/dev/null || true)
	echo "(waited $((SECONDS - start))s for it; $((SECONDS - k8s_build_start))s since it started)"
	if [[ $(cat "$k8s_build_out.rc" 2>/dev/null) == 0 && -n $kbin ]]; then
		echo "(binaries in $kbin)"
		record k8s-build ok
		heading "k8s: test_kube_client (meshd's API client against kube-apiserver and etcd alone)"
		start=$SECONDS
		rc=0
		MESH_LAB_NAME=kubecheck timeout -k 10 900 bash tests/integration/test_kube_client.sh </dev/null || rc=$?
		echo "(test_kube_client took $((SECONDS - start))s, exit status $rc)"
		record k8s-kube_client "$(verdict "$rc")"
		heading "k8s: scripts/k8s-lab up 3 --password-file --dual-stack (mesh with a password, IPv4 and IPv6 pods)"
		./scripts/k8s-lab down >/dev/null 2>&1 || true
		pwfile=$(mktemp /tmp/mesh-k8s-pw.XXXXXX)
		head -c 24 /dev/urandom | base64 >"$pwfile"
		start=$SECONDS
		if MESH_BUILD_DIR=$plain_dir ./scripts/k8s-lab up 3 --password-file "$pwfile" --dual-stack </dev/null; then
			echo "(up took $((SECONDS - start))s)"
			record k8s-up ok
			for t in $K8S_TESTS; do
				heading "k8s: test_k8s_$t"
				start=$SECONDS
				rc=0
				MESH_BUILD_DIR=$plain_dir timeout -k 10 900 bash "tests/k8s/test_k8s_$t.sh" </dev/null || rc=$?
				echo "(test_k8s_$t took $((SECONDS - start))s, exit status $rc)"
				record "k8s-$t" "$(verdict "$rc")"
			done
		else
			record k8s-up fail
		fi
		rm -f "$pwfile"
		heading "k8s: scripts/k8s-lab down (must leave nothing behind)"
		start=$SECONDS
		if ./scripts/k8s-lab down; then record k8s-down ok; else record k8s-down fail; fi
		echo "(down took $((SECONDS - start))s)"
	else
		record k8s-build fail
	fi
	rm -f "$k8s_build_out" "$k8s_build_out.bin" "$k8s_build_out.rc"
	export MESH_LAB_NAME=meshcheck
fi

if [[ $sanitizers == 1 || $sanitizers == only ]]; then
	if ((in_tree)); then
		echo "check.sh: the source tree is configured in-tree, so build-san/ cannot be made;" >&2
		echo "check.sh: run 'make distclean' in $ROOT for the sanitizer suite" >&2
		record sanitizer-build fail
	else
		# Leaks and UB make the process fail; reports land in meshd's log, which the tests scan.
		# Reports of every sanitized program go to files in MESH_SAN_DIR (log_path), where
		# tests/integration/lib.sh looks after each test: mesh-cni's stderr goes to podman or
		# containerd, which do not show it. (meshd's log is scanned too, for runs without it.)
		export MESH_SAN_DIR=$ROOT/build-san/sanitizer-reports
		rm -rf "$MESH_SAN_DIR"
		mkdir -p "$MESH_SAN_DIR"
		export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:print_summary=1:log_path=$MESH_SAN_DIR/asan}
		export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$MESH_SAN_DIR/ubsan}
		run_suite sanitizer "$ROOT/build-san" --enable-sanitizers
		unset ASAN_OPTIONS UBSAN_OPTIONS MESH_SAN_DIR
	fi
fi

if [[ $sanitizers != only && ${MESH_CHECK_DISTCHECK:-1} != 0 ]]; then
	heading "make distcheck"
	if (cd "$plain_dir" && make -j2 distcheck >"$ROOT/distcheck.log" 2>&1); then
		tail -n 4 "$ROOT/distcheck.log"
		record distcheck ok
	else
		tail -n 60 "$ROOT/distcheck.log"
		record distcheck fail
	fi
fi

heading "summary"
finish
