//! What campaign fields take, and how a create or update input becomes the service's `CampaignInput`.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, NaiveTime, Utc};
use uuid::Uuid;

use crate::campaigns::model::CampaignStatus;
use crate::campaigns::service::CampaignInput;
use crate::campaigns::settings::{self, AmdMode, ConsentBasis, MenuAction, RetryOutcome};
use crate::compliance::Purpose;
use crate::error::AppError;
use crate::graphql::ids::parse_id;

#[derive(InputObject)]
pub struct MessageInput {
    /// Spoken text; `{{name}}` and other contact variables are filled in.
    pub text: Option<String>,
    pub audio_url: Option<String>,
    #[graphql(default_with = "settings::DEFAULT_VOICE.to_owned()")]
    pub voice: String,
    #[graphql(default_with = "settings::DEFAULT_LANGUAGE.to_owned()")]
    pub language: String,
    #[graphql(default = 1)]
    pub repeat: i32,
}

#[derive(InputObject)]
pub struct MenuOptionInput {
    pub digit: String,
    pub action: MenuAction,
    pub transfer_to: Option<String>,
}

#[derive(InputObject)]
pub struct MenuInput {
    pub prompt: Option<String>,
    #[graphql(default = 5)]
    pub timeout_secs: i32,
    pub options: Vec<MenuOptionInput>,
}

#[derive(InputObject)]
pub struct ScheduleInput {
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    /// HH:MM.
    pub daily_start: Option<String>,
    pub daily_end: Option<String>,
    /// 1 (Monday) to 7 (Sunday); empty for every day.
    #[graphql(default)]
    pub days_of_week: Vec<i32>,
    #[graphql(default_with = "String::from(\"Asia/Ho_Chi_Minh\")")]
    pub time_zone: String,
}

#[derive(InputObject)]
pub struct PacingInput {
    pub calls_per_second: Option<f64>,
    pub max_concurrent: Option<i32>,
}

#[derive(InputObject)]
pub struct RetryInput {
    pub max_attempts: Option<i32>,
    pub retry_on: Option<Vec<RetryOutcome>>,
    pub delay_secs: Option<i32>,
}

