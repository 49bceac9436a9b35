//! Who is watching as whom: the open websockets of each user on this process, woken when
//! something about the user's sign-in changes anywhere in the cluster.
//!
//! One listener per process reads `viewer.changed` events and ticks the user's counter; each
//! socket holds a receiver of that counter and re-checks its token when it ticks. The same
//! table caps the sockets one user may hold on a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::Event;

/// Published after commit whenever `auth::service::authenticate` may now answer differently
/// for a user's tokens: role or status changed, password changed, a session ended or was revoked.
pub const VIEWER_CHANGED: &str = "viewer.changed";

#[derive(Default)]
pub struct Viewers {
    users: Mutex<HashMap<Uuid, Watched>>,
    listening: OnceLock<()>,
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
    pub(super) fn admit(
        self: &Arc<Self>,
        bus: &broadcast::Sender<Event>,
        user: Uuid,
        max: usize,
    ) -> Option<ViewerWatch> {
        self.listening.get_or_init(|| {
            tokio::spawn(listen(bus.subscribe(), Arc::downgrade(self)));
        });
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
    fn tick(&self, user: Option<Uuid>) {
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

/// Ends with the bus (its sender is never held here) or the table.
async fn listen(mut events: broadcast::Receiver<Event>, viewers: Weak<Viewers>) {
    loop {
        let user = match events.recv().await {
            Ok(event) if event.kind == VIEWER_CHANGED => Some(event.owner_id),
            Ok(_) => continue,
            // One of the missed events may have been a change: every socket re-checks.
            Err(RecvError::Lagged(_)) => None,
            Err(RecvError::Closed) => return,
        };
        let Some(viewers) = viewers.upgrade() else {
            return;
        };
        viewers.tick(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn places_are_capped_per_user_and_freed_on_drop_and_changes_tick_only_that_user() {
        let bus = broadcast::channel(16).0;
        let viewers = Arc::new(Viewers::default());
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = viewers.admit(&bus, alice, 2).expect("first");
        let mut second = viewers.admit(&bus, alice, 2).expect("second");
        assert!(viewers.admit(&bus, alice, 2).is_none());
        let mut bobs = viewers.admit(&bus, bob, 2).expect("bob");
        drop(first);
        assert_eq!(viewers.sockets(alice), 1);
        let _third = viewers
            .admit(&bus, alice, 2)
            .expect("a freed place is reused");

        bus.send(Event::new(VIEWER_CHANGED, alice))
            .expect("listener");
        tokio::time::timeout(std::time::Duration::from_secs(5), second.changed.changed())
            .await
            .expect("alice's socket is told")
            .expect("open");
        assert!(!bobs.changed.has_changed().expect("open"));
        drop((second, _third));
        assert_eq!(viewers.sockets(alice), 0);
        assert!(viewers.lock().get(&alice).is_none());
        let _ = bobs.changed.borrow_and_update();
    }
}
