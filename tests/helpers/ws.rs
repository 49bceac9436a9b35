//! A minimal graphql-transport-ws client over a real socket.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What the server did with `connection_init`.
pub enum Init {
    Ack(Box<WsClient>),
    Closed { code: u16, reason: String },
}

impl WsClient {
    /// An upgraded socket that has sent nothing yet.
    pub async fn open(addr: SocketAddr) -> WsClient {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        WsClient { socket }
    }

    pub async fn connect(addr: SocketAddr, init_payload: Value) -> Init {
        let mut client = Self::open(addr).await;
        client
            .send(json!({"type": "connection_init", "payload": init_payload}))
            .await;
        match client.next_raw().await {
            Some(Ok(Message::Text(text))) => {
                let msg: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(msg["type"], "connection_ack", "{msg}");
                Init::Ack(Box::new(client))
            }
            Some(Ok(Message::Close(frame))) => Init::Closed {
                code: frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(0),
                reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
            },
            None | Some(Err(_)) => Init::Closed {
                code: 0,
                reason: String::new(),
            },
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
        }
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// Every protocol message until the server closes the socket, and its close code.
    pub async fn until_close(&mut self, within: Duration) -> (Vec<Value>, Option<u16>) {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("the server did not close the socket in time; saw {seen:?}")
                });
            match msg {
                Some(Ok(Message::Text(text))) => seen.push(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => return (seen, frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                _ => return (seen, None),
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.subscribe_with(id, query, json!({})).await;
    }

    pub async fn subscribe_with(&mut self, id: &str, query: &str, variables: Value) {
        self.socket
            .send(Message::text(
                json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
                    .to_string(),
            ))
            .await
            .unwrap();
    }

    /// Reads until the server closes the socket: its close code, or `None` if it just dropped.
    pub async fn close_code(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the server did not close the socket in time");
            match msg {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }

    /// The next protocol message other than a ping, whole.
    pub async fn next_message(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // The caller's deadline, not `next_raw`'s: silence must not read as a closed socket.
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("timed out waiting for a message");
            match msg {
                Some(Ok(Message::Text(text))) => {
                    let msg: Value = serde_json::from_str(&text).unwrap();
                    if msg["type"] != "ping" {
                        return msg;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// The first `next` payload that `wanted` accepts, within `within`. Earlier ones are
    /// skipped: an event published before the subscription (a test's own setup, say) may
    /// still be on its way through Redis when the socket subscribes.
    pub async fn payload_where(
        &mut self,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let payload = tokio::time::timeout(left, self.next_payload(left))
                .await
                .unwrap_or_else(|_| panic!("no wanted payload in time; skipped {skipped:?}"));
            if wanted(&payload) {
                return payload;
            }
            skipped.push(payload);
        }
    }

    /// The next `next` payload, within `within`.
    pub async fn next_payload(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // The caller's deadline, not `next_raw`'s: silence must not read as a closed socket.
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("timed out waiting for a subscription event");
            match msg {
                Some(Ok(Message::Text(text))) => {
                    let msg: Value = serde_json::from_str(&text).unwrap();
                    match msg["type"].as_str() {
                        Some("next") => return msg["payload"].clone(),
                        Some("ping") => continue,
                        _ => panic!("unexpected message {msg}"),
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    async fn next_raw(&mut self) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
        tokio::time::timeout(Duration::from_secs(10), self.socket.next())
            .await
            .ok()
            .flatten()
    }
}
