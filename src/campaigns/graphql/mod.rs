//! Campaign fields: create, change, start/pause/resume/cancel, preflight.

mod inputs;
mod mutation;
mod query;
mod subscription;
mod types;

pub use inputs::{
    CampaignsFilter, ConsentInput, CreateCampaignInput, MenuInput, MenuOptionInput, MessageInput,
    PacingInput, RetryInput, ScheduleInput, UpdateCampaignInput,
};
pub use mutation::CampaignsMutation;
pub use query::CampaignsQuery;
pub use subscription::CampaignsSubscription;
pub use types::{
    CampaignNode, CampaignPreflight, CampaignStats, ConsentView, ContactCounts,
    DeleteCampaignPayload, MenuOptionView, MenuView, MessageView, PreflightIssue, ScheduleView,
    SkipCount,
};
