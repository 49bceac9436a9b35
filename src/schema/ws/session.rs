//! One websocket's identity: who opened it, until when, and whether that still holds.
//!
//! A socket keeps the viewer of its `connection_init` only while `auth::service::authenticate`
//! accepts its token as the same user with the same role. It asks again when a
//! `viewer.changed` event names its user (role, status, password, sign-out, revoked sessions),
//! when a subscription meets such an event (which then waits for the answer before delivering
//! anything published after it), and every `WS_RECHECK_SECS` in case an event was lost. Any
//! change closes the socket with 4403; an expired token closes it with 4401 unless a `ping`
//! carrying `{"authorization": "Bearer <newer token>"}` renewed it first.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::app::AppState;
use crate::auth::{self, Viewer};
use crate::config::WebsocketLimits;
use crate::error::AppError;
use crate::events::ViewerWatch;
use crate::schema::http::strip_bearer;

/// RFC 6455 "going away": the server is stopping; clients reconnect elsewhere.
pub const GOING_AWAY: u16 = 1001;
/// RFC 6455 "try again later": the session could not be checked (the database is away).
const TRY_AGAIN_LATER: u16 = 1013;
/// graphql-transport-ws: the token expired and was not renewed; refresh it and reconnect.
pub const UNAUTHORIZED: u16 = 4401;
/// graphql-transport-ws: the token is refused, or the user it names changed.
pub const FORBIDDEN: u16 = 4403;
/// graphql-transport-ws: no `connection_init` in time.
pub const INIT_TIMEOUT: u16 = 4408;
/// The user already holds `WS_MAX_SOCKETS_PER_USER` sockets on this process.
pub const TOO_MANY_SOCKETS: u16 = 4429;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

/// Deliberately not `Debug`: it holds a bearer token.
#[derive(Clone)]
struct Signed {
    token: String,
    viewer: Viewer,
    expires_at: DateTime<Utc>,
}

/// The last re-check: when it started and whether the viewer still held.
#[derive(Clone, Copy)]
struct Checked {
    started: Instant,
    held: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Change,
    Backstop,
}

pub struct Session {
    app: AppState,
    /// The client's address, recorded when an API key signs the socket in.
    ip: String,
    /// The first verdict wins; the socket task sends it as the close frame.
    close: watch::Sender<Option<Close>>,
    signed: watch::Sender<Option<Signed>>,
    place: Mutex<Option<ViewerWatch>>,
    check_wanted: Notify,
    checked: watch::Sender<Option<Checked>>,
}

impl crate::graphql::SessionCheck for Session {
    fn confirm(&self) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(Session::confirm(self))
    }
}

impl Session {
    pub fn new(app: AppState, ip: String) -> Arc<Self> {
        Arc::new(Self {
            app,
            ip,
            close: watch::channel(None).0,
            signed: watch::channel(None).0,
            place: Mutex::new(None),
            check_wanted: Notify::new(),
            checked: watch::channel(None).0,
        })
    }

    /// Closes the socket with `code`, unless a verdict was already given.
    pub fn close_with(&self, code: u16, reason: impl Into<String>) {
        let reason = reason.into();
        self.close.send_if_modified(|close| match close {
            Some(_) => false,
            None => {
                *close = Some(Close { code, reason });
                true
            }
        });
    }

