-- The next moment a call may start on each account: one row per account is the shared
-- calls-per-second limiter for every dispatcher process.
ALTER TABLE twilio_accounts ADD COLUMN dispatch_next_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX calls_to_created_idx ON calls (to_number, created_at);
ALTER TABLE campaigns ADD COLUMN dispatch_next_at timestamptz NOT NULL DEFAULT now();
