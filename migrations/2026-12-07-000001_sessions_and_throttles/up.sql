-- Sign-ups per client address, for the sign-up throttle.
CREATE TABLE signup_attempts (
    id            bigserial PRIMARY KEY,
    ip            text NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signup_attempts_ip_idx ON signup_attempts (ip, attempted_at);

-- Login throttling counts failures per (email, address) as well as per email and per address.
CREATE INDEX login_failures_email_ip_idx ON login_failures (email, ip, failed_at);

-- Every authenticated request asks whether its sign-in (refresh family) is still live.
CREATE INDEX refresh_tokens_live_family_idx ON refresh_tokens (family_id) WHERE revoked_at IS NULL;
