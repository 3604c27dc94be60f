#!/usr/bin/env bash
# Throwaway PostgreSQL for tests.
#
#   eval "$(scripts/postgres.sh start)"   # initdb in a temp dir, start, create a db;
#                                         # prints export PALISADE_TEST_POSTGRES_DSN=... and
#                                         # export PALISADE_TEST_POSTGRES_DIR=...
#   scripts/postgres.sh stop "$PALISADE_TEST_POSTGRES_DIR"
#
# The server listens on 127.0.0.1 only, on a free port, with its unix socket
# inside the temp dir; it trusts local connections (test use only). As root,
# it runs as the postgres user (PostgreSQL refuses to run as root).
# Exit status 2: PostgreSQL is not installed.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  return 1
}

# as_pg runs a command as the user who owns the cluster: the postgres user
# when we are root, ourselves otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$PGUSER_OS" -- "$@"
    else
      su "$PGUSER_OS" -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

start() {
  local bindir
  if ! bindir=$(find_bindir); then
    echo "postgres.sh: PostgreSQL is not installed; install it with:" >&2
    echo "  sudo apt-get install -y postgresql" >&2
    exit 2
  fi
  PGUSER_OS=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    PGUSER_OS=postgres
    id "$PGUSER_OS" >/dev/null 2>&1 || die "running as root and there is no postgres user to run the server as"
  fi
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/palisade-pg.XXXXXX")
  chmod 0700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown "$PGUSER_OS": "$dir"; fi
  as_pg "$bindir/initdb" -D "$dir/data" -U palisade -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  port=$(free_port)
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >"$dir/pg_ctl.log" 2>&1 \
    || { cat "$dir/server.log" >&2 || true; die "pg_ctl start failed"; }
  echo "$bindir" >"$dir/bindir"
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U palisade palisade_test \
    || { stop "$dir"; die "createdb failed"; }
  echo "export PALISADE_TEST_POSTGRES_DSN='postgres://palisade@127.0.0.1:$port/palisade_test?sslmode=disable'"
  echo "export PALISADE_TEST_POSTGRES_DIR='$dir'"
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: postgres.sh stop DIR"
  [ -f "$dir/bindir" ] && [ -d "$dir/data" ] || die "$dir is not a directory made by postgres.sh start"
  local bindir
  bindir=$(cat "$dir/bindir")
  PGUSER_OS=$(stat -c %U "$dir/data")
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf -- "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 64 ;;
esac
