# shellcheck shell=bash
# shellcheck disable=SC2154 # die, work and cache come from the sourcing script
# Shell functions the registry benchmarks share; sourced, not run. The
# sourcing script defines die(), work (its temp directory) and cache (the
# tool cache directory) first.

# bytes SIZE: SIZE with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB,
# TB), in bytes.
bytes() {
  local n unit
  [[ "$1" =~ ^([0-9]+)\ *([KMGT]?i?B?)$ ]] || die "bad size $1 (want e.g. 10GiB, 512MiB, 2000000000)"
  n="${BASH_REMATCH[1]}"
  unit="${BASH_REMATCH[2]}"
  case "$unit" in
    "" | B) echo "$n" ;;
    K | KiB) echo $((n << 10)) ;;
    M | MiB) echo $((n << 20)) ;;
    G | GiB) echo $((n << 30)) ;;
    T | TiB) echo $((n << 40)) ;;
    KB) echo $((n * 1000)) ;;
    MB) echo $((n * 1000000)) ;;
    GB) echo $((n * 1000000000)) ;;
    TB) echo $((n * 1000000000000)) ;;
    *) die "bad size unit $unit" ;;
  esac
}

# tool NAME PACKAGE VERSION: the path of NAME, installed once with go
# install into the cache.
tool() {
  local dir="$cache/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "installing $2@$3 into $dir" >&2
    mkdir -p "$dir"
    (cd "$work" && GOBIN="$dir" GOFLAGS="" go install "$2@$3") >&2
  fi
  echo "$dir/$1"
}

# free_port: a TCP port free on 127.0.0.1 just now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: waits until something listens on PORT, or PID exits.
wait_port() {
  for _ in $(seq 200); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then return; fi
    kill -0 "$2" 2> /dev/null || return 1
    sleep 0.05
  done
  return 1
}

# oras_auth FILE PORT TOKEN: writes an oras credentials file (mode 0600)
# for 127.0.0.1:PORT, so that the token never appears on a command line.
oras_auth() {
  (umask 077 && printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$2" \
    "$(printf 'bench:%s' "$3" | base64 -w0)" > "$1")
}

# check_layouts LAYOUTS: dies unless every word is a file count.
check_layouts() {
  local n
  for n in $1; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "LAYOUTS holds file counts; got $n"
  done
}

# random FILE BYTES: writes BYTES incompressible bytes to FILE (AES-CTR of
# zeros under a random key: fast, and nothing a server can deduplicate).
random() {
  openssl enc -aes-256-ctr -nosalt -K "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
    -iv "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" -in <(head -c "$2" /dev/zero) -out "$1"
}

# make_model DIR BYTES FILES: replaces DIR with a model of BYTES split over
# FILES safetensors shards, and a config.json.
make_model() {
  local dir="$1" size="$2" files="$3" each n i
  rm -rf "$dir"
  mkdir "$dir"
  each=$((size / files))
  for i in $(seq 1 "$files"); do
    n="$each"
    if [ "$i" = "$files" ]; then n=$((size - each * (files - 1))); fi
    random "$(printf '%s/model-%05d-of-%05d.safetensors' "$dir" "$i" "$files")" "$n"
  done
  echo '{"architectures": ["Bench"], "model_type": "bench"}' > "$dir/config.json"
}
