UPDATE campaign_contacts SET state = 'FAILED' WHERE state = 'MACHINE';

INSERT INTO campaign_counters (campaign_id, answered, machine)
SELECT campaign_id, count(*), -count(*) FROM calls
WHERE status = 'COMPLETED' AND answered_by = 'fax' AND campaign_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = calls.campaign_id)
GROUP BY campaign_id;

CREATE OR REPLACE FUNCTION campaign_counters_of_calls() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION campaign_counters_of_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE campaign_counters DROP COLUMN reached_machine;

ALTER TABLE campaign_contacts DROP CONSTRAINT campaign_contacts_state_check;
ALTER TABLE campaign_contacts ADD CONSTRAINT campaign_contacts_state_check
    CHECK (state IN ('PENDING', 'CALLING', 'DONE', 'FAILED', 'OPTED_OUT', 'SKIPPED'));
