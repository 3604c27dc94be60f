#!/usr/bin/env bash
# Offline OSV database: import time and matching throughput.
#
#   bench/osv-import.sh [SRC]
#
# SRC is a directory of OSV JSON files (searched recursively) or an
# osv.dev <Ecosystem>/all.zip; default $PALISADE_OSV_DIR, else
# ../shared/data/osv (the workspace's PyPA snapshot, 2,661 advisories).
# Runs the internal/osv benchmarks with PALISADE_OSV_DIR=SRC:
#
#   BenchmarkImport          Import(SRC) into a fresh database (fsyncs included)
#   BenchmarkOpenFirstQuery  Open + the first query, which loads the ecosystem index
#   BenchmarkQuery           100 lockfiles x 50 PyPI pins (versions drawn from the
#                            advisories' own lists, so most pins are affected)
#
# BENCHTIME (default 5x) and COUNT (default 3) are passed to go test;
# figures are the medians of the COUNT runs. Needs: go.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-${PALISADE_OSV_DIR:-../shared/data/osv}}"
if [ ! -e "$src" ]; then
  echo "osv-import: no OSV source at $src (pass a directory or all.zip)" >&2
  exit 2
fi
src="$(cd "$(dirname "$src")" && pwd)/$(basename "$src")"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "source: $src; $(nproc) cores; $(go env GOVERSION)"
PALISADE_OSV_DIR="$src" go test -run '^$' -bench 'BenchmarkImport|BenchmarkOpenFirstQuery|BenchmarkQuery' \
  -benchtime "${BENCHTIME:-5x}" -count "${COUNT:-3}" ./internal/osv/ | tee "$out" | grep -E '^(Benchmark|ok|FAIL|---)' || true
awk '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  /^BenchmarkImport/         { imp[++ni] = $3 / 1e9; for (k = 4; k < NF; k++) if ($(k+1) == "docs") docs = $k }
  /^BenchmarkOpenFirstQuery/ { opn[++no] = $3 / 1e6 }
  /^BenchmarkQuery/          { q[++nq] = $3 / 1e6; for (k = 4; k < NF; k++) if ($(k+1) == "pins/s") pps[nq] = $k }
  END {
    if (ni) printf "\nimport: %.2f s for %d advisories (median of %d)\n", median(imp, ni), docs, ni
    if (no) printf "open + first query (index load): %.1f ms\n", median(opn, no)
    if (nq) printf "query: %.1f ms for 100 lockfiles x 50 pins = %.0f pins/s (median of %d)\n", median(q, nq), median(pps, nq), nq
  }' "$out"
