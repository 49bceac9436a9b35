//! The Twilio emulator on a real port, and a stand-in customer server that records every
//! request the emulator makes to it (with its signature checked).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Form, Router};
use ringcast::config::Secret;
use ringcast::emulator::Emulator;
use ringcast::twilio::{signature, TwilioClient};
use tokio_util::sync::CancellationToken;

pub struct Carrier {
    pub emulator: Emulator,
    pub base: String,
    pub account_sid: String,
    pub auth_token: String,
    shutdown: CancellationToken,
}

impl Carrier {
    /// `time_scale` 0.0005: a 4 s ring takes 2 ms.
    pub async fn start(owned_numbers: usize) -> Self {
        let emulator = Emulator::new(7, 0.0005);
        let account_sid = format!("AC{}", uuid::Uuid::new_v4().simple());
        let auth_token = uuid::Uuid::new_v4().simple().to_string();
        emulator.add_account(&account_sid, &auth_token, "Test", owned_numbers);
        let shutdown = CancellationToken::new();
        let addr = emulator
            .spawn(SocketAddr::from(([127, 0, 0, 1], 0)), shutdown.clone())
            .await
            .unwrap();
        Self {
            emulator,
            base: format!("http://{addr}"),
            account_sid,
            auth_token,
            shutdown,
        }
    }

    pub fn client(&self) -> TwilioClient {
        TwilioClient::new(
            TwilioClient::http_client(),
            &self.base,
            &self.account_sid,
            Secret::new(self.auth_token.clone()),
        )
    }

    pub fn numbers(&self) -> Vec<String> {
        self.emulator.owned_numbers(&self.account_sid)
    }
}

impl Drop for Carrier {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub params: Vec<(String, String)>,
    pub signed: bool,
}

impl Hit {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers `/voice` with a greeting and a one-digit menu, `/gather` with thanks, and records
/// everything, including whether `X-Twilio-Signature` was valid for `auth_token`.
#[derive(Clone)]
pub struct Customer {
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

#[derive(Clone)]
struct CustomerState {
    base: String,
    auth_token: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Customer {
    pub async fn start(auth_token: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let state = CustomerState {
            base: base.clone(),
            auth_token: auth_token.to_owned(),
            hits: hits.clone(),
        };
        let router = Router::new().route("/{hook}", post(hook)).with_state(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base, hits }
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }
}

async fn hook(
    State(state): State<CustomerState>,
    Path(hook): Path<String>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> String {
    let url = format!("{}/{hook}", state.base);
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed = signature::validate(&state.auth_token, sig, &url, &params);
    state.hits.lock().unwrap().push(Hit {
        path: hook.clone(),
        params,
        signed,
    });
    match hook.as_str() {
        "voice" => format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="vi-VN">Xin chào</Say><Gather numDigits="1" action="{}/gather"><Say>Nhấn 1</Say></Gather><Say>Tạm biệt</Say></Response>"#,
            state.base
        ),
        "gather" => "<Response><Say>Cảm ơn</Say><Hangup/></Response>".to_owned(),
        _ => String::new(),
    }
}
