-- Number types and ranges an administrator has made callable beyond mobile and fixed lines.
CREATE TABLE number_allowances (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('TYPE', 'PREFIX')),
    -- A NumberType name, or the digits of an E.164 prefix without '+'.
    value       text NOT NULL CHECK (value ~ '^([A-Z_]{1,40}|[0-9]{1,15})$'),
    note        text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value)
);

-- A billed extra leg (a forwarded inbound call, a keypress transfer) is a call row of its
-- own, tied to the carrier call it was dialed from; one leg per parent call.
ALTER TABLE calls
    ADD COLUMN leg text CHECK (leg IN ('FORWARD', 'TRANSFER')),
    ADD COLUMN parent_sid text;
CREATE UNIQUE INDEX calls_parent_sid_key ON calls (parent_sid) WHERE parent_sid IS NOT NULL;
