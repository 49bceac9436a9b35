//! Recording a claim's attempts: holds, pacing slots, calls and ledger entries, a statement each.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Double, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{At, DueContact};
use crate::billing::ledger::{self, CallHold};
use crate::billing::rates::{self, Rate};
use crate::calls::model::{Call, CallDirection, NewCall};
use crate::campaigns::Campaign;
use crate::dids::Did;
use crate::error::AppResult;
use crate::twilio_accounts::TwilioAccount;

/// Records the attempts the owner's balance covers, in `dials` order: their holds, pacing
/// slots, calls, ledger entries and contact updates, each a single statement for the batch.
/// Returns each recorded call with its account and start time (fewer than `dials` when the
/// balance ran out).
pub(super) async fn record(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    dials: &[(&DueContact, &(Did, TwilioAccount))],
    max_call_secs: u32,
) -> AppResult<Vec<(Call, TwilioAccount, DateTime<Utc>)>> {
    if dials.is_empty() {
        return Ok(Vec::new());
    }
    let phones: Vec<&str> = dials.iter().map(|(c, _)| c.phone.as_str()).collect();
    let rates = rates::for_numbers(conn, &phones).await?;
    // The balance row stays locked to the end of this claim: the check and the holds are one
    // step for every dispatcher of this owner.
    let balance = ledger::lock(conn, campaign.owner_id).await?;
    let mut covered = 0;
    let mut total = 0;
    let mut holds: Vec<(i64, &Rate)> = Vec::with_capacity(dials.len());
    for rate in &rates {
        let hold = rate.charge(i64::from(max_call_secs), true);
        if total + hold > balance.available() {
            break;
        }
        total += hold;
        covered += 1;
        holds.push((hold, rate));
    }
    let dials = &dials[..covered];
    if dials.is_empty() {
        return Ok(Vec::new());
    }
    let starts = take_slots(conn, campaign, dials).await?;
    let new_calls: Vec<NewCall<'_>> = dials
        .iter()
        .map(|(contact, (did, account))| NewCall {
            id: Uuid::now_v7(),
            owner_id: campaign.owner_id,
            twilio_account_id: account.id,
            did_id: Some(did.id),
            direction: CallDirection::Outbound,
            from_number: &did.phone_number,
            to_number: &contact.phone,
            campaign_id: Some(campaign.id),
            contact_id: Some(contact.id),
            attempt: Some(contact.attempts + 1),
        })
        .collect();
    let mut calls = NewCall::insert_all(conn, &new_calls).await?;
    // RETURNING gives no order guarantee: put the calls back in the batch's order.
    let order: BTreeMap<Uuid, usize> = new_calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    calls.sort_by_key(|c| order.get(&c.id).copied());
    let entries: Vec<CallHold<'_>> = calls
        .iter()
        .zip(&holds)
        .map(|(call, (amount, rate))| CallHold {
            call: call.billed(),
            rate,
            amount: *amount,
        })
        .collect();
    ledger::hold_calls(conn, campaign.owner_id, balance, &entries).await?;
    let ids: Vec<i64> = dials.iter().map(|(c, _)| c.id).collect();
    diesel::sql_query(
        "UPDATE campaign_contacts SET state = 'CALLING', attempts = attempts + 1, skip_reason = NULL
         WHERE id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .execute(conn)
    .await?;
    let dids: Vec<Uuid> = dials.iter().map(|(_, (did, _))| did.id).collect();
    diesel::sql_query("UPDATE dids SET last_used_at = now() WHERE id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(&dids)
        .execute(conn)
        .await?;
    Ok(calls
        .into_iter()
        .zip(dials)
        .zip(starts)
        .map(|((call, (_, (_, account))), at)| (call, account.clone(), at))
        .collect())
}

/// Reserves the batch's start slots on the campaign's limiter and on each account's, once per
/// limiter: call `i` of the batch starts at the later of its two slots.
async fn take_slots(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    dials: &[(&DueContact, &(Did, TwilioAccount))],
) -> AppResult<Vec<DateTime<Utc>>> {
    let start = advance(
        conn,
        "campaigns",
        campaign.id,
        campaign.calls_per_second,
        dials.len(),
    )
    .await?;
    let step = |cps: f64, k: usize| chrono::Duration::microseconds((k as f64 * 1e6 / cps) as i64);
    let mut starts: Vec<DateTime<Utc>> = (0..dials.len())
        .map(|i| start + step(campaign.calls_per_second, i))
        .collect();
    // In account id order: the same order for every claim.
    let mut by_account: BTreeMap<Uuid, (f64, Vec<usize>)> = BTreeMap::new();
    for (i, (_, (_, account))) in dials.iter().enumerate() {
        by_account
            .entry(account.id)
            .or_insert_with(|| (account.calls_per_second, Vec::new()))
            .1
            .push(i);
    }
    for (id, (cps, members)) in by_account {
        let start = advance(conn, "twilio_accounts", id, cps, members.len()).await?;
        for (k, i) in members.into_iter().enumerate() {
            starts[i] = starts[i].max(start + step(cps, k));
        }
    }
    Ok(starts)
}

/// Moves a limiter row's next start `n` slots on; returns the first of them.
async fn advance(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    id: Uuid,
    calls_per_second: f64,
    n: usize,
) -> AppResult<DateTime<Utc>> {
    let at: At = diesel::sql_query(format!(
        "WITH prev AS (SELECT GREATEST(dispatch_next_at, now()) AS at FROM {table} WHERE id = $1 FOR UPDATE)
         UPDATE {table} SET dispatch_next_at = (SELECT at FROM prev) + make_interval(secs => $3 / $2)
         WHERE id = $1 RETURNING (SELECT at FROM prev) AS at"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Double, _>(calls_per_second)
    .bind::<Double, _>(n as f64)
    .get_result(conn)
    .await?;
    Ok(at.at)
}
