//! The orders the user list offers (ADMIN only, over every account), each read from an index
//! ending in (sort, id).

use async_graphql::Enum;

use super::model::User;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column the user list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserOrderField {
    /// When the account was created (the default, oldest first).
    CreatedAt,
    /// The email address (stored lower-cased, so case does not matter).
    Email,
    /// The display name (in the database's text order).
    Name,
    /// The role's name, alphabetically (ADMIN before USER).
    Role,
    /// The status's name, alphabetically.
    Status,
}

list_order!(
    UserOrder,
    UserOrderField,
    "How to sort users: a column and a direction."
);

/// Oldest first, as the list was before it could be sorted.
pub const DEFAULT: (UserOrderField, OrderDirection) =
    (UserOrderField::CreatedAt, OrderDirection::Asc);

impl Sort for UserOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids are UUIDv7: creation order is id order.
            Self::CreatedAt => None,
            Self::Email => Some(("users.email", SortKind::Text)),
            Self::Name => Some(("users.name", SortKind::Text)),
            Self::Role => Some(("users.role", SortKind::Text)),
            Self::Status => Some(("users.status", SortKind::Text)),
        }
    }
}

impl UserOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, user: &User) -> Option<SortValue> {
        let text = match self {
            Self::CreatedAt => return None,
            Self::Email => user.email.clone(),
            Self::Name => user.name.clone(),
            Self::Role => user.role.as_str().to_owned(),
            Self::Status => user.status.as_str().to_owned(),
        };
        Some(SortValue::Text(text))
    }
}
