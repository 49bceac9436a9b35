//! Role guards. Ownership is checked by services, which can see the row.

use async_graphql::{Context, Guard};

use super::context::ContextExt;
use crate::error::AppError;

pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = ctx.viewer()?;
        if viewer.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("this field is for administrators".into()).into())
        }
    }
}
