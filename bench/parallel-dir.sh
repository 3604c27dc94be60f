#!/usr/bin/env bash
# Directory scanning across cores: eight opcode-dense pickles (lists of
# floats, ints and strings, about 25 MB each), scanned with one worker and
# with one per CPU, side by side with picklescan when it is on PATH.
#
#   bench/parallel-dir.sh
#
# Needs: go, python3, hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/palisade" ./cmd/palisade
mkdir "$work/models"
python3 - "$work/models" <<'PY'
import pickle, sys
data = {"step": [float(i) * 0.5 for i in range(2_000_000)], "ids": list(range(1_000_000)),
        "names": ["tok%d" % i for i in range(200_000)]}
for n in range(8):
    with open(f"{sys.argv[1]}/dense{n}.pkl", "wb") as f:
        pickle.dump(data, f, protocol=4)
PY
cmds=("$work/palisade scan --no-progress --workers 1 $work/models" "$work/palisade scan --no-progress $work/models")
if command -v picklescan >/dev/null; then
  cmds+=("picklescan -p $work/models")
fi
hyperfine -N -i --warmup 1 --runs 5 "${cmds[@]}"
