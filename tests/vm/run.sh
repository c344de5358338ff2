#!/usr/bin/env bash
# tests/vm/run.sh [options] SCRIPT: run SCRIPT as a test inside a qemu VM (TCG: no KVM needed)
# whose kernel has the openvswitch module, and exit 0 when it passed, 1 when it did not.
#
#   --build-dir DIR   build dir with meshd and meshctl (default: $MESH_BUILD_DIR, else
#                     <repo>/build, else the source tree); the VM files go to DIR/vm/
#   --timeout S       kill qemu and fail after S seconds (default 300, or $MESH_VM_TIMEOUT)
#   --smp N, --mem M  vCPUs (default 2) and MiB of memory (default 1024)
#   --log FILE        the serial console log (default DIR/vm/logs/<script name>.log)
#   --out DIR         save the files the test wrote to /mesh-vm/out/ in the VM to DIR
#   -v, --verbose     stream the whole console here too (default: only the "MESH-VM: " lines)
#
# SCRIPT runs with bash as root in the VM, from /mesh (the repo's scripts/lab, tests/integration
# and tests/vm are there, meshd and meshctl in /mesh/build, MESH_BUILD_DIR=/mesh/build, MESH_VM=1).
# The VM's /init prints "MESH-VM-RESULT: PASS|FAIL ..." when SCRIPT ends and powers off; no such
# line before the timeout is a failure. Extra boot modules: MESH_VM_MODULES="m1 m2" (replaces
# the list in tests/vm/init).
# Steps: tests/vm/fetch-kernel.sh and tests/vm/build-initramfs.sh (both cached), then qemu.
# Needs: qemu-system-x86 (and what those two scripts need).
set -euo pipefail

die() { echo "vm: $*" >&2; exit 1; }
usage() { sed -n 's/^# \{0,1\}//; 2,20p' "${BASH_SOURCE[0]}" | sed -n '1,12p' >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

build_dir=${MESH_BUILD_DIR:-}
timeout=${MESH_VM_TIMEOUT:-300}
smp=2 mem=1024 log="" out="" verbose=0 script=""
while (($#)); do
	case $1 in
	--build-dir) (($# >= 2)) || usage; build_dir=$2; shift 2 ;;
	--timeout) (($# >= 2)) || usage; timeout=$2; shift 2 ;;
	--smp) (($# >= 2)) || usage; smp=$2; shift 2 ;;
	--mem) (($# >= 2)) || usage; mem=$2; shift 2 ;;
	--log) (($# >= 2)) || usage; log=$2; shift 2 ;;
	--out) (($# >= 2)) || usage; out=$2; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage ;;
	-*) echo "vm: unknown option $1" >&2; usage ;;
	*) [[ -z $script ]] || usage; script=$1; shift ;;
	esac
done
[[ -n $script ]] || usage
[[ -f $script ]] || die "no test script $script"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout needs whole seconds"
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
if [[ -z $build_dir ]]; then
	if [[ -x $REPO/build/meshd ]]; then build_dir=$REPO/build; else build_dir=$REPO; fi
fi
build_dir=$(cd "$build_dir" && pwd) || die "no build dir"
VM=$build_dir/vm
name=$(basename "$script" .sh)
log=${log:-$VM/logs/$name.log}
mkdir -p "$VM" "$(dirname "$log")"

t_start=$(date +%s.%N)
if ((verbose)); then
	"$HERE/build-initramfs.sh" --build-dir "$build_dir"
else
	MESH_VM_QUIET=1 "$HERE/build-initramfs.sh" --build-dir "$build_dir"
fi
t_built=$(date +%s.%N)

# The run layer: the test and its settings. Then the three layers as one initrd.
tmp=$(mktemp -d "$VM/run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/stage/mesh-vm"
install -m 0755 "$script" "$tmp/stage/mesh-vm/test"
{
	printf 'MESH_VM_TEST=%q\n' "$name"
	[[ -z ${MESH_VM_MODULES:-} ]] || printf 'MESH_VM_MODULES=%q\n' "$MESH_VM_MODULES"
} >"$tmp/stage/mesh-vm/env"
(cd "$tmp/stage" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0) >"$tmp/run.cpio"
cat "$VM/base.cpio" "$VM/project.cpio" "$tmp/run.cpio" >"$tmp/initrd.img"

# -cpu max: AES-NI and friends under TCG; tb-size=128 keeps qemu near 350 MiB; the default
# machine (microvm hung once in four); no NIC. panic=-1 and -no-reboot: qemu exits when /init ends.
# shellcheck disable=SC2054 # the commas are qemu's
qemu=(qemu-system-x86_64 -cpu max -m "$mem" -smp "$smp" -nographic -no-reboot -net none
	-accel tcg,tb-size=128 -kernel "$VM/vmlinuz" -initrd "$tmp/initrd.img"
	-append "console=ttyS0 quiet panic=-1")
echo "# $(date '+%F %T') ${qemu[*]}" >"$log"
t_boot=$(date +%s.%N)
set +e
{
	timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1
	echo $? >"$tmp/qemu.rc"
} | sed -u 's/\r//g' | tee -a "$log" | if ((verbose)); then cat; else grep -a --line-buffered '^MESH-VM: ' || true; fi
set -e
t_end=$(date +%s.%N)
qrc=$(cat "$tmp/qemu.rc" 2>/dev/null || echo '?')

result=$(grep -a -o 'MESH-VM-RESULT: .*' "$log" | tail -n 1 || true)

# The files from /mesh-vm/out: base64 between MESH-VM-FILE-BEGIN: NAME SIZE and -END: NAME.
if [[ -n $out ]]; then
	mkdir -p "$out"
	while read -r fname fsize; do
		[[ $fname =~ ^[A-Za-z0-9._-]+$ ]] || { echo "vm: skipping a file with a bad name: $fname" >&2; continue; }
		awk -v n="$fname" '$0 == "MESH-VM-FILE-END: " n { on = 0 } on { print } $0 ~ "^MESH-VM-FILE-BEGIN: " n " " { on = 1 }' "$log" |
			base64 -d >"$out/$fname" 2>/dev/null || true
		if [[ $(stat -c %s "$out/$fname") != "$fsize" ]]; then
			echo "vm: $fname from the VM is damaged (want $fsize bytes, got $(stat -c %s "$out/$fname"))" >&2
			result="MESH-VM-RESULT: FAIL (file $fname from the VM damaged)"
		fi
	done < <(sed -n 's/^MESH-VM-FILE-BEGIN: \([^ ]*\) \([0-9]*\)$/\1 \2/p' "$log")
fi
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
times="prepare $(secs "$t_start" "$t_built") s, VM $(secs "$t_boot" "$t_end") s"
if [[ $result == "MESH-VM-RESULT: PASS"* ]]; then
	echo "vm: $name PASS ($times)"
	exit 0
fi
if [[ $qrc == 124 || $qrc == 137 ]]; then
	echo "vm: $name FAIL: timed out after ${timeout}s ($times)" >&2
elif [[ -n $result ]]; then
	echo "vm: $name FAIL: ${result#MESH-VM-RESULT: } ($times)" >&2
else
	echo "vm: $name FAIL: no result line from the VM, qemu exit status $qrc ($times)" >&2
fi
if ((!verbose)); then
	echo "vm: last lines of the console:" >&2
	tail -n 40 "$log" >&2
fi
echo "vm: console log: $log" >&2
exit 1
