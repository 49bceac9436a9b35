#!/usr/bin/env bash
# Runs client-examples/ against a fresh server, as a user would: every GraphQL document (and the
# bad ones, which must fail with their codes), then the curl, Python and TypeScript campaigns.
# Usage: .ci/examples.sh path/to/ringcast   (after `cargo build`; CI passes target/debug/ringcast)
# Env: EXAMPLES_PORT (5101), EXAMPLES_DB (rc_examples), EXAMPLES_DATA_DIR, TEST_DATABASE_BASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?usage: .ci/examples.sh path/to/ringcast}")
port=${EXAMPLES_PORT:-5101}
db=${EXAMPLES_DB:-rc_examples}
pg=${TEST_DATABASE_BASE_URL:-postgres://postgres@127.0.0.1:5432}
work=$(realpath -m "${CARGO_TARGET_DIR:-target}/examples")
data=${EXAMPLES_DATA_DIR:-$work/data}

log() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

command -v jq >/dev/null || {
  log "installing jq"
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq jq
}

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is taken; set EXAMPLES_PORT" >&2
  exit 1
fi

log "fresh database $db, server on 127.0.0.1:$port"
psql "$pg/postgres" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -rf "$data"
mkdir -p "$work" "$data"
export RINGCAST_URL="http://127.0.0.1:$port" RINGCAST_EMAIL=admin@ringcast.local
RINGCAST_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
export RINGCAST_PASSWORD
# EMULATOR_TIME_SCALE=0.05 runs calls 20 times faster, so each campaign ends in seconds.
env -u REDIS_URL DATABASE_URL="$pg/$db" PORT="$port" BIND_HOST=127.0.0.1 DATA_DIR="$data" \
  ADMIN_EMAIL="$RINGCAST_EMAIL" ADMIN_PASSWORD="$RINGCAST_PASSWORD" EMULATOR_TIME_SCALE=0.05 \
  "$bin" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  curl -sf "$RINGCAST_URL/healthz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "the server exited:" >&2; tail -n 40 "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "$RINGCAST_URL/healthz" >/dev/null || { echo "no answer on $RINGCAST_URL/healthz" >&2; exit 1; }

log "Python and Node dependencies"
[ -x "$work/venv/bin/python" ] || python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -r client-examples/python/requirements.txt
(cd client-examples/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run -s check)

results=()
run() {
  local name=$1
  shift
  log "$name"
  if timeout 300 "$@"; then results+=("ok    $name"); else results+=("FAIL  $name"); fi
}
run "graphql documents" python3 client-examples/graphql/check.py
run "curl/run-campaign.sh" sh client-examples/curl/run-campaign.sh
run "curl/api-key.sh" sh client-examples/curl/api-key.sh
run "python/run_campaign.py" "$work/venv/bin/python" client-examples/python/run_campaign.py
run "typescript/run-campaign.ts" bash -c 'cd client-examples/typescript && npm start -s'

log "summary"
printf '%s\n' "${results[@]}"
if printf '%s\n' "${results[@]}" | grep -q '^FAIL'; then
  echo "server log: $work/server.log (last lines below)"
  tail -n 30 "$work/server.log"
  exit 1
fi
