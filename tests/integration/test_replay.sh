#!/usr/bin/env bash
# test_replay: sleeve datagrams captured on the underlay and sent again are all dropped by the
# replay window: h1's sleeve_drop_replay counter grows by exactly the number replayed, the
# log says so, and traffic still flows afterwards.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

WANT=20
make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password"
wait_ping h1 10.32.0.2 15

info "capturing $WANT sleeve datagrams from h2 to h1"
pcap="$TEST_TMP/sleeve.pcap"
bg_start "$TEST_TMP/tcpdump.log" lab exec h1 tcpdump -i underlay -n -U -c "$WANT" -w "$pcap" \
	udp dst port 6783 and src host 198.18.0.2 and dst host 198.18.0.1
tcpdump=$BG_LAST
wait_until 5 grep -q "listening on" "$TEST_TMP/tcpdump.log" ||
	die "tcpdump did not start: $(cat "$TEST_TMP/tcpdump.log")"
# Echo replies from c2 travel h2 -> h1 through the sleeve.
lab cexec h1 ping -q -c "$((WANT + 10))" -i 0.05 -W2 10.32.0.2 >/dev/null || true
wait_until 10 eval "! pid_alive $tcpdump" || die "tcpdump did not see $WANT sleeve datagrams"
bg_stop "$tcpdump"

python3 "$PCAPTOOL" udp "$pcap" --src 198.18.0.2 --dst 198.18.0.1 --dport 6783 \
	>"$TEST_TMP/payloads"
captured=$(wc -l <"$TEST_TMP/payloads")
((captured >= WANT)) || die "only $captured sleeve datagrams extracted from the capture"

before=$(counter h1 sleeve_drop_replay)
auth_before=$(counter h1 sleeve_drop_auth)
info "replaying $captured datagrams from inside h2 (sleeve_drop_replay is $before)"
sent=$(lab exec h2 python3 "$PCAPTOOL" send 198.18.0.1 6783 --bind 198.18.0.2 <"$TEST_TMP/payloads")
((sent == captured)) || die "sent $sent of $captured datagrams"
sleep 1
after=$(counter h1 sleeve_drop_replay)
auth_after=$(counter h1 sleeve_drop_auth)
info "sleeve_drop_replay $before -> $after, sleeve_drop_auth $auth_before -> $auth_after"
((after - before == sent)) ||
	die "sleeve_drop_replay grew by $((after - before)), expected exactly $sent: $(jget h1 .counters)"

grep -qi "replay" < <(lab logs h1) || die "h1's log does not mention the replayed datagrams"

info "traffic still flows"
lab cexec h1 ping -c3 -W2 10.32.0.2 || die "ping c1 -> c2 failed after the replay"
