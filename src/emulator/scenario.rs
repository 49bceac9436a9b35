//! What happens to a call, decided by its destination or by a seeded random mix.
//!
//! By last digit of `To` (the default):
//!
//! | digit | outcome |
//! |---|---|
//! | 0 | answered by a person who listens and presses nothing |
//! | 1 | answered, presses 1 |
//! | 2 | answered, presses 2 |
//! | 3 | busy |
//! | 4 | no answer (rings until the timeout) |
//! | 5 | failed (the carrier cannot connect) |
//! | 6 | answered by a machine (`AnsweredBy=machine_end_beep`) |
//! | 7 | answered, presses 9 |
//! | 8 | answered, presses 1, then stays 60 s |
//! | 9 | answered, presses 0 |

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    Answered {
        answered_by: &'static str,
        digits: Option<String>,
        /// Seconds the callee stays after the TwiML ends.
        linger_secs: u32,
    },
    Busy,
    NoAnswer,
    Failed,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Scenario {
    #[default]
    ByLastDigit,
    /// Rates are fractions of all calls; the rest are answered by people pressing `digits`.
    Random {
        seed: u64,
        busy: f64,
        no_answer: f64,
        failed: f64,
        machine: f64,
        digits: Option<String>,
    },
}

/// Seconds a call rings before it is answered (or gives up, for no-answer).
pub const RING_SECS: u32 = 4;

pub fn by_last_digit(to: &str) -> Outcome {
    let answered = |digits: Option<&str>, linger_secs| Outcome::Answered {
        answered_by: "human",
        digits: digits.map(str::to_owned),
        linger_secs,
    };
    match to.chars().last().and_then(|c| c.to_digit(10)) {
        Some(1) => answered(Some("1"), 0),
        Some(2) => answered(Some("2"), 0),
        Some(3) => Outcome::Busy,
        Some(4) => Outcome::NoAnswer,
        Some(5) => Outcome::Failed,
        Some(6) => Outcome::Answered {
            answered_by: "machine_end_beep",
            digits: None,
            linger_secs: 0,
        },
        Some(7) => answered(Some("9"), 0),
        Some(8) => answered(Some("1"), 60),
        Some(9) => answered(Some("0"), 0),
        _ => answered(None, 0),
    }
}

pub fn random(
    rng: &mut StdRng,
    busy: f64,
    no_answer: f64,
    failed: f64,
    machine: f64,
    digits: Option<&str>,
) -> Outcome {
    let roll: f64 = rng.gen();
    let mut edge = busy;
    if roll < edge {
        return Outcome::Busy;
    }
    edge += no_answer;
    if roll < edge {
        return Outcome::NoAnswer;
    }
    edge += failed;
    if roll < edge {
        return Outcome::Failed;
    }
    edge += machine;
    if roll < edge {
        return Outcome::Answered {
            answered_by: "machine_end_beep",
            digits: None,
            linger_secs: 0,
        };
    }
    Outcome::Answered {
        answered_by: "human",
        digits: digits.map(str::to_owned),
        linger_secs: rng.gen_range(0..20),
    }
}
