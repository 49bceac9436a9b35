//! The event bus as a subscription resolver reads it.
//!
//! On a websocket, an event saying the viewer changed holds back everything published after
//! it until the socket has re-checked the viewer; if the viewer no longer holds, the stream
//! ends there (and the socket is closing). Elsewhere it is the bus unchanged.

use std::sync::Arc;

use async_graphql::Context;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::context::ContextExt;
use crate::events::{Event, VIEWER_CHANGED};
use crate::viewer::Viewer;

/// What a websocket puts in its data so the stream can ask whether its viewer still holds
/// (the socket re-reads the user; on `false` it is closing).
pub trait SessionCheck: Send + Sync {
    fn confirm(&self) -> BoxFuture<'_, bool>;
}

pub struct ViewerEvents {
    events: broadcast::Receiver<Event>,
    session: Option<(Arc<dyn SessionCheck>, Uuid)>,
}

/// Subscribes to the bus for the resolver running in `ctx`.
pub fn viewer_events(ctx: &Context<'_>) -> ViewerEvents {
    let session = ctx
        .data_opt::<Arc<dyn SessionCheck>>()
        .cloned()
        .zip(ctx.data_opt::<Viewer>().map(|v| v.id));
    ViewerEvents {
        events: ctx.state().events.subscribe(),
        session,
    }
}

impl ViewerEvents {
    /// As `broadcast::Receiver::recv`.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        let received = self.events.recv().await;
        if let Some((session, viewer)) = &self.session {
            let suspect = match &received {
                Ok(event) => event.kind == VIEWER_CHANGED && event.owner_id == *viewer,
                // A missed event may have been a change.
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => false,
            };
            if suspect && !session.confirm().await {
                return Err(RecvError::Closed);
            }
        }
        received
    }
}
