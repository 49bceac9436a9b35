//! The emulator's world: accounts, owned and available numbers, calls, and the ledger.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::scenario::Scenario;

/// Where the emulator's numbers are from; each number's digits come from a hash of a salt.
#[derive(Clone, Copy)]
enum Region {
    HoChiMinhCity,
    Hanoi,
    SanFrancisco,
}

impl Region {
    fn country(self) -> &'static str {
        match self {
            Self::HoChiMinhCity | Self::Hanoi => "VN",
            Self::SanFrancisco => "US",
        }
    }

    fn locality(self) -> &'static str {
        match self {
            Self::HoChiMinhCity => "Ho Chi Minh City",
            Self::Hanoi => "Hanoi",
            Self::SanFrancisco => "San Francisco",
        }
    }

    /// The `n`th number of this region for `salt`: a landline in the city's numbering plan
    /// (028 3xxx xxxx, 024 3xxx xxxx, 415 NXX XXXX without N11 or 555 exchanges).
    fn number(self, salt: &[u8], n: u32) -> String {
        use sha2::{Digest, Sha256};
        let hash = Sha256::new()
            .chain_update(salt)
            .chain_update(n.to_be_bytes())
            .finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&hash[..8]);
        let x = u64::from_be_bytes(bytes);
        match self {
            Self::HoChiMinhCity => format!("+84283{:07}", x % 10_000_000),
            Self::Hanoi => format!("+84243{:07}", x % 10_000_000),
            Self::SanFrancisco => {
                let exchange = 200 + (x % 800);
                let exchange = if exchange % 100 == 11 || exchange == 555 {
                    exchange + 1
                } else {
                    exchange
                };
                format!("+1415{exchange:03}{:04}", (x / 800) % 10_000)
            }
        }
    }
}

pub fn sid(prefix: &str, rng: &mut impl Rng) -> String {
    let bytes: [u8; 16] = rng.gen();
    format!("{prefix}{}", hex::encode(bytes))
}

