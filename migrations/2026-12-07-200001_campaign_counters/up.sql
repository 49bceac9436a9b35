-- Per-campaign counters behind Campaign.stats, contactCounts and campaignProgress, so a read
-- sums a few rows instead of counting a campaign's contacts, calls and charges.
--
-- Append-only deltas: a statement that changes counted rows inserts one row per campaign it
-- touched (statement-level triggers over transition tables, in the writer's transaction, so
-- multi-row claims, COPY imports and cascades are counted too). Writers never update a shared
-- row: a counters row locked by one transaction would queue every claim and callback of the
-- campaign behind it, and its lock taken between the call and the owner's balance would make
-- claims and settlements deadlock. A periodic job folds each campaign's deltas into one row.
CREATE TABLE campaign_counters (
    id              bigserial PRIMARY KEY,
    -- No foreign key: the deltas of a cascade from a deleted campaign are dropped by the
    -- triggers, and a key would make them fail instead.
    campaign_id     uuid NOT NULL,
    pending         bigint NOT NULL DEFAULT 0,
    calling         bigint NOT NULL DEFAULT 0,
    done            bigint NOT NULL DEFAULT 0,
    failed          bigint NOT NULL DEFAULT 0,
    opted_out       bigint NOT NULL DEFAULT 0,
    skipped         bigint NOT NULL DEFAULT 0,
    -- Contacts per skip_reason, whatever their state: {"reason": contacts}.
    skip_reasons    jsonb NOT NULL DEFAULT '{}',
    attempts        bigint NOT NULL DEFAULT 0,
    answered        bigint NOT NULL DEFAULT 0,
    busy            bigint NOT NULL DEFAULT 0,
    no_answer       bigint NOT NULL DEFAULT 0,
    calls_failed    bigint NOT NULL DEFAULT 0,
    machine         bigint NOT NULL DEFAULT 0,
    in_progress     bigint NOT NULL DEFAULT 0,
    -- The average duration of completed calls is duration_sum / timed.
    timed           bigint NOT NULL DEFAULT 0,
    duration_sum    bigint NOT NULL DEFAULT 0,
    cost            bigint NOT NULL DEFAULT 0
);
CREATE INDEX campaign_counters_campaign ON campaign_counters (campaign_id);

