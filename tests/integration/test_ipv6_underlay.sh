#!/usr/bin/env bash
# test_ipv6_underlay: a mesh whose hosts reach each other over IPv6 (issue 18, the underlay).
#  1. `lab up 3 --ipv6` with a password: the underlay has no IPv4 address. Every container
#     pings every other one (IPv4 overlay addresses), discovery makes the full mesh, status
#     shows the peers as [2001:2:0:6d::<i>]:6783; a
#     capture of h1's underlay while c1 sends marker datagrams holds IPv6 sleeve datagrams,
#     no IPv4 or ARP frame and no marker in clear text; meshctl forget/connect take [IPv6];
#     with UDP blocked between h1 and h2, c1 reaches c2 relayed by h3.
#  2. Without a password and with the fast path off (test_ipv6_fastdp tests the fast path
#     over IPv6), the marker is seen in clear text in IPv6 sleeve datagrams (the capture check
#     can tell). Path MTU: h3's underlay link carries 1280 bytes (the IPv6 minimum); the connections to
#     h3 find 1280 - IPv6 40 - UDP 8 - sleeve 16 - record 24 - Ethernet 14 = 1178, h1 -> h2
#     keeps 1398 (1500 less the same, 20 bytes less than over IPv4), the bridges offer 1178;
#     a container given that MTU crosses to c3 with a 1178-byte DF ping and cannot send one
#     byte more.
#  3. `lab up 3 --dual`, then h3 made IPv4-only (IPv6 off on its underlay, its peer given as
#     198.18.0.1): h1-h2 over IPv6 and h3 over IPv4 still form one mesh; h3's address shows as
#     plain IPv4 on the dual-stack listener (no ::ffff:).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

# capture_marker NAME: records h1's underlay while c1 sends marker datagrams to c2 and c3; sets
# V4 and ARP (such frames captured), SLEEVE6 (IPv6 UDP 6783 datagrams) and FOUND (markers).
MARKER="MESHMARKER-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
capture_marker() {
	local pcap="$TEST_TMP/$1.pcap" fam tcpdump
	bg_start "$TEST_TMP/$1.tcpdump.log" lab exec h1 tcpdump -i underlay -n -U -w "$pcap"
	tcpdump=$BG_LAST
	wait_until 5 grep -q "listening on" "$TEST_TMP/$1.tcpdump.log" ||
		die "tcpdump did not start: $(cat "$TEST_TMP/$1.tcpdump.log")"
	# shellcheck disable=SC2016 # expanded by the inner bash
	lab cexec h1 bash -c '
		for ((i = 1; i <= 50; i++)); do
			printf "%s %d %s\n" "$1" "$i" "payload-in-the-clear" >/dev/udp/10.32.0.2/9999
			printf "%s %d %s\n" "$1" "$i" "payload-in-the-clear" >/dev/udp/10.32.0.3/9999
			sleep 0.01
		done' marker "$MARKER" || die "sending marker datagrams failed"
	lab cexec h1 ping -q -c3 -W2 10.32.0.3 >/dev/null || die "c1 -> c3 ping failed during the capture"
	sleep 1
	bg_stop "$tcpdump"
	[[ -s $pcap ]] || die "$1: empty capture"
	fam=$(python3 "$PCAPTOOL" families "$pcap")
	V4=$(awk '$1 == "ipv4" {print $2}' <<<"$fam")
	ARP=$(awk '$1 == "arp" {print $2}' <<<"$fam")
	SLEEVE6=$(python3 "$PCAPTOOL" udp6 "$pcap" --dport 6783)
	FOUND=$(python3 "$PCAPTOOL" count "$pcap" "$MARKER")
	info "$1: capture on h1's underlay: $(tr '\n' ' ' <<<"$fam"); $SLEEVE6 IPv6 sleeve datagrams; marker seen $FOUND times"
	((SLEEVE6 >= 10)) || die "$1: only $SLEEVE6 IPv6 sleeve datagrams captured for 100 sent: the capture missed the traffic"
	((V4 == 0 && ARP == 0)) || die "$1: IPv4 ($V4) or ARP ($ARP) frames on an IPv6-only underlay"
}

