//! The row of a hand-written `SELECT count(*)::bigint AS n …`, for lists read with raw SQL.

use diesel::sql_types::BigInt;
use diesel::QueryableByName;

#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}
