-- A claim takes a campaign's next due contacts (never attempted first, then by due time, then
-- by id) in this index's order, and a contact never attempted sorts as -infinity, so the due
-- ones are one range of the index: the scan stops at the last row taken, with no sort,
-- however many contacts are pending or deferred.
DROP INDEX campaign_contacts_due_idx;
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts
    (campaign_id, (COALESCE(next_attempt_at, '-infinity'::timestamptz)), id)
    WHERE state = 'PENDING';

-- A claim counts its campaign's calls not yet ended (against max_concurrent) once per batch.
CREATE INDEX calls_open_campaign_idx ON calls (campaign_id)
    WHERE status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS');
