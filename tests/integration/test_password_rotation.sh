#!/usr/bin/env bash
# test_password_rotation (issue 16): a running mesh changes its password without a partition,
# in the three rounds of meshd(8) "CHANGING THE PASSWORD" (old+new, new+old, new; SIGHUP after
# each write). Hosts h1..h3 rotate while c1 pings c2 and c3 every 10 ms: not one ping may be
# lost. h4 is restarted in each round with the file a host would have at that point, so every
# mixed state also makes new handshakes: it must reach a full mesh each time. At the end a host
# that still has only the old password is refused ("authentication failed") by every other.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

N=4
OLD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
NEW=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
printf '%s\n' "$OLD" >"$TEST_TMP/old"
chmod 600 "$TEST_TMP/old"
lab up $N --password-file "$TEST_TMP/old"
t0=$(now_ms)
wait_full_mesh $N "$t0"
info "full mesh of $N hosts with the old password"

# write_pw h<i> LINE...: host i's password file, one password a line.
write_pw() {
	local h=$1
	shift
	(umask 077 && printf '%s\n' "$@" >"$LAB_RUN/$h/password")
}
reload() { kill -HUP "$(meshd_pid "$1")"; }
conns_of() { jget "$1" '[.connections[] | select(.state == "established")] | length'; }

# c1 pings c2 and c3 every 10 ms for the whole rotation (a count, not a deadline: ping -w
# would count the reply still on its way at the deadline as lost).
PINGS=2500
bg_start "$TEST_TMP/ping2" lab cexec h1 ping -n -q -i 0.01 -W 2 -c $PINGS "$(cip h2)"
p2=$BG_LAST
bg_start "$TEST_TMP/ping3" lab cexec h1 ping -n -q -i 0.01 -W 2 -c $PINGS "$(cip h3)"
p3=$BG_LAST
tp=$(now_ms)

# restart_h4 LINE...: h4 starts again with that password file; it must reach a full mesh
# (new handshakes with every host in the state the others are in now).
restart_h4() {
	lab kill h4 >/dev/null 2>&1 || true
	write_pw h4 "$@"
	lab start h4 >/dev/null
	local ts
	ts=$(now_ms)
	for i in 1 2 3 4; do
		wait_by $((ts + 20000)) converged "h$i" $N >/dev/null ||
			die "h$i not in a full mesh 20 s after h4 restarted with ${#} password(s): $(status_brief "h$i"); h4's log: $(grep -E 'authentication|refused|failed' "$LAB_RUN/h4/meshd.log" | tail -n 3)"
	done
	info "  h4 restarted with $# password(s): full mesh again after $(($(now_ms) - ts)) ms"
}

info "round 1: h1..h3 accept the new password besides the old one"
for h in h1 h2 h3; do write_pw "$h" "$OLD" "$NEW"; reload "$h"; done
sleep 1
for h in h1 h2 h3; do
	grep -q "SIGHUP: reread .*accept its second as well" "$LAB_RUN/$h/meshd.log" ||
		die "$h's log does not say it reread two passwords"
	[[ $(jget "$h" .passwords) == 2 ]] || die "$h's status does not say 2 passwords"
done
lab exec h1 meshctl status | grep -q "2 passwords" || die "meshctl status on h1 does not say 2 passwords"
# h4 as a host already in round 2: seals with the new one
restart_h4 "$NEW" "$OLD"

info "round 2: h1 and h2 seal with the new password, h3 not yet (mixed)"
for h in h1 h2; do write_pw "$h" "$NEW" "$OLD"; reload "$h"; done
restart_h4 "$NEW" "$OLD"
write_pw h3 "$NEW" "$OLD"
reload h3

info "round 3: the new password alone"
for h in h1 h2 h3; do write_pw "$h" "$NEW"; reload "$h"; done
sleep 1
for h in h1 h2 h3; do
	[[ $(jget "$h" .passwords) == 1 ]] || die "$h's status does not say 1 password after round 3"
	[[ $(conns_of "$h") == 3 ]] || die "$h lost connections in the rotation: $(status_brief "$h")"
done
restart_h4 "$NEW"

# the pings: still running when the rotation ended, and not one lost
tr=$(now_ms)
pid_alive "$p2" && pid_alive "$p3" || die "the pings ended before the rotation did: raise PINGS"
for k in 2 3; do
	pid=$([[ $k == 2 ]] && echo "$p2" || echo "$p3")
	wait "$pid" || true
	line=$(grep "packets transmitted" "$TEST_TMP/ping$k") || die "no ping summary c1 -> c$k: $(cat "$TEST_TMP/ping$k")"
	tx=$(awk '{print $1}' <<<"$line")
	rx=$(awk '{print $4}' <<<"$line")
	((tx == PINGS)) || die "c1 -> c$k sent $tx pings, not $PINGS: $line"
	((rx == tx)) || die "c1 -> c$k lost pings during the rotation: $line"
	info "c1 -> c$k: $line"
done
info "the rotation took $((tr - tp)) ms, inside the $(($(now_ms) - tp)) ms of the pings"

info "a host with only the old password is refused by every other"
lab kill h4 >/dev/null 2>&1 || true
write_pw h4 "$OLD"
lines=$(wc -l <"$LAB_RUN/h1/meshd.log")
lab start h4 >/dev/null
refused_by_h1() { tail -n +"$((lines + 1))" "$LAB_RUN/h1/meshd.log" | grep -q "authentication failed"; }
wait_until 15 refused_by_h1 || die "h1 does not log refusing h4 with the old password"
sleep 2
[[ $(conns_of h4) == 0 ]] || die "h4 with the old password has connections: $(status_brief h4)"
info "h4 with the old password: $(tail -n +"$((lines + 1))" "$LAB_RUN/h1/meshd.log" | grep -m1 "authentication failed" | sed 's/^[^ ]* //')"
