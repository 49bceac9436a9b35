//! The orders a campaign list offers, each read from an index ending in (sort, id): by owner
//! for a user, over every campaign for an ADMIN.

use async_graphql::Enum;

use super::model::Campaign;
use crate::db::keyset::{Sort, SortKind, SortValue};
use crate::graphql::order::{list_order, OrderDirection};

/// A column a campaign list can be sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CampaignOrderField {
    /// When the campaign was created (the default, newest first).
    CreatedAt,
    /// The campaign's name (in the database's text order).
    Name,
    /// The status's name, alphabetically.
    Status,
}

list_order!(
    CampaignOrder,
    CampaignOrderField,
    "How to sort campaigns: a column and a direction."
);

/// Newest first, as the list was before it could be sorted.
pub const DEFAULT: (CampaignOrderField, OrderDirection) =
    (CampaignOrderField::CreatedAt, OrderDirection::Desc);

impl Sort for CampaignOrderField {
    fn column(self) -> Option<(&'static str, SortKind)> {
        match self {
            // Ids are UUIDv7: creation order is id order.
            Self::CreatedAt => None,
            Self::Name => Some(("campaigns.name", SortKind::Text)),
            Self::Status => Some(("campaigns.status", SortKind::Text)),
        }
    }
}

impl CampaignOrderField {
    /// A row's value in this order, as its cursor carries it.
    pub fn value(self, campaign: &Campaign) -> Option<SortValue> {
        match self {
            Self::CreatedAt => None,
            Self::Name => Some(SortValue::Text(campaign.name.clone())),
            Self::Status => Some(SortValue::Text(campaign.status.as_str().to_owned())),
        }
    }
}
