//! What campaign fields return: the `Campaign` node, its views and statistics, and payloads.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveTime, Utc};

use crate::campaigns::model::{Campaign, CampaignStatus};
use crate::campaigns::settings::{self, AmdMode, ConsentBasis, MenuAction, RetryOutcome};
use crate::campaigns::{loaders, stats};
use crate::compliance::Purpose;
use crate::error::AppError;
use crate::graphql::context::load_one;

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
    pub(super) fn from_stats(campaign_id: uuid::Uuid, s: stats::Stats) -> Self {
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
    #[graphql(complexity = "crate::graphql::cost::STATS + child_complexity")]
    async fn stats(&self, ctx: &Context<'_>) -> Result<CampaignStats> {
        // A `CampaignNode` only exists for a campaign the viewer may see.
        let aggregates = load_one(ctx, self.0.id, loaders::CampaignAggregates)
            .await?
            .unwrap_or_default();
        let stats = stats::assemble(&self.0, aggregates);
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
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn contact_counts(&self, ctx: &Context<'_>) -> Result<ContactCounts> {
        let c = load_one(
            ctx,
            self.0.id,
            crate::campaigns::contacts::loaders::ContactCounts,
        )
        .await?
        .unwrap_or_default();
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
