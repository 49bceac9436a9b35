//! Every job this binary runs and every periodic one it schedules: the one place that names
//! them all, so the queue itself knows none.

use std::time::Duration;

use crate::app::AppState;
use crate::jobs::{PeriodicJob, Registry};
use crate::{auth, calls, campaigns, dids, dispatcher, payments, twilio_accounts, webhooks};

/// Every job type this binary runs, with the state they run against.
pub fn registry(state: &AppState) -> Registry {
    let mut registry = Registry::default();
    registry.register::<auth::jobs::PurgeExpiredTokens>(state.clone());
    registry.register::<twilio_accounts::jobs::CheckTwilioAccounts>(state.clone());
    registry.register::<calls::jobs::UpdateDidHealth>(state.clone());
    registry.register::<dids::jobs::ReleaseIdleDids>(state.clone());
    registry.register::<webhooks::jobs::ProcessPendingWebhooks>(state.clone());
    registry.register_handler::<calls::CallEnded, _, _>(state.clone(), dispatcher::on_call_ended);
    registry.register::<calls::jobs::ReconcileCalls>(state.clone());
    registry.register::<payments::jobs::PollTopUps>(state.clone());
    registry.register::<webhooks::jobs::PurgeOldWebhooks>(state.clone());
    registry.register::<campaigns::jobs::PurgeFinishedCampaignData>(state.clone());
    registry.register::<campaigns::jobs::CompactCampaignCounters>(state.clone());
    registry.register::<campaigns::imports::ProcessImport>(state.clone());
    registry
}

/// Every periodic job this binary schedules.
pub fn periodic() -> Vec<PeriodicJob> {
    const HOUR: u64 = 3600;
    vec![
        PeriodicJob::new(&auth::jobs::PurgeExpiredTokens, Duration::from_secs(HOUR)),
        PeriodicJob::new(
            &twilio_accounts::jobs::CheckTwilioAccounts,
            Duration::from_secs(600),
        ),
        PeriodicJob::new(&calls::jobs::UpdateDidHealth, Duration::from_secs(900)),
        PeriodicJob::new(&dids::jobs::ReleaseIdleDids, Duration::from_secs(24 * HOUR)),
        PeriodicJob::new(
            &webhooks::jobs::ProcessPendingWebhooks,
            Duration::from_secs(60),
        ),
        PeriodicJob::new(&calls::jobs::ReconcileCalls, Duration::from_secs(60)),
        PeriodicJob::new(&payments::jobs::PollTopUps, Duration::from_secs(60)),
        PeriodicJob::new(&webhooks::jobs::PurgeOldWebhooks, Duration::from_secs(HOUR)),
        PeriodicJob::new(
            &campaigns::jobs::PurgeFinishedCampaignData,
            Duration::from_secs(HOUR),
        ),
        PeriodicJob::new(
            &campaigns::jobs::CompactCampaignCounters,
            Duration::from_secs(30),
        ),
    ]
}
