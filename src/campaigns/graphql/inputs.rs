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
/// What to say to each callee: give exactly one of text and audioUrl.
pub struct MessageInput {
    /// Spoken text, at most 3,000 characters; `{{name}}` and other contact variables are filled in.
    pub text: Option<String>,
    /// http(s) URL of a recording to play instead of text.
    pub audio_url: Option<String>,
    #[graphql(default_with = "settings::DEFAULT_VOICE.to_owned()")]
    /// Text-to-speech voice, one listed by the voices query for this language (default Google.vi-VN-Wavenet-A).
    pub voice: String,
    #[graphql(default_with = "settings::DEFAULT_LANGUAGE.to_owned()")]
    /// Text-to-speech language code, such as vi-VN (default); must match the voice.
    pub language: String,
    #[graphql(default = 1)]
    /// How many times to play the message to a person, 1 to 5.
    pub repeat: i32,
}

#[derive(InputObject)]
/// One key of the menu and what it does.
pub struct MenuOptionInput {
    /// The key: one of 0-9, * or #, each used once per menu.
    pub digit: String,
    /// What pressing the key does.
    pub action: MenuAction,
    /// Number to connect the callee to, for TRANSFER only (required there); stored as E.164, the transfer leg is charged to you.
    pub transfer_to: Option<String>,
}

#[derive(InputObject)]
/// A keypress menu played after the message; needs at least one option.
pub struct MenuInput {
    /// Spoken before waiting for a key, at most 500 characters.
    pub prompt: Option<String>,
    #[graphql(default = 5)]
    /// Seconds to wait for a key, 1 to 30.
    pub timeout_secs: i32,
    /// The keys and their actions.
    pub options: Vec<MenuOptionInput>,
}

#[derive(InputObject)]
/// When the campaign may call; contacts outside it wait for the next opening.
pub struct ScheduleInput {
    /// No calls before this instant (RFC 3339 UTC); a future start makes startCampaign go to SCHEDULED.
    pub start_at: Option<DateTime<Utc>>,
    /// No calls after this instant (RFC 3339 UTC); must be after startAt.
    pub end_at: Option<DateTime<Utc>>,
    /// Start of the daily window, HH:MM in timeZone; give dailyEnd too.
    pub daily_start: Option<String>,
    /// End of the daily window, HH:MM in timeZone, after dailyStart.
    pub daily_end: Option<String>,
    /// 1 (Monday) to 7 (Sunday); empty for every day.
    #[graphql(default)]
    pub days_of_week: Vec<i32>,
    #[graphql(default_with = "String::from(\"Asia/Ho_Chi_Minh\")")]
    /// IANA time zone of the daily window and days, such as Asia/Ho_Chi_Minh.
    pub time_zone: String,
}

#[derive(InputObject)]
/// How fast the campaign dials; omitted values keep the current (or default) setting.
pub struct PacingInput {
    /// New calls per second, above 0 and at most 50 (default 1).
    pub calls_per_second: Option<f64>,
    /// Calls in progress at once, 1 to 500 (default 10).
    pub max_concurrent: Option<i32>,
}

#[derive(InputObject)]
/// When a contact is called again; omitted values keep the current (or default) setting.
pub struct RetryInput {
    /// Calls per contact, the first included, 1 to 10 (default 1).
    pub max_attempts: Option<i32>,
    /// Outcomes that earn another attempt; replaces the list (default none).
    pub retry_on: Option<Vec<RetryOutcome>>,
    /// Seconds between attempts, 60 to 604800 (7 days; default 3600).
    pub delay_secs: Option<i32>,
}

#[derive(InputObject)]
/// How the callees agreed to be called; a campaign cannot start without it.
pub struct ConsentInput {
    /// The basis of the consent.
    pub basis: ConsentBasis,
    /// Where the consent came from (form, recorded call, contract ...), 1 to 500 characters.
    pub source: String,
    /// When the consent was collected (RFC 3339 UTC); not in the future.
    pub collected_at: DateTime<Utc>,
}

#[derive(InputObject)]
/// A new campaign; it starts as DRAFT.
pub struct CreateCampaignInput {
    /// The campaign's name, 1 to 200 characters.
    pub name: String,
    /// Why the campaign calls; compliance rules depend on it.
    pub purpose: Purpose,
    /// How the callees agreed to be called; may come later, but a start needs it.
    pub consent: Option<ConsentInput>,
    /// What to say to each callee.
    pub message: MessageInput,
    /// A keypress menu after the message; omit for none.
    pub menu: Option<MenuInput>,
    #[graphql(default_with = "AmdMode::Off")]
    /// What to do when an answering machine picks up (default OFF).
    pub answering_machine: AmdMode,
    #[graphql(default)]
    /// Ids of your own phone numbers (DIDs) to call from, at most 50; a start needs one.
    pub caller_ids: Vec<ID>,
    /// When the campaign may call; omit for no window of its own (time zone Asia/Ho_Chi_Minh).
    pub schedule: Option<ScheduleInput>,
    /// How fast to dial (default 1 call per second, 10 at once).
    pub pacing: Option<PacingInput>,
    /// When to call a contact again (default one attempt only).
    pub retry: Option<RetryInput>,
    /// Two-letter ISO country used to read national numbers such as 0912345678 (default VN).
    pub default_country: Option<String>,
}

#[derive(InputObject)]
/// Changes to a DRAFT or PAUSED campaign of yours; omitted fields stay as they are.
pub struct UpdateCampaignInput {
    /// The campaign to change.
    pub id: ID,
    /// New name, 1 to 200 characters.
    pub name: Option<String>,
    /// New purpose.
    pub purpose: Option<Purpose>,
    /// New consent record, replacing the old one.
    pub consent: Option<ConsentInput>,
    /// New message, replacing the whole message.
    pub message: Option<MessageInput>,
    /// New keypress menu, replacing the old one.
    pub menu: Option<MenuInput>,
    /// Removes the keypress menu.
    #[graphql(default)]
    pub remove_menu: bool,
    /// New answering-machine handling.
    pub answering_machine: Option<AmdMode>,
    /// New caller ID list, replacing the old one: at most 50 of your DIDs.
    pub caller_ids: Option<Vec<ID>>,
    /// New schedule, replacing the whole schedule.
    pub schedule: Option<ScheduleInput>,
    /// New pacing; omitted values are kept.
    pub pacing: Option<PacingInput>,
    /// New retry rules; omitted values are kept.
    pub retry: Option<RetryInput>,
    /// New two-letter ISO country for reading national numbers of contacts added from now on.
    pub default_country: Option<String>,
}

/// What `cloneCampaign` takes.
#[derive(InputObject)]
pub struct CloneCampaignInput {
    /// The campaign to copy; yours.
    pub id: ID,
    /// The new campaign's name, 1 to 200 characters.
    pub name: String,
}

crate::one_field_types!(InputObject "takes", id: ID, "The campaign's ID." =>
    DeleteCampaignInput "deleteCampaign",
    StartCampaignInput "startCampaign",
    PauseCampaignInput "pauseCampaign",
    ResumeCampaignInput "resumeCampaign",
    CancelCampaignInput "cancelCampaign",
);

#[derive(InputObject, Default)]
/// Narrows a list of campaigns; all given conditions must hold.
#[graphql(name = "CampaignFilter")]
pub struct CampaignsFilter {
    /// Only campaigns in one of these statuses; omit for every status.
    pub statuses: Option<Vec<CampaignStatus>>,
    /// Only campaigns whose name contains this text, ignoring case.
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
