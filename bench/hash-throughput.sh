#!/usr/bin/env bash
# Model signing and hashing throughput (palisade sign, palisade digest)
# against the machine's SHA-256
# limit, measured in the same hyperfine run: one `openssl dgst -sha256` per
# core in parallel over the same bytes. Two scenarios:
#
#   1. a sharded Hugging Face checkpoint: FILES safetensors-named files of
#      random bytes plus a small config.json, signed with the defaults
#      (`palisade sign --key`: SHA-256, whole files) and hashed whole and
#      in 256 MiB shards, with SHA-256 and BLAKE3; also `sha256sum` (one
#      core) over one of the files;
#   2. ONE file holding the same bytes (the checkpoint's files
#      concatenated), signed in the default 1 GB shards and hashed in 256
#      MiB and 1 GB shards;
#   3. one core: one checkpoint file hashed by `sha256sum`, by one
#      `openssl dgst -sha256` and by `palisade digest` (one file in files
#      mode is one SHA-256 stream, so one core).
#
#   bench/hash-throughput.sh [FILES [MIB_EACH]]   (default 4 files of 1024 MiB)
#
# The openssl reference hashes the checkpoint's files, FILES processes at
# most one per core at a time (xargs -P), in both scenarios: the bytes are
# the same, and with FILES a multiple of the cores (the default on 1, 2 or 4
# cores) every core gets the same work. Files are read from page cache.
# RUNS (default 5) sets hyperfine's runs per command; the figures are
# medians. Needs: go, openssl, coreutils, python3, hyperfine
# (apt-get install hyperfine), GNU time (/usr/bin/time) for peak memory.
# Needs FILES * MIB_EACH * 2 MiB of space under TMPDIR, and as much free
# memory for the page cache.
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-4}"
mib="${2:-1024}"
runs="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/palisade" ./cmd/palisade
"$work/palisade" keys generate --out "$work/bench" --no-passphrase > /dev/null
sign="$work/palisade sign --key $work/bench.key --signature $work/bench.sig"
mkdir "$work/model" "$work/one"
for i in $(seq 1 "$files"); do
  head -c "$((mib << 20))" /dev/urandom > "$work/model/model-0000$i-of-0000$files.safetensors"
done
echo '{"architectures": ["Bench"]}' > "$work/model/config.json"
cat "$work/model"/*.safetensors > "$work/one/model.safetensors"
total=$((files * mib))
cores="$(nproc)"
openssl_ref="bash -c 'ls $work/model/*.safetensors | xargs -P $cores -n 1 openssl dgst -sha256 > /dev/null'"
echo "model: $files files x $mib MiB = $total MiB, and one file of $total MiB; $cores cores; $runs runs each"

# bench NAME MIB... -- COMMAND...: runs hyperfine over the commands (the
# first one being the openssl reference) and prints each command's median
# throughput over its MiB and its share of the reference's.
bench() {
  local name="$1"
  shift
  local sizes=()
  while [ "$1" != "--" ]; do
    sizes+=("$1")
    shift
  done
  shift
  cat "$work/model"/* "$work/one"/* > /dev/null # warm the page cache
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/$name.json" "$@" > /dev/null
  python3 - "$work/$name.json" "$name" "${sizes[@]}" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
sizes = [int(s) for s in sys.argv[3:]]
ref = sizes[0] / res[0]["median"]
print(f"\n{sys.argv[2]}: median MiB/s, % of the openssl reference, median time (min-max)")
for r, mib in zip(res, sizes):
    rate = mib / r["median"]
    print(f"{rate:8.0f} MiB/s {100 * rate / ref:4.0f}%  {r['median']:.3f} s ({r['min']:.3f}-{r['max']:.3f}) over {mib} MiB  {r['command']}")
PY
}

bench checkpoint "$total" "$mib" "$total" "$total" "$total" "$total" -- \
  "$openssl_ref" \
  "sha256sum $work/model/model-00001-of-0000$files.safetensors" \
  "$sign $work/model" \
  "$work/palisade digest $work/model" \
  "$work/palisade digest --shards 256MiB $work/model" \
  "$work/palisade digest --hash blake3 $work/model"

bench one-file "$total" "$total" "$total" "$total" -- \
  "$openssl_ref" \
  "$sign --shards 1GB $work/one/model.safetensors" \
  "$work/palisade digest --shards 256MiB $work/one/model.safetensors" \
  "$work/palisade digest --shards 1GB $work/one/model.safetensors"

one="$work/model/model-00001-of-0000$files.safetensors"
bench single-core "$mib" "$mib" "$mib" -- \
  "openssl dgst -sha256 $one" \
  "sha256sum $one" \
  "$work/palisade digest $one"

echo
echo "peak memory (maximum resident set size):"
for args in "$work/model" "--shards 1GB $work/one/model.safetensors"; do
  # shellcheck disable=SC2086 # sign and args hold several words
  kib="$(/usr/bin/time -f %M $sign $args 2>&1 >/dev/null | tail -n 1)"
  echo "$((kib / 1024)) MiB  palisade sign $args"
done
for args in "$work/model" "--shards 256MiB $work/model" "--hash blake3 $work/model" \
  "--shards 256MiB $work/one/model.safetensors" "--shards 1GB $work/one/model.safetensors"; do
  # shellcheck disable=SC2086 # args holds several words
  kib="$(/usr/bin/time -f %M "$work/palisade" digest $args 2>&1 >/dev/null | tail -n 1)"
  echo "$((kib / 1024)) MiB  palisade digest $args"
done
