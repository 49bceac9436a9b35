//! Where Twilio sends our numbers' calls, and re-pointing every live number there.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::model::{Did, DidChanges};
use crate::app::AppState;
use crate::audit;
use crate::error::AppResult;
use crate::twilio::types::NumberWebhooks;
use crate::twilio_accounts;
use crate::viewer::Viewer;

/// Where a number's inbound calls and their status callbacks go.
pub fn webhooks_for(public_url: &str) -> NumberWebhooks {
    NumberWebhooks {
        friendly_name: None,
        voice_url: Some(format!("{public_url}/webhooks/twilio/inbound")),
        status_callback: Some(format!("{public_url}/webhooks/twilio/inbound/status")),
    }
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
    only_account: Option<Uuid>,
) -> AppResult<WebhookReport> {
    let hooks = webhooks_for(&state.public_url);
    let live = Did::live(&mut *state.conn().await?).await?;
    let mut report = WebhookReport::default();
    for did in live
        .into_iter()
        .filter(|d| only_account.is_none_or(|a| d.twilio_account_id == a))
    {
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
            Err(e) => report
                .failed
                .push((did.phone_number.to_string(), e.message())),
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
