//! The `calls` and `call_events` tables.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{call_events, calls};
use crate::phone::E164;
use crate::text_enum;

text_enum! {
    /// Where a call is, as Twilio reports it; a call only moves forward.
    pub enum CallStatus {
        /// Created, not yet accepted by the carrier.
        Queued => "QUEUED",
        /// The carrier started dialing.
        Initiated => "INITIATED",
        /// The callee's phone is ringing.
        Ringing => "RINGING",
        /// Answered and connected.
        InProgress => "IN_PROGRESS",
        /// Answered, then ended normally (by a person or a machine).
        Completed => "COMPLETED",
        /// The line was busy.
        Busy => "BUSY",
        /// Nobody answered.
        NoAnswer => "NO_ANSWER",
        /// Could not be placed or connected.
        Failed => "FAILED",
        /// Canceled before it was answered, by the platform or the carrier.
        Canceled => "CANCELED",
    }
}

text_enum! {
    /// Who placed a call.
    pub enum CallDirection {
        /// Placed by the platform.
        Outbound => "OUTBOUND",
        /// Received on one of the platform's numbers.
        Inbound => "INBOUND",
    }
}

text_enum! {
    /// Where a call event came from.
    pub enum EventSource {
        /// A Twilio callback.
        Webhook => "WEBHOOK",
        /// The server asking Twilio about a call whose callbacks did not arrive.
        Reconcile => "RECONCILE",
        /// The dispatcher placing (or failing to place) the call.
        Dispatch => "DISPATCH",
    }
}

text_enum! {
    /// What a call event is about.
    pub enum EventKind {
        /// A change of the call's status.
        Status => "STATUS",
        /// Keys the callee pressed.
        Gather => "GATHER",
        /// The answering-machine detection result.
        Amd => "AMD",
    }
}

impl CallStatus {
    /// Twilio's `CallStatus` / REST `status` values.
    pub fn from_twilio(raw: &str) -> Option<Self> {
        Some(match raw {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" | "answered" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::NoAnswer | Self::Failed | Self::Canceled
        )
    }

    /// Progress order: a call only ever moves to a higher rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Initiated => 1,
            Self::Ringing => 2,
            Self::InProgress => 3,
            _ => 4,
        }
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = calls)]
pub struct Call {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub twilio_account_id: Uuid,
    pub did_id: Option<Uuid>,
    pub twilio_sid: Option<String>,
    pub direction: CallDirection,
    pub from_number: E164,
    pub to_number: E164,
    pub status: CallStatus,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i32>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub campaign_id: Option<Uuid>,
    pub contact_id: Option<i64>,
    pub attempt: Option<i32>,
    /// Đồng charged, copied from the ledger when the call is settled, for sorting by cost.
    pub cost_vnd: i64,
}

#[derive(Insertable)]
#[diesel(table_name = calls)]
pub struct NewCall<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub twilio_account_id: Uuid,
    pub did_id: Option<Uuid>,
    pub direction: CallDirection,
    pub from_number: &'a E164,
    pub to_number: &'a E164,
    pub campaign_id: Option<Uuid>,
    pub contact_id: Option<i64>,
    pub attempt: Option<i32>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = calls)]
pub struct CallChanges {
    pub status: Option<CallStatus>,
    pub twilio_sid: Option<Option<String>>,
    pub answered_by: Option<Option<String>>,
    pub duration_secs: Option<Option<i32>>,
    pub answered_at: Option<Option<DateTime<Utc>>>,
    pub ended_at: Option<Option<DateTime<Utc>>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub cost_vnd: Option<i64>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = call_events)]
pub struct CallEvent {
    pub id: i64,
    pub call_id: Uuid,
    pub kind: EventKind,
    pub source: EventSource,
    pub status: Option<String>,
    pub sequence_number: Option<i32>,
    pub detail: serde_json::Value,
    pub applied: bool,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = call_events)]
pub struct NewCallEvent<'a> {
    pub call_id: Uuid,
    pub kind: EventKind,
    pub source: EventSource,
    pub status: Option<&'a str>,
    pub sequence_number: Option<i32>,
    pub detail: serde_json::Value,
    pub applied: bool,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Default, Clone, Debug)]
pub struct CallFilter {
    pub owner_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub statuses: Option<Vec<CallStatus>>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct OutcomeRow {
    #[diesel(sql_type = SqlUuid)]
    did_id: Uuid,
    #[diesel(sql_type = BigInt)]
    finished: i64,
    #[diesel(sql_type = BigInt)]
    answered: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
}

impl NewCall<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<Call> {
        diesel::insert_into(calls::table)
            .values(self)
            .returning(Call::as_returning())
            .get_result(conn)
            .await
    }

    /// Several calls in one statement (a claim's batch).
    pub async fn insert_all(
        conn: &mut AsyncPgConnection,
        rows: &[NewCall<'_>],
    ) -> QueryResult<Vec<Call>> {
        diesel::insert_into(calls::table)
            .values(rows)
            .returning(Call::as_returning())
            .get_results(conn)
            .await
    }
}

impl NewCallEvent<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::insert_into(call_events::table)
            .values(self)
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl Call {
    /// The call as the ledger sees it.
    pub fn billed(&self) -> crate::billing::ledger::BilledCall<'_> {
        crate::billing::ledger::BilledCall {
            id: self.id,
            owner_id: self.owner_id,
            campaign_id: self.campaign_id,
            to_number: &self.to_number,
            duration_secs: self.duration_secs,
            placed: self.twilio_sid.is_some(),
            status: self.status.as_str(),
        }
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        calls::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        calls::table
            .find(id)
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await
    }

    /// The call locked for update, only if `account_id` placed it: a webhook signed by another
    /// account finds nothing, and the ownership check costs no query of its own.
    pub async fn find_owned_for_update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        account_id: Uuid,
    ) -> QueryResult<Option<Self>> {
        calls::table
            .find(id)
            .filter(calls::twilio_account_id.eq(account_id))
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()
    }

    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &CallChanges,
    ) -> QueryResult<Self> {
        diesel::update(calls::table.find(id))
            .set(changes)
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn events(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<CallEvent>> {
        call_events::table
            .filter(call_events::call_id.eq(id))
            .order(call_events::id)
            .select(CallEvent::as_select())
            .load(conn)
            .await
    }

    /// Per DID: outbound calls created since `since` that reached a final state.
    pub async fn outcomes_by_did(
        conn: &mut AsyncPgConnection,
        since: DateTime<Utc>,
    ) -> QueryResult<HashMap<Uuid, crate::dids::service::Outcomes>> {
        let rows: Vec<OutcomeRow> = diesel::sql_query(
            "SELECT did_id,
                    count(*) FILTER (WHERE status IN ('COMPLETED','BUSY','NO_ANSWER','FAILED','CANCELED')) AS finished,
                    count(*) FILTER (WHERE status = 'COMPLETED') AS answered,
                    count(*) FILTER (WHERE status = 'FAILED') AS failed
             FROM calls
             WHERE did_id IS NOT NULL AND direction = 'OUTBOUND' AND created_at >= $1
             GROUP BY did_id",
        )
        .bind::<Timestamptz, _>(since)
        .load(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.did_id,
                    crate::dids::service::Outcomes {
                        finished: r.finished,
                        answered: r.answered,
                        failed: r.failed,
                    },
                )
            })
            .collect())
    }
}
