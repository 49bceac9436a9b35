//! What a campaign says and when it calls, as stored in its JSON columns, with the checks that
//! keep bad settings out.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::compliance::window::{CampaignSchedule, DailyWindow};
use crate::error::{AppError, AppResult};
use crate::text_enum;

pub const DEFAULT_VOICE: &str = "Google.vi-VN-Wavenet-A";
pub const DEFAULT_LANGUAGE: &str = "vi-VN";
/// Twilio's `<Say>` takes up to 4,096 characters; keep room for the menu prompt.
pub const MAX_MESSAGE_CHARS: usize = 3000;

text_enum! {
    /// What a menu key does.
    pub enum MenuAction {
        /// Connects the callee to transferTo; the transfer leg is charged to the owner.
        Transfer => "TRANSFER",
        /// Puts the callee on the owner's do-not-call list and ends the call.
        OptOut => "OPT_OUT",
        /// Plays the message again.
        Replay => "REPLAY",
        /// Records the key (see Call.digits), thanks the callee and ends the call.
        RecordDigits => "RECORD_DIGITS",
        /// Ends the call.
        Hangup => "HANGUP",
    }
}

text_enum! {
    /// What a campaign does when an answering machine picks up.
    pub enum AmdMode {
        /// No machine detection: the message and menu play to whoever answers.
        Off => "OFF",
        /// Detects machines and hangs up on them.
        HangUpOnMachine => "HANG_UP_ON_MACHINE",
        /// Detects machines and plays them the message once, without the menu.
        LeaveMessage => "LEAVE_MESSAGE",
    }
}

text_enum! {
    /// The basis on which callees agreed to be called.
    pub enum ConsentBasis {
        /// Consent given in writing (signed form, online opt-in).
        ExpressWritten => "EXPRESS_WRITTEN",
        /// Consent given by voice.
        ExpressOral => "EXPRESS_ORAL",
        /// An existing customer relationship.
        ExistingCustomer => "EXISTING_CUSTOMER",
        /// Calls about a transaction the callee made.
        Transactional => "TRANSACTIONAL",
    }
}

text_enum! {
    /// Outcomes a campaign may retry.
    pub enum RetryOutcome {
        /// The line was busy.
        Busy => "BUSY",
        /// Nobody answered.
        NoAnswer => "NO_ANSWER",
        /// The call failed to connect.
        Failed => "FAILED",
        /// An answering machine or fax answered.
        Machine => "MACHINE",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Text to speak, with `{{name}}`-style variables; or
    pub text: Option<String>,
    /// a recording to play.
    pub audio_url: Option<String>,
    pub voice: String,
    pub language: String,
    pub repeat: u32,
}

/// Refuses control characters other than line breaks and tabs: a NUL cannot be stored in
/// JSONB at all, and the others have no business in speech.
fn plain_text(field: &'static str, text: &str) -> AppResult<()> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters (such as NUL)",
        ));
    }
    Ok(())
}

impl Message {
    pub fn validate(&self) -> AppResult<()> {
        for (field, text) in [
            ("message.text", self.text.as_deref()),
            ("message.audioUrl", self.audio_url.as_deref()),
            ("message.voice", Some(self.voice.as_str())),
            ("message.language", Some(self.language.as_str())),
        ] {
            plain_text(field, text.unwrap_or_default())?;
        }
        match (&self.text, &self.audio_url) {
            (Some(t), None) if !t.trim().is_empty() => {
                if t.chars().count() > MAX_MESSAGE_CHARS {
                    return Err(AppError::bad_input(
                        "message.text",
                        format!("at most {MAX_MESSAGE_CHARS} characters"),
                    ));
                }
            }
            (None, Some(url)) => {
                let ok =
                    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                if !ok {
                    return Err(AppError::bad_input(
                        "message.audioUrl",
                        "an http(s) URL of the recording",
                    ));
                }
            }
            _ => {
                return Err(AppError::bad_input(
                    "message",
                    "give either text or audioUrl",
                ))
            }
        }
        if !(1..=5).contains(&self.repeat) {
            return Err(AppError::bad_input("message.repeat", "1 to 5"));
        }
        if !super::voices::matches(&self.voice, &self.language) {
            return Err(AppError::bad_input(
                "message.voice",
                "not a voice of that language: see the voices query",
            ));
        }
        Ok(())
    }

