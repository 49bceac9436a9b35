//! DID rules: buying, assigning, forwarding, re-pointing webhooks, health, release.

use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use super::model::{Did, DidChanges, DidFilter, DidHealth, DidStatus, NewDid};
use crate::app::AppState;
use crate::audit;
use crate::auth::Viewer;
use crate::calls;
use crate::error::{AppError, AppResult};
use crate::twilio::types::{AvailablePhoneNumber, IncomingPhoneNumber, NumberWebhooks};
use crate::twilio_accounts::{self, TwilioAccount};

const MAX_INBOUND_MESSAGE: usize = 500;

#[derive(Debug, Default, Clone, Copy)]
pub struct SyncReport {
    pub imported: usize,
    pub updated: usize,
    pub on_twilio: usize,
}

/// Where a number's inbound calls and their status callbacks go.
pub fn webhooks_for(public_url: &str) -> NumberWebhooks {
    NumberWebhooks {
        friendly_name: None,
        voice_url: Some(format!("{public_url}/webhooks/twilio/inbound")),
        status_callback: Some(format!("{public_url}/webhooks/twilio/inbound/status")),
    }
}

/// ISO country of an E.164 number, for the prefixes we sell and call most.
pub fn country_of(e164: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("+84", "VN"),
        ("+1", "US"),
        ("+44", "GB"),
        ("+61", "AU"),
        ("+65", "SG"),
        ("+66", "TH"),
        ("+81", "JP"),
        ("+82", "KR"),
        ("+86", "CN"),
        ("+852", "HK"),
        ("+855", "KH"),
        ("+856", "LA"),
        ("+60", "MY"),
        ("+62", "ID"),
        ("+63", "PH"),
        ("+33", "FR"),
        ("+49", "DE"),
    ];
    PREFIXES
        .iter()
        .filter(|(prefix, _)| e164.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or("ZZ", |(_, country)| country)
}

pub fn parse_e164(field: &'static str, raw: &str) -> AppResult<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = cleaned.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(cleaned)
    } else {
        Err(AppError::bad_input(
            field,
            "a phone number in international format, such as +84912345678",
        ))
    }
}

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("phone number"),
        other => other.into(),
    }
}

