//! Twilio's callbacks: signature first (403 otherwise, nothing stored), then the raw payload
//! stored under a unique key, then processing. A duplicate gets 2xx and changes nothing.

mod inbound;
mod receive;
mod status;
mod verify;
mod voice;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::twilio::twiml::VoiceResponse;

pub use inbound::{inbound, inbound_status};
pub use status::{process, status};
pub use voice::{amd, dial, gather, voice};

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn twiml(response: VoiceResponse) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        response.to_xml(),
    )
        .into_response()
}

fn unavailable(e: &AppError) -> Response {
    tracing::error!(error = ?e, "webhook could not be stored");
    // Not 2xx: Twilio retries, and nothing was acknowledged that we do not have.
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}