#[derive(InputObject)]
pub struct ConsentInput {
    pub basis: ConsentBasis,
    /// Where the consent came from (form, recorded call, contract ...).
    pub source: String,
    pub collected_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct CreateCampaignInput {
    pub name: String,
    pub purpose: Purpose,
    pub consent: Option<ConsentInput>,
    pub message: MessageInput,
    pub menu: Option<MenuInput>,
    #[graphql(default_with = "AmdMode::Off")]
    pub answering_machine: AmdMode,
    #[graphql(default)]
    pub caller_ids: Vec<ID>,
    pub schedule: Option<ScheduleInput>,
    pub pacing: Option<PacingInput>,
    pub retry: Option<RetryInput>,
    /// How to read national numbers such as 0912345678.
    pub default_country: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateCampaignInput {
    pub id: ID,
    pub name: Option<String>,
    pub purpose: Option<Purpose>,
    pub consent: Option<ConsentInput>,
    pub message: Option<MessageInput>,
    pub menu: Option<MenuInput>,
    /// Removes the keypress menu.
    #[graphql(default)]
    pub remove_menu: bool,
    pub answering_machine: Option<AmdMode>,
    pub caller_ids: Option<Vec<ID>>,
    pub schedule: Option<ScheduleInput>,
    pub pacing: Option<PacingInput>,
    pub retry: Option<RetryInput>,
    pub default_country: Option<String>,
}

#[derive(InputObject)]
pub struct CampaignIdInput {
    pub id: ID,
}

#[derive(InputObject, Default)]
pub struct CampaignsFilter {
    pub status: Option<CampaignStatus>,
    pub search: Option<String>,
}

impl TryFrom<CreateCampaignInput> for CampaignInput {
    type Error = AppError;

    fn try_from(input: CreateCampaignInput) -> Result<Self, AppError> {
        Parts {
            name: Some(input.name),
            purpose: Some(input.purpose),
            consent: input.consent,
            message: Some(input.message),
            menu: Some(input.menu),
            amd: Some(input.answering_machine),
            caller_ids: Some(input.caller_ids),
            schedule: input.schedule,
            pacing: input.pacing,
            retry: input.retry,
            default_country: input.default_country,
        }
        .validate()
    }
}

impl UpdateCampaignInput {
    /// The campaign's id and the patch; a bad id is reported before a bad field.
    pub(super) fn into_patch(self) -> Result<(Uuid, CampaignInput), AppError> {
        let id = parse_id("id", &self.id)?;
        let menu = if self.remove_menu {
            Some(None)
        } else {
            self.menu.map(Some)
        };
        let patch = Parts {
            name: self.name,
            purpose: self.purpose,
            consent: self.consent,
            message: self.message,
            menu,
            amd: self.answering_machine,
            caller_ids: self.caller_ids,
            schedule: self.schedule,
            pacing: self.pacing,
            retry: self.retry,
            default_country: self.default_country,
        }
        .validate()?;
        Ok((id, patch))
    }
}

/// The parts of a create or update input, before validation.
struct Parts {
    name: Option<String>,
    purpose: Option<Purpose>,
    consent: Option<ConsentInput>,
    message: Option<MessageInput>,
    menu: Option<Option<MenuInput>>,
    amd: Option<AmdMode>,
    caller_ids: Option<Vec<ID>>,
    schedule: Option<ScheduleInput>,
    pacing: Option<PacingInput>,
    retry: Option<RetryInput>,
    default_country: Option<String>,
}

impl Parts {
    /// Errors name the first bad field in the order message, menu, schedule, callerIds.
    fn validate(self) -> Result<CampaignInput, AppError> {
        let Parts {
            name,
            purpose,
            consent,
            message,
            menu,
            amd,
            caller_ids,
            schedule,
            pacing,
            retry,
            default_country,
        } = self;
        let message = message.map(settings::Message::try_from).transpose()?;
        let menu = menu
            .map(|m| m.map(settings::Menu::try_from).transpose())
            .transpose()?;
        let schedule = schedule.map(settings::Schedule::try_from).transpose()?;
        let caller_ids = caller_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| parse_id("callerIds", id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(CampaignInput {
            name,
            purpose,
            consent: consent.map(|c| (c.basis, c.source, c.collected_at)),
            default_country,
            message,
            menu,
            amd_mode: amd,
            caller_ids,
            schedule,
            calls_per_second: pacing.as_ref().and_then(|p| p.calls_per_second),
            max_concurrent: pacing.as_ref().and_then(|p| p.max_concurrent),
            max_attempts: retry.as_ref().and_then(|r| r.max_attempts),
            retry_on: retry.as_ref().and_then(|r| r.retry_on.clone()),
            retry_delay_secs: retry.as_ref().and_then(|r| r.delay_secs),
        })
    }
}

impl TryFrom<MessageInput> for settings::Message {
    type Error = AppError;

    fn try_from(m: MessageInput) -> Result<Self, AppError> {
        Ok(settings::Message {
            text: m.text,
            audio_url: m.audio_url,
            voice: m.voice,
            language: m.language,
            repeat: u32::try_from(m.repeat)
                .map_err(|_| AppError::bad_input("message.repeat", "1 to 5"))?,
        })
    }
}

impl TryFrom<MenuInput> for settings::Menu {
    type Error = AppError;

    fn try_from(m: MenuInput) -> Result<Self, AppError> {
        Ok(settings::Menu {
            prompt: m.prompt,
            timeout_secs: u32::try_from(m.timeout_secs)
                .map_err(|_| AppError::bad_input("menu.timeoutSecs", "1 to 30 seconds"))?,
            options: m
                .options
                .into_iter()
                .map(|o| settings::MenuOption {
                    digit: o.digit,
                    action: o.action,
                    transfer_to: o.transfer_to,
                })
                .collect(),
        })
    }
}

impl TryFrom<ScheduleInput> for settings::Schedule {
    type Error = AppError;

    fn try_from(s: ScheduleInput) -> Result<Self, AppError> {
        Ok(settings::Schedule {
            start_at: s.start_at,
            end_at: s.end_at,
            daily_start: parse_time("schedule.dailyStart", s.daily_start.as_deref())?,
            daily_end: parse_time("schedule.dailyEnd", s.daily_end.as_deref())?,
            days: s
                .days_of_week
                .iter()
                .map(|d| {
                    u8::try_from(*d).map_err(|_| {
                        AppError::bad_input("schedule.daysOfWeek", "1 (Monday) to 7 (Sunday)")
                    })
                })
                .collect::<Result<_, _>>()?,
            time_zone: s.time_zone,
        })
    }
}

fn parse_time(field: &'static str, raw: Option<&str>) -> Result<Option<NaiveTime>, AppError> {
    raw.map(|r| {
        NaiveTime::parse_from_str(r.trim(), "%H:%M")
            .map_err(|_| AppError::bad_input(field, "HH:MM, such as 08:30"))
    })
    .transpose()
}
