CREATE TABLE campaigns (
    id                    uuid PRIMARY KEY,
    owner_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    status                text NOT NULL DEFAULT 'DRAFT'
        CHECK (status IN ('DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED')),
    purpose               text NOT NULL CHECK (purpose IN ('TRANSACTIONAL', 'REMINDER', 'SURVEY', 'MARKETING')),
    consent_basis         text CHECK (consent_basis IN ('EXPRESS_WRITTEN', 'EXPRESS_ORAL', 'EXISTING_CUSTOMER', 'TRANSACTIONAL')),
    consent_source        text,
    consent_collected_at  timestamptz,
    default_country       text NOT NULL DEFAULT 'VN',
    -- {text, audio_url, voice, language, repeat}
    message               jsonb NOT NULL,
    -- {prompt, timeout_secs, options: [{digit, action, transfer_to}]}
    menu                  jsonb,
    amd_mode              text NOT NULL DEFAULT 'OFF' CHECK (amd_mode IN ('OFF', 'HANG_UP_ON_MACHINE', 'LEAVE_MESSAGE')),
    caller_id_dids        uuid[] NOT NULL DEFAULT '{}',
    -- {start_at, end_at, daily_start, daily_end, days, time_zone}
    schedule              jsonb NOT NULL,
    calls_per_second      double precision NOT NULL DEFAULT 1 CHECK (calls_per_second > 0),
    max_concurrent        integer NOT NULL DEFAULT 10 CHECK (max_concurrent > 0),
    max_attempts          integer NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 10),
    retry_on              text[] NOT NULL DEFAULT '{}',
    retry_delay_secs      integer NOT NULL DEFAULT 3600 CHECK (retry_delay_secs >= 0),
    pause_reason          text,
    started_at            timestamptz,
    completed_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_owner_idx ON campaigns (owner_id, id);
CREATE INDEX campaigns_active_idx ON campaigns (status) WHERE status IN ('SCHEDULED', 'RUNNING');

CREATE TABLE campaign_contacts (
    id               bigserial PRIMARY KEY,
    campaign_id      uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    phone            text NOT NULL,
    country          text,
    name             text NOT NULL DEFAULT '',
    vars             jsonb NOT NULL DEFAULT '{}'::jsonb,
    state            text NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'CALLING', 'DONE', 'FAILED', 'OPTED_OUT', 'SKIPPED')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_outcome     text,
    skip_reason      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, phone)
);
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, next_attempt_at) WHERE state = 'PENDING';

ALTER TABLE calls
    ADD COLUMN campaign_id uuid REFERENCES campaigns (id) ON DELETE SET NULL,
    ADD COLUMN contact_id bigint REFERENCES campaign_contacts (id) ON DELETE SET NULL,
    ADD COLUMN attempt integer;
-- One call per (contact, attempt): a crash between claim and dial can never dial twice.
CREATE UNIQUE INDEX calls_contact_attempt_key ON calls (contact_id, attempt) WHERE contact_id IS NOT NULL;
CREATE INDEX calls_campaign_idx ON calls (campaign_id, id);