    /// The text with `{{var}}` replaced from the contact (unknown variables become empty).
    pub fn render(&self, name: &str, vars: &serde_json::Value) -> Option<String> {
        let text = self.text.as_ref()?;
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            match after.find("}}") {
                Some(close) => {
                    let key = after[..close].trim();
                    let value = if key == "name" {
                        name.to_owned()
                    } else {
                        vars.get(key)
                            .and_then(|v| {
                                v.as_str()
                                    .map(str::to_owned)
                                    .or_else(|| Some(v.to_string()))
                            })
                            .filter(|v| v != "null")
                            .unwrap_or_default()
                    };
                    out.push_str(&value);
                    rest = &after[close + 2..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuOption {
    pub digit: String,
    pub action: MenuAction,
    pub transfer_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub prompt: Option<String>,
    pub timeout_secs: u32,
    pub options: Vec<MenuOption>,
}

impl Menu {
    pub fn validate(&self) -> AppResult<()> {
        if self.options.is_empty() {
            return Err(AppError::bad_input(
                "menu.options",
                "a menu needs at least one option",
            ));
        }
        if !(1..=30).contains(&self.timeout_secs) {
            return Err(AppError::bad_input("menu.timeoutSecs", "1 to 30 seconds"));
        }
        let mut seen = std::collections::HashSet::new();
        for option in &self.options {
            let valid_digit = option.digit.len() == 1
                && option
                    .digit
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
            if !valid_digit || !seen.insert(option.digit.clone()) {
                return Err(AppError::bad_input(
                    "menu.options",
                    format!(
                        "digit {:?} must be one of 0-9 * # and used once",
                        option.digit
                    ),
                ));
            }
            if (option.action == MenuAction::Transfer) != option.transfer_to.is_some() {
                return Err(AppError::bad_input(
                    "menu.options",
                    "TRANSFER needs transferTo, and only TRANSFER takes it",
                ));
            }
        }
        if self
            .prompt
            .as_ref()
            .is_some_and(|p| p.chars().count() > 500)
        {
            return Err(AppError::bad_input("menu.prompt", "at most 500 characters"));
        }
        plain_text("menu.prompt", self.prompt.as_deref().unwrap_or_default())?;
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub daily_start: Option<NaiveTime>,
    pub daily_end: Option<NaiveTime>,
    /// ISO weekday numbers, 1 = Monday; empty = every day.
    pub days: Vec<u8>,
    pub time_zone: String,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            start_at: None,
            end_at: None,
            daily_start: None,
            daily_end: None,
            days: Vec::new(),
            time_zone: "Asia/Ho_Chi_Minh".into(),
        }
    }
}

impl Schedule {
    pub fn validate(&self) -> AppResult<()> {
        self.to_compliance()?;
        if let (Some(s), Some(e)) = (self.start_at, self.end_at) {
            if e <= s {
                return Err(AppError::bad_input(
                    "schedule.endAt",
                    "must be after startAt",
                ));
            }
        }
        if self.daily_start.is_some() != self.daily_end.is_some()
            || self
                .daily_start
                .zip(self.daily_end)
                .is_some_and(|(s, e)| e <= s)
        {
            return Err(AppError::bad_input(
                "schedule.dailyStart",
                "give both dailyStart and dailyEnd, start before end",
            ));
        }
        if self.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(AppError::bad_input(
                "schedule.daysOfWeek",
                "1 (Monday) to 7 (Sunday)",
            ));
        }
        Ok(())
    }

    pub fn to_compliance(&self) -> AppResult<CampaignSchedule> {
        let time_zone = self.time_zone.parse().map_err(|_| {
            AppError::bad_input(
                "schedule.timeZone",
                "an IANA time zone such as Asia/Ho_Chi_Minh",
            )
        })?;
        let weekday = |d: u8| match d {
            1 => Some(Weekday::Mon),
            2 => Some(Weekday::Tue),
            3 => Some(Weekday::Wed),
            4 => Some(Weekday::Thu),
            5 => Some(Weekday::Fri),
            6 => Some(Weekday::Sat),
            7 => Some(Weekday::Sun),
            _ => None,
        };
        Ok(CampaignSchedule {
            time_zone,
            start_at: self.start_at,
            end_at: self.end_at,
            daily: self
                .daily_start
                .zip(self.daily_end)
                .map(|(start, end)| DailyWindow { start, end }),
            days: self.days.iter().filter_map(|d| weekday(*d)).collect(),
        })
    }
}

#[cfg(test)]
mod tests;