    /// The verdict, once there is one.
    pub async fn closing(&self) -> Close {
        let mut close = self.close.subscribe();
        let verdict = close
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|c| c.clone());
        // `self` holds the sender, so there is always a verdict here.
        verdict.unwrap_or(Close {
            code: GOING_AWAY,
            reason: String::new(),
        })
    }

    /// `connection_init`: the token must be valid and the user below the socket cap.
    pub async fn sign_in(&self, payload: &Value) -> async_graphql::Result<Viewer> {
        let token = bearer(Some(payload)).ok_or_else(|| {
            self.refuse(
                FORBIDDEN,
                "connection_init must carry {\"authorization\": \"Bearer <accessToken>\"}",
            )
        })?;
        let signed = self.authenticate(token).await?;
        let max = self.app.config.websockets.max_sockets_per_user;
        let place = self
            .app
            .events
            .watch_viewer(signed.viewer.id, max)
            .ok_or_else(|| {
                self.refuse(
                    TOO_MANY_SOCKETS,
                    format!("at most {max} open websockets per user; close one first"),
                )
            })?;
        *self.place.lock().unwrap_or_else(PoisonError::into_inner) = Some(place);
        let viewer = signed.viewer.clone();
        self.signed.send_replace(Some(signed));
        Ok(viewer)
    }

    /// A `ping` with `{"authorization": "Bearer <token>"}` renews the socket's token; it must
    /// name the same user with the same role. A ping without it is only a ping.
    pub async fn renew(&self, payload: Option<Value>) -> async_graphql::Result<Option<Value>> {
        let Some(token) = bearer(payload.as_ref()) else {
            return Ok(None);
        };
        let Some(current) = self.signed.borrow().clone() else {
            // Before connection_ack there is nothing to renew.
            return Ok(None);
        };
        let renewed = self.authenticate(token).await?;
        if !same_viewer(&renewed.viewer, &current.viewer) {
            return Err(self.refuse(
                FORBIDDEN,
                "a ping may only renew the token of the same user with the same role",
            ));
        }
        let expires_at = renewed.expires_at;
        self.signed.send_replace(Some(renewed));
        Ok(Some(json!({ "expiresAt": expires_at.to_rfc3339() })))
    }

    /// Waits for a re-check that started after this call; false when the viewer no longer
    /// holds (the socket is closing).
    pub async fn confirm(&self) -> bool {
        let asked = Instant::now();
        let mut checked = self.checked.subscribe();
        self.check_wanted.notify_one();
        tokio::select! {
            held = checked.wait_for(|c| c.is_some_and(|c| c.started >= asked)) => {
                held.ok().and_then(|c| *c).is_some_and(|c| c.held)
            }
            _ = self.closing() => false,
        }
    }

    /// Frees the user's socket place at once (dropping the session would, later).
    pub fn release(&self) {
        self.place
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Runs for the socket's life; returns once it has given a verdict.
    pub async fn guard(self: Arc<Self>, limits: WebsocketLimits) {
        let mut signed = self.signed.subscribe();
        if tokio::time::timeout(limits.init_timeout, signed.wait_for(Option::is_some))
            .await
            .is_err()
        {
            self.close_with(
                INIT_TIMEOUT,
                format!(
                    "connection_init not received within {} s",
                    limits.init_timeout.as_secs_f64()
                ),
            );
            return;
        }
        let Some(mut changed) = self
            .place
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|p| p.changed.clone())
        else {
            return;
        };
        // Spread over the interval, so ten thousand sockets do not re-check in one burst.
        let offset = limits
            .recheck_interval
            .mul_f64(rand::random::<f64>())
            .max(Duration::from_millis(1));
        let mut backstop =
            tokio::time::interval_at(Instant::now() + offset, limits.recheck_interval);
        let mut closing = self.close.subscribe();
        loop {
            let expires_in = signed
                .borrow_and_update()
                .as_ref()
                .map(|s| (s.expires_at - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or_default();
            tokio::select! {
                // Mapped to `()`: the watch guard must not live across the other branches' awaits.
                () = async { let _ = closing.wait_for(Option::is_some).await; } => return,
                () = tokio::time::sleep(expires_in) => {
                    self.close_with(
                        UNAUTHORIZED,
                        "access token expired: renew it with a ping {\"authorization\": \"Bearer <token>\"} before it expires, or reconnect",
                    );
                    return;
                }
                // A ping renewed the token: wait for the new expiry.
                renewed = signed.changed() => if renewed.is_err() { return },
                told = changed.changed() => {
                    if told.is_err() {
                        return;
                    }
                    self.check(Trigger::Change).await;
                }
                () = self.check_wanted.notified() => self.check(Trigger::Change).await,
                _ = backstop.tick() => self.check(Trigger::Backstop).await,
            }
        }
    }

    /// Boxed: the re-check's state (a token check with its queries) is held only while it
    /// runs, not in every idle socket's guard.
    fn check(&self, trigger: Trigger) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(self.recheck(trigger))
    }

    async fn recheck(&self, trigger: Trigger) {
        loop {
            let started = Instant::now();
            let Some(current) = self.signed.borrow().clone() else {
                return;
            };
            let result = auth::service::authenticate(&self.app, &current.token, None)
                .await
                .map(|signed| signed.viewer);
            let still_current = self
                .signed
                .borrow()
                .as_ref()
                .is_some_and(|s| s.token == current.token);
            if !still_current {
                // A ping renewed the token meanwhile: that one is what counts.
                continue;
            }
            let held = match result {
                Ok(viewer) if same_viewer(&viewer, &current.viewer) => true,
                Ok(_) => {
                    self.close_with(
                        FORBIDDEN,
                        "your role changed: reconnect to subscribe as you are now",
                    );
                    false
                }
                Err(AppError::Unauthenticated(_) | AppError::Forbidden(_))
                    if current.expires_at <= Utc::now() =>
                {
                    self.close_with(UNAUTHORIZED, "access token expired");
                    false
                }
                Err(AppError::Unauthenticated(_) | AppError::Forbidden(_)) => {
                    self.close_with(
                        FORBIDDEN,
                        "this sign-in no longer holds (suspended, password changed, signed out or revoked)",
                    );
                    false
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "a websocket could not re-check its viewer");
                    if trigger == Trigger::Backstop {
                        // Only a safety net: the next tick tries again.
                        return;
                    }
                    self.close_with(TRY_AGAIN_LATER, "could not re-check the session; reconnect");
                    false
                }
            };
            self.checked.send_replace(Some(Checked { started, held }));
            return;
        }
    }

    /// Validates `token` as `authenticate` does; a refusal closes the socket.
    async fn authenticate(&self, token: &str) -> async_graphql::Result<Signed> {
        let signed = match auth::service::authenticate(&self.app, token, Some(&self.ip)).await {
            Ok(signed) => signed,
            Err(e @ (AppError::Unauthenticated(_) | AppError::Forbidden(_))) => {
                return Err(self.refuse(FORBIDDEN, e.message()))
            }
            Err(e) => {
                tracing::warn!(error = ?e, "a websocket could not check its token");
                return Err(self.refuse(TRY_AGAIN_LATER, "could not check the token; reconnect"));
            }
        };
        // An API key without an expiry holds until revoked; revocation is what closes it.
        let expires_at = signed
            .expires_at
            .unwrap_or_else(|| Utc::now() + chrono::Duration::days(3650));
        Ok(Signed {
            token: token.to_owned(),
            viewer: signed.viewer,
            expires_at,
        })
    }

    fn refuse(&self, code: u16, reason: impl Into<String>) -> async_graphql::Error {
        let reason = reason.into();
        self.close_with(code, reason.clone());
        async_graphql::Error::new(reason)
    }
}

fn bearer(payload: Option<&Value>) -> Option<&str> {
    let payload = payload?;
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(Value::as_str)
        .and_then(strip_bearer)
}

/// What a socket's subscriptions were filtered by: the user, the role and the key's scopes
/// (a ping cannot widen a key's socket into a password sign-in's).
fn same_viewer(a: &Viewer, b: &Viewer) -> bool {
    a.id == b.id && a.role == b.role && a.scopes == b.scopes
}
