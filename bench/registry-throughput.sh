#!/usr/bin/env bash
# Registry push and pull throughput: `palisade server` (every blob encrypted
# at rest, SQLite metadata) against the CNCF Distribution registry
# (filesystem storage, no encryption), same client (oras), same machine,
# measured in the same invocation with the two servers alternating.
#
#   bench/registry-throughput.sh
#   SIZE=256MiB RUNS=1 bench/registry-throughput.sh      (a quick check)
#
# Parameters (environment):
#   SIZE     model size (default 2GiB; B, KiB, MiB, GiB, KB, MB, GB)
#   LAYOUTS  file counts to try, one layout each (default "4 1": SIZE in four
#            safetensors-named files, then in one file); each layout also
#            has a small config.json, as a Hugging Face checkpoint does
#   RUNS     runs per server and layout (default 3); figures are medians
#   PULL_DIR where oras pull writes (default: a directory in /dev/shm when
#            that tmpfs has SIZE + 1 GiB free, so that the pull measures the
#            servers rather than this disk; else under TMPDIR)
#   PALISADE_ARGS  extra `palisade server` flags, split on spaces, with @DATA@
#            standing for the run's data directory; for example
#            PALISADE_ARGS='--blobs file://@DATA@/blobs?create_dir=1&no_tmp_dir=1&metadata=skip'
#   PALISADE_BIN   a palisade binary to run instead of building the working tree
#            (to compare a change against the same Distribution runs)
#
# Every run starts each server on a fresh, empty data directory (deleted
# afterwards), so nothing is deduplicated, then times `oras push` of the
# model and `oras pull` of it into an empty directory (oras defaults:
# 5 concurrent uploads, 3 downloads), then stops the server. Odd runs start
# with Distribution, even runs with Palisade. `sync` runs before each timed
# command, so neither server pays for the other's writeback; time spent
# flushing inside a timed command (fsync) counts. Timing is done here
# (bash's EPOCHREALTIME) rather than with hyperfine, because each run needs
# a fresh server. MB/s is 10^6 bytes of model per second of wall time of the
# whole oras command; "server CPU" is the server process's user+system time
# during the command, from /proc.
#
# Installs oras v1.3.6 and Distribution v3.1.2 with `go install` into
# ${XDG_CACHE_HOME:-~/.cache}/palisade-bench (once) and builds palisade from
# the working tree. Needs: go, openssl (fast random data), python3, and
# 2 x SIZE of free space under TMPDIR (3 x SIZE when pulled files land there too).
set -euo pipefail
cd "$(dirname "$0")/.."

ORAS_VERSION=v1.3.6
DISTRIBUTION_VERSION=v3.1.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/palisade-bench"
layouts="${LAYOUTS:-4 1}"
runs="${RUNS:-3}"

die() { echo "registry-throughput: $*" >&2; exit 1; }
# shellcheck source=bench/registry-lib.sh
. "$(dirname "$0")/registry-lib.sh"

size="$(bytes "${SIZE:-2GiB}")"
check_layouts "$layouts"

# free DIR: bytes available in DIR's file system.
free() { echo $(($(df -Pk "$1" | awk 'NR == 2 { print $4 }') * 1024)); }

work="$(mktemp -d "${TMPDIR:-/tmp}/palisade-registry-bench.XXXXXX")"
pulldir=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$work"
  if [ -n "$pulldir" ]; then rm -rf "$pulldir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=$((2 * size + (1 << 30)))
if [ -n "${PULL_DIR:-}" ]; then
  pulldir="$(mktemp -d "$PULL_DIR/palisade-pulled.XXXXXX")"
elif [ -d /dev/shm ] && [ "$(free /dev/shm)" -gt $((size + (1 << 30))) ]; then
  pulldir="$(mktemp -d /dev/shm/palisade-pulled.XXXXXX)"
else
  pulldir="$(mktemp -d "$work/pulled.XXXXXX")"
fi
if [ "$(df -P "$pulldir" | awk 'NR == 2 { print $1 }')" = "$(df -P "$work" | awk 'NR == 2 { print $1 }')" ]; then
  need=$((need + size))
fi
if [ "$(free "$work")" -lt "$need" ]; then
  die "needs $((need >> 20)) MiB free under $(dirname "$work") (the model, the server's copy, the pulled copy unless PULL_DIR is elsewhere, 1 GiB spare); $(($(free "$work") >> 20)) MiB free. Set TMPDIR or a smaller SIZE."
fi

oras="$(tool oras oras.land/oras/cmd/oras "$ORAS_VERSION")"
registry="$(tool registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION")"
if [ -n "${PALISADE_BIN:-}" ]; then
  palisade="$(cd "$(dirname "$PALISADE_BIN")" && pwd)/$(basename "$PALISADE_BIN")"
  [ -x "$palisade" ] || die "PALISADE_BIN $PALISADE_BIN is not an executable"
else
  go build -o "$work/palisade" ./cmd/palisade
  palisade="$work/palisade"
fi

pal_port="$(free_port)"
dist_port="$(free_port)"

