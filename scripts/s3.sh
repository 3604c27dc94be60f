#!/usr/bin/env bash
# Throwaway S3-compatible server for tests (Versity S3 Gateway, posix backend).
#
#   eval "$(scripts/s3.sh start)"   # install the server if needed, start it on
#                                   # loopback, create a bucket; prints
#                                   # export PALISADE_TEST_S3_URL=... (a gocloud
#                                   # s3:// URL), AWS_ACCESS_KEY_ID,
#                                   # AWS_SECRET_ACCESS_KEY and PALISADE_TEST_S3_DIR
#   scripts/s3.sh stop "$PALISADE_TEST_S3_DIR"
#
# The server is installed, pinned, into .tools/ with `go install` through the
# Go module proxy (about a minute on a fresh machine). It listens on
# 127.0.0.1 only, on a free port, keeps its objects in a temp dir and
# accepts one random access key made up for this run: test use only. The
# exported AWS_* variables replace any real credentials in the shell that
# evaluates them, so start it in a subshell (as make test does).
# Exit status 2: the server is not installed and cannot be.
set -euo pipefail

VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_VERSION=v1.8.0
BUCKET=palisade-test
REGION=us-east-1

die() { echo "s3.sh: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
bin="$tools/versitygw"

# installed reports whether .tools/versitygw is the pinned version.
installed() {
  [ -x "$bin" ] || return 1
  command -v go >/dev/null 2>&1 || return 0 # cannot check; use it
  go version -m "$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+${VERSITYGW_MODULE}[[:space:]]+${VERSITYGW_VERSION}([[:space:]]|$)"
}

install_server() {
  installed && return 0
  local how="GOBIN=$tools go install $VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION"
  if ! command -v go >/dev/null 2>&1; then
    echo "s3.sh: the S3 test server is not installed and there is no go command to install it; install Go, then run:" >&2
    echo "  $how" >&2
    exit 2
  fi
  echo "s3.sh: installing versitygw $VERSITYGW_VERSION into $tools (needs the Go module proxy)" >&2
  mkdir -p "$tools"
  # GOFLAGS may hold module-mode flags meant for this repository.
  if ! (cd "$tools" && GOBIN="$tools" GOFLAGS=-buildvcs=false go install "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION" >&2); then
    echo "s3.sh: could not install the S3 test server; with access to the Go module proxy, run:" >&2
    echo "  $how" >&2
    exit 2
  fi
}

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# random prints n random alphanumeric characters.
random() {
  local s
  s=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1" || true)
  [ ${#s} = "$1" ] || die "no random bytes"
  echo "$s"
}

# s3_curl METHOD PATH: a request signed with the test credentials (curl
# reads them from stdin, so they never appear in a command line).
s3_curl() {
  printf 'user = "%s:%s"\n' "$access" "$secret" |
    curl -sS -o /dev/null -w '%{http_code}' -K - --max-time 10 \
      --aws-sigv4 "aws:amz:$REGION:s3" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      -X "$1" "http://127.0.0.1:$port$2"
}

# alive reports whether the server started in $1 is running (and its pid
# has not been reused by another program since).
alive() {
  local pid
  pid=$(cat "$1/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o command= 2>/dev/null | grep -q versitygw
}

# launch starts the server in $dir on $port, with extra posix backend
# options, and waits until it answers. It fails if the server exits first
# or does not answer within ten seconds.
launch() {
  local pid
  # Credentials through the environment, not argv (visible in ps).
  ROOT_ACCESS_KEY_ID="$access" ROOT_SECRET_ACCESS_KEY="$secret" \
    "$bin" --port "127.0.0.1:$port" --region "$REGION" --quiet --health /health \
    posix "$@" "$dir/data" </dev/null >"$dir/server.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 100); do
    if curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start() {
  install_server
  command -v curl >/dev/null 2>&1 || die "curl is needed to talk to the test server; install it"
  local tries meta=()
  dir=$(mktemp -d "${TMPDIR:-/tmp}/palisade-s3.XXXXXX")
  chmod 0700 "$dir"
  touch "$dir/.palisade-s3"
  mkdir "$dir/data"
  # Test-only credentials, fresh for each run.
  access="palisadetest$(random 8)"
  secret="test-only-$(random 32)"
  # The port is free when picked but may be taken before the server binds
  # it: try a few.
  for tries in 1 2 3 4 5; do
    port=$(free_port)
    launch ${meta[@]+"${meta[@]}"} && break
    stop_server "$dir"
    if [ ${#meta[@]} = 0 ] && grep -q "xattr" "$dir/server.log"; then
      # No extended attributes in this file system (tmpfs before Linux
      # 6.6): keep object metadata in a sidecar directory instead.
      mkdir "$dir/meta"
      meta=(--sidecar "$dir/meta")
    elif [ "$tries" = 5 ]; then
      cat "$dir/server.log" >&2 || true
      rm -rf -- "$dir"
      die "versitygw did not start"
    fi
  done
  local code
  code=$(s3_curl PUT "/$BUCKET") || true
  if [ "$code" != 200 ]; then
    cat "$dir/server.log" >&2 || true
    stop "$dir"
    die "create bucket $BUCKET: HTTP status $code"
  fi
  echo "export PALISADE_TEST_S3_URL='s3://$BUCKET?endpoint=http://127.0.0.1:$port&use_path_style=true&region=$REGION'"
  echo "export AWS_ACCESS_KEY_ID='$access'"
  echo "export AWS_SECRET_ACCESS_KEY='$secret'"
  echo "export PALISADE_TEST_S3_DIR='$dir'"
}

# stop_server ends the server started in $1 and waits for it.
stop_server() {
  local dir=$1 pid
  alive "$dir" || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    alive "$dir" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: s3.sh stop DIR"
  [ -f "$dir/.palisade-s3" ] || die "$dir is not a directory made by s3.sh start"
  stop_server "$dir"
  rm -rf -- "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 64 ;;
esac
