DROP INDEX IF EXISTS calls_parent_sid_key;
ALTER TABLE calls DROP COLUMN IF EXISTS parent_sid, DROP COLUMN IF EXISTS leg;
DROP TABLE IF EXISTS number_allowances;
