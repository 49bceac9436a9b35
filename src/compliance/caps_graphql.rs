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

/// Limits on calls to one destination number.
#[derive(InputObject)]
pub struct CallingCapsInput {
    /// Most attempts to one number in any rolling 24 hours, 1 to 10.
    #[graphql(name = "maxPer24h")]
    pub max_per_24h: i32,
    /// Minutes to wait between two attempts to one number, 0 to 1440.
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

crate::one_field_types!(InputObject "takes", #[graphql(flatten)] caps: CallingCapsInput,
    "The platform's new caps, for every user." =>
    SetPlatformCallingCapsInput "setPlatformCallingCaps",
);

crate::one_field_types!(SimpleObject "answers", caps: CallingCaps, "The platform's caps as set." =>
    SetPlatformCallingCapsPayload "setPlatformCallingCaps",
);

crate::one_field_types!(SimpleObject "answers", caps: UserCallingCaps,
    "The user's caps as set, beside the platform's." =>
    SetUserCallingCapsPayload "setUserCallingCaps",
);

/// A user's own caps, which may only be stricter than the platform's.
#[derive(InputObject)]
pub struct SetUserCallingCapsInput {
    /// Defaults to yourself; admins may name any user.
    pub user_id: Option<ID>,
    /// `null` returns the user to the platform's caps.
    pub caps: Option<CallingCapsInput>,
}

/// A user's own caps beside the platform's; both apply to each of the user's attempts.
#[derive(SimpleObject)]
pub struct UserCallingCaps {
    /// The user these caps are for.
    pub user_id: ID,
    /// The user's own caps; `null` when only the platform's apply.
    pub own: Option<CallingCaps>,
    /// The platform's caps, counted over every user's attempts.
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
    /// The caps every attempt on the platform counts against; any signed-in user.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn platform_calling_caps(&self, ctx: &Context<'_>) -> Result<CallingCaps> {
        ctx.viewer()?;
        let mut conn = ctx.state().conn().await?;
        Ok(caps::platform(&mut conn).await?.into())
    }

    /// A user's own caps beside the platform's; yourself, or any user for an ADMIN.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn user_calling_caps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user; yourself when omitted (others only for admins).")]
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
    /// Sets the platform's per-number caps for every user; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn set_platform_calling_caps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `SetPlatformCallingCapsInput`.")]
        input: SetPlatformCallingCapsInput,
    ) -> Result<SetPlatformCallingCapsPayload> {
        let caps = caps::set_platform(ctx.state(), ctx.viewer()?, input.caps.into()).await?;
        Ok(SetPlatformCallingCapsPayload { caps: caps.into() })
    }

    /// Sets or clears a user's own stricter caps; audited; yourself, or any user for an ADMIN.
    async fn set_user_calling_caps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `SetUserCallingCapsInput`.")]
        input: SetUserCallingCapsInput,
    ) -> Result<SetUserCallingCapsPayload> {
        let viewer = ctx.viewer()?;
        let id = target(viewer, input.user_id.as_ref())?;
        let own = caps::set_user(ctx.state(), viewer, id, input.caps.map(Into::into)).await?;
        Ok(SetUserCallingCapsPayload {
            caps: with_platform(ctx, id, own).await?,
        })
    }
}
