//! Compliance: the gate every attempt passes before dialing, and the do-not-call lists.

pub mod caps;
pub mod caps_graphql;
pub mod facts;
pub mod gate;
pub mod graphql;
pub mod model;
pub mod numbers;
pub mod numbers_graphql;
pub mod service;
pub mod window;
#[cfg(test)]
mod window_props;
pub mod zones;

use crate::text_enum;

text_enum! {
    /// Why a campaign calls; it sets the calling hours and caps that apply.
    pub enum Purpose {
        /// About something the callee did or ordered; Vietnam 08:00-20:00 callee time, elsewhere 08:00-21:00.
        Transactional => "TRANSACTIONAL",
        /// Appointment or payment reminders; Vietnam 08:00-20:00 callee time, elsewhere 08:00-21:00.
        Reminder => "REMINDER",
        /// Surveys and feedback; Vietnam 08:00-20:00 callee time, elsewhere 08:00-21:00.
        Survey => "SURVEY",
        /// Advertising; Vietnam 08:00-17:00 callee time and one call per number per 24 hours (Decree 91), elsewhere 08:00-21:00.
        Marketing => "MARKETING",
    }
}

text_enum! {
    /// Why an attempt was not dialed (or not yet).
    pub enum SkipReason {
        /// The number is on the platform's or the campaign owner's do-not-call list.
        Dnc => "DNC",
        /// A per-number calling cap (attempts per 24 hours or minimum gap) is reached; retried later.
        Cap => "CAP",
        /// Outside the calling hours in the callee's local time or the campaign schedule; retried at the next opening when there is one.
        Window => "WINDOW",
        /// No usable caller ID: no ACTIVE number of the owner on an ACTIVE Twilio account.
        CallerId => "CALLER_ID",
        /// The owner's prepaid balance (đồng) cannot cover the call.
        Balance => "BALANCE",
        /// Premium, satellite, shared-cost, ...: a kind of number nobody allowed.
        NumberType => "NUMBER_TYPE",
        /// A reason this version of the server does not know (never written; read from an unknown stored value).
        Other => "OTHER",
    }
}

impl SkipReason {
    /// The reason a stored `skip_reason` names; OTHER for one this version does not know.
    pub fn from_stored(raw: &str) -> Self {
        raw.parse().unwrap_or(Self::Other)
    }
}
