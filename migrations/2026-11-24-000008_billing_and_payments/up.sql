-- Money is integer VND. The ledger is append-only; `balances` is its running total, updated in
-- the same transaction as each entry and locked while a hold is checked and taken.
CREATE TABLE balances (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    posted bigint NOT NULL DEFAULT 0,
    held bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Holds are only taken against what is there: available never goes below zero.
    CONSTRAINT available_not_negative CHECK (posted - held >= 0)
);

CREATE TABLE top_ups (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method text NOT NULL CHECK (method IN ('BANK_TRANSFER', 'MOMO', 'ZALOPAY')),
    amount bigint NOT NULL CHECK (amount > 0),
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'NEEDS_REVIEW')),
    -- MoMo orderId, ZaloPay app_trans_id, or the bank transfer memo.
    provider_ref text NOT NULL UNIQUE,
    transfer_memo text UNIQUE,
    pay_url text,
    deeplink text,
    qr_payload text,
    -- The gateway's or bank's transaction id that settled it (one top-up per transaction).
    provider_txn_id text,
    received_amount bigint,
    status_reason text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    UNIQUE (method, provider_txn_id)
);
CREATE INDEX top_ups_user ON top_ups (user_id, created_at DESC);
CREATE INDEX top_ups_pending ON top_ups (status, created_at) WHERE status = 'PENDING';

CREATE TABLE ledger_entries (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind text NOT NULL
        CHECK (kind IN ('TOPUP', 'CALL_HOLD', 'HOLD_RELEASE', 'CALL_CHARGE', 'REFUND', 'ADJUSTMENT')),
    -- Effect on the posted balance (holds and releases move only `held_change`).
    amount bigint NOT NULL,
    held_change bigint NOT NULL DEFAULT 0,
    posted_after bigint NOT NULL,
    available_after bigint NOT NULL,
    call_id uuid REFERENCES calls (id),
    campaign_id uuid,
    top_up_id uuid REFERENCES top_ups (id),
    actor_id uuid REFERENCES users (id),
    reason text,
    -- A hold keeps the rate it was priced at, so the charge uses the same one.
    rate jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, id DESC);
CREATE INDEX ledger_entries_campaign ON ledger_entries (campaign_id) WHERE campaign_id IS NOT NULL;
-- Each call is held, charged and released at most once; each top-up credited at most once.
CREATE UNIQUE INDEX ledger_entries_once_per_call ON ledger_entries (call_id, kind)
    WHERE call_id IS NOT NULL AND kind IN ('CALL_HOLD', 'HOLD_RELEASE', 'CALL_CHARGE');
CREATE UNIQUE INDEX ledger_entries_once_per_top_up ON ledger_entries (top_up_id)
    WHERE top_up_id IS NOT NULL AND kind = 'TOPUP';

-- Longest matching prefix (digits of the E.164 number without '+') wins; '' is the default.
CREATE TABLE rates (
    prefix text PRIMARY KEY CHECK (prefix ~ '^[0-9]{0,15}$'),
    per_minute bigint NOT NULL CHECK (per_minute >= 0),
    initial_increment integer NOT NULL DEFAULT 60 CHECK (initial_increment BETWEEN 1 AND 3600),
    billing_increment integer NOT NULL DEFAULT 60 CHECK (billing_increment BETWEEN 1 AND 3600),
    connection_fee bigint NOT NULL DEFAULT 0 CHECK (connection_fee >= 0),
    description text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO rates (prefix, per_minute, description) VALUES ('', 1000, 'Default rate');
