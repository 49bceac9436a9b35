//! The Twilio-account mutations that are about the number pool (see `accounts`).

use async_graphql::{Context, Object, Result, SimpleObject, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::twilio_accounts::graphql::TwilioAccountNode;
use crate::twilio_accounts::service as accounts;

crate::one_field_types!(InputObject "takes", id: ID, "The Twilio account's ID." =>
    DeleteTwilioAccountInput "deleteTwilioAccount",
    SyncTwilioAccountInput "syncTwilioAccount",
);

/// Result of `deleteTwilioAccount`.
#[derive(SimpleObject)]
pub struct DeleteTwilioAccountPayload {
    /// ID of the deleted account.
    pub deleted_id: ID,
}

/// Result of `syncTwilioAccount`.
#[derive(SimpleObject)]
pub struct SyncTwilioAccountPayload {
    /// The account synced.
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
    /// The number in E.164.
    pub phone_number: String,
    /// Twilio's SID of the number (PN...).
    pub twilio_sid: String,
    /// Why it was skipped.
    pub reason: String,
}

#[derive(Default)]
pub struct DidAccountsMutation;

#[Object]
impl DidAccountsMutation {
    /// Deletes a Twilio account that holds no live numbers and placed no calls; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn delete_twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `DeleteTwilioAccountInput`.")]
        input: DeleteTwilioAccountInput,
    ) -> Result<DeleteTwilioAccountPayload> {
        super::accounts::remove(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(DeleteTwilioAccountPayload {
            deleted_id: input.id,
        })
    }

    /// Imports the account's numbers from Twilio; webhooks are not re-pointed (use `configureWebhooks`); audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn sync_twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `SyncTwilioAccountInput`.")]
        input: SyncTwilioAccountInput,
    ) -> Result<SyncTwilioAccountPayload> {
        let id = parse_id("id", &input.id)?;
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
