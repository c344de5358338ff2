#!/bin/bash
# tests/sim/test_meshsim_cli.sh: meshsim's command line (run by make check): one scenario
# prints one JSON object; a list plays each from the same converged mesh, one object a line,
# and its kill is the kill a run of that scenario alone plays (same seed, same mesh); a bad
# scenario is refused with exit code 2.
set -euo pipefail
sim=${MESHSIM:-tests/sim/meshsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--peers 30 --conn-limit 6 --steady-s 1 --partition-s 1 --json)

"$sim" "${args[@]}" --scenario kill > "$tmp/alone" 2>/dev/null
"$sim" "${args[@]}" --scenario kill,join,partition > "$tmp/list" 2>/dev/null
python3 - "$tmp/alone" "$tmp/list" <<'PY'
import json, sys
alone = [json.loads(l) for l in open(sys.argv[1])]
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(alone) == 1, alone
assert [r["scenario"] for r in rows] == ["kill", "join", "partition"], rows
for r in rows:
    assert r["converged_ms"] is not None, r
    assert r["bootstrap_converged_ms"] == rows[0]["bootstrap_converged_ms"], r
for k in ("converged_ms", "event_bytes_per_peer", "event_messages", "bootstrap_converged_ms"):
    assert rows[0][k] == alone[0][k], (k, rows[0][k], alone[0][k])
assert rows[1]["peers"] == 31 and rows[0]["peers"] == 30 and rows[2]["peers"] == 30, rows
assert "split_converged_ms" in rows[2], rows[2]
print("meshsim list: kill, join, partition from one mesh; kill as alone")
PY
rc=0
"$sim" --peers 10 --scenario kill,bogus > /dev/null 2> "$tmp/err" || rc=$?
[ "$rc" = 2 ] || { echo "bad scenario: exit $rc, want 2"; exit 1; }
grep -q "want join, kill or partition" "$tmp/err"
echo PASS
