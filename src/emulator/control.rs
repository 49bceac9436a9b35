//! The control API under `/emulator/`: scenarios, faults, the ledger, call transcripts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{Emulator, Faults, Scenario};

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/emulator/ledger", get(ledger))
        .route("/emulator/calls/{sid}", get(call))
        .route("/emulator/scenario", post(scenario))
        .route("/emulator/faults", post(faults))
        .route("/emulator/accounts", post(add_account))
        .route("/emulator/inbound", post(inbound))
}

#[derive(Deserialize)]
struct Inbound {
    from: String,
    to: String,
}

/// Someone calls one of the emulated numbers.
async fn inbound(State(emu): State<Emulator>, Json(call): Json<Inbound>) -> Response {
    match emu.inbound_call(&call.from, &call.to) {
        Some(sid) => (StatusCode::CREATED, Json(json!({"sid": sid}))).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such number"})),
        )
            .into_response(),
    }
}

async fn ledger(State(emu): State<Emulator>) -> Response {
    Json(json!({"calls": emu.ledger()})).into_response()
}

async fn call(State(emu): State<Emulator>, Path(sid): Path<String>) -> Response {
    match emu.call(&sid) {
        Some(record) => Json(record).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such call"})),
        )
            .into_response(),
    }
}

async fn scenario(State(emu): State<Emulator>, Json(scenario): Json<Scenario>) -> Response {
    emu.set_scenario(scenario);
    StatusCode::NO_CONTENT.into_response()
}

async fn faults(State(emu): State<Emulator>, Json(faults): Json<Faults>) -> Response {
    emu.set_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct NewAccount {
    account_sid: String,
    auth_token: String,
    #[serde(default)]
    friendly_name: String,
    #[serde(default)]
    numbers: usize,
}

async fn add_account(State(emu): State<Emulator>, Json(a): Json<NewAccount>) -> Response {
    emu.add_account(&a.account_sid, &a.auth_token, &a.friendly_name, a.numbers);
    (
        StatusCode::CREATED,
        Json(json!({"owned_numbers": emu.owned_numbers(&a.account_sid)})),
    )
        .into_response()
}
