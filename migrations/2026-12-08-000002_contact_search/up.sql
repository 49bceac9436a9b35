-- A campaign's contacts are listed in id order, and searched by the start of a name: both are a
-- range of one index within the campaign, however many contacts it has.
CREATE INDEX campaign_contacts_campaign_id_idx ON campaign_contacts (campaign_id, id);
CREATE INDEX campaign_contacts_name_prefix_idx
    ON campaign_contacts (campaign_id, lower(name) text_pattern_ops);
