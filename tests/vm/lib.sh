# tests/vm/lib.sh: what the VM tests (tests/vm/test_vm_*.sh) share, on top of
# tests/integration/lib.sh: the check that they run inside the VM, the tools they need, and
# their "MESH-VM: " report lines with step timings (run.sh shows those lines).
# Source it after setting TEST_NAME:  source /mesh/tests/vm/lib.sh TOOL...
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
[[ ${MESH_VM:-} == 1 ]] || {
	echo "$TEST_NAME: this runs inside the test VM: tests/vm/run.sh tests/vm/$TEST_NAME.sh" >&2
	exit 2
}
_vm_test_name=$TEST_NAME
source /mesh/tests/integration/lib.sh
TEST_NAME=$_vm_test_name # integration/lib.sh names the test after $0 (/mesh-vm/test here)

# The tools the test needs ($@), in the VM's PATH or the build dir.
for _t in "$@"; do
	command -v "$_t" >/dev/null || PATH=$MESH_BUILD_DIR:$PATH command -v "$_t" >/dev/null ||
		die "missing $_t in the VM"
done

T_START=$(now_ms)
T_STEP=$T_START
report() { echo "MESH-VM: $*"; }
# step_done WHAT: reports how long the step took since the last one.
step_done() {
	local t
	t=$(now_ms)
	report "$(printf '%-40s %6.1f s' "$1" "$(awk -v d=$((t - T_STEP)) 'BEGIN { print d / 1000 }')")"
	T_STEP=$t
}
# report_total: the whole test's time.
report_total() {
	report "$(printf '%-40s %6.1f s' "test total" "$(awk -v d=$(($(now_ms) - T_START)) 'BEGIN { print d / 1000 }')")"
}
