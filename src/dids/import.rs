//! Taking in the numbers a Twilio account already holds.

use chrono::Utc;
use uuid::Uuid;

use super::model::{Did, DidChanges, NewDid};
use super::numbers::country_of;
use crate::app::AppState;
use crate::error::AppResult;
use crate::twilio::types::IncomingPhoneNumber;
use crate::twilio_accounts::TwilioAccount;

#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    pub imported: usize,
    pub updated: usize,
    pub on_twilio: usize,
    /// Numbers on Twilio that could not be taken, each with why.
    pub skipped: Vec<SkippedNumber>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedNumber {
    pub phone_number: String,
    pub twilio_sid: String,
    pub reason: String,
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
                    country: &country_of(&number.phone_number),
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
                        report.skipped.push(SkippedNumber {
                            phone_number: number.phone_number.clone(),
                            twilio_sid: number.sid.clone(),
                            reason: "already registered under another Twilio account".into(),
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(report)
}
