//! The codes a front end switches on: why a campaign is paused, and what its preflight found.

use crate::graphql::Vnd;
use async_graphql::SimpleObject;

/// Why a campaign is paused.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseReason {
    /// The owner paused it.
    Manual,
    /// Paused automatically: more than half of its recent calls failed.
    FailureRate,
    /// Paused automatically: too many recent callees opted out.
    OptOutSpike,
    /// Paused automatically: the Twilio account it calls through is suspended.
    TwilioAccountSuspended,
    /// Paused automatically: the owner's balance cannot cover the next call.
    InsufficientBalance,
    /// Paused because an admin suspended the owner; it stays paused after the suspension is lifted.
    OwnerSuspended,
    /// A reason this version of the server does not know.
    Other,
}

impl PauseReason {
    /// The reason a stored `pause_reason` (see `autopause::reason`) names.
    pub fn from_stored(raw: &str) -> Self {
        use crate::campaigns::autopause::reason;
        match raw {
            reason::MANUAL => Self::Manual,
            reason::FAILURE_RATE => Self::FailureRate,
            reason::OPT_OUT_SPIKE => Self::OptOutSpike,
            reason::TWILIO_ACCOUNT_SUSPENDED => Self::TwilioAccountSuspended,
            reason::INSUFFICIENT_BALANCE => Self::InsufficientBalance,
            reason::OWNER_SUSPENDED => Self::OwnerSuspended,
            _ => Self::Other,
        }
    }
}

/// What a preflight issue is about; `message` says it in English.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreflightIssueCode {
    /// No contact is left to call.
    NoContacts,
    /// The consent basis, source or date is not recorded.
    NoConsent,
    /// The campaign's owner is suspended.
    OwnerSuspended,
    /// No caller ID is chosen.
    NoCallerId,
    /// A chosen caller ID no longer exists.
    CallerIdUnknown,
    /// A chosen caller ID is no longer assigned to the owner.
    CallerIdNotYours,
    /// A chosen caller ID is unhealthy and will not be used.
    CallerIdUnhealthy,
    /// The Twilio account of a caller ID is not active.
    AccountNotActive,
    /// A caller ID has no Twilio account.
    AccountMissing,
    /// None of the caller IDs can place calls now.
    NoUsableCallerId,
    /// The message is invalid or cannot be read.
    MessageInvalid,
    /// The schedule's end is in the past.
    ScheduleEnded,
    /// Outside the schedule now; calls start at the next opening.
    OutsideSchedule,
    /// The available balance cannot hold even the first call.
    InsufficientBalance,
    /// The available balance may not cover every contact; the campaign may pause for balance.
    BalanceLow,
    /// An issue this version of the server does not know.
    Other,
}

impl PreflightIssueCode {
    /// The code a preflight issue (see `campaigns::preflight`) carries.
    pub fn from_code(raw: &str) -> Self {
        match raw {
            "NO_CONTACTS" => Self::NoContacts,
            "NO_CONSENT" => Self::NoConsent,
            "OWNER_SUSPENDED" => Self::OwnerSuspended,
            "NO_CALLER_ID" => Self::NoCallerId,
            "CALLER_ID_UNKNOWN" => Self::CallerIdUnknown,
            "CALLER_ID_NOT_YOURS" => Self::CallerIdNotYours,
            "CALLER_ID_UNHEALTHY" => Self::CallerIdUnhealthy,
            "ACCOUNT_NOT_ACTIVE" => Self::AccountNotActive,
            "ACCOUNT_MISSING" => Self::AccountMissing,
            "NO_USABLE_CALLER_ID" => Self::NoUsableCallerId,
            "MESSAGE_INVALID" => Self::MessageInvalid,
            "SCHEDULE_ENDED" => Self::ScheduleEnded,
            "OUTSIDE_SCHEDULE" => Self::OutsideSchedule,
            "INSUFFICIENT_BALANCE" => Self::InsufficientBalance,
            "BALANCE_LOW" => Self::BalanceLow,
            _ => Self::Other,
        }
    }
}

#[derive(SimpleObject)]
/// One problem the preflight found.
pub struct PreflightIssue {
    /// What the problem is about.
    pub code: PreflightIssueCode,
    /// What is wrong, in English.
    pub message: String,
}

#[derive(SimpleObject)]
/// Whether a campaign can start now, and what calling its contacts would cost.
pub struct CampaignPreflight {
    /// True when nothing blocks a start.
    pub ready: bool,
    /// Problems that stop a start or resume.
    pub blockers: Vec<PreflightIssue>,
    /// Problems that do not stop a start.
    pub warnings: Vec<PreflightIssue>,
    /// Contacts still PENDING.
    pub contacts_to_call: i64,
    /// Đồng (VND) if every pending contact answers for one minute, at their destinations' rates with connection fees.
    pub estimated_cost: Vnd,
    /// The owner's available balance in đồng (VND): posted minus holds.
    pub available_balance: Vnd,
}
