//! `addContacts` and a campaign's contacts.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::model::{Contact, ContactState};
use super::service::{self, ContactInput};
use super::sort::{self, ContactOrder};
use crate::compliance::SkipReason;
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::{numbered_id, parse_id};
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};

pub struct ContactNode(pub Contact);

/// One number a campaign calls, with its progress.
#[Object(name = "Contact")]
impl ContactNode {
    /// The contact's globally unique id, `Contact:<n>`.
    pub async fn id(&self) -> ID {
        numbered_id("Contact", self.0.id)
    }
    /// The number in E.164, such as +84901234567.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// Two-letter ISO country of the number, when known.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// The callee's name, filled into {{name}}; may be empty.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Template variables for {{var}} in the message, as a JSON object.
    async fn vars(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.vars.clone())
    }
    /// Where the contact is in the campaign.
    async fn state(&self) -> ContactState {
        self.0.state
    }
    /// Calls made to this contact so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Earliest time of the next attempt (RFC 3339 UTC), for a retry or a deferral.
    async fn next_attempt_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.next_attempt_at
    }
    /// Outcome of the last call; null before the first call ends.
    async fn last_outcome(&self) -> Option<CallOutcome> {
        self.0.last_outcome.as_deref().map(CallOutcome::from_stored)
    }
    /// Why the last attempt was skipped or deferred; null when it was not.
    async fn skip_reason(&self) -> Option<SkipReason> {
        self.0.skip_reason.as_deref().map(SkipReason::from_stored)
    }
}

/// How a contact's last call ended, as the campaign's retry policy sees it.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// A person answered.
    Answered,
    /// The line was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The call failed to connect.
    Failed,
    /// An answering machine or fax answered.
    Machine,
    /// The call was canceled after it was placed, by the platform or the carrier.
    Canceled,
    /// The call never reached the carrier (refused or lost before the request); it is retried.
    NotPlaced,
    /// An outcome this version of the server does not know.
    Other,
}

impl CallOutcome {
    /// The outcome a stored `last_outcome` (written by the dispatcher's settle) names.
    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "ANSWERED" => Self::Answered,
            "BUSY" => Self::Busy,
            "NO_ANSWER" => Self::NoAnswer,
            "FAILED" => Self::Failed,
            "MACHINE" => Self::Machine,
            "CANCELED" => Self::Canceled,
            "NOT_PLACED" => Self::NotPlaced,
            _ => Self::Other,
        }
    }
}

#[derive(InputObject)]
/// One contact to add.
pub struct ContactEntryInput {
    /// Phone number, E.164 (+84901234567) or national in the campaign's default country.
    pub phone: String,
    /// The callee's name, at most 200 characters, for {{name}}.
    pub name: Option<String>,
    /// Template variables for `{{var}}` in the message.
    pub vars: Option<async_graphql::Json<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(InputObject)]
/// Contacts to add to a campaign.
pub struct AddContactsInput {
    /// The DRAFT or PAUSED campaign of yours to add to.
    pub campaign_id: ID,
    /// At most 5,000 contacts; use importContacts for more.
    pub contacts: Vec<ContactEntryInput>,
}

#[derive(SimpleObject)]
/// A contact that was refused, and why.
pub struct InvalidContact {
    /// 1-based position in the input (or row in the file).
    pub row: i32,
    /// The phone number as given.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

#[derive(SimpleObject)]
/// What addContacts did.
pub struct AddContactsPayload {
    /// Contacts added.
    pub added: i32,
    /// Numbers the campaign had already, or given twice.
    pub duplicates: i32,
    /// Contacts refused, with their reasons.
    pub invalid: Vec<InvalidContact>,
}

/// Narrows a campaign's `contacts`; all given conditions must hold.
#[derive(InputObject, Default)]
#[graphql(name = "ContactFilter")]
pub struct ContactsFilter {
    /// Only contacts in one of these states; omit for every state.
    pub states: Option<Vec<ContactState>>,
    /// A phone number (any format the campaign's default country reads; matched exactly), or
    /// else the start of a name, in any case.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct ContactsQuery;

#[Object]
impl ContactsQuery {
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    /// A campaign's contacts in the order they were added unless `orderBy` says otherwise, for its owner or an ADMIN.
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign whose contacts to list.")] campaign_id: ID,
        #[graphql(desc = "How many to return, 0 to 500 (default 50).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after: the endCursor of the previous page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Only contacts in these states or matching a search; omit for all.")]
        filter: Option<ContactsFilter>,
        #[graphql(desc = "Sort order; import order (first added first) when omitted.")]
        order_by: Option<ContactOrder>,
    ) -> Result<List<ContactNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(ContactOrder::pair(order_by), sort::DEFAULT, SortKind::Int);
        let campaign_id = parse_id("campaignId", &campaign_id)?;
        let filter = filter.unwrap_or_default();
        let (rows, filter) = service::page(
            ctx.state(),
            ctx.viewer()?,
            campaign_id,
            filter.states,
            filter.search.as_deref(),
            sort,
            &page.seek(&ordering)?,
        )
        .await?;
        let count = service::count(ctx.state().clone(), campaign_id, filter);
        Ok(page.connection(
            rows,
            |c| ordering.cursor(sort.value(c), c.id),
            ContactNode,
            count,
        ))
    }
}

#[derive(Default)]
pub struct ContactsMutation;

#[Object]
impl ContactsMutation {
    /// Adds contacts to a DRAFT or PAUSED campaign of yours.
    async fn add_contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AddContactsInput`.")] input: AddContactsInput,
    ) -> Result<AddContactsPayload> {
        let contacts = input
            .contacts
            .into_iter()
            .map(|c| ContactInput {
                phone: c.phone,
                name: c.name,
                vars: c.vars.map(|v| v.0),
            })
            .collect();
        let report = service::add(
            ctx.state(),
            ctx.viewer()?,
            parse_id("campaignId", &input.campaign_id)?,
            contacts,
        )
        .await?;
        Ok(AddContactsPayload {
            added: report.added as i32,
            duplicates: report.duplicates as i32,
            invalid: report
                .invalid
                .into_iter()
                .map(|(row, value, reason)| InvalidContact {
                    row: row as i32,
                    value,
                    reason,
                })
                .collect(),
        })
    }
}
