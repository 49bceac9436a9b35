//! The filter a calls list takes, read into the model's: ids parsed, numbers normalised.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};

use super::model::{CallFilter, CallStatus};
use crate::graphql::ids::parse_id;

#[derive(InputObject, Default)]
#[graphql(name = "CallFilter")]
/// Narrows a list of calls; all given conditions must hold.
pub struct CallsFilter {
    /// Only calls of this campaign (yours, or any for an ADMIN).
    pub campaign_id: Option<ID>,
    /// Only calls in one of these statuses; omit for every status.
    pub statuses: Option<Vec<CallStatus>>,
    /// Only calls to this number: E.164 such as +84901234567, or Vietnamese national 0901234567.
    pub to: Option<String>,
    /// Only calls from this number: E.164 such as +84901234567, or Vietnamese national 0901234567.
    pub from: Option<String>,
    /// Only calls created at or after this instant (RFC 3339 UTC).
    pub since: Option<DateTime<Utc>>,
    /// Only calls created before this instant (RFC 3339 UTC).
    pub until: Option<DateTime<Utc>>,
}

impl CallsFilter {
    /// The GraphQL filter as the model's, ids parsed; `None` means every call the viewer may see.
    pub fn parse(filter: Option<Self>) -> Result<CallFilter, crate::error::AppError> {
        let f = filter.unwrap_or_default();
        Ok(CallFilter {
            owner_id: None,
            campaign_id: f
                .campaign_id
                .as_ref()
                .map(|id| parse_id("campaignId", id))
                .transpose()?,
            statuses: f.statuses,
            to: f.to.as_deref().map(|n| number("to", n)).transpose()?,
            from: f.from.as_deref().map(|n| number("from", n)).transpose()?,
            since: f.since,
            until: f.until,
        })
    }
}

/// A filter's number as calls store it (E.164), from any format a Vietnamese user types;
/// a number that cannot be one is a clear error rather than an empty list.
fn number(field: &'static str, raw: &str) -> Result<String, crate::error::AppError> {
    crate::phone::parse(raw, "VN")
        .map(|n| n.e164.to_string())
        .map_err(|e| crate::error::AppError::bad_input(field, e.to_string()))
}
