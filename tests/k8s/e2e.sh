# tests/k8s/e2e.sh: runs the upstream e2e.test through `scripts/k8s-lab e2e` and prints
# ginkgo's summary; sourced by tests/k8s/test_k8s_e2e_*.sh, which set FOCUS and SKIP.
# shellcheck shell=bash
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

run_e2e() {
	local rc=0
	info "e2e.test --ginkgo.focus='$FOCUS' --ginkgo.skip='$SKIP'"
	k8s e2e "$FOCUS" "$SKIP" >"$TEST_TMP/e2e.log" 2>&1 || rc=$?
	# how each spec that ran ended (e2e.test's progress lines: {"msg":"PASSED [sig-...] ..."})
	grep -o '{"msg":"[A-Z]* [^"]*"' "$TEST_TMP/e2e.log" | sed 's/^{"msg":"\(.*\)"$/  \1/' || true
	grep -E '^Ran [0-9]+ of [0-9]+ Specs|^(SUCCESS|FAIL)!|Passed \| [0-9]+ Failed' "$TEST_TMP/e2e.log" |
		sed "s/^/[$TEST_NAME] /"
	if ((rc)); then
		grep -B2 -A12 -E '^\[Fail\]|^• Failure' "$TEST_TMP/e2e.log" | tail -n 150 >&2
		die "e2e.test exited with $rc"
	fi
	grep -qE '^Ran [1-9][0-9]* of' "$TEST_TMP/e2e.log" || die "e2e.test ran no spec"
}
