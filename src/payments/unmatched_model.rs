//! The `unmatched_payments` table: money that arrived and settled no order.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::Seek;
use crate::db::schema::unmatched_payments;
use crate::text_enum;

text_enum! {
    /// Whether an admin has decided about an unmatched payment, and what.
    pub enum UnmatchedPaymentStatus {
        /// Nobody has decided yet.
        NeedsReview => "NEEDS_REVIEW",
        /// Credited to a user's balance by an admin.
        Credited => "CREDITED",
        /// Sent back to the payer outside the platform.
        RefundedOutside => "REFUNDED_OUTSIDE",
        /// Closed by an admin with no money moved.
        Ignored => "IGNORED",
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = unmatched_payments)]
pub struct UnmatchedPayment {
    pub id: Uuid,
    pub provider: String,
    pub txn_id: String,
    pub amount: i64,
    pub top_up_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub reason: String,
    pub reference: Option<String>,
    pub status: UnmatchedPaymentStatus,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = unmatched_payments)]
pub struct NewUnmatchedPayment<'a> {
    pub id: Uuid,
    pub provider: &'a str,
    pub txn_id: &'a str,
    pub amount: i64,
    pub top_up_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub reason: &'a str,
    pub reference: Option<&'a str>,
}

impl NewUnmatchedPayment<'_> {
    /// `false` when this payment was recorded before (a repeated notification).
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        let inserted = diesel::insert_into(unmatched_payments::table)
            .values(self)
            .on_conflict(unmatched_payments::txn_id)
            .do_nothing()
            .execute(conn)
            .await?;
        Ok(inserted == 1)
    }
}

impl UnmatchedPayment {
    pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        unmatched_payments::table
            .find(id)
            .for_update()
            .select(Self::as_select())
            .first(conn)
            .await
    }

    /// Newest first; `after` is the id of the last row already seen.
    pub async fn page(
        conn: &mut AsyncPgConnection,
        statuses: Option<&[UnmatchedPaymentStatus]>,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let mut query = Self::filtered(statuses)
            .order(seek.order(None, "unmatched_payments.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(None, "unmatched_payments.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(
        conn: &mut AsyncPgConnection,
        statuses: Option<&[UnmatchedPaymentStatus]>,
    ) -> QueryResult<i64> {
        Self::filtered(statuses).count().get_result(conn).await
    }

    fn filtered(
        statuses: Option<&[UnmatchedPaymentStatus]>,
    ) -> unmatched_payments::BoxedQuery<'static, Pg> {
        let mut query = unmatched_payments::table.into_boxed();
        if let Some(statuses) = statuses {
            query = query.filter(unmatched_payments::status.eq_any(statuses.to_vec()));
        }
        query
    }

    pub async fn resolve(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        status: UnmatchedPaymentStatus,
        note: &str,
        admin: Uuid,
    ) -> QueryResult<Self> {
        diesel::update(unmatched_payments::table.find(id))
            .set((
                unmatched_payments::status.eq(status),
                unmatched_payments::resolution_note.eq(note),
                unmatched_payments::resolved_by.eq(admin),
                unmatched_payments::resolved_at.eq(Utc::now()),
            ))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }
}
