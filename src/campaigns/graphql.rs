//! Campaign fields: create, change, start/pause/resume/cancel, preflight.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, NaiveTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::model::{Campaign, CampaignFilter, CampaignStatus};
use super::service::{self, CampaignInput, Transition, EVENT_STATE_CHANGED};
use super::settings::{self, AmdMode, ConsentBasis, MenuAction, RetryOutcome};
use crate::compliance::Purpose;
use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct CampaignNode(pub Campaign);

#[derive(SimpleObject)]
pub struct MessageView {
    pub text: Option<String>,
    pub audio_url: Option<String>,
    pub voice: String,
    pub language: String,
    pub repeat: i32,
}

#[derive(SimpleObject)]
pub struct MenuOptionView {
    pub digit: String,
    pub action: MenuAction,
    pub transfer_to: Option<String>,
}

#[derive(SimpleObject)]
pub struct MenuView {
    pub prompt: Option<String>,
    pub timeout_secs: i32,
    pub options: Vec<MenuOptionView>,
}

#[derive(SimpleObject)]
pub struct ScheduleView {
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    /// HH:MM in the schedule's time zone.
    pub daily_start: Option<String>,
    pub daily_end: Option<String>,
    pub days_of_week: Vec<i32>,
    pub time_zone: String,
}

