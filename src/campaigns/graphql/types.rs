//! What campaign fields return: the `Campaign` node, its views and statistics, and payloads.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveTime, Utc};

use super::reasons::PauseReason;
use crate::campaigns::model::{Campaign, CampaignStatus};
use crate::campaigns::settings::{self, AmdMode, ConsentBasis, MenuAction, RetryOutcome};
use crate::campaigns::{loaders, stats};
use crate::compliance::Purpose;
use crate::dids;
use crate::dids::graphql::DidNode;
use crate::dids::loaders::DidsById;
use crate::error::AppError;
use crate::graphql::context::{load_one, ContextExt};
use crate::graphql::Vnd;
use crate::users::graphql::UserNode;
use crate::users::loaders::UsersById;

pub struct CampaignNode(pub Campaign);

#[derive(SimpleObject)]
/// What a campaign says to each callee: spoken text or a recording.
pub struct MessageView {
    /// Text spoken by text-to-speech, with {{name}} and other contact variables filled in; null when audioUrl is set.
    pub text: Option<String>,
    /// http(s) URL of a recording played instead of text; null when text is set.
    pub audio_url: Option<String>,
    /// Text-to-speech voice, such as Google.vi-VN-Wavenet-A.
    pub voice: String,
    /// Text-to-speech language, such as vi-VN.
    pub language: String,
    /// How many times the message plays to a person, 1 to 5 (once to an answering machine).
    pub repeat: i32,
}

#[derive(SimpleObject)]
/// One key of the keypress menu and what it does.
pub struct MenuOptionView {
    /// The key: 0-9, * or #.
    pub digit: String,
    /// What pressing the key does.
    pub action: MenuAction,
    /// E.164 number the callee is connected to, for TRANSFER only; the transfer leg is charged to the owner.
    pub transfer_to: Option<String>,
}

#[derive(SimpleObject)]
/// The keypress menu offered after the message.
pub struct MenuView {
    /// Spoken before waiting for a key, at most 500 characters.
    pub prompt: Option<String>,
    /// Seconds to wait for a key, 1 to 30.
    pub timeout_secs: i32,
    /// The keys and their actions.
    pub options: Vec<MenuOptionView>,
}

#[derive(SimpleObject)]
/// When a campaign may call.
pub struct ScheduleView {
    /// No calls before this instant (RFC 3339 UTC); null to call as soon as started.
    pub start_at: Option<DateTime<Utc>>,
    /// No calls after this instant (RFC 3339 UTC); a campaign past its end cannot start.
    pub end_at: Option<DateTime<Utc>>,
    /// HH:MM in the schedule's time zone.
    pub daily_start: Option<String>,
    /// End of the daily calling window, HH:MM in the schedule's time zone.
    pub daily_end: Option<String>,
    /// Days calls may be made, 1 (Monday) to 7 (Sunday); empty for every day.
    pub days_of_week: Vec<i32>,
    /// IANA time zone of the daily window and days, such as Asia/Ho_Chi_Minh.
    pub time_zone: String,
}

