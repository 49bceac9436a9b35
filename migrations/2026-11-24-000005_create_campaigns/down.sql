ALTER TABLE calls DROP COLUMN attempt, DROP COLUMN contact_id, DROP COLUMN campaign_id;
DROP TABLE campaign_contacts;
DROP TABLE campaigns;
