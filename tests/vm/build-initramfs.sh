#!/usr/bin/env bash
# tests/vm/build-initramfs.sh [--build-dir DIR] [--cache DIR]: the kernel and the initramfs
# layers of the test VM, in DIR/vm/ (DIR: --build-dir, else $MESH_BUILD_DIR, else <repo>/build,
# else the source tree when it is configured in-tree; it must hold meshd and meshctl):
#   vmlinuz             the Debian cloud kernel (tests/vm/fetch-kernel.sh fetches it)
#   base.cpio           the system: busybox (its applets linked under /usr/bin, /usr/sbin), the
#                       real tools the lab and the tests use (bash ip bridge ss nft jq ping iperf3
#                       ovs-dpctl, and tcpdump strace if the host has them) with the libraries
#                       ldd lists, the kernel modules below with their dependencies and
#                       modules.dep, /etc basics and /init (tests/vm/init)
#   project.cpio        the project: /mesh/build/{meshd,meshctl[,mesh-cni]} and the programs
#                       built in DIR/tests/vm/ (as /mesh/build/tests/vm/NAME) with their
#                       libraries, and the repo's scripts/lab, tests/integration/ and tests/vm/
#                       under /mesh (so `scripts/lab` runs in the VM unchanged)
# run.sh boots vmlinuz with these two layers and a third one holding the test (the kernel
# unpacks concatenated cpio archives in order). Each layer is rebuilt only when its inputs
# (this script, the files that go in, the kernel version) change: a key of their sizes and
# mtimes is kept beside it. The fetch cache is DIR/vm/cache unless --cache says otherwise.
# Needs: cpio, kmod (depmod, modprobe), and the tools above on this host.
set -euo pipefail

