//! `/graphql/ws` (graphql-transport-ws): the access token arrives in `connection_init`;
//! a connection without a valid one is closed.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::context::RequestMeta;
use super::http::strip_bearer;
use crate::auth;
use crate::forwarded::client_ip;
use crate::server::ServerState;

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
        .on_upgrade(move |socket| async move {
            let app = server.app.clone();
            let shutdown = app.shutdown.clone();
            let connection = GraphQLWebSocket::new(socket, server.schema.clone(), protocol)
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
            tokio::select! {
                () = connection => {}
                () = shutdown.cancelled() => {}
            }
        })
}
