DROP INDEX top_ups_status_idx;
DROP INDEX top_ups_amount_idx;
DROP INDEX top_ups_user_status_idx;
DROP INDEX top_ups_user_amount_idx;
DROP INDEX top_ups_user_id_idx;

DROP INDEX dids_number_idx;
DROP INDEX dids_assigned_user_number_idx;
DROP INDEX dids_assigned_user_idx;
CREATE INDEX dids_assigned_user_idx ON dids (assigned_user_id);

DROP INDEX users_status_idx;
DROP INDEX users_role_idx;
DROP INDEX users_name_idx;
DROP INDEX users_email_order_idx;

DROP INDEX campaign_contacts_state_idx;
DROP INDEX campaign_contacts_name_idx;

DROP INDEX campaigns_status_idx;
DROP INDEX campaigns_name_idx;
DROP INDEX campaigns_owner_status_idx;
DROP INDEX campaigns_owner_name_idx;

-- The call indexes go with the column and the expression they cover.
DROP INDEX calls_duration_idx;
DROP INDEX calls_cost_idx;
DROP INDEX calls_status_idx;
DROP INDEX calls_campaign_duration_idx;
DROP INDEX calls_campaign_cost_idx;
DROP INDEX calls_campaign_status_idx;
DROP INDEX calls_owner_duration_idx;
DROP INDEX calls_owner_cost_idx;
DROP INDEX calls_owner_status_idx;
ALTER TABLE calls DROP COLUMN cost_vnd;