#[derive(Clone, Debug)]
pub struct EmuAccount {
    pub sid: String,
    pub auth_token: String,
    pub friendly_name: String,
    /// active | suspended | closed
    pub status: String,
    pub balance: String,
    pub calls_per_second: f64,
    /// When the next queued call may start dialing (Twilio's per-account CPS queue).
    pub next_dial_slot: Instant,
    pub created: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct EmuNumber {
    pub sid: String,
    pub account_sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub voice_url: Option<String>,
    pub voice_method: String,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Available {
    pub phone_number: String,
    pub iso_country: String,
    pub locality: String,
}

#[derive(Clone, Debug)]
pub struct EmuCall {
    pub sid: String,
    pub account_sid: String,
    pub to: String,
    pub from: String,
    pub phone_number_sid: Option<String>,
    pub status: String,
    pub answered_by: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration: Option<u32>,
    pub url: Option<String>,
    pub method: String,
    pub twiml: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub status_callback_events: Vec<String>,
    pub timeout_secs: u32,
    pub machine_detection: Option<String>,
    pub async_amd: bool,
    pub async_amd_callback: Option<String>,
    /// Set by `Status=canceled|completed` updates; the progress task obeys it.
    pub end_requested: Option<String>,
    /// `outbound-api`, `inbound`, or `outbound-dial` for a leg a `<Dial>` placed.
    pub direction: String,
    /// The call whose `<Dial>` placed this one.
    pub parent_call_sid: Option<String>,
    pub transcript: Vec<TranscriptLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TranscriptLine {
    /// say | play | pressed | dial | record | hangup | reject | error
    pub kind: &'static str,
    pub detail: String,
}

/// One row per call ever created: what tests read to prove nothing was dialed twice.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerEntry {
    pub sid: String,
    pub account_sid: String,
    pub to: String,
    pub from: String,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub duration: Option<u32>,
    pub answered_by: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Faults {
    /// Percentages (0-100) of status callbacks dropped, sent twice, or held back so later
    /// ones overtake them.
    #[serde(default)]
    pub drop_callbacks: f64,
    #[serde(default)]
    pub duplicate_callbacks: f64,
    #[serde(default)]
    pub reorder_callbacks: f64,
    /// Extra delay for every callback, in simulated milliseconds.
    #[serde(default)]
    pub delay_callbacks_ms: u64,
    /// Percentages of REST requests answered 429 / 500 without being processed.
    #[serde(default)]
    pub rest_429: f64,
    #[serde(default)]
    pub rest_500: f64,
    /// REST requests wait this many real milliseconds from when the fault is set.
    #[serde(default)]
    pub outage_ms: u64,
}

pub struct World {
    pub accounts: HashMap<String, EmuAccount>,
    pub numbers: HashMap<String, EmuNumber>,
    pub available: Vec<Available>,
    pub calls: HashMap<String, EmuCall>,
    pub call_order: Vec<String>,
    pub ledger: Vec<LedgerEntry>,
    pub scenario: Scenario,
    pub faults: Faults,
    pub outage_until: Option<Instant>,
    pub rng: StdRng,
}

impl World {
    pub fn new(seed: u64) -> Self {
        let mut world = Self {
            accounts: HashMap::new(),
            numbers: HashMap::new(),
            available: Vec::new(),
            calls: HashMap::new(),
            call_order: Vec::new(),
            ledger: Vec::new(),
            scenario: Scenario::default(),
            faults: Faults::default(),
            outage_until: None,
            rng: StdRng::seed_from_u64(seed),
        };
        world.stock_inventory();
        world
    }

    /// Numbers for sale: Ho Chi Minh City and Hanoi landlines, and San Francisco. Each
    /// emulator draws its own from a fresh salt, so two carriers never sell the same number.
    fn stock_inventory(&mut self) {
        let salt: [u8; 16] = rand::random();
        let mut n = 0;
        for i in 0..60u32 {
            let region =
                [Region::HoChiMinhCity, Region::Hanoi, Region::SanFrancisco][i as usize % 3];
            let phone = loop {
                let phone = region.number(&salt, n);
                n += 1;
                if self.is_free(&phone) {
                    break phone;
                }
            };
            self.available.push(Available {
                phone_number: phone,
                iso_country: region.country().into(),
                locality: region.locality().into(),
            });
        }
    }

    fn is_free(&self, phone: &str) -> bool {
        !self.available.iter().any(|a| a.phone_number == phone)
            && !self.numbers.values().any(|n| n.phone_number == phone)
    }

    pub fn add_account(
        &mut self,
        sid: &str,
        auth_token: &str,
        friendly_name: &str,
        owned_numbers: usize,
    ) {
        self.accounts.insert(
            sid.to_owned(),
            EmuAccount {
                sid: sid.to_owned(),
                auth_token: auth_token.to_owned(),
                friendly_name: friendly_name.to_owned(),
                status: "active".into(),
                balance: "100.00".into(),
                calls_per_second: 1.0,
                next_dial_slot: Instant::now(),
                created: Utc::now(),
            },
        );
        // A mix of Vietnamese and US numbers derived from the account SID, so accounts on
        // different emulators (each registered with one platform) hold different numbers.
        let mut n = 0;
        for region in [Region::HoChiMinhCity, Region::SanFrancisco]
            .iter()
            .cycle()
            .take(owned_numbers)
        {
            let phone = loop {
                let phone = region.number(sid.as_bytes(), n);
                n += 1;
                if !self.numbers.values().any(|o| o.phone_number == phone) {
                    break phone;
                }
            };
            self.available.retain(|a| a.phone_number != phone);
            self.own_number(sid, &phone, None, None);
        }
    }

    pub fn own_number(
        &mut self,
        account_sid: &str,
        phone: &str,
        voice_url: Option<String>,
        status_callback: Option<String>,
    ) -> EmuNumber {
        let number = EmuNumber {
            sid: sid("PN", &mut self.rng),
            account_sid: account_sid.to_owned(),
            phone_number: phone.to_owned(),
            friendly_name: phone.to_owned(),
            voice_url,
            voice_method: "POST".into(),
            status_callback,
            status_callback_method: "POST".into(),
            created: Utc::now(),
            updated: Utc::now(),
        };
        self.numbers.insert(number.sid.clone(), number.clone());
        number
    }

    pub fn owns(&self, account_sid: &str, phone: &str) -> Option<&EmuNumber> {
        self.numbers
            .values()
            .find(|n| n.account_sid == account_sid && n.phone_number == phone)
    }

    pub fn record_outcome(&mut self, call_sid: &str) {
        let Some(call) = self.calls.get(call_sid) else {
            return;
        };
        if let Some(entry) = self.ledger.iter_mut().find(|e| e.sid == call_sid) {
            entry.status = call.status.clone();
            entry.duration = call.duration;
            entry.answered_by = call.answered_by.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_real_landlines_and_differ_between_emulators_and_accounts() {
        let mut a = World::new(7);
        let mut b = World::new(7);
        a.add_account("AC01", "t", "A", 6);
        b.add_account("AC02", "t", "B", 6);
        let mut all: Vec<String> = a
            .numbers
            .values()
            .chain(b.numbers.values())
            .map(|n| n.phone_number.clone())
            .chain(a.available.iter().map(|x| x.phone_number.clone()))
            .chain(b.available.iter().map(|x| x.phone_number.clone()))
            .collect();
        assert_eq!(all.len(), 12 + 60 + 60);
        for phone in &all {
            let parsed = crate::phone::parse(phone, "VN").expect(phone);
            assert!(parsed.number_type.callable_by_default(), "{phone}");
        }
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 12 + 60 + 60, "no number twice");
    }
}