# The admin token reaches palisade and oras through the environment and a
# 0600 credentials file only; it is never printed.
token="bench-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
oras_auth "$work/oras-auth.json" "$pal_port" "$token"
cat > "$work/distribution.yml" << EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$dist_port
EOF

# start SERVER: starts it on an empty data directory; sets pid and ref.
start() {
  rm -rf "$work/data"
  mkdir "$work/data"
  case "$1" in
    distribution)
      "$registry" serve "$work/distribution.yml" > "$work/distribution.log" 2>&1 &
      pid=$!
      ref="127.0.0.1:$dist_port/bench/model:v1"
      wait_port "$dist_port" "$pid" || { cat "$work/distribution.log" >&2; die "distribution did not start"; }
      ;;
    palisade)
      PALISADE_ADMIN_TOKEN="$token" "$palisade" server --listen "127.0.0.1:$pal_port" \
        --data "$work/data/palisade" "${pal_args[@]}" > "$work/palisade.log" 2>&1 &
      pid=$!
      ref="127.0.0.1:$pal_port/bench/model:v1"
      wait_port "$pal_port" "$pid" || { cat "$work/palisade.log" >&2; die "palisade did not start"; }
      PALISADE_SERVER="127.0.0.1:$pal_port" PALISADE_TOKEN="$token" "$palisade" project create bench > /dev/null
      ;;
  esac
  pids+=("$pid")
}

stop() {
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  pids=()
}

# cpu: the server's user+system CPU time so far, in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
ticks="$(getconf CLK_TCK)"

# timed NAME COMMAND...: runs COMMAND after a sync and appends
# "layout server run NAME seconds server-cpu-seconds" to the results.
timed() {
  local name="$1" t0 t1 c0 c1
  shift
  sync
  c0="$(cpu)"
  t0="$EPOCHREALTIME"
  "$@" > "$work/oras.out" 2>&1 || { cat "$work/oras.out" >&2; die "failed: $*"; }
  t1="$EPOCHREALTIME"
  c1="$(cpu)"
  echo "$files $server $run $name $t0 $t1 $c0 $c1" | awk -v hz="$ticks" \
    '{ printf "%s %s %s %s %.3f %.2f\n", $1, $2, $3, $4, $6 - $5, ($8 - $7) / hz }' | tee -a "$work/results.txt"
}

# pal_args: PALISADE_ARGS with @DATA@ replaced by the data directory.
read -r -a pal_args <<< "${PALISADE_ARGS:-}"
pal_args=("${pal_args[@]//@DATA@/$work/data/palisade}")
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "machine: $(nproc) cores, $cpu_model, $(go env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${PALISADE_BIN:-}" ]; then echo "palisade binary: $palisade"; fi
if [ "${#pal_args[@]}" -gt 0 ]; then echo "palisade server flags: ${pal_args[*]}"; fi
echo "model: $size bytes; layouts (files): $layouts; $runs runs; oras $ORAS_VERSION, distribution $DISTRIBUTION_VERSION"
echo "data under $work ($(df -P "$work" | awk 'NR == 2 { print $1 }')); pulled files to $pulldir ($(df -P "$pulldir" | awk 'NR == 2 { print $1 }'))"
echo "columns: files server run phase seconds server-cpu-seconds"
for files in $layouts; do
  make_model "$work/model" "$size" "$files"
  for run in $(seq 1 "$runs"); do
    order="distribution palisade"
    if [ $((run % 2)) = 0 ]; then order="palisade distribution"; fi
    for server in $order; do
      start "$server"
      (cd "$work/model" && timed push "$oras" push --plain-http --registry-config "$work/oras-auth.json" \
 "$ref" -- *)
      timed pull "$oras" pull --plain-http --registry-config "$work/oras-auth.json" -o "$pulldir" "$ref"
      cmp -s "$work/model/config.json" "$pulldir/config.json" || die "$server: pulled config.json differs"
      stop
      rm -rf "$work/data" "${pulldir:?}"/*
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/results.txt" "$size" "$runs" << 'PY'
import statistics, sys
path, size, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    files, server, _, phase, secs, cpu = line.split()
    rows.setdefault((int(files), phase, server), []).append((float(secs), float(cpu)))
print(f"\n### Registry throughput, {size / 1e9:.2f} GB model, median of {runs} runs\n")
print("| files | phase | server | median MB/s | median s | runs (s) | server CPU s (median) | palisade / distribution |")
print("|---|---|---|---|---|---|---|---|")
layouts = []
for files, _, _ in rows:
    if files not in layouts:
        layouts.append(files)
for files in layouts:
    for phase in ("push", "pull"):
        med = {}
        for server in ("distribution", "palisade"):
            runs_ = rows.get((files, phase, server), [])
            if not runs_:
                continue
            secs = statistics.median(s for s, _ in runs_)
            med[server] = size / 1e6 / secs
            ratio = ""
            if server == "palisade" and "distribution" in med:
                ratio = f"{med['palisade'] / med['distribution']:.0%}"
            print(f"| {files} | {phase} | {server} | {med[server]:.0f} | {secs:.2f} | "
                  f"{', '.join(f'{s:.2f}' for s, _ in runs_)} | {statistics.median(c for _, c in runs_):.2f} | {ratio} |")
PY