# --- 1. IPv6-only underlay with a password ---------------------------------------------------
make_password_file "$TEST_TMP/password"
t0=$(now_ms)
lab up 3 --ipv6 --password-file "$TEST_TMP/password"
for i in 1 2 3; do
	[[ -z $(lab exec "h$i" ip -4 -o addr show dev underlay) ]] ||
		die "h$i has an IPv4 address on its underlay: $(lab exec "h$i" ip -4 -o addr show dev underlay)"
done
wait_full_mesh 3 "$t0"
info "IPv6-only underlay: full mesh of 3, every container pings every other one"

addr_of() { # addr_of h<i> NICK: the address of host i's established connection to NICK
	jget "$1" "[.connections[] | select(.nickname == \"$2\" and .state == \"established\") | .address][0]"
}
for i in 1 2 3; do
	for j in 1 2 3; do
		((i != j)) || continue
		a=$(addr_of "h$i" "h$j")
		[[ $a == "[2001:2:0:6d::$j]:6783" ]] ||
			die "h$i shows its connection to h$j at '$a', not [2001:2:0:6d::$j]:port"
	done
done
[[ $(jget h1 '[.connections[] | select(.nickname == "h2")][0].encryption') == secretbox ]] ||
	die "h1 -> h2 is not encrypted on the sleeve: $(jget h1 '[.connections[] | select(.nickname == "h2")][0] | tostring')"
lab exec h1 meshctl status peers | grep -qF "[2001:2:0:6d::2]:6783" ||
	die "meshctl status peers does not show [2001:2:0:6d::2]:6783: $(lab exec h1 meshctl status peers)"
info "status shows [2001:2:0:6d::<i>]:6783"

capture_marker encrypted
((FOUND == 0)) || die "marker found $FOUND times on the underlay with a password set"

out=$(lab exec h2 meshctl forget "[2001:2:0:6d::1]") || die "meshctl forget [2001:2:0:6d::1] failed: $out"
[[ $out == *"forgot [2001:2:0:6d::1]:6783"* ]] || die "meshctl forget said: $out"
out=$(lab exec h2 meshctl connect "[2001:2:0:6d::1]:6783") || die "meshctl connect [..]:6783 failed: $out"
[[ $out == *"[2001:2:0:6d::1]:6783"* ]] || die "meshctl connect said: $out"
if out=$(lab exec h2 meshctl connect "[2001:2:0:6d::1" 2>&1); then
	die "meshctl connect accepted '[2001:2:0:6d::1': $out"
fi
[[ $out == *"closing ']'"* ]] || die "a bad IPv6 address is refused without saying why: $out"
info "meshctl forget/connect take [IPv6][:port] and refuse a broken one with its reason"

# the sleeve between h1 and h2 blocked (UDP over IPv6): routes go around it, through h3
lab block h1 h2 udp 6783
wait_until 15 json_true h1 '[.connections[] | select(.nickname == "h2") | .usable] == [false]' ||
	die "h1's sleeve to h2 still usable 15 s after blocking UDP 6783: $(status_brief h1)"
wait_ping h1 10.32.0.2 15
lab unblock h1 h2 udp 6783
info "UDP 6783 between h1 and h2 blocked: c1 still reaches c2, relayed by h3 over IPv6"
lab_down ipv6-only

# --- 2. path MTU over a 1280-byte IPv6 link ------------------------------------------------
# the sleeve's path MTU and datagrams: without the fast path, which would carry the frames
lab up 3 --ipv6 -- --fastdp off
wait_established h1 h2
[[ $(jget h1 '[.connections[] | select(.nickname == "h2") | .overlay][0]') == sleeve ]] ||
	die "h1's connection to h2 is not on the sleeve with --fastdp off"