#[derive(SimpleObject)]
/// How the callees' consent to be called was obtained.
pub struct ConsentView {
    /// The basis of the consent.
    pub basis: ConsentBasis,
    /// Where the consent came from (form, recorded call, contract ...).
    pub source: String,
    /// When the consent was collected (RFC 3339 UTC).
    pub collected_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
/// How many of a campaign's contacts are in each state.
pub struct ContactCounts {
    /// All the campaign's contacts.
    pub total: i64,
    /// Waiting for a first call or a retry.
    pub pending: i64,
    /// With a call in progress.
    pub calling: i64,
    /// Answered by a person.
    pub done: i64,
    /// Out of attempts without being answered by a person or a machine.
    pub failed: i64,
    /// Ended on an answering machine or a fax (see ContactState.MACHINE).
    pub machine: i64,
    /// Pressed the menu's opt-out key.
    pub opted_out: i64,
    /// Set aside for good by a check such as DNC (see Contact.skipReason).
    pub skipped: i64,
}

impl From<crate::campaigns::contacts::model::StateCounts> for ContactCounts {
    fn from(c: crate::campaigns::contacts::model::StateCounts) -> Self {
        Self {
            total: c.total(),
            pending: c.pending,
            calling: c.calling,
            done: c.done,
            failed: c.failed,
            machine: c.machine,
            opted_out: c.opted_out,
            skipped: c.skipped,
        }
    }
}

#[derive(SimpleObject)]
/// How many contacts were skipped or deferred for one reason.
pub struct SkipCount {
    /// A SkipReason value: DNC, CAP, WINDOW, CALLER_ID, BALANCE or NUMBER_TYPE.
    pub reason: String,
    /// Contacts skipped or deferred for this reason.
    pub contacts: i64,
}

#[derive(SimpleObject)]
/// A campaign's call and contact statistics.
pub struct CampaignStats {
    /// The campaign these statistics are for.
    pub campaign_id: ID,
    /// The campaign's contacts by state.
    pub contacts: ContactCounts,
    /// Calls placed, retries included.
    pub attempts: i64,
    /// Calls answered by a person.
    pub answered: i64,
    /// Calls that got a busy line.
    pub busy: i64,
    /// Calls nobody answered.
    pub no_answer: i64,
    /// Calls that failed to connect.
    pub failed: i64,
    /// Calls answered by an answering machine or fax.
    pub machine: i64,
    /// Calls in progress now.
    pub in_progress: i64,
    /// Contacts who opted out; the same as contacts.optedOut.
    pub opted_out: i64,
    /// Skipped or deferred contacts per reason, in alphabetical order.
    pub skipped_by_reason: Vec<SkipCount>,
    /// Share of ended calls answered by a person, 0 to 1; null before any call ended.
    pub answer_rate: Option<f64>,
    /// Average length in seconds of the calls that reported a duration; null before any.
    pub average_duration_secs: Option<f64>,
    /// Seconds until the pending and calling contacts are done at the campaign's pace; null unless RUNNING or SCHEDULED.
    pub estimated_seconds_left: Option<i64>,
    /// Đồng (VND) charged for the campaign's calls so far.
    pub cost: Vnd,
}

impl CampaignStats {
    pub(super) fn from_stats(campaign_id: uuid::Uuid, s: stats::Stats) -> Self {
        let c = s.contacts;
        Self {
            campaign_id: ID(campaign_id.to_string()),
            contacts: c.into(),
            attempts: s.attempts,
            answered: s.answered,
            busy: s.busy,
            no_answer: s.no_answer,
            failed: s.failed,
            machine: s.machine,
            in_progress: s.in_progress,
            opted_out: c.opted_out,
            skipped_by_reason: s
                .skipped_by_reason
                .into_iter()
                .map(|(reason, contacts)| SkipCount { reason, contacts })
                .collect(),
            answer_rate: s.answer_rate,
            average_duration_secs: s.average_duration_secs,
            estimated_seconds_left: s.estimated_seconds_left,
            cost: Vnd(s.cost),
        }
    }
}

/// A voice campaign: what it says, whom it calls and when, and how it is doing.
#[Object(name = "Campaign")]
impl CampaignNode {
    #[graphql(complexity = "crate::graphql::cost::STATS + child_complexity")]
    /// Call and contact statistics, from the campaign's counters.
    async fn stats(&self, ctx: &Context<'_>) -> Result<CampaignStats> {
        // A `CampaignNode` only exists for a campaign the viewer may see.
        let aggregates = load_one(ctx, self.0.id, loaders::CampaignAggregates)
            .await?
            .unwrap_or_default();
        let stats = stats::assemble(&self.0, aggregates);
        Ok(CampaignStats::from_stats(self.0.id, stats))
    }
    /// The campaign's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The user who owns the campaign and pays for its calls.
    async fn owner_id(&self) -> ID {
        ID(self.0.owner_id.to_string())
    }
    /// The account that owns the campaign and pays for its calls.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn owner(&self, ctx: &Context<'_>) -> Result<UserNode> {
        let owner = load_one(ctx, self.0.owner_id, UsersById).await?;
        Ok(UserNode(owner.ok_or(AppError::NotFound("user"))?))
    }
    /// The campaign's name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where the campaign is in its lifecycle.
    async fn status(&self) -> CampaignStatus {
        self.0.status
    }
    /// Why the campaign calls; compliance rules depend on it.
    async fn purpose(&self) -> Purpose {
        self.0.purpose
    }
    /// How the callees' consent was obtained; null until recorded (a start needs it).
    async fn consent(&self) -> Option<ConsentView> {
        Some(ConsentView {
            basis: self.0.consent_basis?,
            source: self.0.consent_source.clone().unwrap_or_default(),
            collected_at: self.0.consent_collected_at,
        })
    }
    /// Two-letter ISO country used to read national numbers of contacts (default VN).
    async fn default_country(&self) -> &str {
        &self.0.default_country
    }
    /// What is said or played to each callee.
    async fn message(&self) -> Result<MessageView> {
        let m: settings::Message =
            serde_json::from_value(self.0.message.clone()).map_err(AppError::internal)?;
        Ok(MessageView {
            text: m.text,
            audio_url: m.audio_url,
            voice: m.voice,
            language: m.language,
            repeat: m.repeat as i32,
        })
    }
    /// The keypress menu after the message; null when there is none.
    async fn menu(&self) -> Result<Option<MenuView>> {
        let Some(raw) = &self.0.menu else {
            return Ok(None);
        };
        let m: settings::Menu = serde_json::from_value(raw.clone()).map_err(AppError::internal)?;
        Ok(Some(MenuView {
            prompt: m.prompt,
            timeout_secs: m.timeout_secs as i32,
            options: m
                .options
                .into_iter()
                .map(|o| MenuOptionView {
                    digit: o.digit,
                    action: o.action,
                    transfer_to: o.transfer_to,
                })
                .collect(),
        }))
    }
    /// What happens when an answering machine picks up.
    async fn answering_machine(&self) -> AmdMode {
        self.0.amd_mode
    }
    /// Ids of the owner's phone numbers (DIDs) the calls come from.
    async fn caller_ids(&self) -> Vec<ID> {
        self.0
            .caller_id_dids
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
    /// The numbers of `callerIds` with their phone numbers, those you hold now (an ADMIN sees every one).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn caller_id_numbers(&self, ctx: &Context<'_>) -> Result<Vec<DidNode>> {
        let viewer = ctx.viewer()?;
        let ids = self.0.caller_id_dids.iter().copied();
        let found = ctx.loader::<DidsById>()?.load_many(ids).await?;
        Ok(self
            .0
            .caller_id_dids
            .iter()
            .filter_map(|id| found.get(id))
            .filter(|d| dids::loaders::visible(d, viewer))
            .map(|d| DidNode(d.clone()))
            .collect())
    }
    /// When the campaign may call.
    async fn schedule(&self) -> Result<ScheduleView> {
        let s: settings::Schedule =
            serde_json::from_value(self.0.schedule.clone()).map_err(AppError::internal)?;
        let hhmm = |t: Option<NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
        Ok(ScheduleView {
            start_at: s.start_at,
            end_at: s.end_at,
            daily_start: hhmm(s.daily_start),
            daily_end: hhmm(s.daily_end),
            days_of_week: s.days.iter().map(|d| i32::from(*d)).collect(),
            time_zone: s.time_zone,
        })
    }
    /// Most new calls started per second, above 0 and at most 50 (default 1).
    async fn calls_per_second(&self) -> f64 {
        self.0.calls_per_second
    }
    /// Most calls in progress at once, 1 to 500 (default 10).
    async fn max_concurrent(&self) -> i32 {
        self.0.max_concurrent
    }
    /// Most calls per contact, the first included, 1 to 10 (default 1).
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }
    /// Call outcomes that earn a contact another attempt while attempts remain.
    async fn retry_on(&self) -> Vec<RetryOutcome> {
        self.0
            .retry_on
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect()
    }
    /// Seconds before another attempt, 60 to 604800 (default 3600).
    async fn retry_delay_secs(&self) -> i32 {
        self.0.retry_delay_secs
    }
    /// Why it is paused; null when not paused.
    async fn pause_reason(&self) -> Option<PauseReason> {
        self.0.pause_reason.as_deref().map(PauseReason::from_stored)
    }
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    /// How many of the campaign's contacts are in each state.
    async fn contact_counts(&self, ctx: &Context<'_>) -> Result<ContactCounts> {
        let c = load_one(
            ctx,
            self.0.id,
            crate::campaigns::contacts::loaders::ContactCounts,
        )
        .await?
        .unwrap_or_default();
        Ok(c.into())
    }
    /// When it first started or was scheduled (RFC 3339 UTC); null before that.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When it completed or was cancelled (RFC 3339 UTC); null otherwise.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// When it was created (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

crate::one_field_types!(SimpleObject "answers", campaign: CampaignNode, "The campaign as it is now." =>
    CreateCampaignPayload "createCampaign",
    UpdateCampaignPayload "updateCampaign",
    StartCampaignPayload "startCampaign",
    PauseCampaignPayload "pauseCampaign",
    ResumeCampaignPayload "resumeCampaign",
    CancelCampaignPayload "cancelCampaign",
    CloneCampaignPayload "cloneCampaign",
);

#[derive(SimpleObject)]
/// What deleteCampaign removed.
pub struct DeleteCampaignPayload {
    /// Id of the deleted campaign.
    pub deleted_id: ID,
}
