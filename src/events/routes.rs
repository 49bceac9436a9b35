//! Who on this process listens for which events: each stream registers the routes it may
//! receive (an owner's events, a campaign's, one user's sign-in changes, or everything), and an
//! event is queued for, and wakes, only the streams registered under one of its routes.
//!
//! Reading every event on one broadcast channel woke all 10,000 streams of a server for each
//! event, to have 9,900 of them drop it. Routes are read off the event's own fields
//! (`owner_id`, `campaign_id`), so a new kind of event needs no code here.
//!
//! Each stream has its own queue of at most [`CAPACITY`] events, with a broadcast receiver's
//! semantics: a stream that falls further behind loses the oldest and is told how many with
//! `RecvError::Lagged` before the next one (its resolver then re-reads the state).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{Event, VIEWER_CHANGED};

/// Events one stream may hold unread before it lags (as the broadcast channel it replaces).
pub const CAPACITY: usize = 4096;

/// What a stream listens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// Every event whose `owner_id` is this user.
    Owner(Uuid),
    /// Every event whose `campaign_id` is this campaign.
    Campaign(Uuid),
    /// `viewer.changed` events naming this user (a websocket's own sign-in).
    SignIn(Uuid),
    /// Every event (an admin's unfiltered stream, or a process-wide listener).
    Everything,
}

impl Route {
    /// The routes `event` travels on: read from its fields, whatever its kind.
    fn of(event: &Event) -> impl Iterator<Item = Route> {
        let sign_in = (event.kind == VIEWER_CHANGED).then_some(Route::SignIn(event.owner_id));
        [
            Some(Route::Owner(event.owner_id)),
            event.campaign_id.map(Route::Campaign),
            sign_in,
            Some(Route::Everything),
        ]
        .into_iter()
        .flatten()
    }
}

#[derive(Default)]
pub struct Routes {
    table: Mutex<Table>,
    /// Events queued for streams since start, one per stream woken.
    deliveries: AtomicU64,
}

#[derive(Default)]
struct Table {
    /// Numbers the events delivered, so a stream under two of an event's routes gets it once.
    seq: u64,
    next_id: u64,
    listeners: HashMap<Route, HashMap<u64, Arc<Inbox>>>,
}

impl Routes {
    /// A stream of the events on any of `routes`, from now on.
    pub fn listen(self: &Arc<Self>, routes: impl IntoIterator<Item = Route>) -> Listener {
        let mut on: Vec<Route> = Vec::new();
        for route in routes {
            if !on.contains(&route) {
                on.push(route);
            }
        }
        let inbox = Arc::new(Inbox::default());
        let mut table = self.lock();
        let id = table.next_id;
        table.next_id += 1;
        for route in &on {
            table
                .listeners
                .entry(*route)
                .or_default()
                .insert(id, inbox.clone());
        }
        drop(table);
        Listener {
            routes: self.clone(),
            id,
            on,
            inbox,
        }
    }