#[derive(SimpleObject)]
pub struct ConsentView {
    pub basis: ConsentBasis,
    pub source: String,
    pub collected_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct ContactCounts {
    pub total: i64,
    pub pending: i64,
    pub calling: i64,
    pub done: i64,
    pub failed: i64,
    pub opted_out: i64,
    pub skipped: i64,
}

#[derive(SimpleObject)]
pub struct SkipCount {
    /// DNC, CAP, WINDOW, CALLER_ID or BALANCE.
    pub reason: String,
    pub contacts: i64,
}

#[derive(SimpleObject)]
pub struct CampaignStats {
    pub campaign_id: ID,
    pub contacts: ContactCounts,
    pub attempts: i64,
    pub answered: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
    pub machine: i64,
    pub in_progress: i64,
    pub opted_out: i64,
    pub skipped_by_reason: Vec<SkipCount>,
    /// Answered by a person, over calls that ended.
    pub answer_rate: Option<f64>,
    pub average_duration_secs: Option<f64>,
    /// At the campaign's pace; null unless it is running.
    pub estimated_seconds_left: Option<i64>,
    /// VND charged for the campaign's calls so far.
    pub cost: i64,
}

impl CampaignStats {
    fn from_stats(campaign_id: uuid::Uuid, s: super::stats::Stats) -> Self {
        let c = s.contacts;
        Self {
            campaign_id: ID(campaign_id.to_string()),
            contacts: ContactCounts {
                total: c.total(),
                pending: c.pending,
                calling: c.calling,
                done: c.done,
                failed: c.failed,
                opted_out: c.opted_out,
                skipped: c.skipped,
            },
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
            cost: s.cost,
        }
    }
}

#[Object(name = "Campaign")]
impl CampaignNode {
    async fn stats(&self, ctx: &Context<'_>) -> Result<CampaignStats> {
        let stats = super::stats::compute(ctx.state(), &self.0).await?;
        Ok(CampaignStats::from_stats(self.0.id, stats))
    }
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn owner_id(&self) -> ID {
        ID(self.0.owner_id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn status(&self) -> CampaignStatus {
        self.0.status
    }
    async fn purpose(&self) -> Purpose {
        self.0.purpose
    }
    async fn consent(&self) -> Option<ConsentView> {
        Some(ConsentView {
            basis: self.0.consent_basis?,
            source: self.0.consent_source.clone().unwrap_or_default(),
            collected_at: self.0.consent_collected_at,
        })
    }
    async fn default_country(&self) -> &str {
        &self.0.default_country
    }
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
    async fn answering_machine(&self) -> AmdMode {
        self.0.amd_mode
    }
    async fn caller_ids(&self) -> Vec<ID> {
        self.0
            .caller_id_dids
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
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
    async fn calls_per_second(&self) -> f64 {
        self.0.calls_per_second
    }
    async fn max_concurrent(&self) -> i32 {
        self.0.max_concurrent
    }
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }
    async fn retry_on(&self) -> Vec<RetryOutcome> {
        self.0
            .retry_on
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect()
    }
    async fn retry_delay_secs(&self) -> i32 {
        self.0.retry_delay_secs
    }
    /// Why the campaign paused itself, if it did.
    async fn pause_reason(&self) -> Option<&str> {
        self.0.pause_reason.as_deref()
    }
    async fn contact_counts(&self, ctx: &Context<'_>) -> Result<ContactCounts> {
        let c = crate::contacts::service::counts(ctx.state(), self.0.id).await?;
        Ok(ContactCounts {
            total: c.total(),
            pending: c.pending,
            calling: c.calling,
            done: c.done,
            failed: c.failed,
            opted_out: c.opted_out,
            skipped: c.skipped,
        })
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

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

#[derive(SimpleObject)]
pub struct CampaignPayload {
    pub campaign: CampaignNode,
}

#[derive(SimpleObject)]
pub struct DeleteCampaignPayload {
    pub deleted_id: ID,
}

#[derive(SimpleObject)]
pub struct PreflightIssue {
    pub code: String,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct CampaignPreflight {
    /// True when nothing blocks a start.
    pub ready: bool,
    pub blockers: Vec<PreflightIssue>,
    pub warnings: Vec<PreflightIssue>,
    pub contacts_to_call: i64,
    /// VND if every contact left answers for one minute.
    pub estimated_cost: i64,
    pub available_balance: i64,
}

fn parse_time(field: &'static str, raw: Option<&str>) -> Result<Option<NaiveTime>, AppError> {
    raw.map(|r| {
        NaiveTime::parse_from_str(r.trim(), "%H:%M")
            .map_err(|_| AppError::bad_input(field, "HH:MM, such as 08:30"))
    })
    .transpose()
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

fn to_input(parts: Parts) -> Result<CampaignInput, AppError> {
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
    } = parts;
    let message = message
        .map(|m| -> Result<settings::Message, AppError> {
            Ok(settings::Message {
                text: m.text,
                audio_url: m.audio_url,
                voice: m.voice,
                language: m.language,
                repeat: u32::try_from(m.repeat)
                    .map_err(|_| AppError::bad_input("message.repeat", "1 to 5"))?,
            })
        })
        .transpose()?;
    let menu = menu
        .map(|m| {
            m.map(|m| -> Result<settings::Menu, AppError> {
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
            })
            .transpose()
        })
        .transpose()?;
    let schedule = schedule
        .map(|s| -> Result<settings::Schedule, AppError> {
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
        })
        .transpose()?;
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

#[derive(Default)]
pub struct CampaignsQuery;

#[Object]
impl CampaignsQuery {
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<CampaignNode> {
        Ok(CampaignNode(
            service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?,
        ))
    }

    /// Your campaigns, newest first (admins see everyone's).
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CampaignsFilter>,
    ) -> Result<Connection<String, CampaignNode>> {
        let page = Page::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = CampaignFilter {
            owner_id: None,
            status: filter.status,
            search: filter.search.filter(|s| !s.trim().is_empty()),
        };
        let rows = service::page(
            ctx.state(),
            ctx.viewer()?,
            filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |c| c.id.to_string(), CampaignNode))
    }

    /// Everything that would stop the campaign from starting, and warnings.
    async fn campaign_preflight(&self, ctx: &Context<'_>, id: ID) -> Result<CampaignPreflight> {
        let report = service::preflight(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?;
        let issues = |list: Vec<super::preflight::Issue>| {
            list.into_iter()
                .map(|i| PreflightIssue {
                    code: i.code.to_owned(),
                    message: i.message,
                })
                .collect()
        };
        Ok(CampaignPreflight {
            ready: report.blockers.is_empty(),
            contacts_to_call: report.contacts_to_call,
            estimated_cost: report.estimated_cost,
            available_balance: report.available_balance,
            blockers: issues(report.blockers),
            warnings: issues(report.warnings),
        })
    }
}

#[derive(Default)]
pub struct CampaignsMutation;

#[Object]
impl CampaignsMutation {
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<CampaignPayload> {
        let input = to_input(Parts {
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
        })?;
        Ok(CampaignPayload {
            campaign: CampaignNode(service::create(ctx.state(), ctx.viewer()?, input).await?),
        })
    }

    /// Only while DRAFT or PAUSED.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        input: UpdateCampaignInput,
    ) -> Result<CampaignPayload> {
        let id = parse_id("id", &input.id)?;
        let menu = if input.remove_menu {
            Some(None)
        } else {
            input.menu.map(Some)
        };
        let patch = to_input(Parts {
            name: input.name,
            purpose: input.purpose,
            consent: input.consent,
            message: input.message,
            menu,
            amd: input.answering_machine,
            caller_ids: input.caller_ids,
            schedule: input.schedule,
            pacing: input.pacing,
            retry: input.retry,
            default_country: input.default_country,
        })?;
        Ok(CampaignPayload {
            campaign: CampaignNode(service::update(ctx.state(), ctx.viewer()?, id, patch).await?),
        })
    }

    /// Only DRAFT campaigns.
    async fn delete_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<DeleteCampaignPayload> {
        service::delete(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(DeleteCampaignPayload {
            deleted_id: input.id,
        })
    }

    async fn start_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Start).await
    }

    async fn pause_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Pause).await
    }

    async fn resume_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Resume).await
    }

