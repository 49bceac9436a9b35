//! `apiKeys`, `createApiKey`, `revokeApiKey`.

use crate::db::keyset::SortKind;
use crate::graphql::order::Ordering;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::ApiKey;
use super::service::{self, NewKey};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::{List, Page};
use crate::viewer::ApiScope;

/// An API key as stored; the GraphQL `ApiKey`.
pub struct ApiKeyNode(pub ApiKey);

/// An API key: what it may do and when it was used. The secret itself is never shown again.
#[Object(name = "ApiKey")]
impl ApiKeyNode {
    /// The key's ID (for `revokeApiKey`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The user the key acts as.
    async fn owner_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// What the key is for, as its creator named it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the key may do; never more than its owner may.
    async fn scopes(&self) -> Vec<ApiScope> {
        self.0.scopes()
    }
    /// The secret's first characters (`rk_` and the key's id): enough to recognise it, not to use it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// When the key was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the key was last used, to the minute; null if never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When the key stops working; null if it does not expire.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When the key was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new API key.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for, 1 to 100 characters.
    pub name: String,
    /// What the key may do, at least one; ADMIN only for administrators.
    pub scopes: Vec<ApiScope>,
    /// When the key stops working, in the future; omit for a key that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What `createApiKey` answers.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The key created.
    pub api_key: ApiKeyNode,
    /// The key's secret, shown this once: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// The key to revoke.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key's ID.
    pub id: ID,
}

/// What `revokeApiKey` answers.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The key after revocation.
    pub api_key: ApiKeyNode,
}

#[derive(Default)]
pub struct ApiKeysQuery;

#[Object]
impl ApiKeysQuery {
    /// Your API keys, newest first; an administrator sees every user's.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn api_keys(
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
    ) -> Result<List<ApiKeyNode>> {
        let viewer = ctx.viewer()?.clone();
        let page = Page::parse(first, after, last, before)?;
        let seek = page.seek(&Ordering::by_id(SortKind::Uuid, true))?;
        let rows = service::page(ctx.state(), &viewer, &seek).await?;
        let count = service::count(ctx.state().clone(), viewer);
        Ok(page.connection(rows, |k| k.id.to_string(), ApiKeyNode, count))
    }
}

#[derive(Default)]
pub struct ApiKeysMutation;

#[Object]
impl ApiKeysMutation {
    /// Creates an API key acting as you within its scopes; the secret is shown once; audited. Needs a password sign-in (a key cannot create keys).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CreateApiKeyInput`.")] input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let viewer = ctx.viewer()?.clone();
        let created = service::create(
            ctx.state(),
            &viewer,
            NewKey {
                name: input.name,
                scopes: input.scopes,
                expires_at: input.expires_at,
            },
            &ctx.request_meta().ip,
        )
        .await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKeyNode(created.key),
            secret: created.secret,
        })
    }

    /// Revokes one of your API keys (any, for an administrator) at once, open websockets included; audited. Needs a password sign-in.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `RevokeApiKeyInput`.")] input: RevokeApiKeyInput,
    ) -> Result<RevokeApiKeyPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = parse_id("id", &input.id)?;
        let key = service::revoke(ctx.state(), &viewer, id).await?;
        Ok(RevokeApiKeyPayload {
            api_key: ApiKeyNode(key),
        })
    }
}
