#!/usr/bin/env bash
# Peak resident memory of `palisade server` while a large model is pushed
# with oras, and while it is read back.
#
#   bench/registry-rss.sh
#   SIZE=1GiB bench/registry-rss.sh            (a quick check)
#
# Parameters (environment):
#   SIZE     model size (default 10GiB; B, KiB, MiB, GiB, KB, MB, GB)
#   LAYOUTS  file counts to try, one layout each (default "4 1": SIZE in four
#            safetensors-named files, which oras uploads concurrently, then
#            in one file); each layout also has a small config.json
#   RUNS     pushes per layout (default 1), each to a fresh server
#   PULL     1 (default) to also read every blob back, all at once, after
#            the push, and report that peak separately; 0 to skip
#   PALISADE_ARGS  extra `palisade server` flags, split on spaces, with @DATA@
#            standing for the run's data directory; for example
#            PALISADE_ARGS='--blobs file://@DATA@/blobs?create_dir=1&no_tmp_dir=1&metadata=skip'
#
# Each run starts the server (SQLite, local files, encryption on) on an empty
# data directory and reads its peak resident set size, VmHWM in
# /proc/PID/status, at three points: after start-up; after `oras push` of
# the model (the push's peak, start-up included); and, with PULL=1, after
# `oras blob fetch --output -` of every blob in parallel to /dev/null (the
# peak is reset between push and pull by writing 5 to /proc/PID/clear_refs,
# so this is the pull's own peak). The Go heap in use at the end of each phase
# comes from the server's /metrics. The model is generated afresh for each
# layout (AES-CTR keystream under a random key) and deleted before the next.
#
# Installs oras v1.3.6 with `go install` into
# ${XDG_CACHE_HOME:-~/.cache}/palisade-bench (once) and builds palisade from
# the working tree. Refuses to start unless TMPDIR has 2 x SIZE + 1 GiB free
# (the model and the server's encrypted copy). Needs: go, openssl, python3,
# curl.
set -euo pipefail
cd "$(dirname "$0")/.."

ORAS_VERSION=v1.3.6
cache="${XDG_CACHE_HOME:-$HOME/.cache}/palisade-bench"
layouts="${LAYOUTS:-4 1}"
runs="${RUNS:-1}"
pull="${PULL:-1}"

die() { echo "registry-rss: $*" >&2; exit 1; }
# shellcheck source=bench/registry-lib.sh
. "$(dirname "$0")/registry-lib.sh"

size="$(bytes "${SIZE:-10GiB}")"
check_layouts "$layouts"

work="$(mktemp -d "${TMPDIR:-/tmp}/palisade-rss-bench.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=$((2 * size + (1 << 30)))
avail=$(($(df -Pk "$work" | awk 'NR == 2 { print $4 }') * 1024))
if [ "$avail" -lt "$need" ]; then
  die "needs $((need >> 20)) MiB free under $(dirname "$work") (the model, the server's encrypted copy and 1 GiB spare); only $((avail >> 20)) MiB free. Set TMPDIR to a larger file system or a smaller SIZE."
fi

oras="$(tool oras oras.land/oras/cmd/oras "$ORAS_VERSION")"
go build -o "$work/palisade" ./cmd/palisade
palisade="$work/palisade"

port="$(free_port)"
ref="127.0.0.1:$port/bench/model:v1"
# The admin token reaches palisade and oras through the environment and a
# 0600 credentials file only; it is never printed.
token="bench-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
oras_auth "$work/oras-auth.json" "$port" "$token"
of=(--plain-http --registry-config "$work/oras-auth.json")

# hwm: the server's peak resident set size so far, in KiB.
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }
# heap: the Go heap in use, in bytes, from /metrics.
heap() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^go_memstats_heap_inuse_bytes / { printf "%d", $2 }'; }

# pal_args: PALISADE_ARGS with @DATA@ replaced by the data directory.
read -r -a pal_args <<< "${PALISADE_ARGS:-}"
pal_args=("${pal_args[@]//@DATA@/$work/data}")
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "machine: $(nproc) cores, $cpu_model, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $(go env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${#pal_args[@]}" -gt 0 ]; then echo "palisade server flags: ${pal_args[*]}"; fi
echo "model: $size bytes; layouts (files): $layouts; $runs runs; oras $ORAS_VERSION"
: > "$work/results.txt"
for files in $layouts; do
  make_model "$work/model" "$size" "$files"
  for run in $(seq 1 "$runs"); do
    rm -rf "$work/data"
    PALISADE_ADMIN_TOKEN="$token" "$palisade" server --listen "127.0.0.1:$port" \
      --data "$work/data" "${pal_args[@]}" > "$work/palisade.log" 2>&1 &
    pid=$!
    pids=("$pid")
    wait_port "$port" "$pid" || { cat "$work/palisade.log" >&2; die "palisade did not start"; }
    PALISADE_SERVER="127.0.0.1:$port" PALISADE_TOKEN="$token" "$palisade" project create bench > /dev/null
    idle="$(hwm)"

    t0="$EPOCHREALTIME"
    (cd "$work/model" && "$oras" push "${of[@]}" "$ref" -- * > "$work/oras.out" 2>&1) ||
      { cat "$work/oras.out" >&2; die "oras push failed"; }
    t1="$EPOCHREALTIME"
    push="$(hwm)"
    push_heap="$(heap)"
    line="$files $run $idle $push $push_heap $t0 $t1"

    if [ "$pull" = 1 ]; then
      "$oras" manifest fetch "${of[@]}" "$ref" > "$work/manifest.json"
      echo 5 > "/proc/$pid/clear_refs"
      t0="$EPOCHREALTIME"
      fetchers=()
      for d in $(python3 -c 'import json, sys; print(" ".join(l["digest"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/manifest.json"); do
        "$oras" blob fetch "${of[@]}" --output - "${ref%:v1}@$d" > /dev/null &
        fetchers+=($!)
      done
      for f in "${fetchers[@]}"; do wait "$f" || die "oras blob fetch failed"; done
      t1="$EPOCHREALTIME"
      line="$line $(hwm) $(heap) $t0 $t1"
    fi
    echo "$line" | tee -a "$work/results.txt"
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    pids=()
    rm -rf "$work/data"
  done
done
rm -rf "$work/model"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/results.txt" "$size" << 'PY'
import sys
size = int(sys.argv[2])
print(f"\n### palisade server peak RSS, {size / 2**30:.2f} GiB model ({size / 1e9:.2f} GB)\n")
print("| files | run | after start-up MiB | push: peak RSS MiB | push MB/s | Go heap after push MiB | pull: peak RSS MiB | pull MB/s | Go heap after pull MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    f = line.split()
    files, run, idle, push, heap = f[0], f[1], int(f[2]), int(f[3]), int(f[4])
    push_rate = size / 1e6 / (float(f[6]) - float(f[5]))
    pull = "| - | - | -"
    if len(f) > 7:
        pull = f"| {int(f[7]) / 1024:.0f} | {size / 1e6 / (float(f[10]) - float(f[9])):.0f} | {int(f[8]) / 2**20:.0f}"
    print(f"| {files} | {run} | {idle / 1024:.0f} | {push / 1024:.0f} | {push_rate:.0f} | {heap / 2**20:.0f} {pull} |")
PY
