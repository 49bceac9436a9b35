//! The model a case keeps of what succeeded, and the checks of the database against it.

use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use proptest::prelude::*;
use ringcast::app::AppState;
use ringcast::billing::ledger::{self, Balance, Entry, ENTRY_COLUMNS};
use ringcast::calls::Call;
use ringcast::payments::{TopUp, TopUpStatus};
use uuid::Uuid;

use super::ops::{Done, Paid, Start};
use super::price::Tariff;
use super::{Op, MAX_CALL_SECS};

/// A call whose hold was taken at `tariff`, for what the price list says it must hold.
pub struct Held {
    pub id: Uuid,
    pub tariff: Tariff,
    pub amount: i64,
}

/// The user a case runs for, and the number of theirs that legs are dialed from.
#[derive(Clone)]
pub struct Owner {
    pub user: Uuid,
    pub did: Uuid,
    pub did_number: String,
}

pub struct Books {
    pub owner: Owner,
    pub top_ups: Vec<Paid>,
    /// Orders paid with another amount than ordered.
    pub flagged: Vec<Uuid>,
    pub calls: Vec<Held>,
    credited: i64,
    adjusted: i64,
    adjustments: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    balance: Balance,
    entries: i64,
}

impl Snapshot {
    pub fn available(&self) -> i64 {
        self.balance.available()
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(state: &AppState, sql: &str, user: Uuid) -> i64 {
    let row: Count = diesel::sql_query(sql)
        .bind::<Text, _>(user.to_string())
        .get_result(&mut state.conn().await.unwrap())
        .await
        .unwrap();
    row.n
}

impl Books {
    pub fn new(owner: Owner) -> Self {
        Self {
            owner,
            top_ups: Vec::new(),
            flagged: Vec::new(),
            calls: Vec::new(),
            credited: 0,
            adjusted: 0,
            adjustments: 0,
        }
    }

    pub fn record(&mut self, done: Done) {
        match done {
            Done::Credited(paid) => {
                self.credited += paid.amount;
                self.top_ups.push(paid);
            }
            Done::Flagged(id) => self.flagged.push(id),
            Done::Adjusted(amount) => {
                self.adjusted += amount;
                self.adjustments += 1;
            }
            Done::Held(held) => self.calls.push(held),
            Done::Refused { .. } | Done::Nothing => {}
        }
    }

    pub fn start(&self, available: i64) -> Start {
        Start {
            user: self.owner.user,
            did: self.owner.did,
            did_number: self.owner.did_number.clone(),
            calls: self.calls.iter().map(|c| c.id).collect(),
            paid: self.top_ups.clone(),
            available,
        }
    }

    pub async fn snapshot(&self, state: &AppState) -> Snapshot {
        let balance = ledger::read(&mut state.conn().await.unwrap(), self.owner.user)
            .await
            .unwrap();
        let entries = count(
            state,
            "SELECT count(*) AS n FROM ledger_entries WHERE user_id = $1::uuid",
            self.owner.user,
        )
        .await;
        Snapshot { balance, entries }
    }

    /// An operation run alone and refused wrote nothing, and had a reason to be refused.
    pub async fn check_refusal(
        &self,
        state: &AppState,
        before: &Snapshot,
        op: &Op,
        done: &Done,
    ) -> Result<(), TestCaseError> {
        let Done::Refused { tried, why } = done else {
            return Ok(());
        };
        prop_assert_eq!(
            &self.snapshot(state).await,
            before,
            "refused {:?} wrote",
            op
        );
        let available = before.available();
        match op {
            Op::TopUpAgain { .. } => {}
            Op::Adjust(_) => prop_assert!(
                *tried == 0 || available + tried < 0,
                "{op:?} of {tried} refused with {available} available: {why}"
            ),
            Op::Hold { .. } => prop_assert!(
                available < *tried,
                "{op:?} of {tried} refused with {available} available: {why}"
            ),
            _ => prop_assert!(false, "{op:?} cannot be refused, was: {why}"),
        }
        Ok(())
    }

    /// The balance row, the entries and the calls agree with each other and with the model.
    pub async fn check(&self, state: &AppState) -> Result<(), TestCaseError> {
        let mut conn = state.conn().await.unwrap();
        let balance = ledger::read(&mut conn, self.owner.user).await.unwrap();
        let entries: Vec<Entry> = diesel::sql_query(format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE user_id = $1 ORDER BY id"
        ))
        .bind::<SqlUuid, _>(self.owner.user)
        .load(&mut conn)
        .await
        .unwrap();
        drop(conn);
        prop_assert!(balance.held >= 0 && balance.available() >= 0, "{balance:?}");

        // Each entry moves the running balance by exactly its own amounts, never below zero.
        let (mut posted, mut available) = (0, 0);
        for e in &entries {
            posted += e.amount;
            available += e.amount - e.held_change;
            prop_assert_eq!(
                (e.posted_after, e.available_after),
                (posted, available),
                "{:?}",
                e
            );
            prop_assert!(available >= 0, "{e:?}");
        }
        prop_assert_eq!(balance.posted, posted, "posted is the sum of the entries");
        prop_assert_eq!(balance.available(), available);

        let mut outstanding = 0;
        let mut charged = 0;
        for held in &self.calls {
            let call = Call::find(&mut state.conn().await.unwrap(), held.id)
                .await
                .unwrap();
            let mine: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.call_id == Some(held.id))
                .collect();
            let of = |kind: &str| {
                mine.iter()
                    .filter(|e| e.kind == kind)
                    .copied()
                    .collect::<Vec<_>>()
            };
            let (holds, charges, releases) =
                (of("CALL_HOLD"), of("CALL_CHARGE"), of("HOLD_RELEASE"));
            prop_assert_eq!(holds.len(), 1, "one hold for {}", held.id);
            prop_assert_eq!(
                holds[0].held_change,
                held.amount,
                "hold for {} s at {:?}",
                MAX_CALL_SECS,
                held.tariff
            );
            prop_assert_eq!(mine.len(), holds.len() + charges.len() + releases.len());
            if !call.status.is_final() {
                prop_assert!(
                    charges.is_empty() && releases.is_empty(),
                    "{call:?} settled early"
                );
                outstanding += held.amount;
                continue;
            }
            // Charged once, at the held rate for the recorded duration, never past the hold.
            let price = held.tariff.price(
                call.duration_secs.unwrap_or(0).into(),
                call.twilio_sid.is_some(),
            );
            let expected = price.min(held.amount);
            let charge: i64 = charges.iter().map(|e| -e.amount).sum();
            prop_assert!(charges.len() <= 1, "{call:?} charged twice");
            prop_assert_eq!(
                charge,
                expected,
                "charge for {:?} at {:?}",
                call,
                held.tariff
            );
            prop_assert!(charges.iter().all(|e| e.held_change == e.amount));
            prop_assert_eq!(releases.len(), 1, "{:?} released once", call);
            prop_assert_eq!(releases[0].held_change, -(held.amount - charge));
            prop_assert_eq!(releases[0].amount, 0);
            charged += charge;
        }
        prop_assert_eq!(
            balance.held,
            outstanding,
            "held is the sum of the open holds"
        );

        // Refused operations left nothing behind: only what succeeded is in the books.
        let sum = |kind: &str| {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.amount)
                .sum::<i64>()
        };
        let n = |kind: &str| entries.iter().filter(|e| e.kind == kind).count();
        prop_assert_eq!(
            (n("TOPUP"), sum("TOPUP")),
            (self.top_ups.len(), self.credited)
        );
        prop_assert_eq!(sum("ADJUSTMENT"), self.adjusted);
        self.check_top_ups(state, &entries).await?;
        prop_assert_eq!(n("ADJUSTMENT") as i64, self.adjustments);
        prop_assert_eq!(n("CALL_HOLD"), self.calls.len());
        prop_assert_eq!(
            entries.len(),
            n("TOPUP") + n("ADJUSTMENT") + n("CALL_HOLD") + n("CALL_CHARGE") + n("HOLD_RELEASE")
        );
        prop_assert_eq!(balance.posted, self.credited + self.adjusted - charged);
        let calls = count(
            state,
            "SELECT count(*) AS n FROM calls WHERE owner_id = $1::uuid",
            self.owner.user,
        )
        .await;
        prop_assert_eq!(
            calls,
            self.calls.len() as i64,
            "a refused hold leaves no call"
        );
        let audited = count(
            state,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'billing.adjust' AND target_id = $1",
            self.owner.user,
        )
        .await;
        prop_assert_eq!(
            audited,
            self.adjustments,
            "every adjustment audited, no refused one"
        );
        Ok(())
    }
}

impl Books {
    /// Each credited order has one credit of its own amount and is SUCCEEDED; an order paid
    /// with another amount is NEEDS_REVIEW and credited nothing.
    async fn check_top_ups(
        &self,
        state: &AppState,
        entries: &[Entry],
    ) -> Result<(), TestCaseError> {
        let credits = |id: Uuid| {
            entries
                .iter()
                .filter(|e| e.top_up_id == Some(id))
                .map(|e| (e.kind.clone(), e.amount))
                .collect::<Vec<_>>()
        };
        let status = async |id: Uuid| {
            TopUp::find(&mut state.conn().await.unwrap(), id)
                .await
                .unwrap()
                .status
        };
        for paid in &self.top_ups {
            prop_assert_eq!(credits(paid.id), vec![("TOPUP".to_owned(), paid.amount)]);
            prop_assert_eq!(status(paid.id).await, TopUpStatus::Succeeded);
        }
        for id in &self.flagged {
            prop_assert_eq!(credits(*id), vec![], "a mismatched payment credited");
            prop_assert_eq!(status(*id).await, TopUpStatus::NeedsReview);
        }
        Ok(())
    }
}
