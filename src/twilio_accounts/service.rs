//! Adding, testing and syncing Twilio accounts. Auth tokens are sealed before they touch the
//! database and opened only to build a client.

use std::sync::Arc;

use chrono::Utc;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use super::cache::Opened;
use super::model::{AccountStatus, NewTwilioAccount, TwilioAccount, TwilioAccountChanges};
use crate::app::AppState;
use crate::audit;
use crate::config::Secret;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::twilio::client::TWILIO_API_BASE;
use crate::twilio::endpoint;
use crate::twilio::TwilioClient;
use crate::viewer::Viewer;

const MAX_CALLS_PER_SECOND: f64 = 100.0;

pub struct AccountInput {
    pub name: String,
    pub account_sid: String,
    pub auth_token: String,
    pub api_base_url: Option<String>,
    pub calls_per_second: Option<f64>,
}

pub struct AccountUpdate {
    pub id: Uuid,
    pub name: Option<String>,
    pub auth_token: Option<String>,
    pub api_base_url: Option<String>,
    pub calls_per_second: Option<f64>,
}

fn parse_sid(raw: &str) -> AppResult<String> {
    let sid = raw.trim();
    let valid =
        sid.len() == 34 && sid.starts_with("AC") && sid[2..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(sid.to_owned())
    } else {
        Err(AppError::bad_input(
            "accountSid",
            "an account SID is AC followed by 32 hex characters",
        ))
    }
}

fn parse_token(raw: &str) -> AppResult<String> {
    let token = raw.trim();
    if token.len() < 8 || token.len() > 128 || token.chars().any(char::is_whitespace) {
        return Err(AppError::bad_input(
            "authToken",
            "the auth token must be 8 to 128 characters without spaces",
        ));
    }
    Ok(token.to_owned())
}

/// Only Twilio's hosts or an explicitly allowed emulator: the URL receives the auth token.
fn parse_base_url(raw: Option<&str>) -> AppResult<String> {
    let url = raw
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(TWILIO_API_BASE);
    endpoint::check(url).map_err(|e| AppError::bad_input("apiBaseUrl", e.to_string()))
}

fn parse_cps(raw: Option<f64>) -> AppResult<f64> {
    let cps = raw.unwrap_or(1.0);
    if cps.is_finite() && cps > 0.0 && cps <= MAX_CALLS_PER_SECOND {
        Ok(cps)
    } else {
        Err(AppError::bad_input(
            "callsPerSecond",
            format!("must be above 0 and at most {MAX_CALLS_PER_SECOND}"),
        ))
    }
}

fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_input(
            "name",
            "the name must be 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

fn last4(token: &str) -> String {
    token
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn not_found(e: DieselError) -> AppError {
    match e {
        DieselError::NotFound => AppError::NotFound("Twilio account"),
        other => other.into(),
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<TwilioAccount> {
    TwilioAccount::find(conn, id).await.map_err(not_found)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<TwilioAccount> {
    find(&mut *state.conn().await?, id).await
}

/// Twilio accounts are for admins only; anyone else gets NOT_FOUND, as for no account.
pub async fn get_for(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<TwilioAccount> {
    if !viewer.is_admin() {
        return Err(AppError::NotFound("Twilio account"));
    }
    get(state, id).await
}

pub async fn page(state: &AppState, seek: &Seek) -> AppResult<Vec<TwilioAccount>> {
    Ok(TwilioAccount::page(&mut *state.conn().await?, seek).await?)
}

pub async fn count(state: AppState) -> AppResult<i64> {
    Ok(TwilioAccount::count(&mut *state.conn().await?).await?)
}

/// A client for the account, with its auth token opened from the database.
pub fn client_for(state: &AppState, account: &TwilioAccount) -> AppResult<TwilioClient> {
    let token = state
        .cipher
        .open(&account.auth_token_sealed)
        .map_err(AppError::internal)?;
    Ok(TwilioClient::new(
        state.http.clone(),
        &account.api_base_url,
        &account.account_sid,
        token,
    ))
}

pub async fn add(
    state: &AppState,
    admin: Option<&Viewer>,
    input: AccountInput,
    simulated: bool,
) -> AppResult<TwilioAccount> {
    let name = parse_name(&input.name)?;
    let sid = parse_sid(&input.account_sid)?;
    let token = parse_token(&input.auth_token)?;
    let base = parse_base_url(input.api_base_url.as_deref())?;
    let cps = parse_cps(input.calls_per_second)?;
    let sealed = state.cipher.seal(&token);
    let admin_id = admin.map(|a| a.id);
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let account = NewTwilioAccount {
            id: Uuid::now_v7(),
            name: &name,
            account_sid: &sid,
            auth_token_sealed: &sealed,
            auth_token_last4: &last4(&token),
            api_base_url: &base,
            calls_per_second: cps,
            status: if simulated { AccountStatus::Active } else { AccountStatus::Unknown },
            is_simulated: simulated,
        }
        .insert(conn)
        .await
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("accountSid", "this Twilio account is already registered")
            }
            other => other.into(),
        })?;
        audit::service::record(
            conn,
            admin_id,
            "twilio_account.add",
            "twilio_account",
            &account.id.to_string(),
            json!({"name": account.name, "account_sid": account.account_sid, "api_base_url": account.api_base_url}),
        )
        .await?;
        Ok(account)
    })
    .await
}

pub async fn update(
    state: &AppState,
    admin: &Viewer,
    update: AccountUpdate,
) -> AppResult<TwilioAccount> {
    let token = update.auth_token.as_deref().map(parse_token).transpose()?;
    let base = update
        .api_base_url
        .as_deref()
        .map(|u| parse_base_url(Some(u)))
        .transpose()?;
    let current = get(state, update.id).await?;
    let base = base.filter(|b| *b != current.api_base_url);
    // Whoever points the account elsewhere must hold the token already, or the new endpoint
    // would be a way to read it.
    if base.is_some() && token.is_none() {
        return Err(AppError::bad_input(
            "authToken",
            "re-enter the auth token to change apiBaseUrl",
        ));
    }
    let changes = TwilioAccountChanges {
        name: update.name.as_deref().map(parse_name).transpose()?,
        auth_token_sealed: token.as_deref().map(|t| state.cipher.seal(t)),
        auth_token_last4: token.as_deref().map(last4),
        api_base_url: base,
        calls_per_second: update
            .calls_per_second
            .map(|c| parse_cps(Some(c)))
            .transpose()?,
        // New credentials or endpoint: the old verdict no longer holds.
        status: token.is_some().then_some(AccountStatus::Unknown),
        updated_at: Some(Utc::now()),
        ..TwilioAccountChanges::default()
    };
    let admin_id = admin.id;
    let id = update.id;
    let mut conn = state.conn().await?;
    let updated = conn
        .transaction::<_, AppError, _>(async move |conn| {
            find(conn, id).await?;
            let account = TwilioAccount::update(conn, id, &changes).await?;
            let fields: Vec<&str> = [
                changes.name.as_ref().map(|_| "name"),
                changes.auth_token_sealed.as_ref().map(|_| "authToken"),
                changes.api_base_url.as_ref().map(|_| "apiBaseUrl"),
                changes.calls_per_second.as_ref().map(|_| "callsPerSecond"),
            ]
            .into_iter()
            .flatten()
            .collect();
            audit::service::record(
                conn,
                Some(admin_id),
                "twilio_account.update",
                "twilio_account",
                &id.to_string(),
                json!({"changed": fields}),
            )
            .await?;
            Ok(account)
        })
        .await;
    // Dropped even when the edit failed: a cache must never outlive a doubt.
    super::cache::AccountCache::of(state).forget();
    updated
}

/// Asks Twilio for the account and its balance, and records the verdict.
pub async fn test(state: &AppState, id: Uuid) -> AppResult<TwilioAccount> {
    let account = get(state, id).await?;
    let client = client_for(state, &account)?;
    let (status, balance, error) = match client.fetch_account().await {
        Ok(remote) => {
            let status = match remote.status.as_deref() {
                Some("active") | None => AccountStatus::Active,
                Some(_) => AccountStatus::Suspended,
            };
            let balance = client.balance().await.ok();
            (status, balance, None)
        }
        Err(e) => (AccountStatus::Error, None, Some(e.to_string())),
    };
    let changes = TwilioAccountChanges {
        status: Some(status),
        balance: balance.as_ref().map(|b| Some(b.balance.clone())),
        balance_currency: balance.as_ref().map(|b| Some(b.currency.clone())),
        last_error: Some(error),
        last_checked_at: Some(Some(Utc::now())),
        updated_at: Some(Utc::now()),
        ..TwilioAccountChanges::default()
    };
    let mut conn = state.conn().await?;
    let updated = TwilioAccount::update(&mut conn, id, &changes).await?;
    if updated.status != account.status {
        audit::service::record(
            &mut conn,
            None,
            "twilio_account.status",
            "twilio_account",
            &id.to_string(),
            json!({"from": account.status, "to": updated.status, "error": updated.last_error}),
        )
        .await?;
    }
    Ok(updated)
}

/// For the simulated account: the credentials are ours, so keep them in step with the emulator.
pub async fn reset_simulated(
    state: &AppState,
    id: Uuid,
    token: &str,
    base_url: &str,
) -> AppResult<()> {
    let changes = TwilioAccountChanges {
        auth_token_sealed: Some(state.cipher.seal(token)),
        auth_token_last4: Some(last4(token)),
        status: Some(AccountStatus::Active),
        api_base_url: Some(base_url.to_owned()),
        updated_at: Some(Utc::now()),
        ..TwilioAccountChanges::default()
    };
    let updated = TwilioAccount::update(&mut *state.conn().await?, id, &changes).await;
    super::cache::AccountCache::of(state).forget();
    updated?;
    Ok(())
}

/// The account whose SID this is, with its token opened: from the cache when it is fresh,
/// otherwise read (and kept for `cache::TTL`). `None` for a SID we do not hold.
pub async fn opened_by_sid(state: &AppState, sid: &str) -> AppResult<Option<Arc<Opened>>> {
    let generation = match super::cache::AccountCache::of(state).get(sid) {
        Ok(opened) => return Ok(Some(opened)),
        Err(generation) => generation,
    };
    let Some(account) = TwilioAccount::find_by_sid(&mut *state.conn().await?, sid).await? else {
        return Ok(None);
    };
    let token = open_token(state, &account)?;
    let opened = Arc::new(Opened { account, token });
    super::cache::AccountCache::of(state).keep(generation, opened.clone());
    Ok(Some(opened))
}

pub fn open_token(state: &AppState, account: &TwilioAccount) -> AppResult<Secret> {
    state
        .cipher
        .open(&account.auth_token_sealed)
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_validated() {
        assert!(parse_sid("AC0123456789abcdef0123456789abcdef").is_ok());
        assert!(parse_sid("AC123").is_err());
        assert!(parse_sid("PN0123456789abcdef0123456789abcdef").is_err());
        assert!(parse_token("short").is_err());
        assert!(parse_base_url(Some("ftp://x")).is_err());
        assert!(parse_base_url(Some("http://127.0.0.1:9")).is_err());
        assert_eq!(parse_base_url(None).ok().as_deref(), Some(TWILIO_API_BASE));
        assert!(parse_cps(Some(0.0)).is_err());
        assert!(parse_cps(Some(f64::NAN)).is_err());
        assert_eq!(last4("abcdef123456"), "3456");
    }
}
