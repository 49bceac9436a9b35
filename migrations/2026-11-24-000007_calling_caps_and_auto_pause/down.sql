DROP INDEX calls_campaign_ended_idx;
DROP TABLE user_calling_caps;
DROP TABLE calling_caps;
