#!/usr/bin/env bash
# GraphiQL and the live dashboard in a real (headless) browser.
#
#   .ci/browser.sh <path to the ringcast binary>
#
# Installs Debian's chromium when missing and the test's npm packages (npm ci), creates a fresh
# database on the local PostgreSQL, starts the server on a free port with a fast emulator, runs
# client-examples/browser-test, and stops the server however it ends. Screenshots go to
# target/browser-screenshots/. Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin=${1:?usage: .ci/browser.sh <path to the ringcast binary>}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

log() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

log "chromium"
if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium
fi
/usr/bin/chromium --version 2>/dev/null || true
command -v node >/dev/null && command -v npm >/dev/null || {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm
}

log "npm ci (client-examples/browser-test)"
# playwright-core only drives the browser given to it; never let it fetch one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd client-examples/browser-test && npm ci --no-audit --no-fund --loglevel=error)

log "fresh database"
# BROWSER_DB, BROWSER_PORT and BROWSER_DATA_DIR pin what is otherwise fresh and free.
db=${BROWSER_DB:-ringcast_browser_$$}
psql_admin() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

if [ -n "${BROWSER_DATA_DIR:-}" ]; then
  data_dir=$BROWSER_DATA_DIR; rm -rf "$data_dir"; mkdir -p "$data_dir"
else
  data_dir=$(mktemp -d)
fi
server_log=$repo/target/browser-server.log
mkdir -p "$repo/target"
server_pid=

cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -f "$server_log" ]; then
    echo "--- last lines of the server log ($server_log) ---" >&2
    tail -n 60 "$server_log" >&2
  fi
  rm -rf "$data_dir"
  psql_admin -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

log "server"
port=${BROWSER_PORT:-$(free_port)}
admin_email=admin@ringcast.local
admin_password=browser-admin-$(date +%s)-$$
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db \
  PORT=$port BIND_HOST=127.0.0.1 DATA_DIR=$data_dir \
  ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=$admin_password CORS_ALLOWED_ORIGINS="*" \
  EMULATOR_TIME_SCALE=0.05 JOB_POLL_INTERVAL_MS=500 RUST_LOG=${RUST_LOG:-info} \
  "$bin" serve >"$server_log" 2>&1 &
server_pid=$!
url=http://127.0.0.1:$port
get() { node -e 'fetch(process.argv[1]).then(async r => { console.log(await r.text()); process.exit(r.ok ? 0 : 1) }, () => process.exit(1))' "$1"; }
for _ in $(seq 1 120); do
  get "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited during start" >&2; exit 1; }
  sleep 0.5
done
get "$url/readyz"

log "browser test"
rm -rf "$repo/target/browser-screenshots"
cd client-examples/browser-test
RINGCAST_URL=$url ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=$admin_password \
  SCREENSHOT_DIR=$repo/target/browser-screenshots \
  node --test --test-reporter=spec browser.test.mjs
log "browser test passed; screenshots in target/browser-screenshots/"
