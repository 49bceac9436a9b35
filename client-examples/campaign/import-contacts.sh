#!/bin/sh
# Uploads a CSV to importContacts (GraphQL multipart request spec), then asks for the import
# until it is finished: the answer to the upload comes at once, with the import QUEUED, and
# the file is read in the background. Needs curl and jq.
# Usage: TOKEN=... CAMPAIGN=... ./import-contacts.sh contacts.csv [base URL, else $RINGCAST_URL]
set -eu
file=${1:?the CSV file}
base=${2:-${RINGCAST_URL:-http://127.0.0.1:5000}}
answer=$(curl -sS "$base/graphql" \
  -H "Authorization: Bearer ${TOKEN:?set TOKEN}" \
  -F operations="{\"query\":\"mutation(\$i: ImportContactsInput!) { importContacts(input: \$i) { import { id status } } }\",\"variables\":{\"i\":{\"campaignId\":\"${CAMPAIGN:?set CAMPAIGN}\",\"file\":null}}}" \
  -F map='{"0":["variables.i.file"]}' \
  -F 0=@"$file")
id=$(printf '%s' "$answer" | jq -er '.data.importContacts.import.id') || { echo "$answer" >&2; exit 1; }
query='query($id: ID!) { import(id: $id) { status failureReason rowsRead rowsImported duplicates invalid errors(first: 20) { edges { node { row value reason } } } } }'
while :; do
  current=$(curl -sS "$base/graphql" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "$(jq -nc --arg q "$query" --arg id "$id" '{query: $q, variables: {id: $id}}')")
  status=$(printf '%s' "$current" | jq -r '.data.import.status')
  case $status in
    QUEUED | RUNNING) printf '%s rows read\n' "$(printf '%s' "$current" | jq -r '.data.import.rowsRead')"; sleep 1 ;;
    COMPLETED) printf '%s\n' "$current" | jq -c '.data.import'; exit 0 ;;
    *) printf '%s\n' "$current" | jq -c '.' >&2; exit 1 ;;
  esac
done
