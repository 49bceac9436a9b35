//! Who is watching as whom: the open websockets of each user on this process, woken when
//! something about the user's sign-in changes anywhere in the cluster.
//!
//! The bus ticks the user's counter for each `viewer.changed` event as it arrives, before any
//! stream sees what was published after it; each socket holds a receiver of that counter and
//! re-checks its token when it ticks. The same table caps the sockets one user may hold on a
//! process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use uuid::Uuid;

/// Published after commit whenever `auth::service::authenticate` may now answer differently
/// for a user's tokens: role or status changed, password changed, a session ended or was revoked.
pub const VIEWER_CHANGED: &str = "viewer.changed";

#[derive(Default)]
pub struct Viewers {
    users: Mutex<HashMap<Uuid, Watched>>,
}

struct Watched {
    sockets: usize,
    changed: watch::Sender<u64>,
}

/// One socket's place in the table: `changed` ticks whenever its user may have changed;
/// dropping it frees the place.
pub struct ViewerWatch {
    viewers: Arc<Viewers>,
    user: Uuid,
    pub changed: watch::Receiver<u64>,
}

impl Viewers {
    /// A place for one more socket of `user`, or `None` when the user already holds `max`.
    pub(super) fn admit(self: &Arc<Self>, user: Uuid, max: usize) -> Option<ViewerWatch> {
        let mut users = self.lock();
        if users.get(&user).map_or(0, |w| w.sockets) >= max {
            return None;
        }
        let watched = users.entry(user).or_insert_with(|| Watched {
            sockets: 0,
            changed: watch::channel(0).0,
        });
        watched.sockets += 1;
        Some(ViewerWatch {
            viewers: self.clone(),
            user,
            changed: watched.changed.subscribe(),
        })
    }

    /// Open sockets of `user` on this process.
    pub fn sockets(&self, user: Uuid) -> usize {
        self.lock().get(&user).map_or(0, |w| w.sockets)
    }

    /// Ticks `user`'s counter, or everyone's when an event may have been missed.
    pub(super) fn tick(&self, user: Option<Uuid>) {
        let users = self.lock();
        let bump = |w: &Watched| w.changed.send_modify(|n| *n = n.wrapping_add(1));
        match user {
            Some(user) => users.get(&user).into_iter().for_each(bump),
            None => users.values().for_each(bump),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Watched>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ViewerWatch {
    fn drop(&mut self) {
        let mut users = self.viewers.lock();
        if let Some(watched) = users.get_mut(&self.user) {
            watched.sockets = watched.sockets.saturating_sub(1);
            if watched.sockets == 0 {
                users.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Event, EventBus, VIEWER_CHANGED};
    use super::*;

    #[tokio::test]
    async fn places_are_capped_per_user_and_freed_on_drop_and_changes_tick_only_that_user() {
        let bus = EventBus::in_process();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = bus.watch_viewer(alice, 2).expect("first");
        let second = bus.watch_viewer(alice, 2).expect("second");
        assert!(bus.watch_viewer(alice, 2).is_none());
        let mut bobs = bus.watch_viewer(bob, 2).expect("bob");
        drop(first);
        assert_eq!(bus.viewer_sockets(alice), 1);
        let _third = bus.watch_viewer(alice, 2).expect("a freed place is reused");

        // Told as the event is delivered, before any stream can read past it.
        bus.publish(Event::new(VIEWER_CHANGED, alice)).await;
        assert!(second.changed.has_changed().expect("open"));
        assert!(!bobs.changed.has_changed().expect("open"));
        drop((second, _third));
        assert_eq!(bus.viewer_sockets(alice), 0);
        assert!(bus.fanout.viewers.lock().get(&alice).is_none());
        let _ = bobs.changed.borrow_and_update();
    }
}
