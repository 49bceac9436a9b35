//! `/graphql/ws` (graphql-transport-ws): the access token arrives in `connection_init`;
//! a connection without a valid one is closed.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};

use super::context::RequestMeta;
use super::http::strip_bearer;
use crate::auth;
use crate::forwarded::client_ip;
use crate::server::ServerState;

/// RFC 6455 "going away": the server is stopping; clients reconnect elsewhere.
const GOING_AWAY: u16 = 1001;

pub async fn graphql_ws(
    State(server): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let ip = client_ip(&headers, peer, server.app.config.trust_proxy);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        // Subscriptions receive a few small frames; the 128 KiB default read buffer is what
        // ten thousand dashboards would mostly spend their memory on.
        .read_buffer_size(4 * 1024)
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| async move {
            let app = server.app.clone();
            let shutdown = app.shutdown.clone();
            let (mut socket_tx, socket_rx) = socket.split();
            // The protocol writes into a channel, so this task still owns the socket when the
            // server stops and can say goodbye with a close frame.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(16);
            let tx = tokio_util::sync::PollSender::new(tx);
            let connection = GraphQLWebSocket::new_with_pair(tx, socket_rx, server.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .and_then(strip_bearer)
                        .ok_or_else(|| async_graphql::Error::new("connection_init must carry {\"authorization\": \"Bearer <accessToken>\"}"))?;
                    let viewer = auth::service::authenticate(&app, token)
                        .await
                        .map_err(|e| async_graphql::Error::new(e.message()))?;
                    let mut data = Data::default();
                    data.insert(viewer);
                    data.insert(RequestMeta { ip });
                    Ok(data)
                })
                .serve();
            let stopping = shutdown.clone();
            let protocol_side = async move {
                tokio::select! {
                    () = connection => {}
                    () = stopping.cancelled() => {}
                }
            };
            let socket_side = async move {
                while let Some(msg) = rx.recv().await {
                    if socket_tx.send(msg).await.is_err() {
                        return;
                    }
                }
                // The protocol ended, by itself (its own close frame went out above) or
                // because the server is stopping.
                if shutdown.is_cancelled() {
                    let bye = CloseFrame {
                        code: GOING_AWAY,
                        reason: "server shutting down".into(),
                    };
                    let _ = socket_tx.send(Message::Close(Some(bye))).await;
                }
                let _ = socket_tx.close().await;
            };
            let tracker = server.app.websockets.clone();
            tracker.track_future(async move {
                tokio::join!(protocol_side, socket_side);
            })
            .await;
        })
}
