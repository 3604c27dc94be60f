#!/usr/bin/env bash
# Manifest GET by tag at a constant request rate: latency percentiles of
# `palisade server` on SQLite and on PostgreSQL, and of the CNCF
# Distribution registry (filesystem storage, no authentication) as a
# reference, with the same load generator on loopback.
#
#   bench/registry-manifest-latency.sh
#   RATE=200 DURATION=10s bench/registry-manifest-latency.sh     (a quick check)
#
# Parameters (environment):
#   RATE      requests per second (default 500)
#   DURATION  counted time per server (default 30s), after WARMUP (default 5s)
#   WORKERS   concurrent requests at most (default 64)
#   SERVERS   what to measure, in order (default "sqlite postgres distribution";
#             sqlite and postgres are palisade with that metadata store)
#   WRK       1 to also run wrk (closed loop, 2 threads, 16 connections, 10 s)
#             against each server for its saturation rate (default 1 when wrk
#             is installed: apt-get install wrk)
#
# wrk cannot hold a constant rate (each connection waits for its answer),
# and wrk2, which can, is not packaged for Debian; so the constant-rate
# figures come from bench/cmd/loadgen, which sends request i at
# start + i/RATE whatever happened before and measures its latency from
# that due time (no coordinated omission), as wrk2 does. Its workers and
# the server share this machine's cores.
#
# Each server starts on an empty data directory; `oras push` stores a
# small model (four small safetensors-named files and a config.json) as
# bench/model:v1, then GET /v2/bench/model/manifests/v1 with the Accept
# header of OCI clients is sent to it, with `Authorization: Bearer` and the
# admin API token for palisade (the token comes from the environment and is
# never printed), so each request is authenticated and authorized; palisade's
# request rate limits are lifted (limits.*_rate 0) for the saturation run. PostgreSQL is a throwaway one from scripts/postgres.sh
# (fsync off), stopped on exit; without PostgreSQL installed it is skipped.
#
# Installs oras v1.3.6 and Distribution v3.1.2 with `go install` into
# ${XDG_CACHE_HOME:-~/.cache}/palisade-bench (once), builds palisade and
# bench/cmd/loadgen from the working tree. Needs: go, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ORAS_VERSION=v1.3.6
DISTRIBUTION_VERSION=v3.1.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/palisade-bench"
rate="${RATE:-500}"
duration="${DURATION:-30s}"
warmup="${WARMUP:-5s}"
workers="${WORKERS:-64}"
servers="${SERVERS:-sqlite postgres distribution}"
use_wrk="${WRK:-$(command -v wrk > /dev/null && echo 1 || echo 0)}"
accept="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

die() { echo "registry-manifest-latency: $*" >&2; exit 1; }
# shellcheck source=bench/registry-lib.sh
. "$(dirname "$0")/registry-lib.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/palisade-latency-bench.XXXXXX")"
pids=()
pgdir=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  if [ -n "$pgdir" ]; then scripts/postgres.sh stop "$pgdir" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

oras="$(tool oras oras.land/oras/cmd/oras "$ORAS_VERSION")"
case " $servers " in
  *" distribution "*) registry="$(tool registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION")" ;;
esac
go build -o "$work/palisade" ./cmd/palisade
go build -o "$work/loadgen" ./bench/cmd/loadgen
palisade="$work/palisade"


# The token travels in the environment (loadgen -token-env, wrk's Lua
# os.getenv) and in a 0600 credentials file for oras; it is never printed.
PALISADE_BENCH_TOKEN="bench-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
export PALISADE_BENCH_TOKEN


mkdir "$work/model"
for i in 1 2 3 4; do
  head -c 4096 /dev/urandom > "$work/model/model-0000$i-of-00004.safetensors"
done
echo '{"architectures": ["Bench"], "model_type": "bench"}' > "$work/model/config.json"

cat > "$work/manifest.lua" << EOF
wrk.headers["Accept"] = "$accept"
local token = os.getenv("PALISADE_BENCH_TOKEN")
if token ~= nil and os.getenv("WRK_AUTH") == "1" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
EOF

