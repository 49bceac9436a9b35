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
        Transactional => "TRANSACTIONAL",
        Reminder => "REMINDER",
        Survey => "SURVEY",
        Marketing => "MARKETING",
    }
}

text_enum! {
    /// Why an attempt was not dialed (or not yet).
    pub enum SkipReason {
        Dnc => "DNC",
        Cap => "CAP",
        Window => "WINDOW",
        CallerId => "CALLER_ID",
        Balance => "BALANCE",
        /// Premium, satellite, shared-cost, ...: a kind of number nobody allowed.
        NumberType => "NUMBER_TYPE",
    }
}
