#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time each (default 60s).
# Crashers land in the package's testdata/fuzz/ and become regression tests.
set -euo pipefail
t=${1:-60s}
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "== $pkg $f ($t)"
		go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"
	done
done
