//! `campaignProgress` feeds: one per campaign per process, however many subscribe.
//!
//! A feed listens to the bus and, at most every `EVERY`, when something about its campaign
//! happened, computes the statistics once and hands the same snapshot to every subscriber
//! (5,000 subscribers of one campaign used to run 5,000 queries a tick). The feed stops when
//! its last subscriber leaves. A feed listens on its campaign's route only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use uuid::Uuid;

use super::stats::{self, Stats};
use crate::app::AppState;
use crate::events::Route;

/// Progress is computed at most this often per campaign, however many calls change.
pub const EVERY: Duration = Duration::from_millis(250);

pub type Snapshot = Option<Arc<Stats>>;
type Feed = Arc<watch::Sender<Snapshot>>;

#[derive(Clone, Default)]
pub struct ProgressFeeds(Arc<Inner>);

#[derive(Default)]
struct Inner {
    feeds: Mutex<HashMap<Uuid, Feed>>,
    computations: AtomicU64,
}

impl ProgressFeeds {
    /// This process's feeds.
    pub fn of(state: &AppState) -> Self {
        state.shared.get()
    }

    /// The campaign's snapshots: the latest at once (when there is one), then each new one.
    pub fn watch(
        &self,
        state: &AppState,
        campaign: Uuid,
        owner: Uuid,
    ) -> watch::Receiver<Snapshot> {
        let mut feeds = self.lock();
        if let Some(feed) = feeds.get(&campaign) {
            let mut receiver = feed.subscribe();
            receiver.mark_changed();
            return receiver;
        }
        let (feed, receiver) = watch::channel(None);
        let feed = Arc::new(feed);
        feeds.insert(campaign, feed.clone());
        tokio::spawn(run(self.clone(), state.clone(), campaign, owner, feed));
        receiver
    }

    /// Statistics computed by feeds on this process since start (each serves every subscriber
    /// of its campaign).
    pub fn computations(&self) -> u64 {
        self.0.computations.load(Ordering::Relaxed)
    }

    /// Campaigns with a live feed on this process.
    pub fn feeds(&self) -> usize {
        self.lock().len()
    }

    /// Removes the feed if nobody subscribed since its last subscriber left; under the lock,
    /// so `watch` never hands out a feed that is stopping.
    fn retire(&self, campaign: Uuid, feed: &Feed) -> bool {
        let mut feeds = self.lock();
        if feed.receiver_count() > 0 {
            return false;
        }
        if feeds.get(&campaign).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(&campaign);
        }
        true
    }

    /// The feed is stopping for good (the server is): its subscribers' streams end.
    fn forget(&self, campaign: Uuid, feed: &Feed) {
        let mut feeds = self.lock();
        if feeds.get(&campaign).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(&campaign);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Feed>> {
        self.0.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn run(feeds: ProgressFeeds, state: AppState, campaign: Uuid, owner: Uuid, feed: Feed) {
    let mut events = state.events.listen([Route::Campaign(campaign)]);
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first snapshot goes out at once.
    let mut dirty = true;
    loop {
        tokio::select! {
            () = feed.closed() => if feeds.retire(campaign, &feed) { return },
            () = state.shutdown.cancelled() => return feeds.forget(campaign, &feed),
            received = events.recv() => match received {
                Ok(e) if e.owner_id == owner && e.campaign_id == Some(campaign) => dirty = true,
                Ok(_) => {}
                // Missed some: a fresh snapshot covers them.
                Err(RecvError::Lagged(_)) => dirty = true,
                Err(RecvError::Closed) => return feeds.forget(campaign, &feed),
            },
            _ = ticker.tick(), if dirty => {
                dirty = false;
                feeds.0.computations.fetch_add(1, Ordering::Relaxed);
                match stats::for_campaign(&state, campaign).await {
                    Ok(stats) => {
                        feed.send_replace(Some(Arc::new(stats)));
                    }
                    Err(e) => tracing::warn!(error = ?e, campaign.id = %campaign, "campaign progress not computed"),
                }
            }
        }
    }
}
