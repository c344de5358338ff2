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

# load_esp_ovs_modules: what ESP with AES-GCM (IPv4 and IPv6) and the OVS datapath need that
# the kernel does not pull in by itself (see shared/TESTBED.md); one built in is no failure.
load_esp_ovs_modules() {
	local m
	for m in openvswitch vport-vxlan xfrm_user esp4 esp6 authenc gcm ctr ghash-generic seqiv \
		echainiv sha512_generic sha3_generic jitterentropy_rng drbg aesni-intel ghash-clmulni-intel; do
		modprobe "$m" 2>/dev/null || report "modprobe $m failed (may be built in)"
	done
}

# wire_table h<i> 4|6: counters of what reaches h<i>'s underlay veth over IPv4 or IPv6: plain
# VXLAN (UDP 6784), then ESP; wire_counts h<i> prints "<plain VXLAN packets> <ESP packets>".
wire_table() {
	local plain="udp dport 6784 counter" esp="ip protocol esp counter"
	if [[ $2 == 6 ]]; then
		plain="ip6 nexthdr udp udp dport 6784 counter"
		esp="ip6 nexthdr esp counter"
	fi
	lab exec "$1" nft -f - <<-EOF || die "$1: cannot make the wire counters"
		table netdev meshtest_wire {
			chain in {
				type filter hook ingress device underlay priority 0;
				$plain
				$esp
			}
		}
	EOF
}
wire_counts() {
	lab exec "$1" nft list table netdev meshtest_wire |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }'
}
# mesh_drops h<i>: packets meshd's own table dropped as unencrypted VXLAN
mesh_drops() {
	lab exec "$1" nft list table inet mesh_ipsec |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
