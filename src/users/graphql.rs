//! The `User` type and the admin user fields.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::model::{Role, User, UserFilter, UserStatus};
use super::service::{self, NewAccount, EVENT_USER_UPDATED};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct UserNode(pub User);

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Role {
        self.0.role
    }
    async fn status(&self) -> UserStatus {
        self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Prepaid balance in VND (yours, or any user's for admins).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn balance(&self, ctx: &Context<'_>) -> Result<crate::billing::graphql::BalanceView> {
        crate::billing::graphql::balance_of(ctx, self.0.id).await
    }
}

#[derive(InputObject, Default)]
pub struct UsersFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Case-insensitive part of the email or name.
    pub search: Option<String>,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    pub name: Option<String>,
    #[graphql(default_with = "Role::User")]
    pub role: Role,
}

#[derive(async_graphql::SimpleObject)]
pub struct CreateUserPayload {
    pub user: UserNode,
}

#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<UsersFilter>,
    ) -> Result<Connection<String, UserNode>> {
        let page = Page::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = UserFilter {
            role: filter.role,
            status: filter.status,
            search: filter.search.filter(|s| !s.trim().is_empty()),
        };
        let rows = service::page(
            ctx.state(),
            &filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |u| u.id.to_string(), UserNode))
    }

    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::LOOKUP + child_complexity"
    )]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<UserNode> {
        let id = parse_id("id", &id)?;
        Ok(UserNode(service::get(ctx.state(), id).await?))
    }
}

#[derive(Default)]
pub struct UsersMutation;

#[Object]
impl UsersMutation {
    #[graphql(guard = "AdminGuard")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let admin = ctx.viewer()?;
        let account = NewAccount {
            email: input.email,
            password: input.password,
            name: input.name,
            role: input.role,
        };
        let user = service::create(ctx.state(), Some(admin), account).await?;
        Ok(CreateUserPayload {
            user: UserNode(user),
        })
    }
}

#[derive(Default)]
pub struct UsersSubscription;

#[Subscription]
impl UsersSubscription {
    /// The signed-in user, each time an admin changes their role, status or name.
    async fn user_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = UserNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let mut events = crate::graphql::viewer_events(ctx);
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(event) if event.kind == EVENT_USER_UPDATED && event.owner_id == viewer.id => {}
                    Ok(_) => continue,
                    // Missed events: re-read and send the current state.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                match service::get(&state, viewer.id).await {
                    Ok(user) => yield UserNode(user),
                    Err(e) => tracing::warn!(error = ?e, "userUpdated could not re-read the user"),
                }
            }
        })
    }
}
