#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME (default 30s) each.
# Crashers are written by `go test` to the package's testdata/fuzz/ directory;
# commit them as regression seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-30s}"
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($fuzztime)"
    # Minimising each new input is capped: the default (60s) spends whole
    # runs minimising kilobyte-sized seeds such as signature bundles.
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg"; then
      status=1
    fi
  done
done
exit "$status"
