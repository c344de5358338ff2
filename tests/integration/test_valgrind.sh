#!/usr/bin/env bash
# test_valgrind: two encrypted lab hosts run meshd under valgrind (memcheck), over an IPv4
# underlay and then an IPv6 one; after a ping across and a clean SIGTERM, valgrind reports no
# memory error and no leak, and meshd exits 0.
# Skipped in the sanitizer build (valgrind and ASan cannot share a process).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
command -v valgrind >/dev/null || die "missing tool valgrind (run scripts/deps.sh)"
# (not `nm | grep -q`: with pipefail, grep's early exit fails the pipeline through SIGPIPE)
symbols=$(nm -D "$(meshd_bin)" 2>/dev/null || true)
if [[ $symbols == *__asan_init* ]]; then
	skip "meshd is built with AddressSanitizer: valgrind does not apply (the plain suite runs it)"
fi

wrapper="$TEST_TMP/meshd-valgrind"
cat >"$wrapper" <<WRAP
#!/bin/sh
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \\
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \\
	"$(meshd_bin)" "\$@"
WRAP
chmod +x "$wrapper"

lab_fresh
make_password_file "$TEST_TMP/password"
build_dir=$(dirname "$(meshd_bin)")
# both underlays: IPv4, and IPv6 (issue 18: dual-stack sockets, IPv6 peers and gossip)
for underlay in ipv4 ipv6; do
	lab_args=()
	[[ $underlay == ipv4 ]] || lab_args=(--ipv6)
	MESHD=$wrapper MESH_BUILD_DIR=$build_dir MESH_LAB_TIMEOUT=60 lab up 2 "${lab_args[@]}" \
		--password-file "$TEST_TMP/password"
	wait_ping h1 10.32.0.2 60
	lab exec h1 meshctl status >/dev/null || die "meshctl status failed under valgrind"

	for h in h2 h1; do
		lab kill "$h" || die "$h: meshd under valgrind did not stop within 5 s of SIGTERM"
		rc=$(cat "$LAB_RUN/$h/meshd.exit")
		if [[ $rc != 0 ]]; then
			lab logs "$h" | grep -E '^==[0-9]+==' | head -60 >&2
			die "$h: meshd under valgrind exited with $rc (99: valgrind found errors or leaks)"
		fi
		if grep -qE '^==[0-9]+==' < <(lab logs "$h"); then
			lab logs "$h" | grep -E '^==[0-9]+==' | head -60 >&2
			die "$h: valgrind reported something"
		fi
		info "$underlay: $h: valgrind clean, meshd exit status 0"
	done
	lab_down "$underlay"
done
