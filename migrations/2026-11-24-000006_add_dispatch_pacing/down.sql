ALTER TABLE campaigns DROP COLUMN dispatch_next_at;
DROP INDEX calls_to_created_idx;
ALTER TABLE twilio_accounts DROP COLUMN dispatch_next_at;
