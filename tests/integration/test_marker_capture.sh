#!/usr/bin/env bash
# test_marker_capture: with a password no overlay payload crosses the underlay in clear text.
# c1 sends UDP datagrams holding a random marker to c2 while tcpdump records h1's underlay
# veth: with a password the marker must not appear; without one it must (so the check can
# tell the difference).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

MARKER="MESHMARKER-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
COUNT=50

# capture_marker NAME: records h1's underlay while c1 sends COUNT marker datagrams to c2;
# sets FOUND (marker occurrences in the capture) and SLEEVE (UDP 6783 datagrams captured).
capture_marker() {
	local name=$1 pcap="$TEST_TMP/$1.pcap" log="$TEST_TMP/$1.tcpdump.log"
	wait_ping h1 10.32.0.2 15
	bg_start "$log" lab exec h1 tcpdump -i underlay -n -U -w "$pcap" udp or tcp
	local tcpdump=$BG_LAST
	wait_until 5 grep -q "listening on" "$log" || die "tcpdump did not start: $(cat "$log")"
	# bash's /dev/udp in c1's netns: one datagram per redirection.
	# shellcheck disable=SC2016 # expanded by the inner bash
	lab cexec h1 bash -c '
		for ((i = 1; i <= $2; i++)); do
			printf "%s %d %s\n" "$1" "$i" "payload-in-the-clear" >/dev/udp/10.32.0.2/9999
			sleep 0.01
		done' marker "$MARKER" "$COUNT" || die "sending marker datagrams failed"
	sleep 1
	bg_stop "$tcpdump"
	[[ -s $pcap ]] || die "$name: empty capture"
	FOUND=$(python3 "$PCAPTOOL" count "$pcap" "$MARKER")
	SLEEVE=$(python3 "$PCAPTOOL" udp "$pcap" --dport 6783 | wc -l)
	info "$name: marker seen $FOUND times; $SLEEVE sleeve datagrams captured"
}

info "with a password: the marker must not be on the wire"
make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password"
capture_marker encrypted
# Frames may be batched into fewer datagrams, but the capture must have seen the traffic.
((SLEEVE >= 10)) || die "only $SLEEVE sleeve datagrams captured for $COUNT sent: the capture missed the traffic"
((FOUND == 0)) || die "marker $MARKER found $FOUND times on the underlay with a password set"
lab_down encrypted

info "without a password: the marker must be on the wire (shows the check works)"
lab up 2
capture_marker plain
((FOUND > 0)) || die "marker not found in clear text without a password: the capture check is broken"
