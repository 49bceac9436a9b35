CREATE TABLE background_jobs (
    id           bigserial PRIMARY KEY,
    job_type     text NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Jobs with the same key are enqueued once while one is waiting.
    dedupe_key   text,
    priority     smallint NOT NULL DEFAULT 0,
    retries      integer NOT NULL DEFAULT 0,
    last_error   text,
    run_at       timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX background_jobs_dedupe_key ON background_jobs (dedupe_key);
CREATE INDEX background_jobs_ready_idx ON background_jobs (priority DESC, run_at, id);

-- One row per periodic job: claiming the next run is an UPDATE, so several processes
-- schedule it once per interval between them.
CREATE TABLE periodic_jobs (
    name         text PRIMARY KEY,
    next_run_at  timestamptz NOT NULL,
    last_run_at  timestamptz
);
