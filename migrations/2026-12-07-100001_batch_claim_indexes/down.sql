DROP INDEX calls_open_campaign_idx;
DROP INDEX campaign_contacts_due_idx;
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, next_attempt_at) WHERE state = 'PENDING';
