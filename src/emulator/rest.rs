//! Twilio's REST paths (2010-04-01) over the emulator's world.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use serde_json::{json, Value};

use super::state::{sid, EmuCall, LedgerEntry};
use super::{progress, render, Emulator};

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

async fn create_call(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let bad = |code, message: &str| err(StatusCode::BAD_REQUEST, code, message);
    let Some(to) = param(&p, "To") else {
        return bad(21201, "No 'To' number is specified");
    };
    let Some(from) = param(&p, "From") else {
        return bad(21213, "No 'From' number is specified");
    };
    if !is_e164(to) {
        return bad(
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if !is_e164(from) {
        return bad(21212, &format!("The 'From' number {from} is not a valid phone number, shortcode, or alphanumeric sender ID."));
    }
    let url = param(&p, "Url");
    let twiml = param(&p, "Twiml");
    match (url, twiml) {
        (None, None) => {
            return bad(
                21205,
                "Url parameter is required (or Twiml, or ApplicationSid).",
            )
        }
        (Some(u), _) if !is_http_url(u) => {
            return bad(21205, &format!("Url is not a valid URL: {u}"))
        }
        _ => {}
    }
    if let Some(cb) = param(&p, "StatusCallback") {
        if !is_http_url(cb) {
            return bad(21205, &format!("StatusCallback is not a valid URL: {cb}"));
        }
    }
    let created = emu.with(|w| {
        let number_sid = w.owns(&account, from).map(|n| n.sid.clone())?;
        let now = Utc::now();
        let call = EmuCall {
            sid: sid("CA", &mut w.rng),
            account_sid: account.clone(),
            to: to.to_owned(),
            from: from.to_owned(),
            phone_number_sid: Some(number_sid),
            status: "queued".into(),
            answered_by: None,
            created: now,
            updated: now,
            start_time: None,
            end_time: None,
            duration: None,
            // Twilio ignores Twiml when Url is given.
            url: url.map(str::to_owned),
            method: param(&p, "Method").unwrap_or("POST").to_ascii_uppercase(),
            twiml: if url.is_some() {
                None
            } else {
                twiml.map(str::to_owned)
            },
            status_callback: param(&p, "StatusCallback").map(str::to_owned),
            status_callback_method: param(&p, "StatusCallbackMethod")
                .unwrap_or("POST")
                .to_ascii_uppercase(),
            status_callback_events: p
                .iter()
                .filter(|(k, _)| k == "StatusCallbackEvent")
                .map(|(_, v)| v.clone())
                .collect(),
            timeout_secs: param(&p, "Timeout")
                .and_then(|t| t.parse().ok())
                .unwrap_or(60)
                .min(600),
            machine_detection: param(&p, "MachineDetection").map(str::to_owned),
            async_amd: param(&p, "AsyncAmd") == Some("true"),
            async_amd_callback: param(&p, "AsyncAmdStatusCallback").map(str::to_owned),
            end_requested: None,
            direction: "outbound-api".into(),
            parent_call_sid: None,
            transcript: Vec::new(),
        };
        w.ledger.push(LedgerEntry {
            sid: call.sid.clone(),
            account_sid: account.clone(),
            to: call.to.clone(),
            from: call.from.clone(),
            created_at: now,
            status: call.status.clone(),
            duration: None,
            answered_by: None,
        });
        w.call_order.push(call.sid.clone());
        w.calls.insert(call.sid.clone(), call.clone());
        Some(call)
    });
    let Some(call) = created else {
        return bad(
            21210,
            &format!(
                "The source phone number provided, {from}, is not yet verified for your account."
            ),
        );
    };
    tokio::spawn(progress::run(emu.clone(), call.sid.clone()));
    (StatusCode::CREATED, Json(render::call(&call))).into_response()
}

fn call_sid(segment: &str) -> Option<&str> {
    segment
        .strip_suffix(".json")
        .filter(|s| s.starts_with("CA"))
}

async fn fetch_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default();
    emu.with(|w| {
        w.calls
            .get(sid)
            .filter(|c| c.account_sid == account)
            .map(render::call)
    })
    .map_or_else(|| not_found(&call), |v| Json(v).into_response())
}

async fn update_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
    Form(p): Form<Params>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default().to_owned();
    let status = param(&p, "Status").map(str::to_owned);
    if let Some(s) = &status {
        if s != "canceled" && s != "completed" {
            return err(
                StatusCode::BAD_REQUEST,
                21218,
                "Status must be canceled or completed",
            );
        }
    }
    let updated = emu.with(|w| {
        let call = w.calls.get_mut(&sid).filter(|c| c.account_sid == account)?;
        if let Some(s) = status {
            call.end_requested = Some(s);
        }
        call.updated = Utc::now();
        Some(render::call(call))
    });
    updated.map_or_else(|| not_found(&call), |v| Json(v).into_response())
}

