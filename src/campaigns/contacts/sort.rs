//! The orders a campaign's contact list offers, each read from an index on (campaign_id, sort,
//! id), so a page of a million-row import costs what a page of ten does.

use async_graphql::Enum;

use super::model::Contact;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column a contact list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContactOrderField {
    /// The order the contacts were imported in (the default, first imported first).
    CreatedAt,
    /// The contact's name (in the database's text order; an empty name sorts first ascending).
    Name,
    /// Where the contact is in the campaign (its state's name, alphabetically).
    State,
}

list_order!(
    ContactOrder,
    ContactOrderField,
    "How to sort a campaign's contacts: a column and a direction."
);

/// Import order, as the list was before it could be sorted.
pub const DEFAULT: (ContactOrderField, OrderDirection) =
    (ContactOrderField::CreatedAt, OrderDirection::Asc);

impl Sort for ContactOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids come from a sequence: import order is id order.
            Self::CreatedAt => None,
            Self::Name => Some(("campaign_contacts.name", SortKind::Text)),
            Self::State => Some(("campaign_contacts.state", SortKind::Text)),
        }
    }
}

impl ContactOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, contact: &Contact) -> Option<SortValue> {
        match self {
            Self::CreatedAt => None,
            Self::Name => Some(SortValue::Text(contact.name.clone())),
            Self::State => Some(SortValue::Text(contact.state.as_str().to_owned())),
        }
    }
}
