//! Twilio REST resources (API 2010-04-01), field names as in Twilio's OpenAPI spec.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// RFC 2822 dates as Twilio writes them: `Tue, 31 Aug 2010 20:36:28 +0000`.
pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

pub fn parse_rfc2822(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(raw)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub sid: String,
    pub friendly_name: Option<String>,
    /// active | suspended | closed
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub account_type: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    pub owner_account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub uri: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Balance {
    pub account_sid: String,
    /// A decimal string, e.g. "12.34".
    pub balance: String,
    pub currency: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Call {
    pub sid: String,
    pub account_sid: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub phone_number_sid: Option<String>,
    /// queued | ringing | in-progress | completed | busy | failed | no-answer | canceled
    pub status: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Seconds, as a string; empty until the call ends.
    pub duration: Option<String>,
    pub price: Option<String>,
    pub price_unit: Option<String>,
    pub direction: Option<String>,
    pub answered_by: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    pub parent_call_sid: Option<String>,
    pub uri: Option<String>,
}

impl Call {
    pub fn duration_secs(&self) -> Option<i64> {
        self.duration.as_deref().and_then(|d| d.trim().parse().ok())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IncomingPhoneNumber {
    pub sid: String,
    pub account_sid: Option<String>,
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    pub uri: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Capabilities {
    #[serde(default)]
    pub voice: bool,
    #[serde(default)]
    pub sms: bool,
    #[serde(default)]
    pub mms: bool,
    #[serde(default)]
    pub fax: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AvailablePhoneNumber {
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub iso_country: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub capabilities: Option<Capabilities>,
}

/// `POST /Calls.json`. Exactly one of `url` / `twiml`.
#[derive(Clone, Debug, Default)]
pub struct CreateCall {
    pub to: String,
    pub from: String,
    pub url: Option<String>,
    pub twiml: Option<String>,
    pub status_callback: Option<String>,
    /// initiated, ringing, answered, completed
    pub status_callback_events: Vec<String>,
    pub timeout_secs: Option<u32>,
    pub time_limit_secs: Option<u32>,
    /// Enable | DetectMessageEnd
    pub machine_detection: Option<String>,
    pub async_amd: bool,
    pub async_amd_status_callback: Option<String>,
}

impl CreateCall {
    /// PascalCase form parameters; lists become repeated keys.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", self.to.clone()), ("From", self.from.clone())];
        let mut opt = |key, value: Option<String>| {
            if let Some(value) = value {
                form.push((key, value));
            }
        };
        opt("Url", self.url.clone());
        opt("Twiml", self.twiml.clone());
        opt("StatusCallback", self.status_callback.clone());
        opt("Timeout", self.timeout_secs.map(|t| t.to_string()));
        opt("TimeLimit", self.time_limit_secs.map(|t| t.to_string()));
        opt("MachineDetection", self.machine_detection.clone());
        opt(
            "AsyncAmdStatusCallback",
            self.async_amd_status_callback.clone(),
        );
        if self.async_amd {
            form.push(("AsyncAmd", "true".into()));
        }
        for event in &self.status_callback_events {
            form.push(("StatusCallbackEvent", event.clone()));
        }
        form
    }
}

/// `GET /Calls.json` filters.
#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    pub to: Option<String>,
    pub from: Option<String>,
    pub status: Option<String>,
    /// `StartTime>=`: calls started on or after this moment.
    pub started_after: Option<DateTime<Utc>>,
    pub page_size: Option<u32>,
}

impl CallFilter {
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(v) = &self.to {
            q.push(("To", v.clone()));
        }
        if let Some(v) = &self.from {
            q.push(("From", v.clone()));
        }
        if let Some(v) = &self.status {
            q.push(("Status", v.clone()));
        }
        if let Some(v) = self.started_after {
            q.push(("StartTime>", v.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        }
        q.push(("PageSize", self.page_size.unwrap_or(50).to_string()));
        q
    }
}

/// Webhook settings of a phone number.
#[derive(Clone, Debug, Default)]
pub struct NumberWebhooks {
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub status_callback: Option<String>,
}

impl NumberWebhooks {
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(v) = &self.friendly_name {
            form.push(("FriendlyName", v.clone()));
        }
        if let Some(v) = &self.voice_url {
            form.push(("VoiceUrl", v.clone()));
            form.push(("VoiceMethod", "POST".into()));
        }
        if let Some(v) = &self.status_callback {
            form.push(("StatusCallback", v.clone()));
            form.push(("StatusCallbackMethod", "POST".into()));
        }
        form
    }
}

#[derive(Deserialize)]
pub(super) struct Page<T> {
    #[serde(
        alias = "calls",
        alias = "incoming_phone_numbers",
        alias = "available_phone_numbers"
    )]
    pub items: Vec<T>,
    pub next_page_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2822_round_trip() {
        let at = parse_rfc2822("Tue, 31 Aug 2010 20:36:28 +0000").expect("parse");
        assert_eq!(rfc2822(at), "Tue, 31 Aug 2010 20:36:28 +0000");
    }

    #[test]
    fn status_callback_events_repeat_the_key() {
        let form = CreateCall {
            to: "+15558675310".into(),
            from: "+15005550006".into(),
            url: Some("http://127.0.0.1:9/voice".into()),
            status_callback_events: vec!["initiated".into(), "completed".into()],
            ..CreateCall::default()
        }
        .form();
        let events: Vec<_> = form
            .iter()
            .filter(|(k, _)| *k == "StatusCallbackEvent")
            .collect();
        assert_eq!(events.len(), 2);
    }
}
