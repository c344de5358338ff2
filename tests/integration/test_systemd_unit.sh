#!/usr/bin/env bash
# test_systemd_unit (issue 16, finding 12): contrib/systemd/meshd.service lets meshd do its job.
# There is no systemd as PID 1 here (so no `systemctl start`): the unit is checked with
# `systemd-analyze verify`, and its two sandbox settings that decide what meshd can do at all
# are applied by hand to a 2-host lab:
#   - CapabilityBoundingSet: meshd runs under `setpriv --bounding-set` with exactly the unit's
#     capabilities (and no_new_privs); the connection must reach the kernel VXLAN fast path,
#     whose heartbeat socket needs CAP_NET_RAW (without it the fast path is off);
#   - RestrictAddressFamilies: meshd runs under strace, and every address family it calls
#     socket() with must be in the unit's list (a family outside it fails under systemd).
# Not applied here (they need systemd itself): the file-system protections and the system call
# filter.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh
for t in systemd-analyze setpriv strace; do
	command -v "$t" >/dev/null || die "missing tool $t (run scripts/deps.sh)"
done

UNIT=$REPO_ROOT/contrib/systemd/meshd.service
MESHD_BIN=$(meshd_bin)

# 1. The unit file itself: systemd-analyze verify, with ExecStart pointing at this build's meshd
# and its man pages where `man` finds them (verify checks Documentation= too).
mkdir -p "$TEST_TMP/unit" "$TEST_TMP/man/man8"
sed "s|^ExecStart=/usr/local/sbin/meshd |ExecStart=$MESHD_BIN |" "$UNIT" >"$TEST_TMP/unit/meshd.service"
cp "$REPO_ROOT"/doc/*.8 "$TEST_TMP/man/man8/"
if ! MANPATH=$TEST_TMP/man systemd-analyze verify "$TEST_TMP/unit/meshd.service" >"$TEST_TMP/verify" 2>&1; then
	die "systemd-analyze verify: $(cat "$TEST_TMP/verify")"
fi
info "systemd-analyze verify: clean"

# The unit's sandbox, as setpriv and the check below take it.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
[[ -n $caps && -n $families ]] || die "the unit has no CapabilityBoundingSet or RestrictAddressFamilies"
bounding="-all"
for c in $caps; do
	c=${c#CAP_}
	bounding+=",+${c,,}"
done
info "the unit's capabilities: $caps; address families: $families"

cat >"$TEST_TMP/meshd-sandboxed" <<EOF
#!/bin/sh
# meshd as the unit runs it: only the unit's capabilities, no_new_privs; socket() calls traced
# (a sanitized build: LeakSanitizer cannot run under ptrace, so leaks are not checked here)
export ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
exec strace -f -qq -e trace=socket -o "$TEST_TMP/sockets.\$\$" \\
	setpriv --bounding-set $bounding --no-new-privs "$MESHD_BIN" "\$@"
EOF
chmod +x "$TEST_TMP/meshd-sandboxed"
# meshd is strace's child: stop it first, so that no traced meshd outlives a failed test
stop_traced() {
	local f p
	for f in "$LAB_RUN"/h*/meshd.pid; do
		[[ -f $f ]] || continue
		for p in $(pgrep -P "$(cat "$f")" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
	done
}
on_exit stop_traced

MESHD=$TEST_TMP/meshd-sandboxed MESH_BUILD_DIR=$(dirname "$MESHD_BIN") lab up 2
t0=$(now_ms)
wait_full_mesh 2 "$t0"
on_fastdp() { json_true "$1" '[.connections[] | select(.state == "established") | .overlay] == ["fastdp(vxlan)"]'; }
for h in h1 h2; do
	wait_until 15 on_fastdp "$h" ||
		die "under the unit's capabilities $h's connection is not on the fast path: $(jget "$h" '.fastdp_reason // empty'); $(status_brief "$h")"
done
info "under the unit's capabilities both hosts run the kernel VXLAN fast path"

# 2. Every family meshd opened a socket of, against the unit's list.
stop_traced
for _ in $(seq 50); do
	alive=0
	for f in "$LAB_RUN"/h*/meshd.pid; do pid_alive "$(cat "$f")" && alive=1; done
	((alive)) || break
	sleep 0.1
done
used=$(cat "$TEST_TMP"/sockets.* | grep -oE 'socket\((AF|PF)_[A-Z0-9]+' | sed 's/socket(//; s/^PF_/AF_/' | sort -u)
[[ -n $used ]] || die "strace saw no socket() call: $(head -n 5 "$TEST_TMP"/sockets.*)"
for f in $used; do
	[[ " $families " == *" $f "* ]] ||
		die "meshd opens $f sockets, which the unit's RestrictAddressFamilies ($families) refuses: $(grep -h "socket($f" "$TEST_TMP"/sockets.* | head -n 3)"
done
info "meshd's socket families, all allowed by the unit: $(echo $used)"
