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
  rm -rf "$WORK"
}
