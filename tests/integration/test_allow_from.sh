#!/usr/bin/env bash
# test_allow_from (issue 16, finding 7): `--allow-from` closes control connections from other
# addresses at accept, before a byte is read. Three hosts, no password, every meshd with
# `--allow-from 198.18.0.1,198.18.0.2/32`: h1 and h2 form their mesh and their containers ping;
# h3, which names h1 as its peer, is refused by h1 at every try (h1's log says so, its counter
# control_refused_allow counts them, no handshake of h3's reaches h1's log), so h3 never joins
# and c3 reaches nobody. Status shows the networks. Then bad values are usage errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

lab up 3 -- --allow-from 198.18.0.1,198.18.0.2/32
t0=$(now_ms)
ping_pairs "$t0" $((t0 + 30000)) 1:2 2:1 || die "c1 and c2 do not ping each other"
info "h1 and h2 formed their mesh"
[[ $(jget h1 '.allow_from | join(" ")') == "198.18.0.1/32 198.18.0.2/32" ]] ||
	die "h1's status shows allow_from $(jget h1 '.allow_from | tojson')"
refused() { (($(jget h1 .counters.control_refused_allow) >= 2)); }
wait_until 20 refused || die "h1 did not refuse h3 twice in 20 s: $(jget h1 .counters | tr -d '\n')"
grep -q "refusing a connection from 198.18.0.3:[0-9]*: not in --allow-from" "$LAB_RUN/h1/meshd.log" ||
	die "h1's log does not say why it refused h3"
if grep -E "198\.18\.0\.3.*(handshake|authentication|HELLO|established)" "$LAB_RUN/h1/meshd.log"; then
	die "h1 went into a handshake with h3, which --allow-from refuses"
fi
info "h1 refused h3 $(jget h1 .counters.control_refused_allow) times, before any handshake"
[[ $(jget h3 '[.connections[] | select(.state == "established")] | length') == 0 ]] ||
	die "h3 has an established connection: $(status_brief h3)"
if lab cexec h3 ping -c2 -W1 "$(cip h1)" >/dev/null 2>&1; then
	die "c3 reaches c1 though h3 is outside --allow-from"
fi
info "h3 has no connection and c3 reaches nobody"

MESHD_BIN=$(meshd_bin)
for bad in "198.18.0.1/24" "10.0.0.0/33" "example.com" ""; do
	rc=0
	err=$("$MESHD_BIN" --allow-from "$bad" --help 2>&1 >/dev/null) || rc=$?
	((rc == 2)) && [[ $err == *--allow-from* ]] ||
		die "--allow-from '$bad': exit $rc, '$err' (want exit 2 naming the flag)"
done
info "bad --allow-from values are usage errors naming the flag"
