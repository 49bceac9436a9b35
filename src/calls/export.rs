//! CSV export of calls: `exportCalls` returns a link signed for one user and filter that expires
//! soon; the download streams rows page by page, so a million calls never sit in memory.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use futures_util::stream;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::model::{Call, CallFilter, CallStatus};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::server::ServerState;

const LINK_LIFETIME: Duration = Duration::minutes(15);
const PAGE: i64 = 1000;

/// What a download link grants: one viewer, one filter, until `exp`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Grant {
    owner: Option<Uuid>,
    campaign: Option<Uuid>,
    status: Option<CallStatus>,
    to: Option<String>,
    from: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    exp: i64,
}

fn mac(state: &AppState) -> Hmac<Sha256> {
    // Keyed with the JWT secret under a distinct label, so the two can never be swapped.
    let mut mac = Hmac::<Sha256>::new_from_slice(state.keys.jwt_secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(b"ringcast-call-export:");
    mac
}

/// A signed download path for the viewer's calls matching `filter`, and when it expires.
pub async fn link(
    state: &AppState,
    viewer: &Viewer,
    filter: CallFilter,
) -> AppResult<(String, DateTime<Utc>)> {
    if let Some(campaign) = filter.campaign_id {
        crate::campaigns::service::get(state, viewer, campaign).await?;
    }
    let expires = Utc::now() + LINK_LIFETIME;
    let grant = Grant {
        owner: if viewer.is_admin() {
            filter.owner_id
        } else {
            Some(viewer.id)
        },
        campaign: filter.campaign_id,
        status: filter.status,
        to: filter.to,
        from: filter.from,
        since: filter.since,
        until: filter.until,
        exp: expires.timestamp(),
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = b64.encode(serde_json::to_vec(&grant).map_err(AppError::internal)?);
    let mut m = mac(state);
    m.update(payload.as_bytes());
    let signature = b64.encode(m.finalize().into_bytes());
    Ok((
        format!(
            "{}/exports/calls.csv?grant={payload}&sig={signature}",
            state.public_url
        ),
        expires,
    ))
}

#[derive(Deserialize)]
pub struct Download {
    grant: String,
    sig: String,
}

fn verify(state: &AppState, query: &Download) -> Option<Grant> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut m = mac(state);
    m.update(query.grant.as_bytes());
    m.verify_slice(&b64.decode(&query.sig).ok()?).ok()?;
    let grant: Grant = serde_json::from_slice(&b64.decode(&query.grant).ok()?).ok()?;
    (grant.exp > Utc::now().timestamp()).then_some(grant)
}

pub(crate) fn csv_field(value: &str) -> String {
    // Quote everything and neutralise spreadsheet formulas in user-controlled text.
    let safe = if value.starts_with(['=', '+', '-', '@']) && !value.starts_with('+') {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

fn row(call: &Call) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        call.id.to_string(),
        opt(call.campaign_id.map(|c| c.to_string())),
        call.direction.as_str().to_owned(),
        call.from_number.clone(),
        call.to_number.clone(),
        call.status.as_str().to_owned(),
        opt(call.answered_by.clone()),
        opt(call.duration_secs.map(|d| d.to_string())),
        opt(call.attempt.map(|a| a.to_string())),
        call.created_at.to_rfc3339(),
        opt(call.answered_at.map(|t| t.to_rfc3339())),
        opt(call.ended_at.map(|t| t.to_rfc3339())),
        opt(call.twilio_sid.clone()),
    ]
    .iter()
    .map(|v| csv_field(v))
    .collect::<Vec<_>>()
    .join(",")
        + "\n"
}

const HEADER: &str = "id,campaign_id,direction,from,to,status,answered_by,duration_secs,attempt,created_at,answered_at,ended_at,twilio_sid\n";

/// `GET /exports/calls.csv?grant=..&sig=..`
pub async fn download(
    State(server): State<ServerState>,
    Query(query): Query<Download>,
) -> Response {
    let Some(grant) = verify(&server.app, &query) else {
        return (
            StatusCode::FORBIDDEN,
            "this export link is invalid or has expired",
        )
            .into_response();
    };
    let filter = CallFilter {
        owner_id: grant.owner,
        campaign_id: grant.campaign,
        status: grant.status,
        to: grant.to,
        from: grant.from,
        since: grant.since,
        until: grant.until,
    };
    let state = server.app.clone();
    // Keyset pages of PAGE rows, newest first; `None` cursor state means "done".
    let body = stream::unfold(Some((None::<Uuid>, true)), move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let (after, first) = cursor?;
            let page = match state.conn().await {
                Ok(mut conn) => Call::page(&mut conn, &filter, after, PAGE)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.message()),
            };
            match page {
                Ok(rows) => {
                    let mut chunk = if first {
                        HEADER.to_owned()
                    } else {
                        String::new()
                    };
                    for call in &rows {
                        chunk.push_str(&row(call));
                    }
                    let next =
                        (rows.len() as i64 == PAGE).then(|| (rows.last().map(|c| c.id), false));
                    Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)),
                        next,
                    ))
                }
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"calls.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(csv_field("+84912345678"), "\"+84912345678\"");
    }
}
