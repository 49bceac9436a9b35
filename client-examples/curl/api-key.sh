#!/bin/sh
# An integration's API key with curl and jq: signs in once with a password, creates a key, then
# uses only the key (`Authorization: Bearer rk_...`), which does not expire every 15 minutes.
# Finally revokes it, after which the same request is UNAUTHENTICATED.
# Env: RINGCAST_URL (http://127.0.0.1:5000), RINGCAST_EMAIL, RINGCAST_PASSWORD.
# shellcheck disable=SC2016 # $names in single quotes are GraphQL variables
set -eu
url=${RINGCAST_URL:-http://127.0.0.1:5000}
email=${RINGCAST_EMAIL:-admin@ringcast.local}
password=${RINGCAST_PASSWORD:?set RINGCAST_PASSWORD}

# gql BEARER QUERY VARIABLES: prints the whole answer.
gql() {
  body=$(jq -nc --arg q "$2" --argjson v "$3" '{query: $q, variables: $v}')
  curl -sS "$url/graphql" -H 'content-type: application/json' -H "authorization: Bearer $1" -d "$body"
}

token=$(gql none 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }' \
  "$(jq -nc --arg e "$email" --arg p "$password" '{i: {email: $e, password: $p}}')" |
  jq -er .data.login.accessToken)

# Keys are made with a password sign-in only; the secret is shown in this answer and never again.
created=$(gql "$token" 'mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) { secret apiKey { id prefix scopes } } }' \
  '{"i": {"name": "curl example", "scopes": ["READ", "CAMPAIGNS"]}}')
key=$(printf '%s' "$created" | jq -er .data.createApiKey.secret)
id=$(printf '%s' "$created" | jq -er .data.createApiKey.apiKey.id)
echo "created $(printf '%s' "$created" | jq -c '.data.createApiKey.apiKey')"

# From here on, only the key.
gql "$key" '{ me { id email } }' '{}' | jq -ec '.data.me'
# BILLING is not among its scopes: FORBIDDEN, naming the scope.
gql "$key" 'mutation { createTopUp(input: {amount: 100000, method: BANK_TRANSFER}) { topUp { id } } }' '{}' |
  jq -ec '.errors[0] | select(.extensions.code == "FORBIDDEN") | .message'

gql "$token" '{ apiKeys(first: 5) { edges { node { name prefix scopes lastUsedAt revokedAt } } } }' '{}' |
  jq -c '.data.apiKeys.edges[].node'
gql "$token" 'mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }' \
  "$(jq -nc --arg id "$id" '{id: $id}')" | jq -ec '.data.revokeApiKey.apiKey'
gql "$key" '{ me { id } }' '{}' | jq -ec '.errors[0] | select(.extensions.code == "UNAUTHENTICATED") | .message'
echo "revoked: the key no longer works"
