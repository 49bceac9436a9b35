//! Calling caps fields: admins set the platform's; a user (or an admin for them) may set
//! stricter ones of their own.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::caps::{self, CapsRow};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;

/// Limits on calls to one destination number.
#[derive(SimpleObject, Clone, Copy)]
pub struct CallingCaps {
    /// Attempts in any rolling 24 hours.
    #[graphql(name = "maxPer24h")]
    pub max_per_24h: i32,
    /// Minutes between two attempts.
    pub min_gap_minutes: i32,
}

impl From<CapsRow> for CallingCaps {
    fn from(c: CapsRow) -> Self {
        Self {
            max_per_24h: c.max_per_24h,
            min_gap_minutes: c.min_gap_minutes,
        }
    }
}

#[derive(InputObject)]
pub struct CallingCapsInput {
    #[graphql(name = "maxPer24h")]
    pub max_per_24h: i32,
    pub min_gap_minutes: i32,
}

impl From<CallingCapsInput> for CapsRow {
    fn from(c: CallingCapsInput) -> Self {
        Self {
            max_per_24h: c.max_per_24h,
            min_gap_minutes: c.min_gap_minutes,
        }
    }
}

#[derive(InputObject)]
pub struct SetUserCallingCapsInput {
    /// Defaults to yourself; admins may name any user.
    pub user_id: Option<ID>,
    /// `null` returns the user to the platform's caps.
    pub caps: Option<CallingCapsInput>,
}

#[derive(SimpleObject)]
pub struct UserCallingCaps {
    pub user_id: ID,
    /// The user's own caps; `null` when only the platform's apply.
    pub own: Option<CallingCaps>,
    pub platform: CallingCaps,
}

fn target(viewer: &crate::viewer::Viewer, user_id: Option<&ID>) -> Result<uuid::Uuid> {
    Ok(match user_id {
        Some(id) => parse_id("userId", id)?,
        None => viewer.id,
    })
}

async fn with_platform(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    own: Option<CapsRow>,
) -> Result<UserCallingCaps> {
    let mut conn = ctx.state().conn().await?;
    Ok(UserCallingCaps {
        user_id: ID(id.to_string()),
        own: own.map(Into::into),
        platform: caps::platform(&mut conn).await?.into(),
    })
}

#[derive(Default)]
pub struct CapsQuery;

#[Object]
impl CapsQuery {
    /// The caps every attempt on the platform counts against.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn platform_calling_caps(&self, ctx: &Context<'_>) -> Result<CallingCaps> {
        ctx.viewer()?;
        let mut conn = ctx.state().conn().await?;
        Ok(caps::platform(&mut conn).await?.into())
    }

    /// A user's own caps beside the platform's (yourself unless you are an admin).
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn user_calling_caps(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> Result<UserCallingCaps> {
        let viewer = ctx.viewer()?;
        let id = target(viewer, user_id.as_ref())?;
        let own = caps::read(ctx.state(), viewer, id).await?;
        with_platform(ctx, id, own).await
    }
}

#[derive(Default)]
pub struct CapsMutation;

#[Object]
impl CapsMutation {
    #[graphql(guard = "AdminGuard")]
    async fn set_platform_calling_caps(
        &self,
        ctx: &Context<'_>,
        input: CallingCapsInput,
    ) -> Result<CallingCaps> {
        Ok(caps::set_platform(ctx.state(), ctx.viewer()?, input.into())
            .await?
            .into())
    }

    async fn set_user_calling_caps(
        &self,
        ctx: &Context<'_>,
        input: SetUserCallingCapsInput,
    ) -> Result<UserCallingCaps> {
        let viewer = ctx.viewer()?;
        let id = target(viewer, input.user_id.as_ref())?;
        let own = caps::set_user(ctx.state(), viewer, id, input.caps.map(Into::into)).await?;
        with_platform(ctx, id, own).await
    }
}
