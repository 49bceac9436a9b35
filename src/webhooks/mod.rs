//! The REST surface for callers that are not our users: Twilio (payment gateways later).
//! Every payload is stored, deduplicated, before we answer 2xx.

pub mod jobs;
pub mod model;
pub mod twilio;

use axum::routing::post;
use axum::Router;

use crate::server::ServerState;

pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/webhooks/twilio/voice/{call_id}", post(twilio::voice))
        .route("/webhooks/twilio/status/{call_id}", post(twilio::status))
        .route("/webhooks/twilio/gather/{call_id}", post(twilio::gather))
        .route("/webhooks/twilio/amd/{call_id}", post(twilio::amd))
        .route("/webhooks/twilio/inbound", post(twilio::inbound))
        .route(
            "/webhooks/twilio/inbound/status",
            post(twilio::inbound_status),
        )
}
