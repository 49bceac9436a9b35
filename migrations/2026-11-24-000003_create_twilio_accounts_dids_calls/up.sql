CREATE TABLE twilio_accounts (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    account_sid        text NOT NULL UNIQUE CHECK (account_sid ~ '^AC[0-9a-fA-F]{32}$'),
    -- AES-256-GCM with ENCRYPTION_KEY; never stored or shown in clear.
    auth_token_sealed  text NOT NULL,
    auth_token_last4   text NOT NULL,
    api_base_url       text NOT NULL,
    calls_per_second   double precision NOT NULL DEFAULT 1 CHECK (calls_per_second > 0),
    status             text NOT NULL DEFAULT 'UNKNOWN' CHECK (status IN ('UNKNOWN', 'ACTIVE', 'SUSPENDED', 'ERROR')),
    is_simulated       boolean NOT NULL DEFAULT false,
    balance            text,
    balance_currency   text,
    last_error         text,
    last_checked_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dids (
    id                  uuid PRIMARY KEY,
    twilio_account_id   uuid NOT NULL REFERENCES twilio_accounts (id) ON DELETE RESTRICT,
    phone_number        text NOT NULL,
    twilio_sid          text NOT NULL,
    country             text NOT NULL,
    friendly_name       text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'UNHEALTHY', 'RELEASED')),
    assigned_user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    forward_to          text,
    inbound_message     text,
    -- What the number's webhooks point at on Twilio, as last set by us.
    voice_url           text,
    status_callback     text,
    calls_24h           integer NOT NULL DEFAULT 0,
    answer_rate_24h     double precision,
    failure_rate_24h    double precision,
    calls_7d            integer NOT NULL DEFAULT 0,
    answer_rate_7d      double precision,
    failure_rate_7d     double precision,
    health_checked_at   timestamptz,
    last_used_at        timestamptz,
    released_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- A number can be ours only once at a time; released rows stay for history.
CREATE UNIQUE INDEX dids_live_number_key ON dids (phone_number) WHERE status <> 'RELEASED';
CREATE INDEX dids_account_idx ON dids (twilio_account_id);
CREATE INDEX dids_assigned_user_idx ON dids (assigned_user_id);

CREATE TABLE calls (
    id                 uuid PRIMARY KEY,
    owner_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    twilio_account_id  uuid NOT NULL REFERENCES twilio_accounts (id) ON DELETE RESTRICT,
    did_id             uuid REFERENCES dids (id) ON DELETE SET NULL,
    twilio_sid         text UNIQUE,
    direction          text NOT NULL CHECK (direction IN ('OUTBOUND', 'INBOUND')),
    from_number        text NOT NULL,
    to_number          text NOT NULL,
    status             text NOT NULL DEFAULT 'QUEUED' CHECK (status IN
        ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED')),
    answered_by        text,
    duration_secs      integer,
    answered_at        timestamptz,
    ended_at           timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_owner_idx ON calls (owner_id, id);
CREATE INDEX calls_did_created_idx ON calls (did_id, created_at);
CREATE INDEX calls_open_idx ON calls (status) WHERE status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS');

-- Every event a call went through, applied or not: the call's timeline.
CREATE TABLE call_events (
    id               bigserial PRIMARY KEY,
    call_id          uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('STATUS', 'GATHER', 'AMD')),
    source           text NOT NULL CHECK (source IN ('WEBHOOK', 'RECONCILE', 'DISPATCH')),
    status           text,
    sequence_number  integer,
    detail           jsonb NOT NULL DEFAULT '{}'::jsonb,
    applied          boolean NOT NULL,
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_events_call_idx ON call_events (call_id, id);

-- Raw webhook payloads, stored (deduplicated) before we answer 2xx.
CREATE TABLE webhook_events (
    id            bigserial PRIMARY KEY,
    provider      text NOT NULL,
    kind          text NOT NULL,
    dedupe_key    text NOT NULL UNIQUE,
    call_id       uuid,
    payload       jsonb NOT NULL,
    processed_at  timestamptz,
    error         text,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (received_at) WHERE processed_at IS NULL;
