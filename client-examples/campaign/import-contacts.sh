#!/bin/sh
# Uploads a CSV to importContacts (GraphQL multipart request spec).
# Usage: TOKEN=... CAMPAIGN=... ./import-contacts.sh contacts.csv [base URL, else $RINGCAST_URL]
set -eu
file=${1:?the CSV file}
base=${2:-${RINGCAST_URL:-http://127.0.0.1:5000}}
curl -sS "$base/graphql" \
  -H "Authorization: Bearer ${TOKEN:?set TOKEN}" \
  -F operations="{\"query\":\"mutation(\$i: ImportContactsInput!) { importContacts(input: \$i) { importReport { totalRows added duplicates invalidCount invalid { row value reason } } } }\",\"variables\":{\"i\":{\"campaignId\":\"${CAMPAIGN:?set CAMPAIGN}\",\"file\":null}}}" \
  -F map='{"0":["variables.i.file"]}' \
  -F 0=@"$file"
echo
