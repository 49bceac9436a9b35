//! Campaign fields: create, change, start/pause/resume/cancel, preflight.

mod inputs;
mod mutation;
mod query;
mod reasons;
mod subscription;
mod types;

pub use inputs::{
    CampaignsFilter, ConsentInput, CreateCampaignInput, MenuInput, MenuOptionInput, MessageInput,
    PacingInput, RetryInput, ScheduleInput, UpdateCampaignInput,
};
pub use mutation::CampaignsMutation;
pub use query::CampaignsQuery;
pub use reasons::{CampaignPreflight, PauseReason, PreflightIssue, PreflightIssueCode};
pub use subscription::CampaignsSubscription;
pub use types::{
    CampaignNode, CampaignStats, ConsentView, ContactCounts, DeleteCampaignPayload, MenuOptionView,
    MenuView, MessageView, ScheduleView, SkipCount,
};