# start SERVER: starts it on an empty data directory; sets pid, port, auth.
start() {
  port="$(free_port)"
  rm -rf "$work/data"
  mkdir "$work/data"
  auth=0
  case "$1" in
    distribution)
      printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$work/data" "$port" > "$work/distribution.yml"
      "$registry" serve "$work/distribution.yml" > "$work/server.log" 2>&1 &
      pid=$!
      ;;
    sqlite | postgres)
      local db=()
      if [ "$1" = postgres ]; then db=(--database "$PALISADE_TEST_POSTGRES_DSN"); fi
      # Authentication and authorization stay on; the request rate limits
      # are lifted, or wrk's saturation run would measure 429s.
      PALISADE_LIMITS_TOKEN_RATE=0 PALISADE_LIMITS_SOURCE_RATE=0 \
        PALISADE_ADMIN_TOKEN="$PALISADE_BENCH_TOKEN" "$palisade" server --listen "127.0.0.1:$port" \
        --data "$work/data/palisade" "${db[@]}" > "$work/server.log" 2>&1 &
      pid=$!
      auth=1
      ;;
  esac
  pids=("$pid")
  wait_port "$port" "$pid" || { cat "$work/server.log" >&2; die "$1 did not start"; }
  if [ "$auth" = 1 ]; then
    PALISADE_SERVER="127.0.0.1:$port" PALISADE_TOKEN="$PALISADE_BENCH_TOKEN" "$palisade" project create bench > /dev/null
  fi
  oras_auth "$work/oras-auth.json" "$port" "$PALISADE_BENCH_TOKEN"
  (cd "$work/model" && "$oras" push --plain-http --registry-config "$work/oras-auth.json" \
    "127.0.0.1:$port/bench/model:v1" -- * > "$work/oras.out" 2>&1) || { cat "$work/oras.out" >&2; die "oras push to $1 failed"; }
}

stop() {
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  pids=()
}

cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "machine: $(nproc) cores, $cpu_model, $(go env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "target: $rate req/s for $duration after $warmup warm-up, $workers workers"
: > "$work/results.txt"
for server in $servers; do
  if [ "$server" = postgres ]; then
    rc=0
    pgenv="$(scripts/postgres.sh start)" || rc=$?
    if [ "$rc" = 2 ]; then
      echo "postgres: skipped, PostgreSQL is not installed (apt-get install postgresql)"
      continue
    fi
    [ "$rc" = 0 ] || die "scripts/postgres.sh start failed"
    eval "$pgenv"
    pgdir="$PALISADE_TEST_POSTGRES_DIR"
  fi
  start "$server"
  url="http://127.0.0.1:$port/v2/bench/model/manifests/v1"
  token_env=()
  if [ "$auth" = 1 ]; then token_env=(-token-env PALISADE_BENCH_TOKEN); fi
  echo
  echo "== $server"
  "$work/loadgen" -url "$url" -rate "$rate" -duration "$duration" -warmup "$warmup" -workers "$workers" \
    -header "Accept: $accept" "${token_env[@]}" | tee "$work/loadgen.out"
  echo "$server $(tail -n 1 "$work/loadgen.out")" >> "$work/results.txt"
  if [ "$use_wrk" = 1 ]; then
    WRK_AUTH="$auth" wrk -t 2 -c 16 -d 10s --latency -s "$work/manifest.lua" "$url" | tee "$work/wrk.out"
    awk -v s="$server" '/^Requests\/sec:/ { rps = $2 } /Non-2xx/ { bad = $NF }
      END { printf "%s wrk_rate=%s wrk_non2xx=%d\n", s, rps, bad }' "$work/wrk.out" >> "$work/results.txt"
  fi
  stop
  if [ "$server" = postgres ]; then
    scripts/postgres.sh stop "$pgdir"
    pgdir=""
  fi
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/results.txt" "$rate" "$duration" << 'PY'
import sys
rows, wrk = {}, {}
for line in open(sys.argv[1]):
    server, *kv = line.split()
    d = dict(x.split("=", 1) for x in kv)
    (wrk if "wrk_rate" in d else rows).setdefault(server, {}).update(d)
label = {"sqlite": "palisade, SQLite", "postgres": "palisade, PostgreSQL", "distribution": "distribution (reference, no auth)"}
print(f"\n### Manifest GET by tag, {sys.argv[2]} req/s constant rate for {sys.argv[3]} (bench/cmd/loadgen)\n")
print("| server | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | service p99 ms | errors | wrk saturation req/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s, d in rows.items():
    w = wrk.get(s, {})
    sat = w.get("wrk_rate", "-")
    if w.get("wrk_non2xx", "0") != "0":
        sat += f" ({w['wrk_non2xx']} non-2xx)"
    print(f"| {label.get(s, s)} | {float(d['rate']):.1f} | {float(d['p50_ms']):.2f} | {float(d['p90_ms']):.2f} | "
          f"{float(d['p99_ms']):.2f} | {float(d['p999_ms']):.2f} | {float(d['max_ms']):.2f} | {float(d['svc_p99_ms']):.2f} | "
          f"{d['errors']} | {sat} |")
print("\nLatency is measured from each request's due time; service time from when it was sent.")
PY
