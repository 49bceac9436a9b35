//! Campaign rules: who may see and change what, settings validation, and the lifecycle
//! DRAFT -> SCHEDULED -> RUNNING <-> PAUSED -> COMPLETED | CANCELLED.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{Campaign, CampaignFields, CampaignStatus};
use super::preflight::{self, Preflight};
use super::settings::{AmdMode, ConsentBasis, Menu, Message, RetryOutcome, Schedule};
use crate::app::AppState;
use crate::compliance::Purpose;
use crate::dids::{Did, DidStatus};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::viewer::Viewer;

pub const EVENT_STATE_CHANGED: &str = "campaign.state_changed";

/// Everything a campaign is made of; `None` in an update keeps the current value.
#[derive(Default, Clone, Debug)]
pub struct CampaignInput {
    pub name: Option<String>,
    pub purpose: Option<Purpose>,
    pub consent: Option<(ConsentBasis, String, DateTime<Utc>)>,
    pub default_country: Option<String>,
    pub message: Option<Message>,
    /// `Some(None)` removes the menu.
    pub menu: Option<Option<Menu>>,
    pub amd_mode: Option<AmdMode>,
    pub caller_ids: Option<Vec<Uuid>>,
    pub schedule: Option<Schedule>,
    pub calls_per_second: Option<f64>,
    pub max_concurrent: Option<i32>,
    pub max_attempts: Option<i32>,
    pub retry_on: Option<Vec<RetryOutcome>>,
    pub retry_delay_secs: Option<i32>,
}

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("campaign"),
        other => other.into(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// Merges `input` over `base` and checks every field.
pub(super) async fn build_fields(
    conn: &mut AsyncPgConnection,
    owner: Uuid,
    base: Option<&Campaign>,
    input: CampaignInput,
) -> AppResult<CampaignFields> {
    let name = match (input.name, base) {
        (Some(n), _) => n.trim().to_owned(),
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(AppError::bad_input("name", "a campaign needs a name")),
    };
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input("name", "1 to 200 characters"));
    }
    let purpose = input
        .purpose
        .or(base.map(|b| b.purpose))
        .ok_or_else(|| AppError::bad_input("purpose", "required"))?;
    let (consent_basis, consent_source, consent_collected_at) = match input.consent {
        Some((basis, source, at)) => {
            if source.trim().is_empty() || source.chars().count() > 500 {
                return Err(AppError::bad_input("consent.source", "1 to 500 characters"));
            }
            if at > Utc::now() {
                return Err(AppError::bad_input(
                    "consent.collectedAt",
                    "cannot be in the future",
                ));
            }
            (Some(basis), Some(source.trim().to_owned()), Some(at))
        }
        None => base.map_or((None, None, None), |b| {
            (
                b.consent_basis,
                b.consent_source.clone(),
                b.consent_collected_at,
            )
        }),
    };
    let default_country = input
        .default_country
        .map(|c| c.trim().to_ascii_uppercase())
        .or(base.map(|b| b.default_country.clone()))
        .unwrap_or_else(|| "VN".into());
    if crate::phone::parse("+84912345678", &default_country)
        == Err(crate::phone::PhoneError::UnknownCountry)
    {
        return Err(AppError::bad_input(
            "defaultCountry",
            "a two-letter ISO country code",
        ));
    }
    let message = match (input.message, base) {
        (Some(m), _) => m,
        (None, Some(b)) => serde_json::from_value(b.message.clone()).map_err(AppError::internal)?,
        (None, None) => return Err(AppError::bad_input("message", "required")),
    };
    message.validate()?;
    let mut menu = match (input.menu, base) {
        (Some(m), _) => m,
        (None, Some(b)) => b
            .menu
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(AppError::internal)?,
        (None, None) => None,
    };
    if let Some(menu) = &mut menu {
        menu.validate()?;
        for option in &mut menu.options {
            if let Some(to) = &option.transfer_to {
                // Stored in E.164, and only a kind of number that may be called: the transfer
                // is dialed at the owner's cost (and checked again when it is).
                let parsed = crate::compliance::numbers::parse_callable(
                    conn,
                    "menu.options",
                    to,
                    &default_country,
                )
                .await
                .map_err(|e| match e {
                    AppError::BadInput { message, .. } => {
                        AppError::bad_input("menu.options", format!("transfer number: {message}"))
                    }
                    other => other,
                })?;
                option.transfer_to = Some(parsed.e164.to_string());
            }
        }
    }
    let schedule = match (input.schedule, base) {
        (Some(s), _) => s,
        (None, Some(b)) => {
            serde_json::from_value(b.schedule.clone()).map_err(AppError::internal)?
        }
        (None, None) => Schedule::default(),
    };
    schedule.validate()?;
    let caller_ids = input
        .caller_ids
        .or(base.map(|b| b.caller_id_dids.clone()))
        .unwrap_or_default();
    if caller_ids.len() > 50 {
        return Err(AppError::bad_input("callerIds", "at most 50"));
    }
    for id in &caller_ids {
        // Only numbers we own, assigned to this user, still live: no other From is possible.
        let owned = Did::find(conn, *id)
            .await
            .ok()
            .filter(|d| d.assigned_user_id == Some(owner) && d.status != DidStatus::Released);
        if owned.is_none() {
            return Err(AppError::Forbidden(format!(
                "callerIds: {id} is not one of your phone numbers"
            )));
        }
    }
    let calls_per_second = input
        .calls_per_second
        .or(base.map(|b| b.calls_per_second))
        .unwrap_or(1.0);
    if !(calls_per_second.is_finite() && calls_per_second > 0.0 && calls_per_second <= 50.0) {
        return Err(AppError::bad_input(
            "pacing.callsPerSecond",
            "above 0 and at most 50",
        ));
    }
    let max_concurrent = input
        .max_concurrent
        .or(base.map(|b| b.max_concurrent))
        .unwrap_or(10);
    if !(1..=500).contains(&max_concurrent) {
        return Err(AppError::bad_input("pacing.maxConcurrent", "1 to 500"));
    }
    let max_attempts = input
        .max_attempts
        .or(base.map(|b| b.max_attempts))
        .unwrap_or(1);
    if !(1..=10).contains(&max_attempts) {
        return Err(AppError::bad_input("retry.maxAttempts", "1 to 10"));
    }
    let retry_delay_secs = input
        .retry_delay_secs
        .or(base.map(|b| b.retry_delay_secs))
        .unwrap_or(3600);
    if !(60..=7 * 24 * 3600).contains(&retry_delay_secs) {
        return Err(AppError::bad_input(
            "retry.delaySecs",
            "60 seconds to 7 days",
        ));
    }
    let retry_on = match input.retry_on {
        Some(outcomes) => outcomes.iter().map(|o| o.as_str().to_owned()).collect(),
        None => base.map(|b| b.retry_on.clone()).unwrap_or_default(),
    };
    Ok(CampaignFields {
        name,
        purpose,
        consent_basis,
        consent_source,
        consent_collected_at,
        default_country,
        message: json(&message)?,
        menu: menu.as_ref().map(json).transpose()?,
        amd_mode: input
            .amd_mode
            .or(base.map(|b| b.amd_mode))
            .unwrap_or(AmdMode::Off),
        caller_id_dids: caller_ids,
        schedule: json(&schedule)?,
        calls_per_second,
        max_concurrent,
        max_attempts,
        retry_on,
        retry_delay_secs,
    })
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: CampaignInput,
) -> AppResult<Campaign> {
    let mut conn = state.conn().await?;
    let fields = build_fields(&mut conn, viewer.id, None, input).await?;
    Ok(Campaign::insert(&mut conn, viewer.id, fields).await?)
}

