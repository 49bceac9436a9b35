//! Buying numbers: searching what Twilio offers, and buying one into the pool.

use serde_json::json;
use uuid::Uuid;

use super::model::{Did, NewDid};
use super::numbers::{country_of, parse_e164};
use super::webhooks::webhooks_for;
use crate::app::AppState;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::twilio::types::AvailablePhoneNumber;
use crate::twilio_accounts;
use crate::viewer::Viewer;

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
        country: &country_of(&bought.phone_number),
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