    async fn cancel_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Cancel).await
    }
}

async fn move_campaign(
    ctx: &Context<'_>,
    id: &ID,
    transition: Transition,
) -> Result<CampaignPayload> {
    let campaign =
        service::transition(ctx.state(), ctx.viewer()?, parse_id("id", id)?, transition).await?;
    Ok(CampaignPayload {
        campaign: CampaignNode(campaign),
    })
}

#[derive(Default)]
pub struct CampaignsSubscription;

/// Progress is sent at most this often, however many calls change.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

#[Subscription]
impl CampaignsSubscription {
    /// The campaign's statistics as calls progress, at most a few times a second.
    async fn campaign_progress(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
    ) -> Result<impl Stream<Item = CampaignStats>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let id = parse_id("campaignId", &campaign_id)?;
        let owner = service::get(&state, &viewer, id).await?.owner_id;
        let mut events = state.events.subscribe();
        Ok(async_stream::stream! {
            let mut ticker = tokio::time::interval(PROGRESS_EVERY);
            // The first snapshot goes out at once.
            let mut dirty = true;
            loop {
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(e) if e.owner_id == owner && e.campaign_id == Some(id) => dirty = true,
                        Ok(_) => {}
                        // Missed some: a fresh snapshot covers them.
                        Err(RecvError::Lagged(_)) => dirty = true,
                        Err(RecvError::Closed) => break,
                    },
                    _ = ticker.tick() => {
                        if dirty {
                            dirty = false;
                            if let Ok(stats) = super::stats::for_campaign(&state, id).await {
                                yield CampaignStats::from_stats(id, stats);
                            }
                        }
                    }
                }
            }
        })
    }

    /// The campaign each time its status changes (started, paused, auto-paused, completed ...).
    async fn campaign_state_changed(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> Result<impl Stream<Item = CampaignNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let only = campaign_id
            .map(|id| parse_id("campaignId", &id))
            .transpose()?;
        if let Some(id) = only {
            // Refuses someone else's campaign up front.
            service::get(&state, &viewer, id).await?;
        }
        let mut events = state.events.subscribe();
        Ok(async_stream::stream! {
            loop {
                let campaign_id = match events.recv().await {
                    Ok(e) if e.kind == EVENT_STATE_CHANGED && (viewer.is_admin() || e.owner_id == viewer.id) => match e.campaign_id {
                        Some(id) if only.is_none_or(|o| o == id) => id,
                        _ => continue,
                    },
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => match only {
                        Some(id) => id,
                        None => continue,
                    },
                    Err(RecvError::Closed) => break,
                };
                if let Ok(campaign) = service::get(&state, &viewer, campaign_id).await {
                    yield CampaignNode(campaign);
                }
            }
        })
    }
}
