//! The price of a call, written out here from the rate table's published rule rather than
//! taken from the server, so that a wrong charge cannot also be the expected one.
//!
//! The rule: a call that talked 0 s pays no talk time. Otherwise the first increment is paid
//! whole, and after it every started billing increment; the billed seconds cost the
//! per-minute price pro rata, rounded up to the whole đồng. A call the carrier took (it has a
//! carrier SID) also pays the connection fee.

use ringcast::billing::rates::RateInput;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tariff {
    pub per_minute: i64,
    pub first: i32,
    pub step: i32,
    pub fee: i64,
}

/// The largest per-minute price and connection fee an admin may set.
const MAX_SETTABLE: i64 = 10_000_000;

impl Tariff {
    pub fn price(&self, talked_secs: i64, carrier_took_it: bool) -> i64 {
        let fee = if carrier_took_it { self.fee } else { 0 };
        self.talk(talked_secs) + fee
    }

    fn billed_secs(&self, talked_secs: i64) -> u64 {
        let Ok(talked) = u64::try_from(talked_secs) else {
            return 0;
        };
        if talked == 0 {
            return 0;
        }
        let (first, step) = (self.first.unsigned_abs(), self.step.unsigned_abs());
        let after_first = talked.saturating_sub(u64::from(first));
        u64::from(first) + after_first.div_ceil(u64::from(step)) * u64::from(step)
    }

    fn talk(&self, talked_secs: i64) -> i64 {
        let dong_seconds = self.billed_secs(talked_secs) * self.per_minute.unsigned_abs();
        i64::try_from(dong_seconds.div_ceil(60)).unwrap_or(i64::MAX)
    }

    /// The same increments, priced so that a call of `secs` costs `target` (or as near as an
    /// admin can set it): the per-minute price lowered until the talk fits, the fee the rest.
    pub fn costing(self, secs: i64, target: i64) -> Self {
        let target = target.max(0);
        let billed = i64::try_from(self.billed_secs(secs)).unwrap_or(i64::MAX);
        let mut tariff = self;
        if tariff.talk(secs) > target && billed > 0 {
            tariff.per_minute = target * 60 / billed;
        }
        tariff.fee = (target - tariff.talk(secs)).clamp(0, MAX_SETTABLE);
        tariff
    }

    /// The rate an admin sets for calls to `prefix`.
    pub fn input(&self, prefix: &str) -> RateInput {
        RateInput {
            prefix: prefix.to_owned(),
            per_minute: self.per_minute,
            initial_increment: self.first,
            billing_increment: self.step,
            connection_fee: self.fee,
            description: Some("property test".into()),
        }
    }
}
