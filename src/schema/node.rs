//! Relay's `node(id:)`: an object refetched by its id alone, so client caches (Apollo, urql,
//! Relay) can normalise and refresh it. Most ids are UUIDs, unique across every table, so one
//! id names one object and each domain is asked in turn with the viewer's rights; rows keyed by
//! a number carry their kind (`Contact:7`) and go straight to their domain. Someone else's
//! object is NOT_FOUND exactly like an id that names nothing.

use async_graphql::{Context, Interface, Object, Result, ID};

use crate::audit::graphql::AuditEntryNode;
use crate::billing::graphql::LedgerEntryNode;
use crate::calls::graphql::CallNode;
use crate::campaigns::contacts::graphql::ContactNode;
use crate::campaigns::graphql::CampaignNode;
use crate::dids::graphql::DidNode;
use crate::error::{AppError, AppResult};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::{parse_id, parse_numbered};
use crate::payments::graphql::TopUpNode;
use crate::twilio_accounts::graphql::TwilioAccountNode;
use crate::users::graphql::UserNode;
use crate::{audit, billing, calls, campaigns, dids, payments, twilio_accounts, users};

/// An object that `node(id:)` refetches by its globally unique `id`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Globally unique id: no two objects share one."
))]
pub enum Node {
    Campaign(CampaignNode),
    Call(CallNode),
    TopUp(TopUpNode),
    Did(DidNode),
    User(UserNode),
    TwilioAccount(TwilioAccountNode),
    Contact(ContactNode),
    LedgerEntry(LedgerEntryNode),
    AuditEntry(AuditEntryNode),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its id, for client caches; NOT_FOUND when the id names nothing you may see.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP * 6 + child_complexity")]
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's id, as any of its fields returned it.")] id: ID,
    ) -> Result<Node> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        if let Some((kind, n)) = parse_numbered(&id) {
            return Ok(match kind {
                "Contact" => Node::Contact(ContactNode(
                    campaigns::contacts::service::get(state, viewer, n).await?,
                )),
                "LedgerEntry" => Node::LedgerEntry(LedgerEntryNode(
                    billing::service::entry(state, viewer, n).await?,
                )),
                "AuditEntry" => {
                    Node::AuditEntry(audit::service::get(state, viewer, n).await?.into())
                }
                _ => return Err(AppError::NotFound("node").into()),
            });
        }
        let id = parse_id("id", &id)?;
        if let Some(c) = found(campaigns::service::get(state, viewer, id).await)? {
            return Ok(Node::Campaign(CampaignNode(c)));
        }
        if let Some(c) = found(calls::service::get(state, viewer, id).await)? {
            return Ok(Node::Call(CallNode(c)));
        }
        if let Some(t) = found(payments::service::get(state, viewer, id).await)? {
            return Ok(Node::TopUp(TopUpNode(t)));
        }
        if let Some(d) = found(dids::service::get_for(state, viewer, id).await)? {
            return Ok(Node::Did(DidNode(d)));
        }
        if let Some(u) = found(users::service::get_for(state, viewer, id).await)? {
            return Ok(Node::User(UserNode(u)));
        }
        if let Some(a) = found(twilio_accounts::service::get_for(state, viewer, id).await)? {
            return Ok(Node::TwilioAccount(TwilioAccountNode(a)));
        }
        Err(AppError::NotFound("node").into())
    }
}

/// `None` for NOT_FOUND, so the next domain is asked; any other error ends the lookup.
fn found<T>(result: AppResult<T>) -> AppResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
