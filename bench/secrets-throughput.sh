#!/usr/bin/env bash
# Secrets-scanner throughput and accuracy against gitleaks, side by side.
#
# usage: bench/secrets-throughput.sh [CORPUS_DIR] [MEGABYTES]
#
# 1. Generates (once, deterministically) a corpus of ML code, notebooks and
#    YAML with bench/make-secrets-corpus.py (default 200 MB).
# 2. Installs gitleaks v8.30.1 with `go install` into a temporary GOBIN and
#    builds palisade.
# 3. Times `gitleaks dir` and `palisade scan` (every scanner, files in
#    parallel) in one hyperfine run and prints MB/s and the ratio. Reports
#    go to files in the work directory: never to /dev/null, which gitleaks
#    replaces with a regular file when it writes its report there.
# 4. Measures recall and precision of both on the labelled corpus
#    (internal/scan/secrets/testdata/corpus, MANIFEST), by file and line.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-${TMPDIR:-/tmp}/palisade-secrets-corpus}
MB=${2:-200}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ ! -f "$CORPUS/.complete-$MB" ]; then
	rm -rf "$CORPUS"
	python3 "$ROOT/bench/make-secrets-corpus.py" "$CORPUS" "$MB"
	touch "$CORPUS/.complete-$MB"
fi
BYTES=$(find "$CORPUS" -type f ! -name '.complete-*' -printf '%s\n' | awk '{s+=$1} END {print s}')

echo "installing gitleaks v8.30.1 into $WORK/bin"
(cd "$WORK" && GOBIN="$WORK/bin" GOFLAGS= go install github.com/zricethezav/gitleaks/v8@v8.30.1)
GITLEAKS="$WORK/bin/gitleaks"
(cd "$ROOT" && go build -o "$WORK/bin/palisade" ./cmd/palisade)
PALISADE="$WORK/bin/palisade"

hyperfine --warmup "${WARMUP:-1}" --runs "${RUNS:-3}" --export-json "$WORK/hf.json" \
	-n gitleaks "$GITLEAKS dir --no-banner --log-level error --exit-code 0 --report-format json --report-path $WORK/gl-bench.json $CORPUS" \
	-n palisade "$PALISADE scan --no-progress --fail-on none --advisory-db $WORK/no-db --format json --output $WORK/pal-bench.json $CORPUS"

python3 - "$WORK/hf.json" "$BYTES" <<'PY'
import json, sys
res = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
mb = int(sys.argv[2]) / 1e6
for name, t in res.items():
    print(f"{name:9s} {mb:8.1f} MB in {t:7.2f} s: {mb / t:8.1f} MB/s")
print(f"ratio palisade/gitleaks: {res['gitleaks'] / res['palisade']:.1f}x")
PY

LAB="$ROOT/internal/scan/secrets/testdata"
"$GITLEAKS" dir --no-banner --log-level error --exit-code 0 --report-format json --report-path "$WORK/gl.json" "$LAB/corpus"
"$PALISADE" scan --no-progress --fail-on none --advisory-db "$WORK/no-db" --format json --output "$WORK/pal.json" "$LAB/corpus" 2> "$WORK/pal.err"
python3 - "$LAB" "$WORK/gl.json" "$WORK/pal.json" <<'PY'
import json, os, sys
lab, gl, pal = sys.argv[1:]
corpus = os.path.join(lab, "corpus")
want = set()
for line in open(os.path.join(lab, "MANIFEST")):
    if line.strip() and not line.startswith("#"):
        f, n, _ = line.split()
        want.add((f, int(n)))
def rel(p):
    return os.path.relpath(p if os.path.isabs(p) else os.path.join(os.getcwd(), p), corpus)
got = {"gitleaks": {(rel(x["File"]), x["StartLine"]) for x in json.load(open(gl))},
       "palisade": set()}
for f in json.load(open(pal))["findings"]:
    if f["rule_id"].startswith("SEC"):
        got["palisade"].add((rel(f["path"]), f["line"]))
print(f"labelled corpus: {len(want)} planted secrets (file, line)")
for name, g in got.items():
    tp = len(g & want)
    print(f"{name:9s} reported {len(g):4d}  recall {tp / len(want):.3f}  precision {tp / max(1, len(g)):.3f}")
PY
