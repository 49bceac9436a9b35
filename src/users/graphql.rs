//! The `User` type and the admin user fields.

use async_graphql::{Context, InputObject, Object, Result, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::model::{Role, User, UserFilter, UserStatus};
use super::service::{self, NewAccount, EVENT_USER_UPDATED};
use super::sort::{self, UserOrder};
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};

pub struct UserNode(pub User);

/// An account: a customer (USER) or an administrator (ADMIN). Users see themselves; admins see everyone.
#[Object(name = "User")]
impl UserNode {
    /// The user's ID.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Sign-in email, normalised (trimmed, lower case).
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Display name; may be empty.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ADMIN or USER.
    async fn role(&self) -> Role {
        self.0.role
    }
    /// ACTIVE, or SUSPENDED (cannot sign in; sessions ended).
    async fn status(&self) -> UserStatus {
        self.0.status
    }
    /// When the account was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the name, role, status or password last changed (RFC 3339, UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Prepaid balance in đồng (VND); only for the user themselves or an ADMIN, others get not-found.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn balance(&self, ctx: &Context<'_>) -> Result<crate::billing::graphql::BalanceView> {
        crate::billing::graphql::balance_of(ctx, self.0.id).await
    }
}

/// Narrows the `users` list; omitted fields do not filter.
#[derive(InputObject, Default)]
#[graphql(name = "UserFilter")]
pub struct UsersFilter {
    /// Only users with this role.
    pub role: Option<Role>,
    /// Only users with this status.
    pub status: Option<UserStatus>,
    /// Case-insensitive part of the email or name; blank means no filter.
    pub search: Option<String>,
}

/// A new account made by an admin.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Email address to sign in with; normalised (trimmed, lower case), must be unused.
    pub email: String,
    /// Initial password, 8 to 128 characters.
    #[graphql(secret)]
    pub password: String,
    /// Display name, at most 100 characters; empty when omitted.
    pub name: Option<String>,
    /// Role of the new account; USER when omitted.
    #[graphql(default_with = "Role::User")]
    pub role: Role,
}

/// Result of `createUser`.
#[derive(async_graphql::SimpleObject)]
pub struct CreateUserPayload {
    /// The new account (ACTIVE).
    pub user: UserNode,
}

#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
    /// Every account, oldest first, optionally filtered; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 500; 50 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Role, status and text filters; omit for every user.")] filter: Option<
            UsersFilter,
        >,
        #[graphql(desc = "Sort order; oldest first when omitted.")] order_by: Option<UserOrder>,
    ) -> Result<List<UserNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(UserOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let filter = filter.unwrap_or_default();
        let filter = UserFilter {
            role: filter.role,
            status: filter.status,
            search: filter.search.filter(|s| !s.trim().is_empty()),
        };
        let rows = service::page(ctx.state(), &filter, sort, &page.seek(&ordering)?).await?;
        let count = service::count(ctx.state().clone(), filter);
        Ok(page.connection(
            rows,
            |u| ordering.cursor(sort.value(u), u.id),
            UserNode,
            count,
        ))
    }

    /// One account by ID; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::LOOKUP + child_complexity"
    )]
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's ID.")] id: ID,
    ) -> Result<UserNode> {
        let id = parse_id("id", &id)?;
        Ok(UserNode(service::get(ctx.state(), id).await?))
    }
}

#[derive(Default)]
pub struct UsersMutation;

/// What `updateMe` takes: the fields of your own profile you may change; omitted ones stay.
#[derive(InputObject)]
pub struct UpdateMeInput {
    /// Your display name, at most 100 characters; blank clears it.
    pub name: Option<String>,
}

crate::one_field_types!(SimpleObject "answers", user: UserNode, "Your account as it is now." =>
    UpdateMePayload "updateMe",
);

#[Object]
impl UsersMutation {
    /// Changes your own profile (name); any signed-in user. Role and status are for admins.
    async fn update_me(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `UpdateMeInput`.")] input: UpdateMeInput,
    ) -> Result<UpdateMePayload> {
        let user = service::update_me(ctx.state(), ctx.viewer()?, input.name.as_deref()).await?;
        Ok(UpdateMePayload {
            user: UserNode(user),
        })
    }

    /// Creates an account of any role, recorded in the audit log; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CreateUserInput`.")] input: CreateUserInput,
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
    /// The signed-in user, sent each time an admin updates their role, status or name; any signed-in user.
    async fn user_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = UserNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let mut events =
            crate::graphql::viewer_events_on(ctx, [crate::events::Route::Owner(viewer.id)]);
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(event) if event.kind == EVENT_USER_UPDATED && event.owner_id == viewer.id => {}
                    Ok(_) => continue,
                    // Missed events: re-read and send the current state.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                // Boxed, so an idle stream does not hold a query's state.
                match Box::pin(service::get(&state, viewer.id)).await {
                    Ok(user) => yield UserNode(user),
                    Err(e) => tracing::warn!(error = ?e, "userUpdated could not re-read the user"),
                }
            }
        })
    }
}
