-- Lists sort by the columns a table shows, and every order is one index ending in (sort, id)
-- under the scope the list is read with (a user's rows, a campaign's, or all for an ADMIN):
-- a page is a range of that index, read forwards or backwards, never a sort of the list.
-- Creation order needs none of these: ids are UUIDv7 or a sequence, and (scope, id) exists.

-- What a call was charged, copied from the ledger when it is settled, so calls sort by cost.
ALTER TABLE calls ADD COLUMN cost_vnd bigint NOT NULL DEFAULT 0;
UPDATE calls c SET cost_vnd = e.charged
  FROM (SELECT call_id, -sum(amount) AS charged FROM ledger_entries
         WHERE kind = 'CALL_CHARGE' AND call_id IS NOT NULL GROUP BY call_id) e
 WHERE e.call_id = c.id;

-- A call without a duration (not ended) sorts as -1: the row comparison needs no NULLs.
CREATE INDEX calls_owner_status_idx ON calls (owner_id, status, id);
CREATE INDEX calls_owner_cost_idx ON calls (owner_id, cost_vnd, id);
CREATE INDEX calls_owner_duration_idx ON calls (owner_id, (coalesce(duration_secs, -1)), id);
CREATE INDEX calls_campaign_status_idx ON calls (campaign_id, status, id);
CREATE INDEX calls_campaign_cost_idx ON calls (campaign_id, cost_vnd, id);
CREATE INDEX calls_campaign_duration_idx ON calls (campaign_id, (coalesce(duration_secs, -1)), id);
CREATE INDEX calls_status_idx ON calls (status, id);
CREATE INDEX calls_cost_idx ON calls (cost_vnd, id);
CREATE INDEX calls_duration_idx ON calls ((coalesce(duration_secs, -1)), id);

CREATE INDEX campaigns_owner_name_idx ON campaigns (owner_id, name, id);
CREATE INDEX campaigns_owner_status_idx ON campaigns (owner_id, status, id);
CREATE INDEX campaigns_name_idx ON campaigns (name, id);
CREATE INDEX campaigns_status_idx ON campaigns (status, id);

CREATE INDEX campaign_contacts_name_idx ON campaign_contacts (campaign_id, name, id);
CREATE INDEX campaign_contacts_state_idx ON campaign_contacts (campaign_id, state, id);

CREATE INDEX users_email_order_idx ON users (email, id);
CREATE INDEX users_name_idx ON users (name, id);
CREATE INDEX users_role_idx ON users (role, id);
CREATE INDEX users_status_idx ON users (status, id);

DROP INDEX dids_assigned_user_idx;
CREATE INDEX dids_assigned_user_idx ON dids (assigned_user_id, id);
CREATE INDEX dids_assigned_user_number_idx ON dids (assigned_user_id, phone_number, id);
CREATE INDEX dids_number_idx ON dids (phone_number, id);

CREATE INDEX top_ups_user_id_idx ON top_ups (user_id, id);
CREATE INDEX top_ups_user_amount_idx ON top_ups (user_id, amount, id);
CREATE INDEX top_ups_user_status_idx ON top_ups (user_id, status, id);
CREATE INDEX top_ups_amount_idx ON top_ups (amount, id);
CREATE INDEX top_ups_status_idx ON top_ups (status, id);
