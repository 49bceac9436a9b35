//! The orders the number lists offer, each read from an index ending in (sort, id): over every
//! number for an ADMIN's `dids`, by holder for `myDids`.

use async_graphql::Enum;

use super::model::Did;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column a number list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DidOrderField {
    /// When the number was added (the default, oldest first).
    CreatedAt,
    /// The number itself (E.164), so numbers of one country and range sit together.
    Number,
}

list_order!(
    DidOrder,
    DidOrderField,
    "How to sort phone numbers: a column and a direction."
);

/// Oldest first, as the lists were before they could be sorted.
pub const DEFAULT: (DidOrderField, OrderDirection) =
    (DidOrderField::CreatedAt, OrderDirection::Asc);

impl Sort for DidOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids are UUIDv7: creation order is id order.
            Self::CreatedAt => None,
            Self::Number => Some(("dids.phone_number", SortKind::Text)),
        }
    }
}

impl DidOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, did: &Did) -> Option<SortValue> {
        match self {
            Self::CreatedAt => None,
            Self::Number => Some(SortValue::Text(did.phone_number.as_str().to_owned())),
        }
    }
}
