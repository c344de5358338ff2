#!/usr/bin/env bash
# scripts/demo.sh: a two-minute tour of mesh in the namespace lab: three hosts sharing a
# generated password, meshctl status, pings between containers and a 5 s iperf3 run.
# Owns: its password file and the iperf3 server it starts; the lab goes down on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LAB=$ROOT/scripts/lab

if [[ -t 1 ]]; then BOLD=$'\033[1m' RESET=$'\033[0m'; else BOLD="" RESET=""; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }

PASSWORD_FILE=""
IPERF_PID=""
cleanup() {
	set +e
	if [[ -n $IPERF_PID ]]; then
		kill "$IPERF_PID" 2>/dev/null
		wait "$IPERF_PID" 2>/dev/null
	fi
	"$LAB" down >/dev/null 2>&1
	[[ -n $PASSWORD_FILE ]] && rm -f "$PASSWORD_FILE"
}
trap cleanup EXIT

step "Installing dependencies (scripts/deps.sh)"
./scripts/deps.sh

step "Building mesh (if needed)"
if [[ -n ${MESH_BUILD_DIR:-} ]]; then
	BUILD_DIR=$MESH_BUILD_DIR
elif [[ -f $ROOT/config.status || -x $ROOT/meshd ]]; then
	BUILD_DIR=$ROOT # configured in-tree
else
	BUILD_DIR=$ROOT/build
fi
if [[ -x $BUILD_DIR/meshd && -x $BUILD_DIR/meshctl ]]; then
	echo "using the build in $BUILD_DIR"
else
	if [[ ! -f $BUILD_DIR/Makefile ]]; then
		autoreconf -fi
		mkdir -p "$BUILD_DIR"
		(cd "$BUILD_DIR" && "$ROOT/configure")
	fi
	make -C "$BUILD_DIR" -j2
fi
export MESH_BUILD_DIR=$BUILD_DIR

step "Bringing up a lab of 3 hosts with a generated password"
"$LAB" down >/dev/null 2>&1 || true
PASSWORD_FILE=$(mktemp /tmp/mesh-demo-password.XXXXXX)
chmod 0600 "$PASSWORD_FILE"
head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PASSWORD_FILE"
"$LAB" up 3 --password-file "$PASSWORD_FILE"

step "Waiting for the containers to reach each other"
deadline=$((SECONDS + 20))
for ip in 10.32.0.2 10.32.0.3; do
	until "$LAB" cexec h1 ping -c1 -W1 "$ip" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "c1 cannot reach $ip; h1's log:" >&2
			"$LAB" logs h1 | tail -n 30 >&2
			exit 1
		fi
		sleep 0.5
	done
done

step "meshctl status on h1"
"$LAB" exec h1 meshctl status

step "meshctl status connections on h1"
"$LAB" exec h1 meshctl status connections || true

step "ping c1 -> c2 (10.32.0.2)"
"$LAB" cexec h1 ping -c3 10.32.0.2

step "ping c1 -> c3 (10.32.0.3)"
"$LAB" cexec h1 ping -c3 10.32.0.3

step "iperf3 for 5 s, c2 -> c1, over the encrypted sleeve"
"$LAB" cexec h1 iperf3 -s -1 >/dev/null 2>&1 &
IPERF_PID=$!
for _ in $(seq 50); do
	out=$("$LAB" cexec h1 ss -Htln 'sport = :5201')
	[[ -n $out ]] && break
	sleep 0.1
done
"$LAB" cexec h2 iperf3 -c 10.32.0.1 -t 5
wait "$IPERF_PID" 2>/dev/null || true
IPERF_PID=""

step "Done: taking the lab down"
