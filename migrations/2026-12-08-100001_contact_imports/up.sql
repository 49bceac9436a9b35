-- Contact imports run as jobs: `importContacts` stores the file and enqueues the job in one
-- transaction, then answers; the job reads the file in chunks and commits each chunk with the
-- counters and the checkpoint (rows_read), so a job run again after a crash resumes there.
-- Ids are UUIDv7 (time-ordered), so a campaign's imports page newest first on one index.
CREATE TABLE imports (
    id             uuid PRIMARY KEY,
    campaign_id    uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status         text NOT NULL DEFAULT 'QUEUED'
                   CHECK (status IN ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    failure_reason text,
    file_name      text NOT NULL DEFAULT '',
    file_bytes     bigint NOT NULL DEFAULT 0,
    -- Data rows read so far (the checkpoint): rows up to here are counted below.
    rows_read      bigint NOT NULL DEFAULT 0,
    rows_imported  bigint NOT NULL DEFAULT 0,
    duplicates     bigint NOT NULL DEFAULT 0,
    invalid        bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imports_campaign_idx ON imports (campaign_id, id);
-- The guards: a campaign with an import under way cannot start, and a user has few at once.
CREATE INDEX imports_unfinished_campaign_idx ON imports (campaign_id)
    WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX imports_unfinished_owner_idx ON imports (owner_id)
    WHERE status IN ('QUEUED', 'RUNNING');

-- The uploaded file, in parts of about a megabyte, kept until the import ends. Stored
-- uncompressed: the parts are written once, read once and deleted.
CREATE TABLE import_file_parts (
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    part_no   integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (import_id, part_no)
);
ALTER TABLE import_file_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- Refused rows, the first 1,000 of each import (imports.invalid counts all); the key pages them.
CREATE TABLE import_errors (
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_no    bigint NOT NULL,
    value     text NOT NULL,
    reason    text NOT NULL,
    PRIMARY KEY (import_id, row_no)
);
