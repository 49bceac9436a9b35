//! Sign-in mutations and `me`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::reset;
use super::service::{self, Session};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::users::graphql::UserNode;
use crate::users::service::NewAccount;
use crate::users::Role;

/// Self sign-up: a new USER account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Email address to sign in with; trimmed, lower-cased and normalised, must be unused.
    pub email: String,
    /// Password, 8 to 128 characters.
    #[graphql(secret)]
    pub password: String,
    /// Display name, at most 100 characters, no control characters; empty when omitted.
    pub name: Option<String>,
}

/// Email and password sign-in.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's email (case and look-alike characters do not matter).
    pub email: String,
    /// The account's password.
    #[graphql(secret)]
    pub password: String,
}

/// A refresh token to trade for a new token pair.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The latest `refreshToken` this sign-in was given; usable once.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// The sign-in to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// Any refresh token of the sign-in to end; unknown tokens are ignored.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// The signed-in user's current and new password.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password in use now.
    #[graphql(secret)]
    pub current_password: String,
    /// The new password, 8 to 128 characters.
    #[graphql(secret)]
    pub new_password: String,
}

/// A signed-in session: send `accessToken` as `Authorization: Bearer ...`; trade `refreshToken` (once) for a new pair before `expiresIn` seconds pass.
#[derive(SimpleObject)]
#[graphql(name = "AuthSession")]
pub struct AuthPayload {
    /// Bearer token (JWT) for the `Authorization` header and the websocket connection.
    pub access_token: String,
    /// Opaque single-use token for `refreshToken`; expires 30 days after issue by default.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The signed-in user.
    pub user: UserNode,
}

crate::one_field_types!(SimpleObject "answers", #[graphql(flatten)] session: AuthPayload,
    "The new session's tokens and user." =>
    RegisterPayload "register",
    LoginPayload "login",
    RefreshTokenPayload "refreshToken",
    ChangePasswordPayload "changePassword",
    ResetPasswordPayload "resetPassword",
);

/// What `issuePasswordReset` takes.
#[derive(InputObject)]
pub struct IssuePasswordResetInput {
    /// The account whose password is to be reset.
    pub user_id: ID,
}

/// A one-time reset link; the token is shown only here, once.
#[derive(SimpleObject)]
pub struct IssuePasswordResetPayload {
    /// Give this to the user (by phone, chat, in person): it sets a new password once.
    #[graphql(secret)]
    pub token: String,
    /// A link to this server's reset page carrying the token in its fragment.
    pub reset_url: String,
    /// When the link stops working (RFC 3339, UTC); 24 hours after issue.
    pub expires_at: DateTime<Utc>,
}

/// What `resetPassword` takes.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token of a reset link from `issuePasswordReset`.
    #[graphql(secret)]
    pub token: String,
    /// The new password: 8 to 128 characters.
    #[graphql(secret)]
    pub new_password: String,
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

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the sign-in is ended (or was not known).
    pub ok: bool,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user; any signed-in user.
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
    /// Creates a USER account and signs it in; anonymous, when the server allows sign-up, throttled per address.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `RegisterInput`.")] input: RegisterInput,
    ) -> Result<RegisterPayload> {
        let account = NewAccount {
            email: input.email,
            password: input.password,
            name: input.name,
            role: Role::User,
        };
        let ip = ctx.request_meta().ip;
        Ok(RegisterPayload {
            session: service::register(ctx.state(), account, &ip).await?.into(),
        })
    }

    /// Signs in with email and password; anonymous; repeated failures are throttled per email and address.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `LoginInput`.")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let ip = ctx.request_meta().ip;
        Ok(LoginPayload {
            session: service::login(ctx.state(), &input.email, &input.password, &ip)
                .await?
                .into(),
        })
    }

    /// Trades a refresh token for a new pair; anonymous. Each token works once: reusing one ends that sign-in.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `RefreshTokenInput`.")] input: RefreshTokenInput,
    ) -> Result<RefreshTokenPayload> {
        Ok(RefreshTokenPayload {
            session: service::refresh(ctx.state(), &input.refresh_token)
                .await?
                .into(),
        })
    }

    /// Ends the sign-in the refresh token belongs to, its access tokens included; anonymous.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `LogoutInput`.")] input: LogoutInput,
    ) -> Result<LogoutPayload> {
        service::logout(ctx.state(), &input.refresh_token).await?;
        Ok(LogoutPayload { ok: true })
    }

    /// Issues a one-time password reset link for an account (there is no email); an unused earlier link stops working; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn issue_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `IssuePasswordResetInput`.")]
        input: IssuePasswordResetInput,
    ) -> Result<IssuePasswordResetPayload> {
        let user = parse_id("userId", &input.user_id)?;
        let issued = reset::issue(ctx.state(), ctx.viewer()?, user).await?;
        Ok(IssuePasswordResetPayload {
            reset_url: format!(
                "{}/reset-password#token={}",
                ctx.state().public_url,
                issued.token
            ),
            token: issued.token,
            expires_at: issued.expires_at,
        })
    }

    /// Sets a new password with a reset link's token, ends every session of the account and signs in; anonymous; each link works once.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ResetPasswordInput`.")] input: ResetPasswordInput,
    ) -> Result<ResetPasswordPayload> {
        let session = reset::reset(ctx.state(), &input.token, &input.new_password).await?;
        Ok(ResetPasswordPayload {
            session: session.into(),
        })
    }

    /// Changes the signed-in user's password, ends every other session, and returns a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ChangePasswordInput`.")] input: ChangePasswordInput,
    ) -> Result<ChangePasswordPayload> {
        let viewer = ctx.viewer()?.clone();
        let session = service::change_password(
            ctx.state(),
            &viewer,
            &input.current_password,
            &input.new_password,
        )
        .await?;
        Ok(ChangePasswordPayload {
            session: session.into(),
        })
    }
}
