-- Long-lived API keys for integrations. The key's id is part of the secret's visible prefix, so
-- checking a key is one primary-key read; only the SHA-256 of the random part is kept.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    scopes        text[] NOT NULL CHECK (
        scopes <@ ARRAY['READ', 'CAMPAIGNS', 'BILLING', 'ADMIN']::text[]
        AND cardinality(scopes) BETWEEN 1 AND 4
    ),
    prefix        text NOT NULL,
    secret_hash   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    last_used_ip  text
);
-- `apiKeys`: a user's keys newest first (and the per-user cap), an admin's keyset over all.
CREATE INDEX api_keys_user_idx ON api_keys (user_id, id);
