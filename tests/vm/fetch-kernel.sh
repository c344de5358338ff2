#!/usr/bin/env bash
# tests/vm/fetch-kernel.sh CACHE_DIR: fetch what the test VM needs from Debian's archive,
# without installing any of it on this host, into CACHE_DIR:
#   kernel/            dpkg -x of linux-image-<KVER> (the version linux-image-cloud-amd64
#                      depends on: Debian's cloud kernel has the openvswitch module), with
#                      modules.dep made by depmod; kernel/KVER holds the version
#   ovs/               dpkg -x of openvswitch-switch (for usr/bin/ovs-dpctl), plus every
#                      library package it needs that this host lacks (libxdp1 on Debian 12)
#   busybox            a static busybox (the host's, if it is static; else busybox-static's)
#   debs/              the downloaded packages
# Cached: once a part is there it is not fetched again (a second run downloads nothing).
# Environment: MESH_VM_KVER=6.1.0-NN-cloud-amd64 to pin the kernel instead of asking apt.
# Needs: apt-get (it runs apt-get update once if the package lists lack or no longer match a
# package), dpkg, kmod (depmod).
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }
say() { [[ -n ${MESH_VM_QUIET:-} ]] || echo "fetch-kernel: $*" >&2; }

(($# == 1)) || die "usage: $0 CACHE_DIR"
CACHE=$1
mkdir -p "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)
for t in apt-get apt-cache dpkg dpkg-query depmod ldd; do
	command -v "$t" >/dev/null || die "missing tool $t"
done

# One fetch at a time per cache dir (two test runs may start together).
exec 9>"$CACHE/.lock"
flock 9

# apt-get update, at most once a run: when the package lists are missing or stale (a version
# they name is gone from the archive).
refreshed=0
apt_refresh() {
	((refreshed == 0)) || return 1
	refreshed=1
	say "apt-get update"
	apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
}
# apt-get download into debs/ (as root, so no sandbox-user warnings about the target dir).
download() {
	local try
	for try in 1 2; do
		(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$@" >/dev/null 2>&1) && return 0
		if ((try == 2)) || ! apt_refresh; then break; fi
	done
	die "apt-get download $* failed"
}
# The kernel version linux-image-cloud-amd64 depends on, per the package lists.
cloud_kver() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*-cloud-amd64\)$/\1/p' | head -n 1
}
# The .deb of package $1 in debs/ (newest if several).
# shellcheck disable=SC2012 # the names are Debian package file names
deb_of() { ls -t "$CACHE/debs/$1"_*.deb 2>/dev/null | head -n 1; }

# --- the kernel ------------------------------------------------------------------------------
kver=${MESH_VM_KVER:-}
if [[ -z $kver ]]; then
	kver=$(cloud_kver)
	# Without package lists: the kernel already cached, else fetch the lists.
	[[ -n $kver || ! -f $CACHE/kernel/KVER ]] || kver=$(cat "$CACHE/kernel/KVER")
	[[ -n $kver ]] || { apt_refresh; kver=$(cloud_kver); }
	[[ -n $kver ]] || die "apt-cache knows no linux-image-cloud-amd64"
fi
if [[ ! -f $CACHE/kernel/KVER || $(cat "$CACHE/kernel/KVER") != "$kver" ]]; then
	[[ -n $(deb_of "linux-image-$kver") ]] || { say "downloading linux-image-$kver"; download "linux-image-$kver"; }
	rm -rf "$CACHE/kernel.new"
	dpkg -x "$(deb_of "linux-image-$kver")" "$CACHE/kernel.new"
	# The package ships no modules.dep (its postinst runs depmod): make one.
	depmod -b "$CACHE/kernel.new" "$kver"
	[[ -f $CACHE/kernel.new/boot/vmlinuz-$kver ]] || die "no boot/vmlinuz-$kver in linux-image-$kver"
	grep -q '^CONFIG_OPENVSWITCH=m' "$CACHE/kernel.new/boot/config-$kver" ||
		die "linux-image-$kver has no openvswitch module"
	echo "$kver" >"$CACHE/kernel.new/KVER"
	rm -rf "$CACHE/kernel"
	mv "$CACHE/kernel.new" "$CACHE/kernel"
	say "kernel $kver in $CACHE/kernel"
fi

# --- ovs-dpctl -------------------------------------------------------------------------------
# The library packages a package depends on that this host does not have installed.
missing_lib_deps() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: \(lib[^ <>]*\)$/\1/p' | sort -u |
		while read -r p; do
			[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || echo "$p"
		done
}
# ldd of a binary found in the ovs/ tree, with that tree's libraries on the search path.
ovs_ldd() {
	LD_LIBRARY_PATH="$CACHE/ovs/usr/lib/x86_64-linux-gnu:$CACHE/ovs/lib/x86_64-linux-gnu" ldd "$1"
}
if [[ ! -f $CACHE/ovs/.complete ]]; then
	rm -rf "$CACHE/ovs"
	[[ -n $(deb_of openvswitch-switch) ]] || { say "downloading openvswitch-switch"; download openvswitch-switch; }
	dpkg -x "$(deb_of openvswitch-switch)" "$CACHE/ovs"
	[[ -x $CACHE/ovs/usr/bin/ovs-dpctl ]] || die "openvswitch-switch has no usr/bin/ovs-dpctl"
	# Library packages the host lacks, and theirs in turn (a few rounds at most).
	declare -A seen=()
	todo=(openvswitch-switch)
	for _ in 1 2 3 4; do
		next=()
		for p in "${todo[@]}"; do
			while read -r l; do
				[[ -n $l && -z ${seen[$l]:-} ]] || continue
				seen[$l]=1
				next+=("$l")
			done < <(missing_lib_deps "$p")
		done
		((${#next[@]})) || break
		for l in "${next[@]}"; do
			[[ -n $(deb_of "$l") ]] || { say "downloading $l (for ovs-dpctl)"; download "$l"; }
			dpkg -x "$(deb_of "$l")" "$CACHE/ovs"
		done
		todo=("${next[@]}")
	done
	if grep -q 'not found' < <(ovs_ldd "$CACHE/ovs/usr/bin/ovs-dpctl"); then
		die "ovs-dpctl still lacks libraries: $(ovs_ldd "$CACHE/ovs/usr/bin/ovs-dpctl" | grep 'not found' | tr -s '\t\n' '  ')"
	fi
	touch "$CACHE/ovs/.complete"
	say "ovs-dpctl in $CACHE/ovs/usr/bin"
fi

# --- busybox (static) ------------------------------------------------------------------------
is_static() { [[ -x $1 ]] && ! ldd "$1" >/dev/null 2>&1; }
if ! is_static "$CACHE/busybox"; then
	bb=$(command -v busybox || true)
	if [[ -n $bb ]] && is_static "$bb"; then
		cp -L "$bb" "$CACHE/busybox"
	else
		[[ -n $(deb_of busybox-static) ]] || { say "downloading busybox-static"; download busybox-static; }
		rm -rf "$CACHE/busybox-static"
		dpkg -x "$(deb_of busybox-static)" "$CACHE/busybox-static"
		cp "$CACHE/busybox-static/bin/busybox" "$CACHE/busybox"
		rm -rf "$CACHE/busybox-static"
	fi
	is_static "$CACHE/busybox" || die "no static busybox"
fi