/// The campaign if the viewer may see it (its owner, or an admin); NOT_FOUND otherwise.
pub async fn get(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Campaign> {
    let campaign = Campaign::find(&mut *state.conn().await?, id)
        .await
        .map_err(not_found)?;
    if campaign.owner_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("campaign"));
    }
    Ok(campaign)
}

/// The viewer's own campaign, in a state that allows changes (DRAFT or PAUSED).
pub async fn owned_editable(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Campaign> {
    let campaign = get(state, viewer, id).await?;
    if campaign.owner_id != viewer.id {
        return Err(AppError::Forbidden(
            "only the campaign's owner can change it".into(),
        ));
    }
    if !matches!(
        campaign.status,
        CampaignStatus::Draft | CampaignStatus::Paused
    ) {
        return Err(AppError::Conflict {
            message: format!(
                "a {} campaign cannot be changed; pause it first",
                campaign.status
            ),
            field: Some("id"),
        });
    }
    Ok(campaign)
}

pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    input: CampaignInput,
) -> AppResult<Campaign> {
    let campaign = owned_editable(state, viewer, id).await?;
    let mut conn = state.conn().await?;
    let fields = build_fields(&mut conn, campaign.owner_id, Some(&campaign), input).await?;
    Ok(Campaign::update_fields(&mut conn, id, &fields).await?)
}