async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Did> {
    Did::find(conn, id).await.map_err(not_found)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<Did> {
    find(&mut *state.conn().await?, id).await
}

pub async fn page(
    state: &AppState,
    filter: &DidFilter,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Did>> {
    Ok(Did::page(&mut *state.conn().await?, filter, after, limit).await?)
}

/// Adds numbers an account holds on Twilio that we do not know yet; refreshes the rest.
pub async fn import(
    state: &AppState,
    account: &TwilioAccount,
    numbers: &[IncomingPhoneNumber],
) -> AppResult<SyncReport> {
    let mut conn = state.conn().await?;
    let mut report = SyncReport {
        on_twilio: numbers.len(),
        ..SyncReport::default()
    };
    for number in numbers {
        match Did::find_live_by_sid(&mut conn, account.id, &number.sid).await? {
            Some(did) => {
                let changes = DidChanges {
                    voice_url: Some(number.voice_url.clone()),
                    status_callback: Some(number.status_callback.clone()),
                    updated_at: Some(Utc::now()),
                    ..DidChanges::default()
                };
                Did::update(&mut conn, did.id, &changes).await?;
                report.updated += 1;
            }
            None => {
                let inserted = NewDid {
                    id: Uuid::now_v7(),
                    twilio_account_id: account.id,
                    phone_number: &number.phone_number,
                    twilio_sid: &number.sid,
                    country: country_of(&number.phone_number),
                    friendly_name: number.friendly_name.as_deref().unwrap_or(""),
                    voice_url: number.voice_url.as_deref(),
                    status_callback: number.status_callback.as_deref(),
                }
                .insert(&mut conn)
                .await;
                match inserted {
                    Ok(_) => report.imported += 1,
                    // The same number is live under another account; leave that one alone.
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        tracing::warn!(phone = %number.phone_number, "number already registered under another account; skipped");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(report)
}

pub async fn available(
    state: &AppState,
    account_id: Uuid,
    country: &str,
    area_code: Option<&str>,
    contains: Option<&str>,
) -> AppResult<Vec<AvailablePhoneNumber>> {
    let country = country.trim();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(AppError::bad_input(
            "country",
            "a two-letter ISO country code, such as VN or US",
        ));
    }
    if area_code
        .is_some_and(|a| a.is_empty() || a.len() > 6 || !a.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(AppError::bad_input("areaCode", "digits only"));
    }
    if contains.is_some_and(|c| {
        c.len() < 2 || c.len() > 16 || !c.chars().all(|c| c.is_ascii_alphanumeric() || c == '*')
    }) {
        return Err(AppError::bad_input(
            "contains",
            "2 to 16 digits, letters or *",
        ));
    }
    let account = twilio_accounts::service::get(state, account_id).await?;
    let client = twilio_accounts::service::client_for(state, &account)?;
    Ok(client
        .search_local_numbers(country, area_code, contains)
        .await?)
}

pub async fn purchase(
    state: &AppState,
    admin: &Viewer,
    account_id: Uuid,
    phone_number: &str,
    friendly_name: Option<&str>,
) -> AppResult<Did> {
    let phone = parse_e164("phoneNumber", phone_number)?;
    let account = twilio_accounts::service::get(state, account_id).await?;
    let mut conn = state.conn().await?;
    if Did::find_live_by_number(&mut conn, &phone).await?.is_some() {
        return Err(AppError::conflict(
            "phoneNumber",
            "this number is already ours",
        ));
    }
    let client = twilio_accounts::service::client_for(state, &account)?;
    let mut hooks = webhooks_for(&state.public_url);
    hooks.friendly_name = friendly_name.map(str::to_owned);
    let bought = client.buy_number(&phone, &hooks).await?;
    let did = NewDid {
        id: Uuid::now_v7(),
        twilio_account_id: account.id,
        phone_number: &bought.phone_number,
        twilio_sid: &bought.sid,
        country: country_of(&bought.phone_number),
        friendly_name: bought.friendly_name.as_deref().unwrap_or(&phone),
        voice_url: bought.voice_url.as_deref(),
        status_callback: bought.status_callback.as_deref(),
    }
    .insert(&mut conn)
    .await?;
    audit::service::record(
        &mut conn,
        Some(admin.id),
        "did.purchase",
        "did",
        &did.id.to_string(),
        json!({"phone_number": did.phone_number, "twilio_sid": did.twilio_sid, "twilio_account_id": account.id}),
    )
    .await?;
    Ok(did)
}

pub async fn assign(
    state: &AppState,
    admin: &Viewer,
    did_id: Uuid,
    user_id: Option<Uuid>,
) -> AppResult<Did> {
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let did = find(conn, did_id).await?;
        if did.status == DidStatus::Released {
            return Err(AppError::bad_input("didId", "this number has been released"));
        }
        if let Some(user_id) = user_id {
            crate::users::service::find(conn, user_id).await?;
        }
        let changes = DidChanges {
            assigned_user_id: Some(user_id),
            // A new holder starts with their own settings, not the last one's.
            forward_to: (did.assigned_user_id != user_id).then_some(None),
            inbound_message: (did.assigned_user_id != user_id).then_some(None),
            updated_at: Some(Utc::now()),
            ..DidChanges::default()
        };
        let updated = Did::update(conn, did_id, &changes).await?;
        audit::service::record(
            conn,
            Some(admin_id),
            if user_id.is_some() { "did.assign" } else { "did.unassign" },
            "did",
            &did_id.to_string(),
            json!({"phone_number": did.phone_number, "from_user": did.assigned_user_id, "to_user": user_id}),
        )
        .await?;
        Ok(updated)
    })
    .await
}

/// Deletes the number on Twilio and keeps our row as RELEASED for history.
pub async fn release(
    state: &AppState,
    actor: Option<&Viewer>,
    did_id: Uuid,
    reason: &str,
) -> AppResult<Did> {
    let did = get(state, did_id).await?;
    if did.status == DidStatus::Released {
        return Ok(did);
    }
    let account = twilio_accounts::service::get(state, did.twilio_account_id).await?;
    let client = twilio_accounts::service::client_for(state, &account)?;
    client.release_number(&did.twilio_sid).await?;
    let mut conn = state.conn().await?;
    let changes = DidChanges {
        status: Some(DidStatus::Released),
        assigned_user_id: Some(None),
        released_at: Some(Some(Utc::now())),
        updated_at: Some(Utc::now()),
        ..DidChanges::default()
    };
    let released = Did::update(&mut conn, did_id, &changes).await?;
    audit::service::record(
        &mut conn,
        actor.map(|a| a.id),
        "did.release",
        "did",
        &did_id.to_string(),
        json!({"phone_number": did.phone_number, "reason": reason, "was_assigned_to": did.assigned_user_id}),
    )
    .await?;
    Ok(released)
}

#[derive(Debug, Default, Clone)]
pub struct WebhookReport {
    pub updated: usize,
    pub failed: Vec<(String, String)>,
}

/// Points every live number at the current `PUBLIC_URL`.
pub async fn configure_webhooks(
    state: &AppState,
    actor: Option<&Viewer>,
) -> AppResult<WebhookReport> {
    let hooks = webhooks_for(&state.public_url);
    let live = Did::live(&mut *state.conn().await?).await?;
    let mut report = WebhookReport::default();
    for did in live {
        let account = twilio_accounts::service::get(state, did.twilio_account_id).await?;
        let result = async {
            let client = twilio_accounts::service::client_for(state, &account)?;
            client.update_number(&did.twilio_sid, &hooks).await?;
            let changes = DidChanges {
                voice_url: Some(hooks.voice_url.clone()),
                status_callback: Some(hooks.status_callback.clone()),
                updated_at: Some(Utc::now()),
                ..DidChanges::default()
            };
            Did::update(&mut *state.conn().await?, did.id, &changes).await?;
            AppResult::Ok(())
        }
        .await;
        match result {
            Ok(()) => report.updated += 1,
            Err(e) => report.failed.push((did.phone_number.clone(), e.message())),
        }
    }
    audit::service::record(
        &mut *state.conn().await?,
        actor.map(|a| a.id),
        "did.configure_webhooks",
        "did",
        "*",
        json!({"public_url": &*state.public_url, "updated": report.updated, "failed": report.failed}),
    )
    .await?;
    Ok(report)
}

pub async fn for_user(
    state: &AppState,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Did>> {
    let filter = DidFilter {
        assigned_user_id: Some(user_id),
        ..DidFilter::default()
    };
    page(state, &filter, after, limit).await
}

/// A user's own number only: someone else's is NOT_FOUND, so ids reveal nothing.
pub async fn set_forwarding(
    state: &AppState,
    viewer: &Viewer,
    did_id: Uuid,
    forward_to: Option<&str>,
    inbound_message: Option<&str>,
) -> AppResult<Did> {
    let forward_to = forward_to
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|f| parse_e164("forwardTo", f))
        .transpose()?;
    let inbound_message = inbound_message
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if inbound_message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_INBOUND_MESSAGE)
    {
        return Err(AppError::bad_input(
            "inboundMessage",
            format!("at most {MAX_INBOUND_MESSAGE} characters"),
        ));
    }
    let mut conn = state.conn().await?;
    let did = find(&mut conn, did_id).await?;
    if did.assigned_user_id != Some(viewer.id) || did.status == DidStatus::Released {
        return Err(AppError::NotFound("phone number"));
    }
    let changes = DidChanges {
        forward_to: Some(forward_to),
        inbound_message: Some(inbound_message),
        updated_at: Some(Utc::now()),
        ..DidChanges::default()
    };
    Ok(Did::update(&mut conn, did_id, &changes).await?)
}

/// Minimum finished calls in 24 h before a number can be judged.
pub const HEALTH_MIN_CALLS: i64 = 20;

/// UNHEALTHY when, over at least `HEALTH_MIN_CALLS` calls in 24 h, more than half failed,
/// almost none were answered, or the answer rate fell below a third of its 7-day level.
pub fn verdict(
    calls_24h: i64,
    answer_24h: Option<f64>,
    failure_24h: Option<f64>,
    answer_7d: Option<f64>,
) -> DidStatus {
    if calls_24h < HEALTH_MIN_CALLS {
        return DidStatus::Active;
    }
    let answer = answer_24h.unwrap_or(0.0);
    let collapsed = answer_7d.is_some_and(|week| week >= 0.15 && answer < week / 3.0);
    if failure_24h.unwrap_or(0.0) > 0.5 || answer < 0.05 || collapsed {
        DidStatus::Unhealthy
    } else {
        DidStatus::Active
    }
}

/// Recomputes every live number's 24 h / 7 d figures and its health verdict.
pub async fn update_health(state: &AppState) -> AppResult<usize> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let day = calls::model::Call::outcomes_by_did(&mut conn, now - Duration::hours(24)).await?;
    let week = calls::model::Call::outcomes_by_did(&mut conn, now - Duration::days(7)).await?;
    let mut changed = 0;
    for did in Did::live(&mut conn).await? {
        let d = day.get(&did.id).copied().unwrap_or_default();
        let w = week.get(&did.id).copied().unwrap_or_default();
        let status = verdict(
            d.finished,
            d.answer_rate(),
            d.failure_rate(),
            w.answer_rate(),
        );
        if status != did.status {
            changed += 1;
            audit::service::record(
                &mut conn,
                None,
                "did.health",
                "did",
                &did.id.to_string(),
                json!({"from": did.status, "to": status, "calls_24h": d.finished, "answer_rate_24h": d.answer_rate(), "failure_rate_24h": d.failure_rate()}),
            )
            .await?;
        }
        let health = DidHealth {
            calls_24h: d.finished as i32,
            answer_rate_24h: d.answer_rate(),
            failure_rate_24h: d.failure_rate(),
            calls_7d: w.finished as i32,
            answer_rate_7d: w.answer_rate(),
            failure_rate_7d: w.failure_rate(),
            health_checked_at: Some(now),
            status,
        };
        Did::set_health(&mut conn, did.id, &health).await?;
    }
    Ok(changed)
}

/// Releases numbers with no call for `idle_days` (creation counts as use).
pub async fn release_idle(state: &AppState, idle_days: u32) -> AppResult<usize> {
    let cutoff = Utc::now() - Duration::days(i64::from(idle_days));
    let live = Did::live(&mut *state.conn().await?).await?;
    let mut released = 0;
    for did in live {
        let last_use = did.last_used_at.unwrap_or(did.created_at);
        if last_use < cutoff
            && !twilio_accounts::service::get(state, did.twilio_account_id)
                .await?
                .is_simulated
        {
            release(state, None, did.id, &format!("idle for {idle_days} days")).await?;
            released += 1;
        }
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_numbers() {
        assert_eq!(country_of("+84912345678"), "VN");
        assert_eq!(country_of("+14155550100"), "US");
        assert_eq!(country_of("+85291234567"), "HK");
        assert_eq!(country_of("+999"), "ZZ");
        assert_eq!(
            parse_e164("f", "+84 91-234 5678").ok().as_deref(),
            Some("+84912345678")
        );
        assert!(parse_e164("f", "0912345678").is_err());
        assert!(parse_e164("f", "+999999999999999999999").is_err());
    }

    #[test]
    fn health_verdicts() {
        assert_eq!(
            verdict(5, Some(0.0), Some(1.0), None),
            DidStatus::Active,
            "too few calls to judge"
        );
        assert_eq!(
            verdict(30, Some(0.4), Some(0.6), None),
            DidStatus::Unhealthy,
            "failures spike"
        );
        assert_eq!(
            verdict(30, Some(0.02), Some(0.1), None),
            DidStatus::Unhealthy,
            "nobody answers"
        );
        assert_eq!(
            verdict(30, Some(0.1), Some(0.1), Some(0.5)),
            DidStatus::Unhealthy,
            "answer rate collapsed"
        );
        assert_eq!(
            verdict(30, Some(0.4), Some(0.1), Some(0.5)),
            DidStatus::Active
        );
    }
}
