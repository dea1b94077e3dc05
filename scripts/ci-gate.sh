#!/usr/bin/env bash
# redirlab's own CI gate: every embedded scenario as a short seeded
# simulation, judged with `redirlab regress --exact` against the
# baselines committed under testdata/baselines/. A seeded simulation is
# deterministic, so any difference is a behaviour change: either a bug,
# or an intended change to commit with `make baselines`.
#
#   scripts/ci-gate.sh          check (exit 1 on any difference)
#   scripts/ci-gate.sh update   rewrite testdata/baselines/
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/redirlab" ./cmd/redirlab
# Short runs: the gate is about behaviour, not statistics.
short=(--set duration=4s --set warmup=1s --no-records --quiet)
status=0
for s in $("$tmp/redirlab" scenarios | awk '{print $1}'); do
	"$tmp/redirlab" sim "$s" "${short[@]}" --out "$tmp/$s" >/dev/null
	if [ "$mode" = update ]; then
		"$tmp/redirlab" regress --update --baseline "testdata/baselines/$s" "$tmp/$s"
	elif ! "$tmp/redirlab" regress --exact --baseline "testdata/baselines/$s" "$tmp/$s" >"$tmp/$s.txt" 2>&1; then
		echo "== $s: behaviour changed (scripts/ci-gate.sh update, or make baselines, if intended)"
		grep -v ' ok$' "$tmp/$s.txt" || true
		status=1
	else
		echo "== $s: $(tail -1 "$tmp/$s.txt")"
	fi
done
exit $status
