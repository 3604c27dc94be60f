# shellcheck shell=bash
# Functions shared by the scripts that start test servers (postgres.sh,
# s3.sh). The caller defines die MESSAGE.

# free_port prints a TCP port free on 127.0.0.1 just now.
free_port() {
  python3 - <<'PY' 2>/dev/null && return
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
  # Without python3: try random high ports until one is free.
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}
