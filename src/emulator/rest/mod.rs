//! Twilio's REST paths (2010-04-01) over the emulator's world.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use rand::Rng;
use serde_json::{json, Value};

use super::{render, Emulator};

mod calls;
mod numbers;

use calls::{create_call, delete_call, fetch_call, list_calls, update_call};
use numbers::{
    buy_number, fetch_number, list_numbers, release_number, search_numbers, update_number,
};

type Params = Vec<(String, String)>;

pub fn routes(emu: &Emulator) -> Router<Emulator> {
    Router::new()
        .route("/2010-04-01/Accounts/{account}", get(fetch_account))
        .route("/2010-04-01/Accounts/{account}/Balance.json", get(balance))
        .route(
            "/2010-04-01/Accounts/{account}/Calls.json",
            get(list_calls).post(create_call),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            get(fetch_call).post(update_call).delete(delete_call),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            get(list_numbers).post(buy_number),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{number}",
            get(fetch_number).post(update_number).delete(release_number),
        )
        .route(
            "/2010-04-01/Accounts/{account}/AvailablePhoneNumbers/{country}/Local.json",
            get(search_numbers),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            emu.clone(),
            gate_layer,
        ))
}

fn err(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(render::error(status.as_u16(), code, message))).into_response()
}

fn not_found(path: &str) -> Response {
    err(
        StatusCode::NOT_FOUND,
        20404,
        &format!("The requested resource {path} was not found"),
    )
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Every REST request passes the gate first; the account is the path's fourth segment.
async fn gate_layer(State(emu): State<Emulator>, request: Request, next: Next) -> Response {
    let account = request
        .uri()
        .path()
        .split('/')
        .nth(3)
        .unwrap_or("")
        .to_owned();
    if let Err(rejected) = gate(&emu, request.headers(), &account).await {
        return rejected;
    }
    next.run(request).await
}

/// Faults, outages and Basic auth, in the order Twilio's edge would apply them.
async fn gate(emu: &Emulator, headers: &HeaderMap, account: &str) -> Result<(), Response> {
    if let Some(until) = emu.with(|w| w.outage_until) {
        tokio::time::sleep_until(until.into()).await;
    }
    let (r429, r500) = emu.with(|w| {
        let roll: f64 = w.rng.gen::<f64>() * 100.0;
        (
            roll < w.faults.rest_429,
            roll >= w.faults.rest_429 && roll < w.faults.rest_429 + w.faults.rest_500,
        )
    });
    if r429 {
        return Err(err(
            StatusCode::TOO_MANY_REQUESTS,
            20429,
            "Too Many Requests",
        ));
    }
    if r500 {
        return Err(err(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        ));
    }
    let account = account.strip_suffix(".json").unwrap_or(account);
    let credentials = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok());
    let ok = credentials
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .is_some_and(|(user, token)| {
            user == account
                && emu.with(|w| {
                    w.accounts
                        .get(account)
                        .is_some_and(|a| a.auth_token == token)
                })
        });
    if ok {
        Ok(())
    } else {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.", "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})),
        )
            .into_response();
        response.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
        Err(response)
    }
}

async fn fetch_account(State(emu): State<Emulator>, Path(account): Path<String>) -> Response {
    let Some(sid) = account.strip_suffix(".json") else {
        return not_found(&account);
    };
    emu.with(|w| w.accounts.get(sid).map(render::account))
        .map_or_else(|| not_found(sid), |v| Json(v).into_response())
}

async fn balance(State(emu): State<Emulator>, Path(account): Path<String>) -> Response {
    emu.with(|w| w.accounts.get(&account).map(render::balance))
        .map_or_else(|| not_found(&account), |v| Json(v).into_response())
}

fn is_e164(n: &str) -> bool {
    let digits = n.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

fn is_http_url(u: &str) -> bool {
    reqwest::Url::parse(u)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

fn page_args(q: &Params) -> (usize, usize) {
    let size = param(q, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 1000);
    let page = param(q, "Page")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0usize);
    (size, page)
}

/// The Twilio list envelope with a relative `next_page_uri` that round-trips the filters.
fn envelope(
    key: &str,
    path: &str,
    q: &Params,
    items: Vec<Value>,
    total: usize,
    page: usize,
    size: usize,
) -> Value {
    let filters: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken"))
        .cloned()
        .collect();
    let uri_for = |p: usize| {
        let mut query = filters.clone();
        query.push(("PageSize".into(), size.to_string()));
        query.push(("Page".into(), p.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    };
    let start = page * size;
    let count = items.len();
    let next = (start + count < total).then(|| format!("{}&PageToken=PA{page}", uri_for(page + 1)));
    json!({
        key: items,
        "end": (start + count).saturating_sub(1),
        "first_page_uri": uri_for(0),
        "next_page_uri": next,
        "page": page,
        "page_size": size,
        "previous_page_uri": (page > 0).then(|| uri_for(page - 1)),
        "start": start,
        "uri": uri_for(page),
    })
}

#[cfg(test)]
mod tests {
    use super::calls::parse_time;
    use super::numbers::wildcard_contains;
    use super::*;

    #[test]
    fn e164_and_wildcards() {
        assert!(is_e164("+84912345678"));
        assert!(!is_e164("0912345678"));
        assert!(!is_e164("+999999999999999999999"));
        assert!(wildcard_contains("+14155551007", "55*1"));
        assert!(!wildcard_contains("+14155551007", "999"));
    }

    #[test]
    fn start_time_accepts_dates_and_datetimes() {
        assert!(parse_time("2024-01-02").is_some());
        assert!(parse_time("2024-01-02T03:04:05Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