async fn delete_call(
    State(emu): State<Emulator>,
    Path((account, call)): Path<(String, String)>,
) -> Response {
    let sid = call_sid(&call).unwrap_or_default().to_owned();
    // Only the record goes; the ledger keeps the fact that the call was placed.
    let removed = emu.with(|w| {
        let owned = w.calls.get(&sid).is_some_and(|c| c.account_sid == account);
        owned.then(|| w.calls.remove(&sid)).flatten()
    });
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&call),
    }
}

/// `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp, as the SDK sends.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
        })
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

async fn list_calls(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (size, page) = page_args(&q);
    let after = param(&q, "StartTime>")
        .or_else(|| param(&q, "StartTime>="))
        .and_then(parse_time);
    let before = param(&q, "StartTime<")
        .or_else(|| param(&q, "StartTime<="))
        .and_then(parse_time);
    let on = param(&q, "StartTime").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let (items, total) = emu.with(|w| {
        let matching: Vec<&EmuCall> = w
            .call_order
            .iter()
            .rev()
            .filter_map(|sid| w.calls.get(sid))
            .filter(|c| c.account_sid == account)
            .filter(|c| param(&q, "To").is_none_or(|v| c.to == v))
            .filter(|c| param(&q, "From").is_none_or(|v| c.from == v))
            .filter(|c| param(&q, "Status").is_none_or(|v| c.status == v))
            .filter(|c| {
                let t = c.start_time.unwrap_or(c.created);
                after.is_none_or(|a| t >= a)
                    && before.is_none_or(|b| t <= b)
                    && on.is_none_or(|d| t.date_naive() == d)
            })
            .collect();
        let total = matching.len();
        let items = matching
            .into_iter()
            .skip(page * size)
            .take(size)
            .map(render::call)
            .collect::<Vec<_>>();
        (items, total)
    });
    let path = format!("/2010-04-01/Accounts/{account}/Calls.json");
    Json(envelope("calls", &path, &q, items, total, page, size)).into_response()
}

async fn list_numbers(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (size, page) = page_args(&q);
    let filter = param(&q, "PhoneNumber").map(|p| p.replace('*', ""));
    let (items, total) = emu.with(|w| {
        let mut numbers: Vec<_> = w
            .numbers
            .values()
            .filter(|n| n.account_sid == account)
            .filter(|n| filter.as_deref().is_none_or(|f| n.phone_number.contains(f)))
            .collect();
        numbers.sort_by(|a, b| a.created.cmp(&b.created).then(a.sid.cmp(&b.sid)));
        let total = numbers.len();
        (
            numbers
                .into_iter()
                .skip(page * size)
                .take(size)
                .map(render::number)
                .collect::<Vec<_>>(),
            total,
        )
    });
    let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
    Json(envelope(
        "incoming_phone_numbers",
        &path,
        &q,
        items,
        total,
        page,
        size,
    ))
    .into_response()
}