capture_marker plain
((FOUND > 0)) || die "marker not found in clear text without a password: the capture check is broken"
ip -n "$LAB_NAME-u" link set h3 mtu 1280
ip -n "$LAB_NAME-h3" link set underlay mtu 1280
conn_mtu() { # conn_mtu h<i> NICK
	jget "$1" ".connections[] | select(.nickname == \"$2\" and .state == \"established\") | .mtu"
}
settled() {
	[[ $(conn_mtu h1 h3) == 1178 && $(conn_mtu h3 h1) == 1178 && $(conn_mtu h2 h3) == 1178 &&
		$(jget h1 .mtu) == 1178 && $(jget h3 .mtu) == 1178 ]]
}
# connections made before the MTU dropped searched already: reconnect h3 to search again
lab kill h3
lab start h3
info "waiting for the path MTU to h3 to be found"
wait_until 30 settled || die "path MTU not found within 30 s: h1 sees $(status_json h1 | jq -c '[.mtu, [.connections[] | {nickname, mtu}]]'), h3 sees $(status_json h3 | jq -c '[.mtu, [.connections[] | {nickname, mtu}]]')"
[[ $(conn_mtu h1 h2) == 1398 ]] || die "h1 -> h2 should have MTU 1398 over a 1500-byte IPv6 underlay, has $(conn_mtu h1 h2)"
info "connections to h3: 1178, h1 -> h2: 1398, bridges offer 1178"
# a new container takes the bridge's MTU (mesh-cni asks meshd for it): give c1 that one
mtu=$(jget h1 .mtu)
lab exec h1 ip link set vethc1 mtu "$mtu"
lab cexec h1 ip link set eth0 mtu "$mtu"
wait_ping h1 10.32.0.3 10
lab cexec h1 ping -c2 -W2 -M "do" -s $((mtu - 28)) 10.32.0.3 >/dev/null ||
	die "a $mtu-byte DF ping from c1 to c3 did not cross"
if out=$(lab cexec h1 ping -c1 -W2 -M "do" -s $((mtu - 27)) 10.32.0.3 2>&1); then
	die "a $((mtu + 1))-byte DF ping from c1 went out with MTU $mtu: $out"
fi
info "a $mtu-byte DF ping crosses to c3, a $((mtu + 1))-byte one fails: $(tail -n1 <<<"$out")"
lab_down pmtu

# --- 3. dual-stack underlay, h3 on IPv4 only ---------------------------------------------
t0=$(now_ms)
lab up 3 --dual
lab kill h3
lab exec h3 sysctl -qw net.ipv6.conf.underlay.disable_ipv6=1
sed -i 's/^\[2001:2:0:6d::1\]$/198.18.0.1/' "$LAB_RUN/h3/args"
grep -qx 198.18.0.1 "$LAB_RUN/h3/args" || die "cannot give h3 its IPv4 peer: $(cat "$LAB_RUN/h3/args")"
lab start h3
wait_full_mesh 3 "$t0"
a12=$(addr_of h1 h2)
a13=$(addr_of h1 h3)
a23=$(addr_of h2 h3)
[[ $a12 == "[2001:2:0:6d::2]:"* ]] || die "h1 reaches h2 at '$a12', not over IPv6"
[[ $a13 == 198.18.0.3:* ]] || die "h1 reaches h3 at '$a13', not at plain IPv4 198.18.0.3"
[[ $a23 == 198.18.0.3:* ]] || die "h2 reaches h3 at '$a23', not at plain IPv4 198.18.0.3"
if status_json h1 | grep -q "::ffff:"; then
	die "h1's status shows an IPv4-mapped address: $(status_json h1 | grep -o '"[^"]*::ffff:[^"]*"' | head -3)"
fi
info "dual-stack: h1-h2 over IPv6 ($a12), h3 over IPv4 ($a13, $a23): one mesh"
