//! The event bus as a subscription resolver reads it.
//!
//! A stream listens only on the routes it may receive (see `events::routes`): by default the
//! viewer's own events, or everything for an admin; a resolver that knows its campaign or owner
//! narrows that with [`viewer_events_on`]. Whatever the routes, an event another tenant owns is
//! never handed to a user's stream (`events::for_viewer`).
//!
//! On a websocket, an event saying the viewer changed holds back everything published after
//! it until the socket has re-checked the viewer; if the viewer no longer holds, the stream
//! ends there (and the socket is closing).

use std::sync::Arc;

use async_graphql::Context;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast::error::RecvError;

use super::context::ContextExt;
use crate::events::{Event, Listener, Route, VIEWER_CHANGED};
use crate::viewer::Viewer;

/// What a websocket puts in its data so the stream can ask whether its viewer still holds
/// (the socket re-reads the user; on `false` it is closing).
pub trait SessionCheck: Send + Sync {
    fn confirm(&self) -> BoxFuture<'_, bool>;
}

pub struct ViewerEvents {
    events: Listener,
    viewer: Option<Viewer>,
    session: Option<Arc<dyn SessionCheck>>,
}

/// The events the viewer may receive: their own, or everyone's for an admin.
pub fn viewer_events(ctx: &Context<'_>) -> ViewerEvents {
    let route = match ctx.data_opt::<Viewer>() {
        Some(viewer) if !viewer.is_admin() => Route::Owner(viewer.id),
        _ => Route::Everything,
    };
    viewer_events_on(ctx, [route])
}

/// The events on `routes` (a campaign, an owner) that the viewer may receive.
pub fn viewer_events_on(
    ctx: &Context<'_>,
    routes: impl IntoIterator<Item = Route>,
) -> ViewerEvents {
    let viewer = ctx.data_opt::<Viewer>().cloned();
    let session = ctx.data_opt::<Arc<dyn SessionCheck>>().cloned();
    // The socket's own sign-in changes, on whatever routes the stream reads.
    let sign_in = viewer
        .as_ref()
        .filter(|_| session.is_some())
        .map(|v| Route::SignIn(v.id));
    ViewerEvents {
        events: ctx.state().events.listen(routes.into_iter().chain(sign_in)),
        viewer,
        session,
    }
}

impl ViewerEvents {
    /// As `broadcast::Receiver::recv`: `Lagged(n)` after `n` events were lost to a full queue
    /// (the resolver re-reads the state), `Closed` when the socket's viewer no longer holds.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        loop {
            let received = self.events.recv().await;
            if let (Some(session), Some(viewer)) = (&self.session, &self.viewer) {
                let suspect = match &received {
                    Ok(event) => event.kind == VIEWER_CHANGED && event.owner_id == viewer.id,
                    // A missed event may have been a change.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => false,
                };
                if suspect && !session.confirm().await {
                    return Err(RecvError::Closed);
                }
            }
            match (&received, &self.viewer) {
                (Ok(event), Some(viewer)) if !crate::events::for_viewer(viewer, event.owner_id) => {
                    continue
                }
                _ => return received,
            }
        }
    }

    /// Events queued for this stream since it started (the routes' work for it).
    pub fn woken(&self) -> u64 {
        self.events.woken()
    }
}
