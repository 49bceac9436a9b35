//! The admin mutation that changes a user.

use async_graphql::{Context, InputObject, Object, Result, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::users::graphql::UserNode;
use crate::users::model::{Role, UserStatus};

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub id: ID,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub name: Option<String>,
}

#[derive(async_graphql::SimpleObject)]
pub struct UpdateUserPayload {
    pub user: UserNode,
}

#[derive(Default)]
pub struct ModerationMutation;

#[Object]
impl ModerationMutation {
    /// Changes role, status or name. Suspending a user ends their sessions at once.
    #[graphql(guard = "AdminGuard")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        input: UpdateUserInput,
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
