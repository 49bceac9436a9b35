-- One-time password reset links an admin issues (there is no email): only the token's SHA-256
-- is kept, a link works once and until it expires, and a newer link replaces an unused one.
CREATE TABLE password_resets (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,
    issued_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_open_idx ON password_resets (user_id) WHERE used_at IS NULL;
