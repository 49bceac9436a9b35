//! CSV export of calls: `exportCalls` returns a link signed for one user and filter that expires
//! soon; the download streams rows page by page, so a million calls never sit in memory. A link
//! is only as good as its grantee's rights when it is used: a suspended user, an admin demoted
//! since, or a user whose sessions were ended (password change) gets 403.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::model::{Call, CallFilter, CallStatus};
use super::sort::CallOrderField;
use crate::app::AppState;
use crate::db::keyset::{Key, Seek, SortValue};
use crate::error::{AppError, AppResult};
use crate::users::{Role, User, UserStatus};
use crate::viewer::Viewer;

const LINK_LIFETIME: Duration = Duration::minutes(15);
const PAGE: i64 = 1000;

/// What a download link grants: one viewer, one filter, until `exp`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Grant {
    /// The grantee, whose rights are checked again when the link is used.
    by: Uuid,
    /// The grantee's token version at issue: a password change or forced sign-out ends the link.
    ver: i32,
    /// Issued on admin rights (any owner's calls): the grantee must still be an admin.
    admin: bool,
    owner: Option<Uuid>,
    campaign: Option<Uuid>,
    statuses: Option<Vec<CallStatus>>,
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
    let grantee = User::find(&mut *state.conn().await?, viewer.id).await?;
    let expires = Utc::now() + LINK_LIFETIME;
    let grant = Grant {
        by: viewer.id,
        ver: grantee.token_version,
        admin: viewer.is_admin(),
        owner: if viewer.is_admin() {
            filter.owner_id
        } else {
            Some(viewer.id)
        },
        campaign: filter.campaign_id,
        statuses: filter.statuses,
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

/// Whether the grantee may still use the link: active, same sessions, and still an admin if
/// the link was issued on admin rights.
async fn still_entitled(state: &AppState, grant: &Grant) -> AppResult<bool> {
    let user = match User::find(&mut *state.conn().await?, grant.by).await {
        Ok(user) => user,
        Err(diesel::result::Error::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(user.status == UserStatus::Active
        && user.token_version == grant.ver
        && (!grant.admin || user.role == Role::Admin)
        && (grant.admin || grant.owner == Some(user.id)))
}

fn row(call: &Call) -> [String; 13] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        call.id.to_string(),
        opt(call.campaign_id.map(|c| c.to_string())),
        call.direction.as_str().to_owned(),
        call.from_number.to_string(),
        call.to_number.to_string(),
        call.status.as_str().to_owned(),
        opt(call.answered_by.clone()),
        opt(call.duration_secs.map(|d| d.to_string())),
        opt(call.attempt.map(|a| a.to_string())),
        call.created_at.to_rfc3339(),
        opt(call.answered_at.map(|t| t.to_rfc3339())),
        opt(call.ended_at.map(|t| t.to_rfc3339())),
        opt(call.twilio_sid.clone()),
    ]
}

const HEADER: &str = "id,campaign_id,direction,from,to,status,answered_by,duration_secs,attempt,created_at,answered_at,ended_at,twilio_sid\n";

/// `/exports/calls.csv`: files a browser fetches with the user's own token.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/exports/calls.csv", axum::routing::get(download))
}

/// `GET /exports/calls.csv?grant=..&sig=..`
pub async fn download(State(app): State<AppState>, Query(query): Query<Download>) -> Response {
    let forbidden = || {
        (
            StatusCode::FORBIDDEN,
            "this export link is invalid or has expired",
        )
            .into_response()
    };
    let Some(grant) = verify(&app, &query) else {
        return forbidden();
    };
    match still_entitled(&app, &grant).await {
        Ok(true) => {}
        Ok(false) => return forbidden(),
        Err(e) => {
            tracing::error!(error = ?e, "export link: the grantee could not be read");
            return crate::graphql::response::error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                &e.message(),
            );
        }
    }
    let filter = CallFilter {
        owner_id: grant.owner,
        campaign_id: grant.campaign,
        statuses: grant.statuses,
        to: grant.to,
        from: grant.from,
        since: grant.since,
        until: grant.until,
    };
    let body = rows(app.clone(), filter);
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

/// Keyset pages of PAGE rows, newest first, each page on a connection taken only for its read.
/// An async-stream generator keeps answering `None` once it has ended: the compression layer
/// polls once more after the last chunk, which a bare `unfold` answers with a panic.
fn rows(
    state: AppState,
    filter: CallFilter,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    async_stream::try_stream! {
        yield axum::body::Bytes::from_static(HEADER.as_bytes());
        let mut after = None::<Uuid>;
        loop {
            let calls = page(&state, &filter, after).await?;
            let chunk = crate::spreadsheet::lines(calls.iter().map(row));
            if !chunk.is_empty() {
                yield axum::body::Bytes::from(chunk);
            }
            if (calls.len() as i64) < PAGE {
                break;
            }
            after = calls.last().map(|c| c.id);
        }
    }
}

async fn page(
    state: &AppState,
    filter: &CallFilter,
    after: Option<Uuid>,
) -> Result<Vec<Call>, std::io::Error> {
    let mut conn = state
        .conn()
        .await
        .map_err(|e| std::io::Error::other(e.message()))?;
    let seek = Seek {
        from: after.map(|id| Key {
            value: None,
            id: SortValue::Uuid(id),
        }),
        descending: true,
        limit: PAGE,
    };
    Call::page(&mut conn, filter, CallOrderField::CreatedAt, &seek)
        .await
        .map_err(std::io::Error::other)
}
