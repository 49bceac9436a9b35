//! The campaigns' counters against a full recount of the rows they count.

use std::collections::BTreeMap;

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use ringcast::jobs::BackgroundJob;
use serde_json::Value;

use super::TestApp;

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    campaign_id: String,
    #[diesel(sql_type = Text)]
    counts: String,
}

/// Every field of the counters, recounted from campaign_contacts, calls and ledger_entries the
/// way the statistics counted them before there were counters.
const RECOUNT: &str = "
SELECT c.id::text AS campaign_id, jsonb_build_object(
  'pending', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'PENDING'),
  'calling', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'CALLING'),
  'done', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'DONE'),
  'failed', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'FAILED'),
  'reached_machine', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'MACHINE'),
  'opted_out', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'OPTED_OUT'),
  'skipped', (SELECT count(*) FROM campaign_contacts k WHERE k.campaign_id = c.id AND state = 'SKIPPED'),
  'skip_reasons', (SELECT coalesce(jsonb_object_agg(reason, n), '{}') FROM (
      SELECT skip_reason AS reason, count(*) AS n FROM campaign_contacts k
      WHERE k.campaign_id = c.id AND skip_reason IS NOT NULL GROUP BY skip_reason) r),
  'attempts', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id),
  'answered', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id AND status = 'COMPLETED'
      AND coalesce(answered_by, 'human') NOT LIKE 'machine%' AND coalesce(answered_by, 'human') <> 'fax'),
  'busy', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id AND status = 'BUSY'),
  'no_answer', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id AND status = 'NO_ANSWER'),
  'calls_failed', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id
      AND status IN ('FAILED', 'CANCELED')),
  'machine', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id AND status = 'COMPLETED'
      AND (answered_by LIKE 'machine%' OR answered_by = 'fax')),
  'in_progress', (SELECT count(*) FROM calls l WHERE l.campaign_id = c.id
      AND status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')),
  'timed', (SELECT count(duration_secs) FROM calls l WHERE l.campaign_id = c.id AND status = 'COMPLETED'),
  'duration_sum', (SELECT coalesce(sum(duration_secs), 0) FROM calls l
      WHERE l.campaign_id = c.id AND status = 'COMPLETED'),
  'cost', (SELECT coalesce(-sum(amount), 0) FROM ledger_entries e
      WHERE e.campaign_id = c.id AND kind = 'CALL_CHARGE')
)::text AS counts FROM campaigns c";

const COUNTERS: &str = "
SELECT c.id::text AS campaign_id, jsonb_build_object(
  'pending', coalesce(sum(pending), 0), 'calling', coalesce(sum(calling), 0),
  'done', coalesce(sum(done), 0), 'failed', coalesce(sum(failed), 0),
  'reached_machine', coalesce(sum(reached_machine), 0),
  'opted_out', coalesce(sum(opted_out), 0), 'skipped', coalesce(sum(skipped), 0),
  'skip_reasons', campaign_counters_sum_reasons(skip_reasons),
  'attempts', coalesce(sum(attempts), 0), 'answered', coalesce(sum(answered), 0),
  'busy', coalesce(sum(busy), 0), 'no_answer', coalesce(sum(no_answer), 0),
  'calls_failed', coalesce(sum(calls_failed), 0), 'machine', coalesce(sum(machine), 0),
  'in_progress', coalesce(sum(in_progress), 0), 'timed', coalesce(sum(timed), 0),
  'duration_sum', coalesce(sum(duration_sum), 0), 'cost', coalesce(sum(cost), 0)
)::text AS counts
FROM campaigns c LEFT JOIN campaign_counters k ON k.campaign_id = c.id GROUP BY c.id";

async fn by_campaign(app: &TestApp, sql: &str) -> BTreeMap<String, Value> {
    let mut conn = app.state.db.get().await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows.into_iter()
        .map(|r| (r.campaign_id, serde_json::from_str(&r.counts).unwrap()))
        .collect()
}

/// Every campaign's counters equal a recount, before and after compaction, and no counters
/// are left of deleted campaigns.
pub async fn assert_counters_match_recount(app: &TestApp) {
    let recount = by_campaign(app, RECOUNT).await;
    assert_eq!(
        by_campaign(app, COUNTERS).await,
        recount,
        "counters, then recount"
    );
    ringcast::campaigns::jobs::CompactCampaignCounters
        .run(app.state.clone())
        .await
        .unwrap();
    assert_eq!(
        by_campaign(app, COUNTERS).await,
        recount,
        "compacted counters, then recount"
    );
    assert_eq!(
        app.count("campaign_counters k WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = k.campaign_id)")
            .await,
        0,
        "counters of deleted campaigns"
    );
}
