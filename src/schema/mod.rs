//! Assembles the GraphQL schema from the domains' roots and serves it over HTTP and websockets;
//! owns no business rules. The toolkit the domains build their resolvers with is `graphql`.

pub mod http;
pub mod loaders;
pub mod node;
pub mod scopes;
pub mod ws;

use async_graphql::{MergedObject, MergedSubscription, SDLExportOptions, Schema, SchemaBuilder};

use crate::app::AppState;
use crate::campaigns::contacts;
use crate::{
    audit, auth, billing, calls, campaigns, compliance, dids, health, moderation, payments,
    twilio_accounts, users,
};

/// Everything Ringcast lets you read; most fields need `Authorization: Bearer <accessToken>`.
#[derive(MergedObject, Default)]
pub struct Query(
    auth::graphql::AuthQuery,
    auth::api_keys::graphql::ApiKeysQuery,
    users::graphql::UsersQuery,
    audit::graphql::AuditQuery,
    twilio_accounts::graphql::TwilioAccountsQuery,
    dids::graphql::DidsQuery,
    compliance::graphql::ComplianceQuery,
    compliance::caps_graphql::CapsQuery,
    compliance::numbers_graphql::NumbersQuery,
    campaigns::graphql::CampaignsQuery,
    contacts::graphql::ContactsQuery,
    campaigns::imports::graphql::ImportsQuery,
    calls::graphql::CallsQuery,
    billing::graphql::BillingQuery,
    payments::graphql::PaymentsQuery,
    health::graphql::HealthQuery,
    node::NodeQuery,
);

/// Every change: each takes `input: VerbNounInput!` and answers `VerbNounPayload!`.
#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::graphql::AuthMutation,
    auth::api_keys::graphql::ApiKeysMutation,
    users::graphql::UsersMutation,
    moderation::graphql::ModerationMutation,
    twilio_accounts::graphql::TwilioAccountsMutation,
    dids::graphql::DidsMutation,
    dids::accounts_graphql::DidAccountsMutation,
    compliance::graphql::ComplianceMutation,
    compliance::caps_graphql::CapsMutation,
    compliance::numbers_graphql::NumbersMutation,
    campaigns::graphql::CampaignsMutation,
    contacts::graphql::ContactsMutation,
    campaigns::imports::graphql::ImportsMutation,
    calls::graphql::CallsMutation,
    billing::graphql::BillingMutation,
    payments::graphql::PaymentsMutation,
);

/// Live updates over the graphql-transport-ws websocket at /graphql/ws.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    users::graphql::UsersSubscription,
    campaigns::graphql::CampaignsSubscription,
    campaigns::imports::subscription::ImportsSubscription,
    calls::graphql::CallsSubscription,
    billing::graphql::BillingSubscription,
    payments::graphql::PaymentsSubscription,
);

pub type RingcastSchema = Schema<Query, Mutation, Subscription>;

/// What the HTTP and websocket handlers share; built once by `server::router`.
#[derive(Clone)]
pub struct ServerState {
    pub app: AppState,
    pub schema: RingcastSchema,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The schema without runtime data: shared by `serve`, tests and `export-schema`.
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

pub fn schema(state: AppState) -> RingcastSchema {
    let limits = state.config.graphql.clone();
    builder()
        .data(state)
        .limit_depth(limits.max_depth)
        .limit_recursive_depth(limits.max_depth * 2)
        .limit_directives(16)
        .extension(crate::graphql::extension::Observe)
        .extension(scopes::ApiKeyScopes)
        .extension(loaders::Loaders)
        .extension(ws::OperationLimit)
        .extension(crate::graphql::extension::CostLimit {
            max: limits.max_complexity,
        })
        .finish()
}

/// The SDL with sorted fields, arguments and enum values, as kept in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
