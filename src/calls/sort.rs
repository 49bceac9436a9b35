//! The orders a calls list offers. Each is read from an index ending in (sort, id) under the
//! list's scopes — a user's calls, a campaign's, or everyone's for an ADMIN — so no page sorts.

use async_graphql::Enum;

use super::model::Call;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column a calls list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CallOrderField {
    /// When the call was created (the default, newest first).
    CreatedAt,
    /// The status's name, alphabetically (COMPLETED before QUEUED).
    Status,
    /// Đồng charged; 0 until the call ends and is billed.
    Cost,
    /// Seconds the call lasted; a call that has not ended sorts below 0 (last when DESC).
    Duration,
}

list_order!(
    CallOrder,
    CallOrderField,
    "How to sort calls: a column and a direction."
);

/// Newest first, as the list was before it could be sorted.
pub const DEFAULT: (CallOrderField, OrderDirection) =
    (CallOrderField::CreatedAt, OrderDirection::Desc);

impl Sort for CallOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids are UUIDv7: creation order is id order.
            Self::CreatedAt => None,
            Self::Status => Some(("calls.status", SortKind::Text)),
            Self::Cost => Some(("calls.cost_vnd", SortKind::Int)),
            // The expression its indexes are built on: a NULL would break the row comparison.
            Self::Duration => Some(("coalesce(calls.duration_secs, -1)", SortKind::Int)),
        }
    }
}

impl CallOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, call: &Call) -> Option<SortValue> {
        match self {
            Self::CreatedAt => None,
            Self::Status => Some(SortValue::Text(call.status.as_str().to_owned())),
            Self::Cost => Some(SortValue::Int(call.cost_vnd)),
            Self::Duration => Some(SortValue::Int(call.duration_secs.map_or(-1, i64::from))),
        }
    }
}