CREATE FUNCTION campaign_counters_add_reasons(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
    FROM (SELECT key, sum(value::bigint) AS total
          FROM (SELECT * FROM jsonb_each_text(coalesce(a, '{}'::jsonb))
                UNION ALL SELECT * FROM jsonb_each_text(coalesce(b, '{}'::jsonb))) e
          GROUP BY key HAVING sum(value::bigint) <> 0) t
$$;

CREATE AGGREGATE campaign_counters_sum_reasons(jsonb) (
    SFUNC = campaign_counters_add_reasons, STYPE = jsonb, INITCOND = '{}'
);

-- The transition tables are named new_rows / old_rows in every trigger below; each function
-- picks its rows by TG_OP (an UPDATE adds the new rows and takes away the old ones, so rows
-- whose counted columns did not change cancel out and write nothing).
CREATE FUNCTION campaign_counters_source(cols text, filter text, sign text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE sign
        WHEN 'INSERT' THEN format('SELECT %s, 1::bigint AS n FROM new_rows WHERE %s', cols, filter)
        WHEN 'DELETE' THEN format('SELECT %s, -1::bigint AS n FROM old_rows WHERE %s', cols, filter)
        ELSE format('SELECT %1$s, 1::bigint AS n FROM new_rows WHERE %2$s
                     UNION ALL SELECT %1$s, -1::bigint AS n FROM old_rows WHERE %2$s', cols, filter)
    END
$$;

CREATE FUNCTION campaign_counters_of_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        WITH d AS (%s),
        r AS (SELECT campaign_id, jsonb_object_agg(skip_reason, n) AS reasons
              FROM (SELECT campaign_id, skip_reason, sum(n) AS n FROM d
                    WHERE skip_reason IS NOT NULL GROUP BY 1, 2 HAVING sum(n) <> 0) x
              GROUP BY campaign_id),
        s AS (SELECT campaign_id,
                     coalesce(sum(n) FILTER (WHERE state = 'PENDING'), 0) AS pending,
                     coalesce(sum(n) FILTER (WHERE state = 'CALLING'), 0) AS calling,
                     coalesce(sum(n) FILTER (WHERE state = 'DONE'), 0) AS done,
                     coalesce(sum(n) FILTER (WHERE state = 'FAILED'), 0) AS failed,
                     coalesce(sum(n) FILTER (WHERE state = 'OPTED_OUT'), 0) AS opted_out,
                     coalesce(sum(n) FILTER (WHERE state = 'SKIPPED'), 0) AS skipped
              FROM d GROUP BY campaign_id)
        INSERT INTO campaign_counters
            (campaign_id, pending, calling, done, failed, opted_out, skipped, skip_reasons)
        SELECT s.campaign_id, pending, calling, done, failed, opted_out, skipped,
               coalesce(r.reasons, '{}'::jsonb)
        FROM s LEFT JOIN r USING (campaign_id)
        WHERE ((pending, calling, done, failed, opted_out, skipped) <> (0, 0, 0, 0, 0, 0)
               OR r.reasons IS NOT NULL)
          AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = s.campaign_id)
    $q$, campaign_counters_source('campaign_id, state, skip_reason', 'true', TG_OP));
    RETURN NULL;
END
$$;

CREATE FUNCTION campaign_counters_of_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        WITH s AS (
            SELECT campaign_id,
                   sum(n) AS attempts,
                   coalesce(sum(n) FILTER (WHERE status = 'COMPLETED'
                       AND coalesce(answered_by, 'human') NOT LIKE 'machine%%'), 0) AS answered,
                   coalesce(sum(n) FILTER (WHERE status = 'BUSY'), 0) AS busy,
                   coalesce(sum(n) FILTER (WHERE status = 'NO_ANSWER'), 0) AS no_answer,
                   coalesce(sum(n) FILTER (WHERE status IN ('FAILED', 'CANCELED')), 0) AS calls_failed,
                   coalesce(sum(n) FILTER (WHERE status = 'COMPLETED'
                       AND answered_by LIKE 'machine%%'), 0) AS machine,
                   coalesce(sum(n) FILTER (WHERE status IN
                       ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')), 0) AS in_progress,
                   coalesce(sum(n) FILTER (WHERE status = 'COMPLETED'
                       AND duration_secs IS NOT NULL), 0) AS timed,
                   coalesce(sum(n * duration_secs) FILTER (WHERE status = 'COMPLETED'), 0) AS duration_sum
            FROM (%s) d GROUP BY campaign_id)
        INSERT INTO campaign_counters (campaign_id, attempts, answered, busy, no_answer,
                                       calls_failed, machine, in_progress, timed, duration_sum)
        SELECT * FROM s
        WHERE (attempts, answered, busy, no_answer, calls_failed, machine, in_progress, timed,
               duration_sum) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
          AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = s.campaign_id)
    $q$, campaign_counters_source('campaign_id, status, answered_by, duration_secs',
                                  'campaign_id IS NOT NULL', TG_OP));
    RETURN NULL;
END
$$;

CREATE FUNCTION campaign_counters_of_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO campaign_counters (campaign_id, cost)
        SELECT campaign_id, sum(-n * amount) FROM (%s) d
        WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = d.campaign_id)
        GROUP BY campaign_id HAVING sum(-n * amount) <> 0
    $q$, campaign_counters_source('campaign_id, amount',
                                  $f$kind = 'CALL_CHARGE' AND campaign_id IS NOT NULL$f$, TG_OP));
    RETURN NULL;
END
$$;

CREATE FUNCTION campaign_counters_of_deleted_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM campaign_counters WHERE campaign_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;

-- A trigger with transition tables takes one event, hence three per table.
CREATE TRIGGER campaign_counters_insert AFTER INSERT ON campaign_contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_contacts();
CREATE TRIGGER campaign_counters_update AFTER UPDATE ON campaign_contacts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_contacts();
CREATE TRIGGER campaign_counters_delete AFTER DELETE ON campaign_contacts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_contacts();