die() { echo "build-initramfs: $*" >&2; exit 1; }
say() { [[ -n ${MESH_VM_QUIET:-} ]] || echo "build-initramfs: $*" >&2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"

build_dir=${MESH_BUILD_DIR:-}
cache=""
while (($#)); do
	case $1 in
	--build-dir) (($# >= 2)) || die "--build-dir needs a dir"; build_dir=$2; shift 2 ;;
	--cache) (($# >= 2)) || die "--cache needs a dir"; cache=$2; shift 2 ;;
	*) die "usage: $0 [--build-dir DIR] [--cache DIR]" ;;
	esac
done
if [[ -z $build_dir ]]; then
	if [[ -x $REPO/build/meshd ]]; then build_dir=$REPO/build; else build_dir=$REPO; fi
fi
build_dir=$(cd "$build_dir" && pwd) || die "no build dir $build_dir"
for b in meshd meshctl; do
	[[ -x $build_dir/$b ]] || die "$build_dir/$b is not built (make -j2 in $build_dir)"
done
VM=$build_dir/vm
cache=${cache:-$VM/cache}
mkdir -p "$VM" "$cache"
for t in cpio depmod modprobe ldd sha256sum; do
	command -v "$t" >/dev/null || die "missing tool $t (apt-get install cpio kmod)"
done

# One build at a time per build dir.
exec 8>"$VM/.build.lock"
flock 8

MESH_VM_QUIET=${MESH_VM_QUIET:-} "$HERE/fetch-kernel.sh" "$cache"
KROOT=$cache/kernel
KVER=$(cat "$KROOT/KVER")
OVS=$cache/ovs

# Modules in the image (with what modinfo says they depend on). /init loads some at boot
# (MESH_VM_MODULES, see init); the kernel asks busybox modprobe for the others when it needs
# them (nft chain types, crypto templates, rtnl-link-* for `ip link add`).
MODULES=(
	openvswitch vport-vxlan                     # the OVS datapath and its VXLAN vport
	vxlan bridge veth tun                       # meshd's kernel VXLAN fast path, the lab, sleeve TAP
	nf_tables nft_meta_bridge nft_numgen        # `scripts/lab block` (table bridge meshlab), loss
	nft_xfrm                                    # table inet mesh_ipsec: `ipsec in reqid` (mesh's own SAs)
	inet_diag tcp_diag udp_diag                 # ss
	nlmon                                       # netlink captures (tcpdump -i nlmon0)
	xfrm_user esp4 esp6 authenc gcm ctr ghash-generic seqiv echainiv # kernel IPsec ESP (AES-GCM)
	sha512_generic sha3_generic jitterentropy_rng drbg aesni-intel ghash-clmulni-intel
)
# Host tools for the base layer: required, then optional.
TOOLS=(bash ip bridge ss nft jq ping iperf3)
OPT_TOOLS=(tcpdump strace)

# --- helpers -----------------------------------------------------------------------------------

# Libraries (and the loader) that ldd lists for binary $1; fails on a missing one. $2: extra
# LD_LIBRARY_PATH.
lib_closure() {
	local out
	out=$(LD_LIBRARY_PATH=${2:-} ldd "$1" 2>&1) || die "ldd $1: $out"
	! grep -q 'not found' <<<"$out" || die "ldd $1: $(grep 'not found' <<<"$out" | tr -s '\t\n' '  ')"
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
}

# Where host file $1 goes in the image's merged /usr: /bin/x and /usr/bin/x -> usr/bin/x.
img_path() {
	case $1 in
	/bin/* | /sbin/* | /lib/* | /lib64/*) echo "usr$1" ;;
	/*) echo "${1#/}" ;;
	esac
}

# copy_bin STAGE SRC DEST_REL [LD_LIBRARY_PATH]: a binary and its libraries into STAGE.
copy_bin() {
	local stage=$1 src=$2 dst=$3 l
	mkdir -p "$stage/$(dirname "$dst")"
	rm -f "$stage/$dst"
	cp -L "$src" "$stage/$dst"
	while read -r l; do
		if [[ $l == */ld-linux* ]]; then
			cp -Ln "$l" "$stage/usr/lib64/" 2>/dev/null || true
		else
			[[ -e $stage/usr/lib/x86_64-linux-gnu/${l##*/} ]] || cp -L "$l" "$stage/usr/lib/x86_64-linux-gnu/"
		fi
	done < <(lib_closure "$src" "${4:-}")
}

# The image's directory skeleton (merged /usr).
skeleton() {
	local s=$1
	mkdir -p "$s"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,proc,sys,dev,run,tmp,root,etc,var/tmp,mesh-vm}
	ln -sfn usr/bin "$s/bin"
	ln -sfn usr/sbin "$s/sbin"
	ln -sfn usr/lib "$s/lib"
	ln -sfn usr/lib64 "$s/lib64"
	ln -sfn ../run "$s/var/run"
	chmod 1777 "$s/tmp" "$s/var/tmp"
}

# pack STAGE OUT: a newc cpio of STAGE, owned by root. Not compressed: under TCG the kernel
# takes about 4 s to gunzip the base layer and 1 s to copy it as it is.
pack() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$2.tmp"
	mv "$2.tmp" "$2"
}

# key FILE...: one line per file (path, size, mtime) plus the lines on stdin, hashed.
key() {
	{
		cat
		stat -L -c '%n %s %Y' "$@"
	} | sha256sum | cut -d' ' -f1
}

# up_to_date OUT KEY: OUT exists and was built from inputs with this KEY.
up_to_date() { [[ -f $1 && -f $1.key && $(cat "$1.key") == "$2" ]]; }

# --- the base layer ----------------------------------------------------------------------------

# Each tool as PATH finds it here (/usr/sbin/ip may be a link to /usr/bin/ip: the image gets
# the real file at the PATH location, so that no busybox applet of that name comes first).
tool_paths=()
for t in "${TOOLS[@]}"; do
	p=$(command -v "$t") || die "missing tool $t on this host (scripts/deps.sh installs it)"
	tool_paths+=("$p")
done
for t in "${OPT_TOOLS[@]}"; do
	if p=$(command -v "$t"); then tool_paths+=("$p"); else say "no $t on this host: not in the image"; fi
done
base_inputs=("$SELF" "$HERE/init" "$cache/busybox" "$OVS/usr/bin/ovs-dpctl" "$KROOT/boot/vmlinuz-$KVER" "${tool_paths[@]}")
for p in "${tool_paths[@]}"; do
	mapfile -t -O "${#base_inputs[@]}" base_inputs < <(lib_closure "$p")
done
base_key=$(printf '%s\n' "$KVER" "${MODULES[@]}" | key "${base_inputs[@]}")

if ! up_to_date "$VM/base.cpio" "$base_key"; then
	say "building the base layer (kernel $KVER)"
	S=$VM/stage-base
	rm -rf "$S"
	skeleton "$S"
	for p in "${tool_paths[@]}"; do
		copy_bin "$S" "$p" "$(img_path "$p")"
	done
	copy_bin "$S" "$OVS/usr/bin/ovs-dpctl" usr/bin/ovs-dpctl "$OVS/usr/lib/x86_64-linux-gnu:$OVS/lib/x86_64-linux-gnu"
	# busybox and its applets, where no real tool is
	cp "$cache/busybox" "$S/usr/bin/busybox"
	declare -A real=()
	for p in "${tool_paths[@]}" ovs-dpctl; do real[${p##*/}]=1; done
	while read -r a; do
		[[ -z ${real[${a##*/}]:-} ]] || continue
		a=$(img_path "/$a")
		[[ $a == usr/* && ! -e $S/$a && ! -L $S/$a ]] || continue
		mkdir -p "$S/$(dirname "$a")"
		ln -s /usr/bin/busybox "$S/$a"
	done < <("$cache/busybox" --list-full)
	# modules: the closure of MODULES, as plain .ko under lib/modules/KVER, and depmod's files
	M=lib/modules/$KVER
	mkdir -p "$S/usr/$M"
	modprobe -d "$KROOT" -S "$KVER" --show-depends -a "${MODULES[@]}" |
		awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
		rel=${ko#"$KROOT"/}
		rel=${rel#usr/}
		mkdir -p "$S/usr/$(dirname "$rel")"
		cp "$ko" "$S/usr/$rel"
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[[ -f $KROOT/$M/$f ]] && cp "$KROOT/$M/$f" "$S/usr/$M/"
	done
	depmod -b "$S" "$KVER"
	# /etc
	echo "root:x:0:0:root:/root:/bin/bash" >"$S/etc/passwd"
	echo "root:x:0:" >"$S/etc/group"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$S/etc/hosts"
	echo mesh-vm >"$S/etc/hostname"
	for f in /etc/protocols /etc/services; do
		[[ -f $f ]] && cp "$f" "$S/etc/"
	done
	install -m 0755 "$HERE/init" "$S/init"
	pack "$S" "$VM/base.cpio"
	cp "$KROOT/boot/vmlinuz-$KVER" "$VM/vmlinuz"
	echo "$base_key" >"$VM/base.cpio.key"
	rm -rf "$S"
	say "base layer: $(du -h "$VM/base.cpio" | cut -f1)"
fi

# --- the project layer -------------------------------------------------------------------------

proj_bins=("$build_dir/meshd" "$build_dir/meshctl")
[[ -x $build_dir/mesh-cni ]] && proj_bins+=("$build_dir/mesh-cni")
# programs built for the VM tests (make check builds them in DIR/tests/vm)
for f in "$build_dir"/tests/vm/*; do
	[[ -f $f && -x $f ]] && head -c 4 "$f" | grep -q ELF && proj_bins+=("$f")
done
mapfile -t repo_files < <(cd "$REPO" && find scripts/lab tests/integration tests/vm -type f ! -name '*.pyc' ! -name '*.o' ! -path '*/.deps/*' ! -name .dirstamp | LC_ALL=C sort)
proj_inputs=("$SELF" "${proj_bins[@]}")
for f in "${repo_files[@]}"; do proj_inputs+=("$REPO/$f"); done
for p in "${proj_bins[@]}"; do
	mapfile -t -O "${#proj_inputs[@]}" proj_inputs < <(lib_closure "$p")
done
proj_key=$(printf '%s\n' "$build_dir" "${repo_files[@]}" | key "${proj_inputs[@]}")

if ! up_to_date "$VM/project.cpio" "$proj_key"; then
	say "building the project layer (meshd from $build_dir)"
	S=$VM/stage-project
	rm -rf "$S"
	skeleton "$S"
	for p in "${proj_bins[@]}"; do
		copy_bin "$S" "$p" "mesh/build/${p#"$build_dir"/}"
	done
	for f in "${repo_files[@]}"; do
		mkdir -p "$S/mesh/$(dirname "$f")"
		cp -p "$REPO/$f" "$S/mesh/$f"
	done
	pack "$S" "$VM/project.cpio"
	echo "$proj_key" >"$VM/project.cpio.key"
	rm -rf "$S"
	say "project layer: $(du -h "$VM/project.cpio" | cut -f1)"
fi
