//! What every fault test ends with: our calls agree with the carrier's ledger, every charge is
//! what the price list says for the carrier's duration, and no number was dialed twice.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use ringcast::calls::CallStatus;
use serde_json::json;

use super::carrier::Carrier;
use super::TestApp;

/// (per minute, first increment, next increments, connection fee) set as the default rate.
pub const RATE: (i64, i64, i64, i64) = (1200, 6, 6, 50);

pub async fn set_default_rate(app: &TestApp, admin: &str) {
    let (per_minute, first, step, fee) = RATE;
    app.gql_as(
        admin,
        "mutation($i: SetRateInput!) { setRate(input: $i) { rate { prefix } } }",
        json!({"i": {"prefix": "", "perMinute": per_minute, "initialIncrement": first,
                     "billingIncrement": step, "connectionFee": fee}}),
    )
    .await
    .assert_ok();
}

/// The price list written out independently of the server's code.
fn expected_charge(duration: i64) -> i64 {
    let (per_minute, first, step, fee) = RATE;
    let billed = match duration {
        0 => 0,
        d if d <= first => first,
        d => first + (d - first + step - 1) / step * step,
    };
    (billed * per_minute + 59) / 60 + fee
}

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    sid: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Integer>)]
    duration: Option<i32>,
    #[diesel(sql_type = BigInt)]
    charged: i64,
    #[diesel(sql_type = BigInt)]
    holds_open: i64,
}

#[derive(QueryableByName)]
struct Balance {
    #[diesel(sql_type = BigInt)]
    posted: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    ledger_posted: i64,
}

/// Asserts the three properties for `user`'s calls; `opening` is the balance before them.
pub async fn assert_matches_carrier(app: &TestApp, carrier: &Carrier, user: &str, opening: i64) {
    let ledger = carrier.emulator.ledger();
    let mut dialed: HashMap<&str, usize> = HashMap::new();
    for entry in &ledger {
        *dialed.entry(entry.to.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = dialed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "numbers dialed twice: {twice:?}");

    let mut conn = app.state.db.get().await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.twilio_sid AS sid, c.status, c.duration_secs AS duration,
                coalesce((SELECT -sum(amount) FROM ledger_entries l WHERE l.call_id = c.id AND l.kind = 'CALL_CHARGE'), 0)::bigint AS charged,
                (SELECT count(*) FROM ledger_entries h WHERE h.call_id = c.id AND h.kind = 'CALL_HOLD')
                  - (SELECT count(*) FROM ledger_entries r WHERE r.call_id = c.id AND r.kind = 'HOLD_RELEASE') AS holds_open
         FROM calls c WHERE c.owner_id = $1::uuid",
    )
    .bind::<Text, _>(user)
    .load(&mut conn)
    .await
    .unwrap();
    let ours: HashMap<&str, &Row> = rows
        .iter()
        .filter_map(|r| r.sid.as_deref().map(|s| (s, r)))
        .collect();
    let mut expected_total = 0;
    for entry in &ledger {
        let row = ours
            .get(entry.sid.as_str())
            .unwrap_or_else(|| panic!("the carrier placed a call we do not know: {entry:?}"));
        assert_eq!(
            CallStatus::from_twilio(&entry.status).map(|s| s.as_str()),
            Some(row.status.as_str()),
            "final state differs from the carrier's: {entry:?} vs {row:?}"
        );
        let duration = i64::from(entry.duration.unwrap_or(0));
        assert_eq!(
            i64::from(row.duration.unwrap_or(0)),
            duration,
            "{entry:?} vs {row:?}"
        );
        assert_eq!(
            row.charged,
            expected_charge(duration),
            "{entry:?} vs {row:?}"
        );
        expected_total += row.charged;
    }
    for row in &rows {
        assert_eq!(row.holds_open, 0, "a hold is still open: {row:?}");
        if row.sid.is_none() {
            assert_eq!(
                row.status, "FAILED",
                "a call the carrier never saw: {row:?}"
            );
            assert_eq!(row.charged, 0, "{row:?}");
        }
    }
    assert_eq!(
        ours.len(),
        ledger.len(),
        "one call of ours per carrier call"
    );
    let balance: Balance = diesel::sql_query(
        "SELECT b.posted, b.held,
                (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE user_id = b.user_id) AS ledger_posted
         FROM balances b WHERE b.user_id = $1::uuid",
    )
    .bind::<Text, _>(user)
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        balance.posted,
        opening - expected_total,
        "charged to the đồng"
    );
    assert_eq!(balance.held, 0);
    assert_eq!(
        balance.posted, balance.ledger_posted,
        "the balance is its ledger's sum"
    );
}
