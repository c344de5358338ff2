#!/usr/bin/env bash
# scripts/check.sh: everything CI runs (.ci/run execs it), in order:
#   1. scripts/deps.sh (build and test dependencies)
#   2. autoreconf, configure, make, make check (criterion unit tests) in an out-of-tree build
#      dir: build/ (or build-san/ with MESH_CHECK_SANITIZERS=1, configured with
#      --enable-sanitizers); if the source tree itself is configured in-tree, the plain build
#      uses it as it is
#   3. every tests/integration/test_*.sh, in order, each with a timeout and `scripts/lab down`
#      after it
# and ends with the line "N passed, N failed" (the unit tests count as one), exiting non-zero
# when anything failed.
#
# Environment:
#   MESH_CHECK_SANITIZERS=1    ASan/UBSan build in build-san/
#   MESH_CHECK_TESTS="a b"     run only these integration tests (names without .sh)
#   MESH_CHECK_TIMEOUT=N       seconds per integration test (default 300)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TEST_TIMEOUT=${MESH_CHECK_TIMEOUT:-300}
passed=0
failed=0
failed_names=()

heading() { printf '\n=== %s ===\n' "$*"; }

# Prints the summary line and exits with its status.
finish() {
	if ((${#failed_names[@]})); then
		echo "failed: ${failed_names[*]}"
	fi
	echo "$passed passed, $failed failed"
	if ((failed > 0)); then exit 1; fi
	exit 0
}

record() { # record NAME OK?
	if [[ $2 == ok ]]; then
		passed=$((passed + 1))
		echo "PASS $1"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		echo "FAIL $1"
	fi
}

heading "dependencies"
./scripts/deps.sh

# --- build ---------------------------------------------------------------------------------
configure_args=()
if [[ ${MESH_CHECK_SANITIZERS:-0} == 1 ]]; then
	BUILD_DIR=$ROOT/build-san
	configure_args+=(--enable-sanitizers)
	# Leaks and UB make the process fail; reports land in meshd's log, which the tests scan.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:print_summary=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	if [[ -f $ROOT/config.status ]]; then
		echo "check.sh: the source tree is configured in-tree, so build-san/ cannot be made;" >&2
		echo "check.sh: run 'make distclean' in $ROOT first" >&2
		record build fail
		finish
	fi
elif [[ -f $ROOT/config.status ]]; then
	BUILD_DIR=$ROOT # a developer's in-tree build: reuse it rather than fail
else
	BUILD_DIR=$ROOT/build
fi
export MESH_BUILD_DIR=$BUILD_DIR

heading "build in ${BUILD_DIR#"$ROOT"/}"
if ! autoreconf -fi; then
	record build fail
	finish
fi
mkdir -p "$BUILD_DIR"
if ! (cd "$BUILD_DIR" && "$ROOT/configure" "${configure_args[@]}" && make -j2); then
	record build fail
	finish
fi

heading "unit tests (make check)"
if (cd "$BUILD_DIR" && make -j2 check); then
	# Criterion's own summary line of each test program.
	grep -h -E 'Synthesis|Tested:' "$BUILD_DIR"/tests/unit/*.log 2>/dev/null || true
	record unit ok
else
	for log in "$BUILD_DIR"/tests/unit/*.log; do
		[[ -f $log ]] || continue
		echo "----- $log -----"
		cat "$log"
	done
	record unit fail
fi

# --- integration tests ---------------------------------------------------------------------
heading "integration tests"
trap './scripts/lab down >/dev/null 2>&1 || true' EXIT
./scripts/lab down >/dev/null 2>&1 || true
tests=()
if [[ -n ${MESH_CHECK_TESTS:-} ]]; then
	for t in $MESH_CHECK_TESTS; do tests+=("tests/integration/${t%.sh}.sh"); done
else
	for t in tests/integration/test_*.sh; do
		[[ -e $t ]] && tests+=("$t")
	done
fi
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	heading "$name"
	start=$SECONDS
	rc=0
	timeout -k 10 "$TEST_TIMEOUT" bash "$t" </dev/null || rc=$?
	((rc != 124 && rc != 137)) || echo "$name: timed out after ${TEST_TIMEOUT}s"
	./scripts/lab down >/dev/null 2>&1 || true
	echo "($name took $((SECONDS - start))s, exit status $rc)"
	if ((rc == 0)); then record "$name" ok; else record "$name" fail; fi
done

heading "summary"
finish
