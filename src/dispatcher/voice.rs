//! What a campaign call says: the message (with the contact's variables), the keypress menu,
//! answering-machine handling, and what each key does.

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::app::AppState;
use crate::calls::leg::{self, Leg, LegKind, LegRequest};
use crate::calls::model::{EventKind, EventSource};
use crate::calls::{status, Call};
use crate::campaigns::settings::{AmdMode, Menu, MenuAction, MenuOption, Message};
use crate::campaigns::Campaign;
use crate::error::{AppError, AppResult};
use crate::twilio::twiml::{Gather, Verb, VoiceResponse};

#[derive(QueryableByName)]
struct ContactVars {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    vars: serde_json::Value,
}

fn message_verbs(message: &Message, name: &str, vars: &serde_json::Value) -> Vec<Verb> {
    let once = match (&message.audio_url, message.render(name, vars)) {
        (Some(url), _) => Verb::Play {
            url: url.clone(),
            loop_count: None,
        },
        (None, text) => Verb::Say {
            text: text.unwrap_or_default(),
            voice: Some(message.voice.clone()),
            language: Some(message.language.clone()),
            loop_count: None,
        },
    };
    vec![once; message.repeat.clamp(1, 5) as usize]
}

/// The TwiML for an answered campaign call.
pub async fn twiml(
    state: &AppState,
    call: &Call,
    answered_by: Option<&str>,
) -> AppResult<VoiceResponse> {
    let mut conn = state.conn().await?;
    let campaign_id = call.campaign_id.ok_or(AppError::NotFound("campaign"))?;
    let campaign = Campaign::find(&mut conn, campaign_id).await?;
    let contact: ContactVars =
        diesel::sql_query("SELECT name, vars FROM campaign_contacts WHERE id = $1")
            .bind::<BigInt, _>(call.contact_id.unwrap_or_default())
            .get_result(&mut conn)
            .await?;
    let message: Message =
        serde_json::from_value(campaign.message.clone()).map_err(AppError::internal)?;
    let machine = answered_by.is_some_and(|a| a.starts_with("machine") || a == "fax");
    let mut response = VoiceResponse::new();
    if machine {
        return Ok(match campaign.amd_mode {
            AmdMode::HangUpOnMachine => response.hangup(),
            // A voicemail cannot press keys: the message once, no menu.
            _ => {
                response.verbs = message_verbs(
                    &Message {
                        repeat: 1,
                        ..message
                    },
                    &contact.name,
                    &contact.vars,
                );
                response.hangup()
            }
        });
    }
    let menu: Option<Menu> = campaign
        .menu
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(AppError::internal)?;
    let mut verbs = message_verbs(&message, &contact.name, &contact.vars);
    if let Some(menu) = menu {
        let prompt = menu.prompt.clone().map(|text| Verb::Say {
            text,
            voice: Some(message.voice.clone()),
            language: Some(message.language.clone()),
            loop_count: None,
        });
        verbs.push(Verb::Gather(Gather {
            input: Some("dtmf".into()),
            num_digits: Some(1),
            timeout: Some(menu.timeout_secs),
            action: Some(format!(
                "{}/webhooks/twilio/gather/{}",
                state.public_url, call.id
            )),
            method: Some("POST".into()),
            finish_on_key: None,
            nested: prompt.into_iter().collect(),
        }));
    }
    response.verbs = verbs;
    Ok(response.hangup())
}

/// The durable effect of a key press (from the stored webhook, so it survives a crash):
/// the timeline entry, and for the OPT_OUT key the owner's do-not-call list and the contact.
pub async fn apply_digits(state: &AppState, call_id: uuid::Uuid, digits: &str) -> AppResult<()> {
    let mut conn = state.conn().await?;
    let call = Call::find(&mut conn, call_id).await?;
    let campaign = match call.campaign_id {
        Some(id) => Some(Campaign::find(&mut conn, id).await?),
        None => None,
    };
    let option = match &campaign {
        Some(c) => menu_option(c, digits)?,
        None => None,
    };
    status::record_event(
        &mut conn,
        call.id,
        EventKind::Gather,
        EventSource::Webhook,
        json!({"digits": digits, "action": option.as_ref().map(|o| o.action)}),
    )
    .await?;
    if let (Some(campaign), true) = (
        &campaign,
        option.is_some_and(|o| o.action == MenuAction::OptOut),
    ) {
        crate::compliance::service::opt_out(
            &mut conn,
            campaign.owner_id,
            &call.to_number,
            &format!("pressed {digits}"),
        )
        .await?;
        if let Some(contact_id) = call.contact_id {
            diesel::sql_query("UPDATE campaign_contacts SET state = 'OPTED_OUT', next_attempt_at = NULL WHERE id = $1")
                .bind::<BigInt, _>(contact_id)
                .execute(&mut conn)
                .await?;
        }
    }
    Ok(())
}

