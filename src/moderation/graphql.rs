//! The admin mutation that changes a user.

use async_graphql::{Context, InputObject, Object, Result, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::users::graphql::UserNode;
use crate::users::model::{Role, UserStatus};

/// Changes to one account; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user to change.
    pub id: ID,
    /// New role; admins cannot demote themselves or the last active admin.
    pub role: Option<Role>,
    /// New status; SUSPENDED ends the user's sessions and pauses their running campaigns.
    pub status: Option<UserStatus>,
    /// New display name, at most 100 characters, trimmed.
    pub name: Option<String>,
}

/// Result of `updateUser`.
#[derive(async_graphql::SimpleObject)]
pub struct UpdateUserPayload {
    /// The user after the change.
    pub user: UserNode,
}

#[derive(Default)]
pub struct ModerationMutation;

#[Object]
impl ModerationMutation {
    /// Changes a user's role, status or name, recorded in the audit log; ADMIN only. Suspending ends their sessions at once.
    #[graphql(guard = "AdminGuard")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `UpdateUserInput`.")] input: UpdateUserInput,
    ) -> Result<UpdateUserPayload> {
        let admin = ctx.viewer()?;
        let update = super::service::UserUpdate {
            id: parse_id("id", &input.id)?,
            role: input.role,
            status: input.status,
            name: input.name,
        };
        let user = super::service::update(ctx.state(), admin, update).await?;
        Ok(UpdateUserPayload {
            user: UserNode(user),
        })
    }
}