async fn buy_number(
    State(emu): State<Emulator>,
    Path(account): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let Some(phone) = param(&p, "PhoneNumber").map(str::to_owned) else {
        return err(
            StatusCode::BAD_REQUEST,
            21421,
            "PhoneNumber is required (AreaCode purchases are not emulated)",
        );
    };
    if !is_e164(&phone) {
        return err(
            StatusCode::BAD_REQUEST,
            21421,
            &format!("PhoneNumber {phone} is invalid"),
        );
    }
    let bought = emu.with(|w| {
        let pos = w.available.iter().position(|a| a.phone_number == phone)?;
        w.available.remove(pos);
        let mut number = w.own_number(
            &account,
            &phone,
            param(&p, "VoiceUrl").map(str::to_owned),
            param(&p, "StatusCallback").map(str::to_owned),
        );
        if let Some(name) = param(&p, "FriendlyName") {
            number.friendly_name = name.to_owned();
            w.numbers.insert(number.sid.clone(), number.clone());
        }
        Some(render::number(&number))
    });
    match bought {
        Some(v) => (StatusCode::CREATED, Json(v)).into_response(),
        None => err(
            StatusCode::BAD_REQUEST,
            21422,
            &format!("PhoneNumber {phone} is not available"),
        ),
    }
}

fn number_sid(segment: &str) -> &str {
    segment.strip_suffix(".json").unwrap_or_default()
}

async fn fetch_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
) -> Response {
    let sid = number_sid(&number);
    emu.with(|w| {
        w.numbers
            .get(sid)
            .filter(|n| n.account_sid == account)
            .map(render::number)
    })
    .map_or_else(|| not_found(&number), |v| Json(v).into_response())
}

async fn update_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
    Form(p): Form<Params>,
) -> Response {
    let sid = number_sid(&number).to_owned();
    let updated = emu.with(|w| {
        let n = w
            .numbers
            .get_mut(&sid)
            .filter(|n| n.account_sid == account)?;
        if let Some(v) = param(&p, "VoiceUrl") {
            n.voice_url = Some(v.to_owned());
        }
        if let Some(v) = param(&p, "VoiceMethod") {
            n.voice_method = v.to_ascii_uppercase();
        }
        if let Some(v) = param(&p, "StatusCallback") {
            n.status_callback = Some(v.to_owned());
        }
        if let Some(v) = param(&p, "StatusCallbackMethod") {
            n.status_callback_method = v.to_ascii_uppercase();
        }
        if let Some(v) = param(&p, "FriendlyName") {
            n.friendly_name = v.to_owned();
        }
        n.updated = Utc::now();
        Some(render::number(n))
    });
    updated.map_or_else(|| not_found(&number), |v| Json(v).into_response())
}

async fn release_number(
    State(emu): State<Emulator>,
    Path((account, number)): Path<(String, String)>,
) -> Response {
    let sid = number_sid(&number).to_owned();
    let removed = emu.with(|w| {
        let n = w
            .numbers
            .get(&sid)
            .filter(|n| n.account_sid == account)?
            .clone();
        w.numbers.remove(&sid);
        Some(n)
    });
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&number),
    }
}

async fn search_numbers(
    State(emu): State<Emulator>,
    Path((account, country)): Path<(String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let country = country.to_ascii_uppercase();
    let area = param(&q, "AreaCode").map(str::to_owned);
    let contains = param(&q, "Contains").map(str::to_owned);
    let items: Vec<Value> = emu.with(|w| {
        w.available
            .iter()
            .filter(|a| a.iso_country == country)
            .filter(|a| {
                let national = a
                    .phone_number
                    .trim_start_matches('+')
                    .trim_start_matches(if country == "US" { "1" } else { "84" });
                area.as_deref().is_none_or(|ac| national.starts_with(ac))
            })
            .filter(|a| {
                contains
                    .as_deref()
                    .is_none_or(|c| wildcard_contains(&a.phone_number, c))
            })
            .take(30)
            .map(render::available)
            .collect()
    });
    let uri = format!("/2010-04-01/Accounts/{account}/AvailablePhoneNumbers/{country}/Local.json");
    Json(json!({"uri": uri, "available_phone_numbers": items})).into_response()
}

/// `Contains` digits where `*` matches any one digit.
fn wildcard_contains(number: &str, pattern: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let digits: Vec<char> = number.chars().collect();
    !pattern.is_empty()
        && digits
            .windows(pattern.len())
            .any(|w| w.iter().zip(&pattern).all(|(d, p)| *p == '*' || d == p))
}

#[cfg(test)]
mod tests {
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
