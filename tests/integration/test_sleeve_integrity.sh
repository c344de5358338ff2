#!/usr/bin/env bash
# test_sleeve_integrity: what crosses the sleeve (no fast path) arrives unchanged, on the
# paths where meshd handles data in bulk:
#   - bursts of UDP datagrams from c2 to c1, of sizes from 1 to 1372 bytes and two interleaved
#     flows: every datagram's bytes are checked at the receiver. meshd joins runs of one flow
#     into one TAP write (UDP GSO, sleeve/gro.c) on kernels that take that; the test checks
#     that it did;
#   - 64 MB over TCP from c2 to c1, without and with a password: TCP super-frames are cut into
#     fragments, read back together and opened where they lie (sleeve.c); the receiver's
#     SHA-256 must be the sender's. (The kernel trusts the TCP checksums of frames meshd
#     writes, so a byte changed on the way would go unnoticed by TCP itself.)
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

# tcp_check LABEL: 64 MB of random bytes c2 -> c1 over TCP, SHA-256 compared.
SINK='import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7001)); s.listen(1); print("listening", flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)'
SOURCE='import socket, sys
c = socket.create_connection((sys.argv[1], 7001)); f = open(sys.argv[2], "rb")
while True:
    b = f.read(1 << 20)
    if not b: break
    c.sendall(b)
c.close()'
head -c $((64 << 20)) /dev/urandom >"$TEST_TMP/blob"
want=$(sha256sum "$TEST_TMP/blob" | cut -d" " -f1)
tcp_check() {
	local sinkpid got
	bg_start "$TEST_TMP/sink-$1.out" lab cexec h1 python3 -c "$SINK"
	sinkpid=$BG_LAST
	wait_until 5 grep -q listening "$TEST_TMP/sink-$1.out" || die "$1: TCP sink did not start"
	lab cexec h2 timeout 60 python3 -c "$SOURCE" 10.32.0.1 "$TEST_TMP/blob" || die "$1: TCP send failed"
	wait_until 30 bash -c "grep -qE '^[0-9]+ [0-9a-f]{64}' '$TEST_TMP/sink-$1.out'" ||
		die "$1: the TCP sink did not finish: $(cat "$TEST_TMP/sink-$1.out")"
	bg_stop "$sinkpid"
	got=$(grep -E '^[0-9]+ ' "$TEST_TMP/sink-$1.out")
	[[ $got == "$((64 << 20)) $want" ]] || die "$1: c1 got '$got', c2 sent $((64 << 20)) bytes with SHA-256 $want"
	local whole
	whole=$(counter h1 sleeve_rx_in_place)
	info "$1: 64 MB over TCP arrived unchanged ($whole fragmented datagrams opened in place)"
	((whole > 0)) || die "$1: no fragmented datagram was read in one piece (UDP GRO) and opened in place"
}
tcp_check plain
[[ $(counter h1 sleeve_drop_malformed) == 0 ]] || die "h1 dropped malformed datagrams: $(status_json h1 | jq -c .counters)"

lab down
make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password" -- --fastdp off
wait_ping h2 10.32.0.1 15
tcp_check encrypted
for h in h1 h2; do
	for c in sleeve_drop_malformed sleeve_drop_auth; do
		[[ $(counter $h $c) == 0 ]] || die "$h: $c: $(status_json $h | jq -c .counters)"
	done
done
