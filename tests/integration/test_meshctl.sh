#!/usr/bin/env bash
# test_meshctl: what an operator sees. In a 3-host lab, `meshctl status` on h1 shows 3 peers
# and 2 established connections, `-o json` parses and holds the same numbers, `status
# connections` names each connection's overlay and encryption, `connect` and `forget` change
# what status shows, and with meshd stopped meshctl exits 3 naming the socket.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

make_password_file "$TEST_TMP/password"
lab up 3 --password-file "$TEST_TMP/password"
wait_until 15 bash -c "[[ \$('$LAB' exec h1 meshctl status -o json | jq '[.connections[] | select(.state == \"established\")] | length') == 2 ]]" ||
	die "h1 has not 2 established connections: $(status_json h1)"

out=$(lab exec h1 meshctl status)
echo "$out"
grep -Eq 'Peers: +3 ' <<<"$out" || die "status does not show 3 peers"
grep -Eq 'Connections: +2 \(2 established' <<<"$out" || die "status does not show 2 established connections"
grep -Eq 'Encryption: +enabled' <<<"$out" || die "status does not show encryption enabled"
[[ $(jget h1 '.peers | length') == 3 ]] || die "-o json: .peers is not 3 long"
[[ $(jget h1 '[.connections[] | select(.state == "established")] | length') == 2 ]] ||
	die "-o json: not 2 established connections"

conns=$(lab exec h1 meshctl status connections)
echo "$conns"
for h in h2 h3; do
	grep -E " $h " <<<"$conns" | grep -q sleeve || die "status connections: no sleeve overlay named for $h"
	grep -E " $h " <<<"$conns" | grep -q yes || die "status connections: $h not shown as encrypted"
done
lab exec h1 meshctl status peers | grep -q h3 || die "status peers does not list h3"
# the host-wide reason for having no fast path (this kernel has no ESP for an encrypted mesh)
# is said once, in `meshctl status`; each connection row points there, and stays short
reason=$(jget h1 '.fastdp_reason // empty')
if [[ -n $reason ]]; then
	grep -qF "Fast path: none ($reason)" <<<"$out" || die "status does not say why there is no fast path"
	! grep -qF "$reason" <<<"$conns" || die "status connections repeats the fast path reason on its rows"
	grep -q 'no fast path on this host (meshctl status says why)' <<<"$conns" ||
		die "status connections does not point at meshctl status for the fast path reason"
fi
info=$(awk 'NR > 1 { sub(/^.*  (1[0-9][0-9][0-9]|-)  /, ""); print length($0) }' <<<"$conns" | sort -n | tail -n 1)
((info <= 80)) || die "status connections: an INFO of $info characters (at most 80)"
# a fresh start's early datagrams are not shown as drops
! grep -q 'unknown connection' <<<"$out" || die "status shows early datagrams as drops"

info "connect and forget change what status shows"
lab exec h1 meshctl connect 198.18.0.99 || die "meshctl connect failed"
wait_until 10 bash -c "'$LAB' exec h1 meshctl status -o json | jq -e '.targets[] | select(.address == \"198.18.0.99:6783\")'" ||
	die "connect: 198.18.0.99 not among h1's targets"
lab exec h1 meshctl status connections | grep -q 198.18.0.99 || die "status connections does not show the new target"
lab exec h1 meshctl forget 198.18.0.99 || die "meshctl forget failed"
if lab exec h1 meshctl status -o json | jq -e '.targets[] | select(.address == "198.18.0.99:6783")' >/dev/null; then
	die "forget: 198.18.0.99 still among h1's targets"
fi
rc=0
lab exec h1 meshctl forget 198.18.0.99 2>"$TEST_TMP/err" || rc=$?
((rc == 1)) || die "forgetting an unknown address should exit 1 (daemon error), got $rc"
rc=0
lab exec h1 meshctl frobnicate 2>/dev/null || rc=$?
((rc == 2)) || die "a bad command should exit 2 (usage), got $rc"

info "meshd stopped: exit 3 naming the socket"
lab kill h1
rc=0
lab exec h1 meshctl status >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
((rc == 3)) || die "meshctl with meshd stopped exited $rc, want 3"
grep -q "$LAB_RUN/h1/meshd.sock" "$TEST_TMP/err" || die "the message does not name the socket: $(cat "$TEST_TMP/err")"
cat "$TEST_TMP/err"
