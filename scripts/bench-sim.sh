#!/usr/bin/env bash
# Simulator speed, side by side with the plain typed-heap reference loop
# (../shared/reference/baredes): 100 one-worker servers, exp service,
# Poisson at 0.9 load, 10 million requests. redirlab runs the same load
# with a queue-length policy (threshold 2, p2c target, exact view) through
# `redirlab sim --no-records`. Prints requests per wall-clock second and
# peak memory of each.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${BAREDES:-../shared/reference/baredes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/redirlab" ./cmd/redirlab
if [ -d "$ref" ]; then
	(cd "$ref" && go build -o "$tmp/baredes" .)
	echo "== baredes (reference floor)"
	/usr/bin/time -f "max_rss_mb %M" "$tmp/baredes" -servers 100 -load 0.9 -requests 10000000 2>&1 |
		awk '/max_rss_mb/ {printf "max_rss_mb %.0f\n", $2/1024; next} {print}'
else
	echo "reference $ref not found; skipping it" >&2
fi
echo "== redirlab sim --no-records sim/testdata/bench.yaml"
/usr/bin/time -f "max_rss_mb %M" "$tmp/redirlab" sim --quiet --no-records --out "$tmp/out" sim/testdata/bench.yaml 2>&1 |
	awk '/max_rss_mb/ {printf "max_rss_mb %.0f\n", $2/1024; next} {print}'
