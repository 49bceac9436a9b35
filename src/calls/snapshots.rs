//! One database read per event per node. Every `callUpdated` subscriber an event concerns
//! needs the call it points at; with thousands of subscribers, each reading it through the
//! pool made the pool, not PostgreSQL, the limit. Subscribers woken by the same event now
//! share one read of the row.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::Call;
use crate::app::AppState;

/// An event is `(call, published at)`: a later event for the same call is read afresh.
type Key = (Uuid, DateTime<Utc>);
type Cell = Arc<OnceCell<Option<Arc<Call>>>>;

/// Far more events than subscribers wake in the time one read takes.
const KEEP: usize = 1024;

#[derive(Clone, Default)]
pub struct Snapshots(Arc<Mutex<Recent>>);

#[derive(Default)]
struct Recent {
    cells: HashMap<Key, Cell>,
    order: VecDeque<Key>,
}

impl Snapshots {
    /// This process's snapshots.
    pub fn of(state: &AppState) -> Self {
        state.shared.get()
    }

    /// The call as read for the event published at `at`; `None` when it cannot be read (the
    /// subscriber skips that event, as it would skip a failed read of its own).
    pub async fn get(
        &self,
        state: &AppState,
        call_id: Uuid,
        at: DateTime<Utc>,
    ) -> Option<Arc<Call>> {
        let cell = self.cell((call_id, at));
        cell.get_or_init(|| async {
            let mut conn = state.conn().await.ok()?;
            Call::find(&mut conn, call_id).await.ok().map(Arc::new)
        })
        .await
        .clone()
    }

    fn cell(&self, key: Key) -> Cell {
        let mut recent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = recent.cells.get(&key) {
            return cell.clone();
        }
        if recent.order.len() >= KEEP {
            if let Some(oldest) = recent.order.pop_front() {
                recent.cells.remove(&oldest);
            }
        }
        let cell = Cell::default();
        recent.cells.insert(key, cell.clone());
        recent.order.push_back(key);
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_event_shares_a_cell_and_old_events_are_forgotten() {
        let snapshots = Snapshots::default();
        let at = Utc::now();
        let call = Uuid::new_v4();
        assert!(Arc::ptr_eq(
            &snapshots.cell((call, at)),
            &snapshots.cell((call, at))
        ));
        let later = at + chrono::Duration::milliseconds(1);
        assert!(!Arc::ptr_eq(
            &snapshots.cell((call, at)),
            &snapshots.cell((call, later))
        ));
        for _ in 0..KEEP {
            snapshots.cell((Uuid::new_v4(), at));
        }
        let recent = snapshots.0.lock().expect("not poisoned");
        assert_eq!(recent.cells.len(), KEEP);
        assert!(!recent.cells.contains_key(&(call, at)));
    }
}
