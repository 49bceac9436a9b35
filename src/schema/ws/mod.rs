//! `/graphql/ws` (graphql-transport-ws): the access token arrives in `connection_init`, may be
//! renewed by a `ping`, and is re-checked for the socket's life (see `session`). Close codes:
//! 4401 token expired, 4403 token refused or the user changed, 4408 no `connection_init` in
//! time, 4429 too many sockets for the user, 1001 server stopping, 1013 try again later.

mod operations;
mod session;

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};

pub use operations::{OperationLimit, Operations};
pub use session::Session;

use crate::forwarded::client_ip;
use crate::graphql::context::RequestMeta;
use crate::schema::ServerState;

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
            let limits = app.config.websockets.clone();
            let session = Session::new(app.clone(), ip.clone());
            let (mut socket_tx, socket_rx) = socket.split();
            // The protocol writes into a channel, so this task still owns the socket and can
            // close it with its own code: the server stopping, or the session's verdict.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(16);
            let tx = tokio_util::sync::PollSender::new(tx);
            let mut socket_data = Data::default();
            socket_data.insert(session.clone() as std::sync::Arc<dyn crate::graphql::SessionCheck>);
            socket_data.insert(Operations::new(limits.max_operations));
            let (init, ping) = (session.clone(), session.clone());
            let connection =
                GraphQLWebSocket::new_with_pair(tx, socket_rx, server.schema.clone(), protocol)
                    .with_data(socket_data)
                    .on_connection_init(move |payload| async move {
                        let viewer = init.sign_in(&payload).await?;
                        let mut data = Data::default();
                        data.insert(viewer);
                        data.insert(RequestMeta { ip });
                        Ok(data)
                    })
                    .on_ping(move |_, payload| async move { ping.renew(payload).await })
                    .serve();
            let guard = session.clone().guard(limits);
            let (ending, shutdown) = (session.clone(), app.shutdown.clone());
            let protocol_side = async move {
                tokio::select! {
                    () = connection => {}
                    () = guard => {}
                    _ = ending.closing() => {}
                    () = shutdown.cancelled() => ending.close_with(session::GOING_AWAY, "server shutting down"),
                }
            };
            let closer = session.clone();
            let socket_side = async move {
                loop {
                    tokio::select! {
                        // A verdict goes out before anything still queued behind it.
                        biased;
                        close = closer.closing() => {
                            let frame = CloseFrame { code: close.code, reason: close.reason.into() };
                            let _ = socket_tx.send(Message::Close(Some(frame))).await;
                            break;
                        }
                        msg = rx.recv() => match msg {
                            Some(msg) => {
                                let last = matches!(msg, Message::Close(_));
                                if socket_tx.send(msg).await.is_err() || last {
                                    break;
                                }
                            }
                            // The protocol ended by itself.
                            None => break,
                        },
                    }
                }
                let _ = socket_tx.close().await;
            };
            let tracker = app.websockets.clone();
            tracker
                .track_future(async move {
                    tokio::join!(protocol_side, socket_side);
                })
                .await;
            session.release();
        })
}
