#!/usr/bin/env bash
# Pickle scanning throughput and peak memory on a large protocol-4 pickle,
# side by side with the hardware limit (cat from page cache) and, when it
# is installed, picklescan.
#
#   bench/pickle-throughput.sh [SIZE_MIB [PAYLOAD_KIB]]   (default 1024 MiB of 64 MiB payloads)
#
# Needs: go, python3, hyperfine (apt-get install hyperfine), GNU time
# (apt-get install time). picklescan is used when `picklescan` is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1024}"
payload="${2:-65536}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/palisade" ./cmd/palisade
python3 bench/make-large-pickle.py "$work/large.pkl" "$size" "$payload"
cat "$work/large.pkl" > /dev/null   # warm the page cache

cmds=("cat $work/large.pkl" "$work/palisade scan --no-progress --workers 1 $work/large.pkl")
if command -v picklescan >/dev/null; then
  cmds+=("picklescan -p $work/large.pkl")
fi
# palisade and picklescan exit 0 here (the file is benign); -i tolerates either way.
hyperfine -N -i --warmup 1 --runs 5 "${cmds[@]}"

echo "peak memory (maximum resident set size):"
/usr/bin/time -v "$work/palisade" scan --no-progress --workers 1 "$work/large.pkl" 2>&1 >/dev/null | grep -E "Maximum resident"
if command -v picklescan >/dev/null; then
  /usr/bin/time -v picklescan -p "$work/large.pkl" 2>&1 >/dev/null | grep -E "Maximum resident"
fi
