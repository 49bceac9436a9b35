#!/usr/bin/env bash
# Fuzzes the GraphQL API with schemathesis (GraphQL mode): every query and mutation of
# schema.graphql, as an anonymous caller, a plain user and the admin, with a bounded number of
# examples each. Passes when no response is a 5xx, a non-JSON body or a GraphQL error with code
# INTERNAL (other GraphQL errors inside a 200 are fine) and the server log shows no panic.
#
#   .ci/fuzz.sh path/to/ringcast
#
# Optional environment: FUZZ_MAX_EXAMPLES (per operation, default 50), FUZZ_SEED (default 1,
# so CI runs repeat), FUZZ_WORKERS (default 1), FUZZ_PORT (default: a free port), FUZZ_DB
# (default ringcast_ci_fuzz), FUZZ_DATA_DIR, FUZZ_ALLOW_INTERNAL=1 (fail only on HTTP 5xx and
# panics, not on GraphQL errors with code INTERNAL), TEST_DATABASE_BASE_URL (default
# postgres://postgres@127.0.0.1:5432).
# Output: target/fuzz-server.log, target/fuzz-report/<role>/ (a JUnit report per run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bin=${1:?usage: .ci/fuzz.sh path/to/ringcast}
[ -x "$bin" ] || { echo "fuzz: not an executable: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

max_examples=${FUZZ_MAX_EXAMPLES:-50}
seed=${FUZZ_SEED:-1}
db_base=${TEST_DATABASE_BASE_URL:-postgres://postgres@127.0.0.1:5432}
db_name=${FUZZ_DB:-ringcast_ci_fuzz}
data_dir=${FUZZ_DATA_DIR:-$root/target/fuzz-data}
venv=$root/target/fuzz-venv
server_log=$root/target/fuzz-server.log
report_root=$root/target/fuzz-report
admin_email=admin@ringcast.local
admin_password=fuzz-admin-$RANDOM$RANDOM-password

log() { printf '\n==> fuzz: %s\n' "$*"; }
started=$SECONDS

log "schemathesis venv ($venv)"
if ! cmp -s "$root/.ci/fuzz-requirements.txt" "$venv/requirements.txt" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/.ci/fuzz-requirements.txt"
  cp "$root/.ci/fuzz-requirements.txt" "$venv/requirements.txt"
fi
py=$venv/bin/python
"$venv/bin/schemathesis" --version

port=${FUZZ_PORT:-$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
base=http://127.0.0.1:$port

log "fresh database $db_name"
psql -q -v ON_ERROR_STOP=1 "$db_base/postgres" -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
psql -q -v ON_ERROR_STOP=1 "$db_base/postgres" -c "CREATE DATABASE \"$db_name\""
rm -rf "$data_dir" "$report_root"
mkdir -p "$data_dir" "$report_root"

server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

log "server on $base (log: $server_log)"
# Any request the server makes to a host other than this machine (Twilio's real API for an
# added account, a fuzzed apiBaseUrl, an audio URL) goes to a proxy that refuses at once,
# so nothing leaves the machine and nothing waits on a network time-out.
env DATABASE_URL="$db_base/$db_name" PORT="$port" BIND_HOST=127.0.0.1 DATA_DIR="$data_dir" \
  ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" ALLOW_SIGNUP=true \
  ACCESS_TOKEN_TTL_SECS=3600 EMULATOR_TIME_SCALE=0.05 RUST_LOG=info NO_COLOR=1 \
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
  http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
  NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1 \
  "$bin" serve >"$server_log" 2>&1 &
server_pid=$!

ready=
for _ in $(seq 1 120); do
  kill -0 "$server_pid" 2>/dev/null || break
  if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then ready=1; break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "fuzz: the server did not become ready; last log lines:" >&2
  tail -n 40 "$server_log" >&2
  exit 1
fi

# Signs in the admin, registers a plain user, and gives them something to work on (balance, a
# number, a campaign with contacts, a top-up), so the fuzzer meets real IDs: schemathesis
# reuses the IDs it sees in responses as arguments. Prints the two access tokens.
seed() {
  "$py" - "$base/graphql" "$admin_email" "$admin_password" <<'EOF'
import json, sys, urllib.request
url, admin_email, admin_password = sys.argv[1:4]

def gql(query, variables=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    reply = json.load(urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30))
    if reply.get("errors"):
        sys.exit(f"fuzz: seeding failed: {query.split('(')[0]}: {reply['errors']}")
    return reply["data"]

admin = gql("mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            {"i": {"email": admin_email, "password": admin_password}})["login"]["accessToken"]
reg = gql("mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
          {"i": {"email": "fuzz-user@example.com", "name": "Fuzz User", "password": "fuzz-user-password-1"}})
user, user_id = reg["register"]["accessToken"], reg["register"]["user"]["id"]
did = gql("{ dids(first: 1) { edges { node { id } } } }", token=admin)["dids"]["edges"][0]["node"]["id"]
gql("mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
    {"i": {"userId": user_id, "amount": 1000000, "reason": "fuzz seed"}}, admin)
gql("mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
    {"i": {"didId": did, "userId": user_id}}, admin)
campaign = gql(
    "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
    {"i": {"name": "Fuzz", "purpose": "REMINDER", "message": {"text": "Xin chao {{name}}"},
           "callerIds": [did],
           "consent": {"basis": "EXISTING_CUSTOMER", "source": "CRM", "collectedAt": "2026-01-01T00:00:00Z"}}},
    user)["createCampaign"]["campaign"]["id"]
gql("mutation($i: AddContactsInput!) { addContacts(input: $i) { duplicates } }",
    {"i": {"campaignId": campaign, "contacts": [
        {"phone": "+84901234501", "name": "An"}, {"phone": "+84901234512", "name": "Binh"}]}}, user)
gql("mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id } } }",
    {"i": {"method": "MOMO", "amount": 500000}}, user)
print(admin)
print(user)
EOF
}
{ read -r admin_token; read -r user_token; } < <(seed)
[ -n "${user_token:-}" ] || { echo "fuzz: seeding failed" >&2; exit 1; }

# schemathesis' own not_a_server_error counts every GraphQL error in a 200 as a server error, so
# the runs use this check instead. The schema comes from schema.graphql (a test keeps it equal
# to the server's) rather than introspection.
hooks=$report_root/hooks.py
cat >"$hooks" <<'EOF'
import json
import os

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# An Upload only travels in a multipart body; inline, any value must be refused cleanly.
schemathesis.graphql.scalar("Upload", st.sampled_from([nodes.Null, nodes.String("file")]))
# Money: whole đồng within ±(2^53-1), plus what must be refused cleanly (beyond it, fractions,
# strings).
schemathesis.graphql.scalar(
    "Vnd",
    st.one_of(
        st.integers(-(2**53) - 10, 2**53 + 10).map(nodes.Int),
        st.sampled_from([nodes.Float(1.5), nodes.String("1000")]),
    ),
)


@schemathesis.check
def no_server_error(ctx, response, case):
    """Fails on HTTP 5xx, a body that is not JSON, or a GraphQL error with code INTERNAL."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.content[:500]!r}")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"HTTP {response.status_code}, body not JSON: {response.content[:500]!r}")
    errors = body.get("errors") if isinstance(body, dict) else None
    internal = [
        e for e in errors or []
        if isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "INTERNAL"
    ]
    if internal and os.environ.get("FUZZ_ALLOW_INTERNAL") != "1":
        raise AssertionError(f"GraphQL error with code INTERNAL: {json.dumps(internal)[:500]}")
EOF

# One schemathesis run over every operation with only the check above.
failed_roles=()
summary=()
fuzz() { # role [header...]
  local role=$1; shift
  local dir=$report_root/$role t0=$SECONDS rc=0
  mkdir -p "$dir"
  log "schemathesis as $role (max $max_examples examples per operation, seed $seed)"
  SCHEMATHESIS_HOOKS=$hooks "$venv/bin/schemathesis" run "$root/schema.graphql" \
    --url "$base/graphql" \
    --checks no_server_error \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers "${FUZZ_WORKERS:-1}" \
    --request-timeout 30 \
    --generation-database none \
    --suppress-health-check all \
    --warnings off \
    --no-color \
    --report junit --report-dir "$dir" \
    "$@" || rc=$?
  summary+=("$(printf '%-6s exit %s in %ss' "$role" "$rc" "$((SECONDS - t0))")")
  [ "$rc" = 0 ] || failed_roles+=("$role")
}

cd "$report_root" # schemathesis and hypothesis write nothing into the work tree
fuzz anonymous
fuzz user -H "Authorization: Bearer $user_token"
fuzz admin -H "Authorization: Bearer $admin_token"
cd "$root"

alive=yes
kill -0 "$server_pid" 2>/dev/null || alive=no
stop_server
trap - EXIT INT TERM

plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$server_log"; }
panics=$(plain_log | grep -c 'panicked' || true)
internal=$(plain_log | grep -c 'internal error error.id' || true)
log "summary (seed $seed, ${max_examples} examples per operation, $((SECONDS - started))s in all)"
printf '  %s\n' "${summary[@]}"
echo "  server alive to the end: $alive; panics in the server log: $panics;" \
  "internal errors logged: $internal"
if [ "$panics" != 0 ]; then
  plain_log | grep -n -A5 'panicked' | head -n 60
fi
if [ "${#failed_roles[@]}" != 0 ] || [ "$panics" != 0 ] || [ "$alive" != yes ]; then
  echo "fuzz: FAILED (${failed_roles[*]:-server}); reports under $report_root, server log $server_log" >&2
  exit 1
fi
echo "fuzz: no 5xx responses, no panics"
