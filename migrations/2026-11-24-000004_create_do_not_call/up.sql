-- owner_id NULL is the platform-wide list (admins); otherwise a user's own list.
CREATE TABLE do_not_call (
    id          uuid PRIMARY KEY,
    owner_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    phone       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    source      text NOT NULL CHECK (source IN ('MANUAL', 'OPT_OUT', 'IMPORT')),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX do_not_call_owner_phone_key
    ON do_not_call (COALESCE(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), phone);
CREATE INDEX do_not_call_phone_idx ON do_not_call (phone);
