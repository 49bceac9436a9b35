//! The orders a top-up list offers, each read from an index ending in (sort, id): by user for
//! `topUps`, over every top-up for an ADMIN's `allTopUps`.

use async_graphql::Enum;

use super::model::TopUp;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column a top-up list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TopUpOrderField {
    /// When the top-up was started (the default, newest first).
    CreatedAt,
    /// The amount ordered.
    Amount,
    /// The status's name, alphabetically.
    Status,
}

list_order!(
    TopUpOrder,
    TopUpOrderField,
    "How to sort top-ups: a column and a direction."
);

/// Newest first, as the lists were before they could be sorted.
pub const DEFAULT: (TopUpOrderField, OrderDirection) =
    (TopUpOrderField::CreatedAt, OrderDirection::Desc);

impl Sort for TopUpOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids are UUIDv7: creation order is id order.
            Self::CreatedAt => None,
            Self::Amount => Some(("amount", SortKind::Int)),
            Self::Status => Some(("status", SortKind::Text)),
        }
    }
}

impl TopUpOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, top_up: &TopUp) -> Option<SortValue> {
        match self {
            Self::CreatedAt => None,
            Self::Amount => Some(SortValue::Int(top_up.amount)),
            Self::Status => Some(SortValue::Text(top_up.status.as_str().to_owned())),
        }
    }
}