CREATE TRIGGER campaign_counters_insert AFTER INSERT ON calls
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_calls();
CREATE TRIGGER campaign_counters_update AFTER UPDATE ON calls
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_calls();
CREATE TRIGGER campaign_counters_delete AFTER DELETE ON calls
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_calls();

CREATE TRIGGER campaign_counters_insert AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_ledger();
CREATE TRIGGER campaign_counters_update AFTER UPDATE ON ledger_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_ledger();
CREATE TRIGGER campaign_counters_delete AFTER DELETE ON ledger_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counters_of_ledger();

CREATE TRIGGER campaign_counters_delete AFTER DELETE ON campaigns
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION campaign_counters_of_deleted_campaigns();

-- Backfill: one row per existing campaign, recounted.
INSERT INTO campaign_counters (campaign_id, pending, calling, done, failed, opted_out, skipped,
                               skip_reasons, attempts, answered, busy, no_answer, calls_failed,
                               machine, in_progress, timed, duration_sum, cost)
SELECT c.id,
       coalesce(k.pending, 0), coalesce(k.calling, 0), coalesce(k.done, 0),
       coalesce(k.failed, 0), coalesce(k.opted_out, 0), coalesce(k.skipped, 0),
       coalesce(r.reasons, '{}'::jsonb),
       coalesce(a.attempts, 0), coalesce(a.answered, 0), coalesce(a.busy, 0),
       coalesce(a.no_answer, 0), coalesce(a.calls_failed, 0), coalesce(a.machine, 0),
       coalesce(a.in_progress, 0), coalesce(a.timed, 0), coalesce(a.duration_sum, 0),
       coalesce(l.cost, 0)
FROM campaigns c
LEFT JOIN (SELECT campaign_id,
                  count(*) FILTER (WHERE state = 'PENDING') AS pending,
                  count(*) FILTER (WHERE state = 'CALLING') AS calling,
                  count(*) FILTER (WHERE state = 'DONE') AS done,
                  count(*) FILTER (WHERE state = 'FAILED') AS failed,
                  count(*) FILTER (WHERE state = 'OPTED_OUT') AS opted_out,
                  count(*) FILTER (WHERE state = 'SKIPPED') AS skipped
           FROM campaign_contacts GROUP BY campaign_id) k ON k.campaign_id = c.id
LEFT JOIN (SELECT campaign_id, jsonb_object_agg(skip_reason, n) AS reasons
           FROM (SELECT campaign_id, skip_reason, count(*) AS n FROM campaign_contacts
                 WHERE skip_reason IS NOT NULL GROUP BY 1, 2) x
           GROUP BY campaign_id) r ON r.campaign_id = c.id
LEFT JOIN (SELECT campaign_id, count(*) AS attempts,
                  count(*) FILTER (WHERE status = 'COMPLETED'
                      AND coalesce(answered_by, 'human') NOT LIKE 'machine%') AS answered,
                  count(*) FILTER (WHERE status = 'BUSY') AS busy,
                  count(*) FILTER (WHERE status = 'NO_ANSWER') AS no_answer,
                  count(*) FILTER (WHERE status IN ('FAILED', 'CANCELED')) AS calls_failed,
                  count(*) FILTER (WHERE status = 'COMPLETED' AND answered_by LIKE 'machine%') AS machine,
                  count(*) FILTER (WHERE status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')) AS in_progress,
                  count(duration_secs) FILTER (WHERE status = 'COMPLETED') AS timed,
                  coalesce(sum(duration_secs) FILTER (WHERE status = 'COMPLETED'), 0) AS duration_sum
           FROM calls WHERE campaign_id IS NOT NULL GROUP BY campaign_id) a ON a.campaign_id = c.id
LEFT JOIN (SELECT campaign_id, -sum(amount) AS cost FROM ledger_entries
           WHERE kind = 'CALL_CHARGE' AND campaign_id IS NOT NULL GROUP BY campaign_id) l
       ON l.campaign_id = c.id;
