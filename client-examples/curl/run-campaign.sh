#!/bin/sh
# Runs a small campaign with curl and jq: signs in, creates a campaign, uploads a CSV (GraphQL
# multipart request), starts it and polls its statistics until every contact is done.
# Env: RINGCAST_URL (http://127.0.0.1:5000), RINGCAST_EMAIL, RINGCAST_PASSWORD,
# DEADLINE_SECS (300). The user needs a number and a balance: see ../README.md.
# shellcheck disable=SC2016 # $names in single quotes are GraphQL variables
set -eu
url=${RINGCAST_URL:-http://127.0.0.1:5000}
email=${RINGCAST_EMAIL:-admin@ringcast.local}
password=${RINGCAST_PASSWORD:?set RINGCAST_PASSWORD}
deadline=$(($(date +%s) + ${DEADLINE_SECS:-300}))
token=

# gql QUERY VARIABLES [FILTER]: prints the answer's data through the jq FILTER.
gql() {
  body=$(jq -nc --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}') || return 1
  filter=${3:-.}
  set --
  [ -z "$token" ] || set -- -H "authorization: Bearer $token"
  answer=$(curl -sS "$url/graphql" -H 'content-type: application/json' "$@" -d "$body") || return 1
  data "$answer" "$filter"
}

# data ANSWER FILTER: prints FILTER of a GraphQL answer's data; prints the answer and fails when
# it holds errors.
data() {
  if [ -n "$1" ] && printf '%s' "$1" | jq -e '.errors == null and .data != null' >/dev/null; then
    printf '%s' "$1" | jq -rc ".data | $2"
  else
    printf '%s\n' "$1" >&2
    return 1
  fi
}

# Calls are only placed in the callee's calling hours, so dial a country where it is between
# 08:00 and 19:30 in every zone. Prints "prefix digits" to build numbers from.
open_country() {
  for country in "GB +4474001 5 Europe/London" "JP +81901234 4 Asia/Tokyo" \
    "US +14152 6 America/Los_Angeles America/New_York" "IN +91981234 4 Asia/Kolkata" \
    "NZ +64211 6 Pacific/Auckland"; do
    # shellcheck disable=SC2086 # split into its fields
    set -- $country
    prefix=$2 digits=$3 awake=yes
    shift 3
    for zone in "$@"; do
      TZ=$zone date +'%H %M' | awk '{ m = $1 * 60 + $2; exit !(m >= 480 && m <= 1170) }' || awake=
    done
    [ -n "$awake" ] && echo "$prefix $digits" && return
  done
  echo "no country is in calling hours now" >&2
  return 1
}

token=$(gql 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }' \
  "$(jq -nc --arg e "$email" --arg p "$password" '{input: {email: $e, password: $p}}')" \
  .login.accessToken)

did=$(gql '{ myDids(first: 50) { nodes { id status } } }' '{}' \
  'first(.myDids.nodes[] | select(.status == "ACTIVE") | .id)')
[ -n "$did" ] || { echo "$email has no active number: see README.md" >&2; exit 1; }

campaign=$(gql 'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }' \
  "$(jq -nc --arg did "$did" '{input: {
      name: "curl example", purpose: "REMINDER", callerIds: [$did],
      message: {text: "Hello {{name}}, this is a reminder of your appointment.",
                language: "en-US", voice: "Polly.Joanna"},
      menu: {prompt: "Press 1 to confirm.", options: [{digit: "1", action: "HANGUP"}]},
      consent: {basis: "EXISTING_CUSTOMER", source: "CRM export", collectedAt: "2026-01-01T00:00:00Z"}}}')" \
  .createCampaign.campaign.id)
echo "campaign $campaign"

# Numbers ending in 1 answer on the emulator; a random block keeps reruns clear of the caps on
# calls to one number.
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
country=$(open_country)
echo "$country" | awk -v block="$(awk 'BEGIN { srand(); print int(rand() * 990) }')" '{
  print "phone,name"
  for (i = 0; i < 3; i++) printf "%s%0" $2 "d,Contact %d\n", $1, (block + i) * 10 + 1, i + 1
}' >"$csv"

operations=$(jq -nc --arg id "$campaign" '{
  query: "mutation($input: ImportContactsInput!) { importContacts(input: $input) { import { id status } } }",
  variables: {input: {campaignId: $id, file: null}}}')
answer=$(curl -sS "$url/graphql" -H "authorization: Bearer $token" \
  --form-string operations="$operations" --form-string map='{"0": ["variables.input.file"]}' \
  -F "0=@$csv;type=text/csv;filename=contacts.csv")
import=$(data "$answer" .importContacts.import.id)
# The answer comes at once; the file is read in the background: ask until it is finished.
progress='query($id: ID!) { import(id: $id) { status failureReason rowsRead rowsImported duplicates invalid } }'
while :; do
  current=$(gql "$progress" "$(jq -nc --arg id "$import" '{id: $id}')" .import)
  echo "import $current"
  case $(printf '%s' "$current" | jq -r .status) in
    COMPLETED) break ;;
    FAILED | CANCELLED) exit 1 ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "import unfinished at the deadline" >&2; exit 1; }
  sleep 1
done

gql 'mutation($input: StartCampaignInput!) { startCampaign(input: $input) { campaign { status } } }' \
  "$(jq -nc --arg id "$campaign" '{input: {id: $id}}')" .startCampaign.campaign

stats='query($id: ID!) { campaign(id: $id) { status stats {
  contacts { total pending calling done failed skipped optedOut }
  attempts answered busy noAnswer failed machine cost averageDurationSecs } } }'
while :; do
  current=$(gql "$stats" "$(jq -nc --arg id "$campaign" '{id: $id}')" .campaign)
  printf '%s' "$current" | jq -c '{status, contacts: .stats.contacts}'
  printf '%s' "$current" | jq -e '.stats.contacts | .pending + .calling == 0' >/dev/null && break
  [ "$(date +%s)" -lt "$deadline" ] || { echo "contacts still waiting at the deadline" >&2; exit 1; }
  sleep 2
done
printf '%s' "$current" | jq .stats
