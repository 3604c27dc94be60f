#!/usr/bin/env bash
# Blob encryption throughput (internal/crypto: Tink AES-256-GCM-HKDF
# streaming AEAD, 1 MiB segments, one stream on one core) against the
# machine's AES-256-GCM limit, measured in the same invocation: `openssl
# speed -evp aes-256-gcm` on 1 MiB buffers (one core).
#
#   bench/crypto-throughput.sh            (BENCHTIME, default 20x, of 64 MiB)
#
# Prints MB/s (10^6 bytes per second) for BenchmarkEncrypt, BenchmarkDecrypt
# and openssl, and each Go figure as a share of openssl's. Extra arguments go
# to `go test` (for example -modfile=FILE). Needs: go, openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime="${BENCHTIME:-20x}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

go test "$@" -run '^$' -bench '^Benchmark(Encrypt|Decrypt)$' -benchtime "$benchtime" \
  -count 1 ./internal/crypto/ | tee "$work/go.txt"
openssl speed -evp aes-256-gcm -bytes 1048576 -seconds 3 2> /dev/null | tee "$work/openssl.txt"

# openssl's last line: "AES-256-GCM  <n>k", thousands of bytes per second.
ref="$(awk 'tolower($1) == "aes-256-gcm" { v = $NF } END { sub(/k$/, "", v); printf "%.1f", v / 1000 }' "$work/openssl.txt")"
echo
echo "AES-256-GCM throughput, MB/s, one core, $(nproc) cores on this machine:"
printf '%10s MB/s  100%%  openssl speed -evp aes-256-gcm -bytes 1048576\n' "$ref"
awk -v ref="$ref" '/^Benchmark(Encrypt|Decrypt)/ {
  for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s") mbs = $i
  name = $1; sub(/-[0-9]+$/, "", name)
  printf "%10.1f MB/s  %3.0f%%  %s (64 MiB blob, internal/crypto)\n", mbs, 100 * mbs / ref, name
}' "$work/go.txt"
