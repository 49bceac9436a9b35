//! The inputs and payloads of the number fields: searches, purchases, assignment, forwarding.

use super::graphql::DidNode;
use super::model::DidStatus;
use async_graphql::{InputObject, SimpleObject, ID};

/// A local number Twilio offers for sale, as Twilio describes it.
#[derive(SimpleObject)]
pub struct AvailableNumber {
    /// The number in E.164, e.g. +84901234567; pass it to `purchaseDid`.
    pub phone_number: String,
    /// Twilio's display form of the number.
    pub friendly_name: Option<String>,
    /// ISO 3166 two-letter country.
    pub iso_country: Option<String>,
    /// City or area, when Twilio knows it.
    pub locality: Option<String>,
    /// State or province, when Twilio knows it.
    pub region: Option<String>,
}

/// Narrows the `dids` list; omitted fields do not filter.
#[derive(InputObject, Default)]
#[graphql(name = "DidFilter")]
pub struct DidsFilter {
    /// Only numbers held by this Twilio account.
    pub twilio_account_id: Option<ID>,
    /// Only numbers with this status (RELEASED numbers are listed unless filtered out).
    pub status: Option<DidStatus>,
    /// Only numbers assigned to this user.
    pub assigned_user_id: Option<ID>,
    /// Only numbers no user holds.
    #[graphql(default)]
    pub unassigned: bool,
}

/// A number to buy on a Twilio account.
#[derive(InputObject)]
pub struct PurchaseDidInput {
    /// The Twilio account to buy on (and to bill the number's price to).
    pub twilio_account_id: ID,
    /// The number in E.164, e.g. +84901234567, usually from `availableNumbers`; must not be in the pool already.
    pub phone_number: String,
    /// Label to set on Twilio; defaults to the number.
    pub friendly_name: Option<String>,
}

/// A number and the user to give it to.
#[derive(InputObject)]
pub struct AssignDidInput {
    /// The number (not RELEASED).
    pub did_id: ID,
    /// The user to assign it to; a new holder starts with no forwarding and no message.
    pub user_id: ID,
}

crate::one_field_types!(InputObject "takes", did_id: ID, "The number's ID." =>
    UnassignDidInput "unassignDid",
    ReleaseDidInput "releaseDid",
);

/// What `setDidForwarding` takes: an omitted field keeps its value, a blank one clears it.
#[derive(InputObject)]
pub struct SetDidForwardingInput {
    /// One of your numbers.
    pub did_id: ID,
    /// Number to forward inbound calls to, E.164 or national in the number's country; must be a callable type; blank clears, omitted keeps.
    pub forward_to: Option<String>,
    /// Text spoken to inbound callers when not forwarding, at most 500 characters; blank clears, omitted keeps.
    pub inbound_message: Option<String>,
}

crate::one_field_types!(SimpleObject "answers", did: DidNode, "The number after the change." =>
    PurchaseDidPayload "purchaseDid",
    AssignDidPayload "assignDid",
    UnassignDidPayload "unassignDid",
    ReleaseDidPayload "releaseDid",
    SetDidForwardingPayload "setDidForwarding",
);

/// What `configureWebhooks` takes.
#[derive(InputObject, Default)]
pub struct ConfigureWebhooksInput {
    /// Only the numbers of this Twilio account; omit for every live number.
    pub twilio_account_id: Option<ID>,
}

/// A number whose webhooks could not be re-pointed.
#[derive(SimpleObject)]
pub struct WebhookFailure {
    /// The number in E.164.
    pub phone_number: String,
    /// Why it failed (Twilio's or the database's message).
    pub error: String,
}

/// Result of `configureWebhooks`.
#[derive(SimpleObject)]
pub struct ConfigureWebhooksPayload {
    /// The server's public base URL the numbers now point at.
    pub public_url: String,
    /// How many live numbers were re-pointed.
    pub updated: i32,
    /// The numbers that could not be re-pointed, each with its error.
    pub failed: Vec<WebhookFailure>,
}