pub async fn delete(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let campaign = owned_editable(state, viewer, id).await?;
    if campaign.status != CampaignStatus::Draft {
        return Err(AppError::conflict(
            "id",
            "only DRAFT campaigns can be deleted; cancel it instead",
        ));
    }
    Campaign::delete(&mut *state.conn().await?, id).await?;
    Ok(())
}

pub async fn preflight(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Preflight> {
    let campaign = get(state, viewer, id).await?;
    preflight::run(state, &campaign).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Start,
    Pause,
    Resume,
    Cancel,
}

/// Which status a transition leads to from `from`, if it is allowed.
pub fn next_status(
    from: CampaignStatus,
    transition: Transition,
    starts_later: bool,
) -> Option<CampaignStatus> {
    use CampaignStatus::*;
    match (transition, from) {
        (Transition::Start, Draft) => Some(if starts_later { Scheduled } else { Running }),
        (Transition::Pause, Running | Scheduled) => Some(Paused),
        (Transition::Resume, Paused) => Some(if starts_later { Scheduled } else { Running }),
        (Transition::Cancel, Draft | Scheduled | Running | Paused) => Some(Cancelled),
        _ => None,
    }
}

pub async fn transition(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    transition: Transition,
) -> AppResult<Campaign> {
    let campaign = get(state, viewer, id).await?;
    if campaign.owner_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("campaign"));
    }
    let starting = matches!(transition, Transition::Start | Transition::Resume);
    if starting {
        super::imports::service::refuse_start(&mut *state.conn().await?, id).await?;
        let report = preflight::run(state, &campaign).await?;
        if let Some(first) = report.blockers.first() {
            let all: Vec<&str> = report.blockers.iter().map(|b| b.code).collect();
            return Err(AppError::BadInput {
                message: format!("cannot start: {} ({})", first.message, all.join(", ")),
                field: Some("id"),
            });
        }
    }
    let starts_later = serde_json::from_value::<Schedule>(campaign.schedule.clone())
        .ok()
        .and_then(|s| s.start_at)
        .is_some_and(|start| start > Utc::now());
    let mut conn = state.conn().await?;
    let updated = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Re-read under lock: two clicks must not both move it.
            let current = Campaign::find_for_update(conn, id)
                .await
                .map_err(not_found)?;
            let Some(next) = next_status(current.status, transition, starts_later) else {
                return Err(AppError::Conflict {
                    message: format!("cannot {:?} a {} campaign", transition, current.status)
                        .to_lowercase(),
                    field: Some("id"),
                });
            };
            if starting {
                // Under the campaign's lock: an import created from here on sees the new status.
                super::imports::service::refuse_start(conn, id).await?;
            }
            let why = (next == CampaignStatus::Paused).then_some(super::autopause::reason::MANUAL);
            Ok(Campaign::set_status(conn, id, next, why).await?)
        })
        .await?;
    publish_state(state, &updated).await;
    Ok(updated)
}

pub async fn publish_state(state: &AppState, campaign: &Campaign) {
    let mut event = Event::new(EVENT_STATE_CHANGED, campaign.owner_id);
    event.campaign_id = Some(campaign.id);
    event.status = Some(campaign.status.as_str().to_owned());
    state.events.publish(event).await;
}

#[cfg(test)]
mod tests;
