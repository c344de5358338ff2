#!/usr/bin/env bash
# test_mesh_name (issue 16, finding 9): the mesh name (--mesh-name) salts the key made from
# the password, and a host of another mesh is refused in the handshake with a clear line on
# both sides ('peer is in mesh "blue", this host in mesh "mesh"'), not as a wrong password;
# back in the same mesh, it connects.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
require_build
lab_fresh

make_password_file "$TEST_TMP/password"
lab up 2 --password-file "$TEST_TMP/password"
wait_established h1 h2 15

info "h2 restarts in mesh \"blue\" (same password)"
lab kill h2
echo --mesh-name >>"$LAB_RUN/h2/args"
echo blue >>"$LAB_RUN/h2/args"
lab start h2
sleep 4
n=$(jget h1 '[.connections[] | select(.state == "established")] | length')
((n == 0)) || die "h1 is connected to a host of another mesh: $(status_brief h1)"
grep -q 'refused: peer is in mesh "blue", this host in mesh "mesh" (--mesh-name differs)' \
	"$LAB_RUN/h1/meshd.log" || die "h1 did not log the mesh name mismatch: $(grep -i refused "$LAB_RUN/h1/meshd.log" | tail -3)"
grep -q 'refused: peer is in mesh "mesh", this host in mesh "blue" (--mesh-name differs)' \
	"$LAB_RUN/h2/meshd.log" || die "h2 did not log the mesh name mismatch: $(grep -i refused "$LAB_RUN/h2/meshd.log" | tail -3)"
if grep -q "wrong password" "$LAB_RUN/h2/meshd.log"; then
	die "h2 reported a mesh name mismatch as a wrong password"
fi

info "h2 back in mesh \"mesh\": connected again"
lab kill h2
head -n -2 "$LAB_RUN/h2/args" >"$TEST_TMP/args" && cat "$TEST_TMP/args" >"$LAB_RUN/h2/args"
lab start h2
wait_established h1 h2 15
