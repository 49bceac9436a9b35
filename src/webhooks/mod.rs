//! The REST surface for callers that are not our users: Twilio and the payment gateways.
//! Every payload is stored, deduplicated, before we answer 2xx.

pub mod jobs;
pub mod model;
pub mod payments;
pub mod rejections;
pub mod twilio;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::{Extension, Router};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio/voice/{call_id}", post(twilio::voice))
        .route("/webhooks/twilio/status/{call_id}", post(twilio::status))
        .route("/webhooks/twilio/gather/{call_id}", post(twilio::gather))
        .route("/webhooks/twilio/dial/{call_id}", post(twilio::dial))
        .route("/webhooks/twilio/amd/{call_id}", post(twilio::amd))
        .route("/webhooks/twilio/inbound", post(twilio::inbound))
        .route(
            "/webhooks/twilio/inbound/status",
            post(twilio::inbound_status),
        )
        .merge(payments_router())
}

/// Unauthenticated until verified, so bounded: small bodies, and a rejection budget per
/// source address shared by the four endpoints.
fn payments_router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/payments/momo", post(payments::momo))
        .route("/webhooks/payments/zalopay", post(payments::zalopay))
        .route("/webhooks/payments/bank/sepay", post(payments::sepay))
        .route("/webhooks/payments/bank/casso", post(payments::casso))
        .layer(DefaultBodyLimit::max(payments::MAX_BODY_BYTES))
        .layer(Extension(rejections::Rejections::default()))
}

/// Processes a stored event with its provider's handler (the sweep job's entry point).
pub async fn process(state: &crate::app::AppState, id: i64) -> crate::error::AppResult<()> {
    let provider = {
        let mut conn = state.conn().await?;
        model::WebhookEvent::find(&mut conn, id).await?.provider
    };
    match provider.as_str() {
        "twilio" => twilio::process(state, id).await,
        _ => payments::process(state, id).await,
    }
}
