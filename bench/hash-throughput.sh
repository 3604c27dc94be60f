#!/usr/bin/env bash
# Model hashing throughput (palisade digest) against the machine's SHA-256
# limit, measured in the same run: one `openssl dgst -sha256` per core in
# parallel over the same bytes, and `sha256sum` on one core.
#
#   bench/hash-throughput.sh [FILES [MIB_EACH]]   (default 4 files of 1024 MiB)
#
# The model is laid out like a sharded Hugging Face checkpoint: FILES
# safetensors-named files of random bytes plus a small config.json.
# Needs: go, openssl, coreutils, hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-4}"
mib="${2:-1024}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/palisade" ./cmd/palisade
mkdir "$work/model"
for i in $(seq 1 "$files"); do
  head -c "$((mib << 20))" /dev/urandom > "$work/model/model-0000$i-of-0000$files.safetensors"
done
echo '{"architectures": ["Bench"]}' > "$work/model/config.json"
cat "$work/model"/* > /dev/null   # warm the page cache
total=$((files * mib))
cores="$(nproc)"
echo "model: $files files x $mib MiB = $total MiB; $cores cores"
hyperfine -N --warmup 1 --runs 5 --export-json "$work/h.json" \
  "bash -c 'ls $work/model/*.safetensors | xargs -P $cores -n 1 openssl dgst -sha256 > /dev/null'" \
  "sha256sum $work/model/model-00001-of-0000$files.safetensors" \
  "$work/palisade digest $work/model" \
  "$work/palisade digest --shards 256MiB $work/model" \
  "$work/palisade digest --hash blake3 $work/model"
python3 - "$work/h.json" "$total" "$mib" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
total, one = int(sys.argv[2]), int(sys.argv[3])
sizes = [total, one, total, total, total]
for r, mb in zip(res, sizes):
    print(f"{mb / r['median']:8.0f} MiB/s  (median {r['median']:.3f} s over {mb} MiB)  {r['command']}")
PY
echo "peak memory of palisade digest:"
/usr/bin/time -v "$work/palisade" digest "$work/model" 2>&1 >/dev/null | grep "Maximum resident"
