//! Who signed a request: `X-Twilio-Signature` checked with the named account's token.

use axum::extract::OriginalUri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::{param, unavailable, Params};
use crate::app::AppState;
use crate::forwarded::public_base_url;
use crate::twilio::signature;
use crate::twilio_accounts::service as accounts;

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "Twilio request validation failed").into_response()
}

/// A verified request: its parameters and the account that signed it.
pub(super) struct Verified {
    pub(super) params: Params,
    pub(super) account_id: Uuid,
}

/// Checks `X-Twilio-Signature` with the auth token of the account named in `AccountSid`,
/// over the URL Twilio called (rebuilt from `PUBLIC_URL`, or forwarded headers behind a proxy).
/// The account and its opened token come from a short-lived cache (`twilio_accounts::cache`).
pub(super) async fn verify(
    app: &AppState,
    headers: &HeaderMap,
    uri: &OriginalUri,
    body: &[u8],
) -> Result<Verified, Response> {
    let params: Params = serde_urlencoded::from_bytes(body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "expected a form body").into_response())?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(forbidden)?;
    let sid = param(&params, "AccountSid").ok_or_else(forbidden)?;
    let opened = accounts::opened_by_sid(app, sid)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or_else(forbidden)?;
    let base = public_base_url(headers, &app.public_url, app.config.trust_proxy);
    let path = uri.0.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{base}{path}");
    if signature::validate(opened.token.expose(), signature, &url, &params) {
        Ok(Verified {
            params,
            account_id: opened.account.id,
        })
    } else {
        tracing::warn!(url = %url, "rejected a webhook with a bad signature");
        Err(forbidden())
    }
}