    /// Queues `event` for the streams on its routes and wakes them; nobody else is touched.
    pub fn deliver(&self, event: Event) {
        let event = Arc::new(event);
        let mut table = self.lock();
        table.seq += 1;
        let seq = table.seq;
        for route in Route::of(&event) {
            let Some(inboxes) = table.listeners.get(&route) else {
                continue;
            };
            for inbox in inboxes.values() {
                if inbox.push(seq, &event) {
                    self.deliveries.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Events queued for streams since start (one per stream an event woke).
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }

    /// Streams registered on `route` on this process.
    pub fn listeners(&self, route: Route) -> usize {
        self.lock().listeners.get(&route).map_or(0, HashMap::len)
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Inbox {
    queue: Mutex<Queue>,
    ready: Notify,
    /// Events queued for this stream since it started (for tests and metrics).
    woken: AtomicU64,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<Arc<Event>>,
    missed: u64,
    last_seq: u64,
}

impl Inbox {
    /// False when the stream already has this event (it is on two of its routes).
    fn push(&self, seq: u64, event: &Arc<Event>) -> bool {
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.last_seq == seq {
                return false;
            }
            queue.last_seq = seq;
            if queue.events.len() >= CAPACITY {
                queue.events.pop_front();
                queue.missed += 1;
            }
            queue.events.push_back(event.clone());
        }
        self.woken.fetch_add(1, Ordering::Relaxed);
        // Stores a permit when the stream is not waiting, so no wake-up is lost.
        self.ready.notify_one();
        true
    }
}

/// One stream's registration; dropping it leaves every route.
pub struct Listener {
    routes: Arc<Routes>,
    id: u64,
    on: Vec<Route>,
    inbox: Arc<Inbox>,
}

impl Listener {
    /// As `broadcast::Receiver::recv`: the next event, or `Lagged(n)` once after `n` were lost
    /// to a full queue. Never `Closed`: the bus outlives its streams.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        self.recv_shared().await.map(|e| Event::clone(&e))
    }

    /// As [`Self::recv`], without copying the event.
    pub async fn recv_shared(&mut self) -> Result<Arc<Event>, RecvError> {
        loop {
            {
                let mut queue = self
                    .inbox
                    .queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if queue.missed > 0 {
                    return Err(RecvError::Lagged(std::mem::take(&mut queue.missed)));
                }
                if let Some(event) = queue.events.pop_front() {
                    if queue.events.is_empty() && queue.events.capacity() > 16 {
                        // A burst is over: give back what it grew.
                        queue.events.shrink_to(16);
                    }
                    return Ok(event);
                }
            }
            self.inbox.ready.notified().await;
        }
    }

    /// Events queued for this stream since it started, read or not.
    pub fn woken(&self) -> u64 {
        self.inbox.woken.load(Ordering::Relaxed)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut table = self.routes.lock();
        for route in &self.on {
            if let Some(inboxes) = table.listeners.get_mut(route) {
                inboxes.remove(&self.id);
                if inboxes.is_empty() {
                    table.listeners.remove(route);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_event(owner: Uuid, campaign: Uuid) -> Event {
        let mut event = Event::new("call.updated", owner);
        event.campaign_id = Some(campaign);
        event
    }

    #[tokio::test]
    async fn an_event_wakes_only_the_streams_on_its_owner_its_campaign_or_everything() {
        let routes = Arc::new(Routes::default());
        let (a, b, x, y) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let owner_b = routes.listen([Route::Owner(b)]);
        let campaign_y = routes.listen([Route::Campaign(y)]);
        let b_signed_in = routes.listen([Route::SignIn(b)]);
        let mut owner_a = routes.listen([Route::Owner(a)]);
        let mut campaign_x = routes.listen([Route::Campaign(x), Route::SignIn(a)]);
        let mut admin = routes.listen([Route::Everything]);
        // On two of the event's routes, woken once.
        let mut both = routes.listen([Route::Owner(a), Route::Campaign(x)]);

        let event = call_event(a, x);
        routes.deliver(event.clone());
        assert_eq!(routes.deliveries(), 4);

        for untouched in [&owner_b, &campaign_y, &b_signed_in] {
            assert_eq!(untouched.woken(), 0);
        }
        for woken in [&mut owner_a, &mut campaign_x, &mut admin, &mut both] {
            assert_eq!(woken.woken(), 1);
            assert_eq!(woken.recv().await, Ok(event.clone()));
        }

        // Admins get every owner's events, and sign-in changes travel on their own route.
        routes.deliver(call_event(b, y));
        routes.deliver(Event::viewer_changed(a));
        assert_eq!(admin.woken(), 3);
        assert_eq!(campaign_x.woken(), 2);
        assert_eq!(
            campaign_x.recv().await.map(|e| e.kind),
            Ok(VIEWER_CHANGED.into())
        );
        assert_eq!(owner_b.woken(), 1);
        assert_eq!(b_signed_in.woken(), 0);
    }

    #[tokio::test]
    async fn a_stream_that_falls_behind_is_told_how_many_it_lost_then_reads_on() {
        let routes = Arc::new(Routes::default());
        let owner = Uuid::new_v4();
        let mut slow = routes.listen([Route::Owner(owner)]);
        let events: Vec<Event> = (0..CAPACITY + 3)
            .map(|n| {
                let mut e = Event::new("call.updated", owner);
                e.status = Some(n.to_string());
                e
            })
            .collect();
        for e in &events {
            routes.deliver(e.clone());
        }
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(3)));
        assert_eq!(slow.recv().await, Ok(events[3].clone()));
    }

    #[tokio::test]
    async fn a_dropped_stream_leaves_its_routes() {
        let routes = Arc::new(Routes::default());
        let campaign = Uuid::new_v4();
        let listener = routes.listen([Route::Campaign(campaign), Route::Everything]);
        assert_eq!(routes.listeners(Route::Campaign(campaign)), 1);
        drop(listener);
        assert_eq!(routes.listeners(Route::Campaign(campaign)), 0);
        assert_eq!(routes.listeners(Route::Everything), 0);
        assert!(routes.lock().listeners.is_empty());
    }
}
