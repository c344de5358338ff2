#!/usr/bin/env bash
# test_sleeve_udp: bursts of UDP datagrams from c2 to c1 over the sleeve (no fast path), of
# sizes from 1 to 1372 bytes and two interleaved flows, arrive intact: every datagram's bytes
# are checked at the receiver. meshd joins runs of one flow into one TAP write (UDP GSO,
# sleeve/gro.c) on kernels that take that; the test checks that it did, and that nothing was
# lost or changed on the way.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

BURST="$REPO_ROOT/tests/integration/udp_burst.py"
lab up 2 -- --fastdp off
wait_ping h2 10.32.0.1 15

uso=0
if ((10#$(uname -r | cut -d. -f1) * 100 + 10#$(uname -r | cut -d. -f2 | tr -dc 0-9) >= 602)); then
	uso=1
fi
before=$(counter h1 sleeve_rx_coalesced)

bg_start "$TEST_TMP/recv.out" lab cexec h1 python3 "$BURST" recv 7000 3
recv=$BG_LAST
wait_until 5 grep -q listening "$TEST_TMP/recv.out" || die "receiver did not start: $(cat "$TEST_TMP/recv.out")"
lab cexec h2 python3 "$BURST" send 10.32.0.1 7000 >"$TEST_TMP/send.out" || die "sender failed"
wait_until 30 grep -q received "$TEST_TMP/recv.out" || die "receiver did not finish"
bg_stop "$recv"
res=$(grep received "$TEST_TMP/recv.out")
info "sent $(jq -r .sent "$TEST_TMP/send.out"), receiver: $res"
[[ $(jq -r .bad <<<"$res") == 0 ]] || die "datagrams arrived changed: $res"
[[ $(jq -r .unexpected <<<"$res") == 0 ]] || die "datagrams arrived that were never sent: $res"
checked=$(jq -r .checked <<<"$res")
checkable=$(jq -r .checkable <<<"$res")
# UDP may lose a datagram under load; this path has no loss of its own (counters below)
((checked * 100 >= checkable * 99)) || die "only $checked of $checkable datagrams arrived"
[[ $(counter h1 sleeve_drop_tap) == 0 ]] || die "h1 dropped frames at the TAP: $(status_json h1 | jq -c .counters)"

after=$(counter h1 sleeve_rx_coalesced)
writes=$(counter h1 sleeve_tap_writes)
info "h1: $((after - before)) frames went to the TAP coalesced, $writes TAP writes in all"
if ((uso)); then
	((after - before > 1000)) || die "kernel $(uname -r) takes UDP GSO from a TAP, but only $((after - before)) frames were coalesced"
else
	info "kernel $(uname -r) takes no UDP GSO from a TAP: frames went one by one"
fi
