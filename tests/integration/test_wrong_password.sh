#!/usr/bin/env bash
# test_wrong_password: a peer with a different password never gets a connection; both sides
# log "authentication failed", neither daemon dies, and h1 keeps serving a peer (h3) that has
# the right password.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

make_password_file "$TEST_TMP/password-a"
make_password_file "$TEST_TMP/password-b"
lab up 3 --password-file "$TEST_TMP/password-a"

info "restarting h2 with a different password"
lab kill h2
# The lab gives each host its own copy of the password file, named in its saved args.
install -m 0600 "$TEST_TMP/password-b" "$LAB_RUN/h2/password"
lab start h2
sleep 5

# Connections of host $1 that are established with h2 (by nickname or underlay address).
h2_established() {
	jget "$1" '[.connections[] | select(.state == "established")
		| select(.nickname == "h2" or ((.address // "") | startswith("198.18.0.2:")))] | length'
}

info "no established connection between h2 and anyone"
n=$(jget h2 '[.connections[] | select(.state == "established")] | length')
((n == 0)) || die "h2 (wrong password) has $n established connections: $(status_json h2)"
for h in h1 h3; do
	n=$(h2_established "$h")
	((n == 0)) || die "$h has an established connection with h2: $(status_json "$h")"
done

info "both sides logged the authentication failure"
for h in h1 h2; do
	grep -q "authentication failed" < <(lab logs "$h") ||
		die "$h's log has no 'authentication failed' line"
done
lab logs h1 | grep "authentication failed" | grep -q "198.18.0.2" ||
	die "h1's 'authentication failed' line does not name h2's address 198.18.0.2"

info "both daemons are still running"
for h in h1 h2; do
	pid=$(meshd_pid "$h")
	pid_alive "$pid" || die "$h's meshd (pid $pid) died"
done

info "h1 keeps serving h3, which has the right password"
wait_established h1 h3 15
wait_established h3 h1 5
wait_ping h1 10.32.0.3 15
lab cexec h1 ping -c3 -W2 10.32.0.3 || die "c1 cannot ping c3"
