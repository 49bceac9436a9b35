-- Money that arrived but settled no order: a second payment for a settled top-up, a transfer
-- whose memo matches nothing. Kept until an admin credits it, refunds it outside, or ignores it.
CREATE TABLE unmatched_payments (
    id uuid PRIMARY KEY,
    provider text NOT NULL,
    -- The gateway's or bank's transaction id, namespaced (`sepay:92704`): one row per payment.
    txn_id text NOT NULL UNIQUE,
    amount bigint NOT NULL,
    top_up_id uuid REFERENCES top_ups (id) ON DELETE SET NULL,
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    reason text NOT NULL,
    -- What the payment said (memo, order reference), for whoever reviews it.
    reference text,
    status text NOT NULL DEFAULT 'NEEDS_REVIEW'
        CHECK (status IN ('NEEDS_REVIEW', 'CREDITED', 'REFUNDED_OUTSIDE', 'IGNORED')),
    resolution_note text,
    resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unmatched_payments_by_status ON unmatched_payments (status, created_at DESC, id DESC);
