//! The `top_ups` table: one row per top-up order, written before any gateway is asked.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sort::TopUpOrderField;
use crate::db::count::Count;
use crate::db::keyset::{Seek, Sort};
use crate::error::{AppError, AppResult};
use crate::text_enum;

text_enum! {
    /// How a top-up is paid.
    pub enum TopUpMethod {
        /// A bank transfer (VietQR) with the order's memo in the transfer content.
        BankTransfer => "BANK_TRANSFER",
        /// The MoMo wallet.
        Momo => "MOMO",
        /// The ZaloPay wallet.
        Zalopay => "ZALOPAY",
    }
}

text_enum! {
    /// Where a top-up is.
    pub enum TopUpStatus {
        /// Waiting for the payment.
        Pending => "PENDING",
        /// Paid and credited to the balance.
        Succeeded => "SUCCEEDED",
        /// The payment failed or an admin rejected it; nothing was credited.
        Failed => "FAILED",
        /// Not paid in time; nothing was credited.
        Expired => "EXPIRED",
        /// Money arrived that does not match the order (another amount): an admin decides.
        NeedsReview => "NEEDS_REVIEW",
    }
}

#[derive(QueryableByName, Clone, Debug)]
pub struct TopUp {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub method: TopUpMethod,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = Text)]
    pub status: TopUpStatus,
    #[diesel(sql_type = Text)]
    pub provider_ref: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub transfer_memo: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub pay_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub deeplink: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub qr_payload: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub provider_txn_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub received_amount: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status_reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub completed_at: Option<DateTime<Utc>>,
}

pub const COLUMNS: &str = "id, user_id, method, amount, status, provider_ref, transfer_memo, pay_url, deeplink, qr_payload, provider_txn_id, received_amount, status_reason, expires_at, created_at, updated_at, completed_at";

/// The top-up list's filter: `$1` the owner, `$2` the statuses, either null for any.
const LIST_FILTER: &str =
    "($1::uuid IS NULL OR user_id = $1) AND ($2::text[] IS NULL OR status = ANY($2))";

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("top-up"),
        other => other.into(),
    }
}

impl TopUp {
    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Self> {
        diesel::sql_query(format!("SELECT {COLUMNS} FROM top_ups WHERE id = $1"))
            .bind::<SqlUuid, _>(id)
            .get_result(conn)
            .await
            .map_err(not_found)
    }

    pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Self> {
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM top_ups WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .map_err(not_found)
    }

    /// By MoMo orderId, ZaloPay app_trans_id or bank memo.
    pub async fn by_ref(conn: &mut AsyncPgConnection, provider_ref: &str) -> AppResult<Self> {
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM top_ups WHERE provider_ref = $1"
        ))
        .bind::<Text, _>(provider_ref)
        .get_result(conn)
        .await
        .map_err(not_found)
    }

    /// A page in `sort` order (ties by id), read from the index that serves it.
    pub async fn list(
        conn: &mut AsyncPgConnection,
        user_id: Option<Uuid>,
        statuses: Option<&[TopUpStatus]>,
        sort: TopUpOrderField,
        seek: &Seek,
    ) -> AppResult<Vec<Self>> {
        let column = sort.column().map(|(sql, _)| sql);
        let (order, past, limit) = seek.raw_sql(column, "id", 3);
        let query = diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM top_ups WHERE {LIST_FILTER} {past} ORDER BY {order} LIMIT ${limit}"
        ))
        .into_boxed()
        .bind::<Nullable<SqlUuid>, _>(user_id)
        .bind::<Nullable<Array<Text>>, _>(
            statuses.map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        );
        Ok(seek
            .bind_cursor(column.is_some(), query)
            .bind::<BigInt, _>(seek.limit)
            .load(conn)
            .await?)
    }

    /// How many top-ups `list` would page through, for its `totalCount`.
    pub async fn count(
        conn: &mut AsyncPgConnection,
        user_id: Option<Uuid>,
        statuses: Option<&[TopUpStatus]>,
    ) -> AppResult<i64> {
        let row: Count = diesel::sql_query(format!(
            "SELECT count(*)::bigint AS n FROM top_ups WHERE {LIST_FILTER}"
        ))
        .bind::<Nullable<SqlUuid>, _>(user_id)
        .bind::<Nullable<Array<Text>>, _>(
            statuses.map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        )
        .get_result(conn)
        .await?;
        Ok(row.n)
    }

    /// Gateway orders still open: to be asked about, or expired.
    pub async fn pending_gateway_orders(
        conn: &mut AsyncPgConnection,
        older_than: DateTime<Utc>,
    ) -> AppResult<Vec<Self>> {
        Ok(diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM top_ups WHERE status = 'PENDING' AND created_at < $1
             ORDER BY created_at LIMIT 200"
        ))
        .bind::<Timestamptz, _>(older_than)
        .load(conn)
        .await?)
    }
}

#[derive(Clone, Debug)]
pub struct NewTopUp<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub method: TopUpMethod,
    pub amount: i64,
    pub provider_ref: &'a str,
    pub transfer_memo: Option<&'a str>,
    pub pay_url: Option<&'a str>,
    pub qr_payload: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

impl NewTopUp<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> AppResult<TopUp> {
        Ok(diesel::sql_query(format!(
            "INSERT INTO top_ups (id, user_id, method, amount, provider_ref, transfer_memo, pay_url, qr_payload, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(self.id)
        .bind::<SqlUuid, _>(self.user_id)
        .bind::<Text, _>(self.method.as_str())
        .bind::<BigInt, _>(self.amount)
        .bind::<Text, _>(self.provider_ref)
        .bind::<Nullable<Text>, _>(self.transfer_memo)
        .bind::<Nullable<Text>, _>(self.pay_url)
        .bind::<Nullable<Text>, _>(self.qr_payload)
        .bind::<Timestamptz, _>(self.expires_at)
        .get_result(conn)
        .await?)
    }
}

/// Where the gateway sends the payer and what the payer's app opens.
pub async fn set_links(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    pay_url: Option<&str>,
    deeplink: Option<&str>,
    qr_payload: Option<&str>,
) -> AppResult<TopUp> {
    Ok(diesel::sql_query(format!(
        "UPDATE top_ups SET pay_url = $2, deeplink = $3, qr_payload = $4, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(pay_url)
    .bind::<Nullable<Text>, _>(deeplink)
    .bind::<Nullable<Text>, _>(qr_payload)
    .get_result(conn)
    .await?)
}

/// Moves a locked top-up to `status`, recording what settled it.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: TopUpStatus,
    txn_id: Option<&str>,
    received: Option<i64>,
    reason: Option<&str>,
) -> AppResult<TopUp> {
    Ok(diesel::sql_query(format!(
        "UPDATE top_ups SET status = $2, provider_txn_id = coalesce($3, provider_txn_id),
             received_amount = coalesce($4, received_amount), status_reason = $5, updated_at = now(),
             completed_at = CASE WHEN $2 IN ('SUCCEEDED', 'FAILED', 'EXPIRED') THEN now() ELSE completed_at END
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(status.as_str())
    .bind::<Nullable<Text>, _>(txn_id)
    .bind::<Nullable<BigInt>, _>(received)
    .bind::<Nullable<Text>, _>(reason)
    .get_result(conn)
    .await?)
}
