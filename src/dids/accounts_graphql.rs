//! The Twilio-account mutations that are about the number pool (see `accounts`).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::twilio_accounts::graphql::TwilioAccountNode;
use crate::twilio_accounts::service as accounts;

#[derive(InputObject)]
pub struct RemoveTwilioAccountInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct RemoveTwilioAccountPayload {
    pub removed_id: ID,
}

#[derive(SimpleObject)]
pub struct SyncTwilioAccountPayload {
    pub twilio_account: TwilioAccountNode,
    /// Numbers new to us.
    pub imported: i32,
    /// Numbers we knew, refreshed.
    pub updated: i32,
    /// Numbers the account holds on Twilio.
    pub on_twilio: i32,
    /// Numbers on Twilio that were not imported, with the reason for each.
    pub skipped: Vec<SkippedNumber>,
}

/// A number a sync could not take (e.g. already registered under another account).
#[derive(SimpleObject)]
pub struct SkippedNumber {
    pub phone_number: String,
    pub twilio_sid: String,
    pub reason: String,
}

#[derive(Default)]
pub struct DidAccountsMutation;

#[Object]
impl DidAccountsMutation {
    #[graphql(guard = "AdminGuard")]
    async fn remove_twilio_account(
        &self,
        ctx: &Context<'_>,
        input: RemoveTwilioAccountInput,
    ) -> Result<RemoveTwilioAccountPayload> {
        super::accounts::remove(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(RemoveTwilioAccountPayload {
            removed_id: input.id,
        })
    }

    /// Imports the account's phone numbers from Twilio.
    #[graphql(guard = "AdminGuard")]
    async fn sync_twilio_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<SyncTwilioAccountPayload> {
        let id = parse_id("id", &id)?;
        let report = super::accounts::sync(ctx.state(), Some(ctx.viewer()?), id).await?;
        let account = accounts::get(ctx.state(), id).await?;
        Ok(SyncTwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
            imported: report.imported as i32,
            updated: report.updated as i32,
            on_twilio: report.on_twilio as i32,
            skipped: report
                .skipped
                .into_iter()
                .map(|s| SkippedNumber {
                    phone_number: s.phone_number,
                    twilio_sid: s.twilio_sid,
                    reason: s.reason,
                })
                .collect(),
        })
    }
}
