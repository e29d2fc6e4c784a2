# Shared by scripts/test.sh and scripts/demo.sh (sourced, after `eval "$(bash scripts/setup.sh)"`).

# Azurite's published development key (not a secret).
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# start_azurite DIR: starts Azurite in memory on a free loopback port, logging to DIR;
# sets AZURITE_PID and AZURITE_ENDPOINT. The caller kills AZURITE_PID on exit.
start_azurite() {
  local dir=$1 port
  port=$("$H5BLOB_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$H5BLOB_AZURITE" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --skipApiVersionCheck \
    --loose --disableTelemetry >"$dir/azurite.log" 2>&1 &
  AZURITE_PID=$!
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  AZURITE_ENDPOINT="http://127.0.0.1:$port/devstoreaccount1"
}

# start_session: makes WORK (a temporary directory), starts Azurite there, and removes
# both when the calling script exits.
start_session() {
  WORK=$(mktemp -d)
  AZURITE_PID=""
  trap stop_session EXIT
  start_azurite "$WORK"
}

stop_session() {
  if [ -n "${AZURITE_PID:-}" ]; then kill "$AZURITE_PID" 2>/dev/null || true; fi
  stop_hsds
  rm -rf "$WORK"
}

# start_hsds DIR: starts a real HSDS (PyPI hsds) on a Unix socket with POSIX storage under
# DIR (users admin/admin, /home/admin created); sets HSDS_PGID and HSDS_ENDPOINT
# (http+unix://...). Socket paths must stay under ~63 characters, so it lives in /tmp.
start_hsds() {
  local dir=$1 sock bin
  sock=$(mktemp -d /tmp/h5bhs.XXXXXX)
  mkdir -p "$dir/hsds/hsdstest"
  bin="$(dirname "$H5BLOB_PYTHON")/hsds"
  BUCKET_NAME=hsdstest setsid "$bin" --root_dir "$dir/hsds" --bucket_name hsdstest \
    --socket_dir "$sock" --count 1 --hs_username admin --hs_password admin \
    >"$dir/hsds.log" 2>&1 &
  HSDS_PGID=$!
  HSDS_SOCK_DIR=$sock
  for _ in $(seq 600); do
    curl -s --unix-socket "$sock/sn_1.sock" http://localhost/about 2>/dev/null | grep -q READY && break
    sleep 0.1
  done
  HSDS_ENDPOINT="http+unix://$(printf '%s' "$sock/sn_1.sock" | sed 's|/|%2F|g')"
  # /about says READY before the data node answers: retry until each folder exists
  # (201 created, 409 already there).
  local d code
  for d in /home /home/admin; do
    for _ in $(seq 300); do
      code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:admin --unix-socket "$sock/sn_1.sock" \
        -X PUT -H 'Content-Type: application/json' -d '{"folder": true}' "http://localhost/?domain=$d" || true)
      [ "$code" = 201 ] || [ "$code" = 409 ] && break
      sleep 0.1
    done
    [ "$code" = 201 ] || [ "$code" = 409 ] || { echo "HSDS did not create $d (HTTP $code)" >&2; return 1; }
  done
}

stop_hsds() {
  if [ -n "${HSDS_PGID:-}" ]; then kill -TERM -- "-$HSDS_PGID" 2>/dev/null || true; fi
  if [ -n "${HSDS_SOCK_DIR:-}" ]; then rm -rf "$HSDS_SOCK_DIR"; fi
}
