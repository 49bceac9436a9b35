//! What an API key may call: one table from every root mutation to the scope it needs, checked
//! before the field runs. Queries and subscriptions need READ. A mutation missing from the table
//! is refused to every key (fails closed), so a new mutation is a decision, not a default.
//! Password sign-ins are not affected: they may do everything their role may.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{PathSegment, ServerError, ServerResult, Value, Variables};

use crate::error::AppError;
use crate::viewer::{ApiScope, Viewer};

/// The scope a root mutation needs, or `None` when no key may call it: signing in and out,
/// passwords and the account itself, and API keys (a key never mints or revokes keys).
pub fn mutation_scope(field: &str) -> Option<ApiScope> {
    use ApiScope::{Admin, Billing, Campaigns, Read};
    Some(match field {
        "createCampaign" | "updateCampaign" | "cloneCampaign" | "deleteCampaign"
        | "startCampaign" | "pauseCampaign" | "resumeCampaign" | "cancelCampaign"
        | "addContacts" | "importContacts" | "addDoNotCall" | "importDoNotCall"
        | "deleteDoNotCall" | "setDidForwarding" => Campaigns,
        // Produces a file of what the key could already read.
        "exportCalls" => Read,
        "createTopUp" => Billing,
        "addTwilioAccount"
        | "updateTwilioAccount"
        | "deleteTwilioAccount"
        | "testTwilioAccount"
        | "syncTwilioAccount"
        | "adjustBalance"
        | "allowNumberPrefix"
        | "allowNumberType"
        | "revokeNumberAllowance"
        | "assignDid"
        | "unassignDid"
        | "purchaseDid"
        | "releaseDid"
        | "configureWebhooks"
        | "confirmTopUp"
        | "rejectTopUp"
        | "resolveUnmatchedPayment"
        | "createUser"
        | "updateUser"
        | "issuePasswordReset"
        | "setRate"
        | "deleteRate"
        | "setPlatformCallingCaps"
        | "setUserCallingCaps" => Admin,
        _ => return None,
    })
}

pub struct ApiKeyScopes;

impl ExtensionFactory for ApiKeyScopes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ApiKeyScopesExtension)
    }
}

struct ApiKeyScopesExtension;

fn key_scopes<'a>(ctx: &ExtensionContext<'a>) -> Option<&'a Viewer> {
    ctx.data_opt::<Viewer>().filter(|v| v.is_api_key())
}

fn forbidden(err: AppError, path: Vec<PathSegment>) -> ServerError {
    let mut error = async_graphql::Error::from(err).into_server_error(Default::default());
    error.path = path;
    // Not about any place in the document.
    error.locations.clear();
    error
}

#[async_trait::async_trait]
impl Extension for ApiKeyScopesExtension {
    /// Subscriptions never reach `resolve` for their root field: a key needs READ to send one.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(viewer) = key_scopes(ctx) {
            let subscribes = document
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Subscription);
            if subscribes {
                viewer
                    .require_scope(ApiScope::Read)
                    .map_err(|e| forbidden(e, Vec::new()))?;
            }
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none() {
            if let Some(viewer) = key_scopes(ctx) {
                let path = vec![PathSegment::Field(
                    info.alias.unwrap_or(info.name).to_owned(),
                )];
                let checked = match info.parent_type {
                    "Mutation" => match mutation_scope(info.name) {
                        Some(scope) => viewer.require_scope(scope),
                        None => Err(AppError::Forbidden(format!(
                            "{} is not available to API keys; sign in with a password",
                            info.name
                        ))),
                    },
                    // Queries (and `__typename` / introspection) read.
                    _ => viewer.require_scope(ApiScope::Read),
                };
                checked.map_err(|e| forbidden(e, path))?;
            }
        }
        next.run(ctx, info).await
    }
}