fn menu_option(campaign: &Campaign, digits: &str) -> AppResult<Option<MenuOption>> {
    let menu: Option<Menu> = campaign
        .menu
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(AppError::internal)?;
    Ok(menu.and_then(|m| m.options.into_iter().find(|o| o.digit == digits)))
}

/// What the caller hears after a key press; `call_sid` is the carrier's id of the call.
pub async fn on_digits(
    state: &AppState,
    call: &Call,
    call_sid: Option<&str>,
    digits: &str,
) -> AppResult<VoiceResponse> {
    let mut conn = state.conn().await?;
    let campaign = match call.campaign_id {
        Some(id) => Campaign::find(&mut conn, id).await?,
        None => return Ok(VoiceResponse::new().hangup()),
    };
    let message: Message =
        serde_json::from_value(campaign.message.clone()).map_err(AppError::internal)?;
    let say = |text: &str| Verb::Say {
        text: text.to_owned(),
        voice: Some(message.voice.clone()),
        language: Some(message.language.clone()),
        loop_count: None,
    };
    let Some(option) = menu_option(&campaign, digits)? else {
        return Ok(VoiceResponse::new().verb(say("Cảm ơn.")).hangup());
    };
    Ok(match option.action {
        MenuAction::OptOut => VoiceResponse::new()
            .verb(say("Bạn sẽ không nhận cuộc gọi này nữa. Xin cảm ơn."))
            .hangup(),
        MenuAction::Transfer => {
            drop(conn);
            let sorry = say("Xin lỗi, không thể chuyển cuộc gọi lúc này. Xin cảm ơn.");
            match transfer(
                state,
                call,
                call_sid,
                &campaign,
                option.transfer_to.as_deref(),
            )
            .await?
            {
                Some(dial) => VoiceResponse::new().verb(dial),
                None => VoiceResponse::new().verb(sorry).hangup(),
            }
        }
        MenuAction::Replay => VoiceResponse::new().verb(Verb::Redirect {
            url: format!("{}/webhooks/twilio/voice/{}", state.public_url, call.id),
            method: Some("POST".into()),
        }),
        MenuAction::RecordDigits => VoiceResponse::new()
            .verb(say("Cảm ơn, chúng tôi đã ghi nhận."))
            .hangup(),
        MenuAction::Hangup => VoiceResponse::new().hangup(),
    })
}

/// The transfer leg, checked and held for at dial time; `None` (recorded on the call's
/// timeline) when it may not be dialed.
async fn transfer(
    state: &AppState,
    call: &Call,
    call_sid: Option<&str>,
    campaign: &Campaign,
    target: Option<&str>,
) -> AppResult<Option<Verb>> {
    // Stored in E.164 since input is normalised; older menus are read in the campaign's country.
    let to = target.and_then(|t| crate::phone::parse(t, &campaign.default_country).ok());
    let parent = call_sid
        .map(str::to_owned)
        .or_else(|| call.twilio_sid.clone())
        .unwrap_or_else(|| call.id.to_string());
    let refusal = match to {
        None => "invalid transfer number".to_owned(),
        Some(to) => {
            let request = LegRequest {
                kind: LegKind::Transfer,
                owner_id: campaign.owner_id,
                twilio_account_id: call.twilio_account_id,
                did_id: call.did_id,
                from: &call.from_number,
                to: &to.e164,
                parent_sid: &parent,
            };
            match leg::open(state, &request).await? {
                Leg::Dial(leg) => {
                    return Ok(Some(leg::dial_verb(
                        &state.public_url,
                        &leg,
                        state.config.max_call_secs,
                    )))
                }
                Leg::Refused(why) => why.reason().to_owned(),
            }
        }
    };
    tracing::info!(call.id = %call.id, reason = %refusal, "transfer refused");
    status::record_event(
        &mut *state.conn().await?,
        call.id,
        EventKind::Gather,
        EventSource::Webhook,
        json!({"transfer_refused": refusal}),
    )
    .await?;
    Ok(None)
}
