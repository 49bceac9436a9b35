//! What every Twilio webhook does first: verify, check the call is the signer's, store the
//! payload under its dedupe key, and apply it.

use axum::body::Bytes;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use diesel::OptionalExtension;
use diesel_async::AsyncConnection;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::status::{settle, status_update};
use super::verify::{verify, Verified};
use super::{param, unavailable, Params};
use crate::app::AppState;
use crate::calls::model::Call;
use crate::calls::status::{self, Applied, Expect};
use crate::error::AppError;
use crate::webhooks::model::{NewWebhookEvent, WebhookEvent};

fn body_hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..12])
}

/// How a delivery is told apart from a repeat of itself.
pub(super) enum Key {
    /// Status callbacks: one per call, sequence number and status.
    Event,
    /// Requests that expect TwiML: the body itself.
    Body,
}

/// What every Twilio webhook does first.
pub(super) struct Received {
    pub(super) params: Params,
    pub(super) account_id: Uuid,
    /// The call the path names, as it was before this request changed it; only if the
    /// signing account placed it.
    pub(super) call: Option<Call>,
}

/// What the storing transaction leaves to do once it has committed.
enum Stored {
    /// A repeat of a stored delivery: nothing to do.
    Duplicate,
    /// Applied with the payload (or failed and left for the sweep); `Some` when subscribers
    /// are owed an event.
    Applied(Option<Box<(Call, Applied)>>),
    /// Stored; its handler runs after the commit, on connections of its own.
    Pending(i64),
}

/// Kinds applied in the transaction that stores them: a status change needs only the call's
/// row, which the ownership check has just locked.
fn applied_inline(kind: &str) -> bool {
    matches!(kind, "status" | "voice")
}

/// Verifies the signature, then in one transaction: locks the call the path names (only if the
/// signing account placed it), stores the payload under its dedupe key and, for a status
/// change, applies it and marks it processed. A failed apply rolls back to a savepoint and the
/// stored payload stays unprocessed for the sweep job: once this commits, the payload is safe,
/// and only then do we answer 2xx. Events go out after the commit.
pub(super) async fn receive(
    app: &AppState,
    kind: &str,
    call_id: Option<&str>,
    key: Key,
    (uri, headers, body): (&OriginalUri, &HeaderMap, &Bytes),
) -> Result<Received, Response> {
    let Verified { params, account_id } = verify(app, headers, uri, body).await?;
    let discriminator = match key {
        Key::Event => format!(
            "{}:{}:{}",
            param(&params, "CallSid").unwrap_or(""),
            param(&params, "SequenceNumber").unwrap_or(""),
            param(&params, "CallStatus").unwrap_or(""),
        ),
        Key::Body => body_hash(body),
    };
    let dedupe_key = format!("twilio:{kind}:{}:{discriminator}", call_id.unwrap_or("-"));
    let call_id = call_id.and_then(|id| Uuid::parse_str(id).ok());
    let payload = json!({ "params": params });
    let inline = applied_inline(kind);
    let mut conn = app.conn().await.map_err(|e| unavailable(&e))?;
    let stored = conn
        .transaction::<_, AppError, _>(async |conn| {
            let call = match call_id {
                // Locked only when applied here: other kinds' handlers take their own
                // connections after the commit and would wait on this lock.
                Some(id) if inline => Call::find_owned_for_update(conn, id, account_id).await?,
                Some(id) => Call::find(conn, id)
                    .await
                    .optional()?
                    .filter(|c| c.twilio_account_id == account_id),
                None => None,
            };
            let inserted = NewWebhookEvent {
                provider: "twilio",
                kind,
                dedupe_key: &dedupe_key,
                call_id: call.as_ref().map(|c| c.id),
                payload,
            }
            .insert(conn)
            .await?;
            let Some(id) = inserted else {
                return Ok((call, Stored::Duplicate));
            };
            if !inline {
                return Ok((call, Stored::Pending(id)));
            }
            let update = call
                .as_ref()
                .and_then(|c| Some((c.clone(), status_update(c.id, &params)?)));
            let Some((locked, update)) = update else {
                // Not our call, or no status we know: nothing to apply, the record stays.
                WebhookEvent::mark(conn, id, None).await?;
                return Ok((call, Stored::Applied(None)));
            };
            let applied = conn
                .transaction::<_, AppError, _>(async |conn| {
                    status::apply_locked(conn, locked, &update, Expect::Any).await
                })
                .await;
            match applied {
                Ok(applied) => {
                    WebhookEvent::mark(conn, id, None).await?;
                    Ok((call, Stored::Applied(Some(Box::new(applied)))))
                }
                Err(e) => {
                    tracing::warn!(webhook.id = id, error = ?e, "webhook stored; processing will be retried");
                    WebhookEvent::mark(conn, id, Some(&e.message())).await?;
                    Ok((call, Stored::Applied(None)))
                }
            }
        })
        .await;
    // Publishing and other handlers take connections of their own: this one goes back first.
    drop(conn);
    let (call, stored) = stored.map_err(|e| unavailable(&e))?;
    match stored {
        Stored::Applied(Some(changed)) => {
            let (call, applied) = *changed;
            status::publish(app, &call, &applied).await;
        }
        Stored::Pending(id) => {
            let call_id = call.as_ref().map(|c| c.id);
            if let Err(e) = settle(app, id, kind, call_id, &params).await {
                tracing::warn!(webhook.id = id, error = ?e, "webhook stored; processing will be retried");
            }
        }
        Stored::Applied(None) | Stored::Duplicate => {}
    }
    Ok(Received {
        params,
        account_id,
        call,
    })
}

pub(super) fn no_content(received: Result<Received, Response>) -> Response {
    match received {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}
