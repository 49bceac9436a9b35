//! Sign-in mutations and `me`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::service::{self, Session};
use crate::graphql::context::ContextExt;
use crate::users::graphql::UserNode;
use crate::users::service::NewAccount;
use crate::users::Role;

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    #[graphql(secret)]
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    #[graphql(secret)]
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    #[graphql(secret)]
    pub current_password: String,
    #[graphql(secret)]
    pub new_password: String,
}

/// A signed-in session: send `accessToken` as `Authorization: Bearer ...`; trade
/// `refreshToken` (once) for a new pair before `expiresIn` seconds pass.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserNode,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: s.expires_in,
            user: UserNode(s.user),
        }
    }
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    pub ok: bool,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn me(&self, ctx: &Context<'_>) -> Result<UserNode> {
        let viewer = ctx.viewer()?;
        Ok(UserNode(
            crate::users::service::get(ctx.state(), viewer.id).await?,
        ))
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates an account and signs it in (only when the server allows sign-up).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let account = NewAccount {
            email: input.email,
            password: input.password,
            name: input.name,
            role: Role::User,
        };
        let ip = ctx.request_meta().ip;
        Ok(service::register(ctx.state(), account, &ip).await?.into())
    }

    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let ip = ctx.request_meta().ip;
        Ok(
            service::login(ctx.state(), &input.email, &input.password, &ip)
                .await?
                .into(),
        )
    }

    /// Trades a refresh token for a new pair. Each refresh token works once; presenting
    /// one again ends every session of that sign-in.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> Result<AuthPayload> {
        Ok(service::refresh(ctx.state(), &input.refresh_token)
            .await?
            .into())
    }

    /// Ends the sign-in the refresh token belongs to.
    async fn logout(&self, ctx: &Context<'_>, input: LogoutInput) -> Result<LogoutPayload> {
        service::logout(ctx.state(), &input.refresh_token).await?;
        Ok(LogoutPayload { ok: true })
    }

    /// Changes the password, ends every other session, and returns a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> Result<AuthPayload> {
        let viewer = ctx.viewer()?.clone();
        Ok(service::change_password(
            ctx.state(),
            &viewer,
            &input.current_password,
            &input.new_password,
        )
        .await?
        .into())
    }
}
