//! Accounts with their opened auth tokens, kept a few seconds so a burst of callbacks neither
//! reads nor decrypts the same row for each request.
//!
//! An edit or removal made through this process drops every entry at once (`forget`), and a
//! read that started before it never stores what it read (the generation moved on). An edit
//! made by another process is seen once the entry expires: staleness there is bounded by `TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::model::TwilioAccount;
use crate::config::Secret;

pub const TTL: Duration = Duration::from_secs(5);

/// An account and its auth token, opened. `Secret` keeps the token out of any `Debug` output.
pub struct Opened {
    pub account: TwilioAccount,
    pub token: Secret,
}

#[derive(Clone, Default)]
pub struct AccountCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    by_sid: HashMap<String, (Instant, Arc<Opened>)>,
    /// Moves on with every `forget`, so a read that raced an edit is not kept.
    generation: u64,
}

impl AccountCache {
    /// This process's cache.
    pub fn of(state: &crate::app::AppState) -> Self {
        state.shared.get()
    }

    /// The fresh entry for `sid`, or the generation a read from the database must present to
    /// `keep` what it found.
    pub fn get(&self, sid: &str) -> Result<Arc<Opened>, u64> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.by_sid.get(sid) {
            Some((at, opened)) if at.elapsed() < TTL => Ok(opened.clone()),
            _ => Err(inner.generation),
        }
    }

    /// Stores what was read at `generation`, unless an edit came in since.
    pub fn keep(&self, generation: u64, opened: Arc<Opened>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.generation != generation {
            return;
        }
        // Entries are accounts that exist (unknown SIDs are never kept), so the map stays as
        // small as the accounts table; expired ones go whenever one is added.
        inner.by_sid.retain(|_, (at, _)| at.elapsed() < TTL);
        inner
            .by_sid
            .insert(opened.account.account_sid.clone(), (Instant::now(), opened));
    }

    /// Drops everything: called after an account is edited or removed.
    pub fn forget(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.generation += 1;
        inner.by_sid.clear();
    }
}
