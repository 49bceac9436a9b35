//! A call's requests to the customer's URLs: TwiML fetches and signed status callbacks.

use chrono::Utc;
use rand::Rng;

use super::Run;
use crate::twilio::signature;
use crate::twilio::twiml::{self, Verb};
use crate::twilio::types::rfc2822;

impl Run {
    pub(super) fn parse(&self, doc: &str) -> Vec<Verb> {
        match twiml::parse(doc) {
            Ok(verbs) => verbs,
            Err(e) => {
                // Twilio plays "an application error has occurred" and hangs up.
                self.transcript("error", e.to_string());
                vec![Verb::Hangup]
            }
        }
    }

    pub(super) async fn fetch_twiml(
        &self,
        url: &str,
        method: &str,
        params: Vec<(String, String)>,
    ) -> Vec<Verb> {
        match self.request(url, method, params).await {
            Some(body) => self.parse(&body),
            None => {
                self.transcript("error", format!("could not fetch TwiML from {url}"));
                vec![Verb::Hangup]
            }
        }
    }

    /// The standard parameters of every request Twilio makes about a call.
    pub(super) fn base_params(&self, status: &str) -> Vec<(String, String)> {
        let Some(c) = self.call() else {
            return Vec::new();
        };
        let mut p: Vec<(String, String)> = vec![
            ("CallSid".into(), c.sid.clone()),
            ("AccountSid".into(), c.account_sid.clone()),
            ("From".into(), c.from.clone()),
            ("To".into(), c.to.clone()),
            ("Caller".into(), c.from.clone()),
            ("Called".into(), c.to.clone()),
            ("CallStatus".into(), status.into()),
            ("ApiVersion".into(), "2010-04-01".into()),
            ("Direction".into(), c.direction.clone()),
        ];
        if let Some(by) = c.answered_by {
            p.push(("AnsweredBy".into(), by));
        }
        p
    }

    /// Sends a status callback if `event` was asked for (`completed` always is);
    /// the sequence number counts every progress event either way.
    pub(super) async fn progress_event(&mut self, event: &str, status: &str) {
        let sequence = self.sequence;
        self.sequence += 1;
        let Some(call) = self.call() else { return };
        let Some(url) = call.status_callback.clone() else {
            return;
        };
        let wanted = if call.status_callback_events.is_empty() {
            event == "completed"
        } else {
            call.status_callback_events.iter().any(|e| e == event)
        };
        if !wanted {
            return;
        }
        let mut params = self.base_params(status);
        params.retain(|(k, _)| k != "AnsweredBy" || call.machine_detection.is_some());
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), sequence.to_string()));
        params.push(("Timestamp".into(), rfc2822(Utc::now())));
        if event == "completed" {
            let secs = call.duration.unwrap_or(0);
            params.push(("CallDuration".into(), secs.to_string()));
            params.push(("Duration".into(), secs.div_ceil(60).to_string()));
            let sip = match status {
                "completed" => "200",
                "busy" => "486",
                "no-answer" => "487",
                "canceled" => "487",
                _ => "500",
            };
            params.push(("SipResponseCode".into(), sip.into()));
        }
        let method = call.status_callback_method.clone();
        let (drop, duplicate, reorder, delay_ms) = self.emu.with(|w| {
            let f = w.faults.clone();
            let mut roll = || w.rng.gen::<f64>() * 100.0;
            (
                roll() < f.drop_callbacks,
                roll() < f.duplicate_callbacks,
                roll() < f.reorder_callbacks,
                f.delay_callbacks_ms,
            )
        });
        if drop {
            return;
        }
        let emu = self.emu.clone();
        let sid = self.sid.clone();
        let send = async move {
            if reorder {
                // Held back long enough for the next event to overtake it.
                emu.sleep_sim(5.0).await;
            }
            if delay_ms > 0 {
                emu.sleep_sim(delay_ms as f64 / 1000.0).await;
            }
            let runner = Run {
                emu: emu.clone(),
                sid,
                sequence: 0,
                talk_secs: 0.0,
            };
            runner.post(&url, &method, params.clone()).await;
            if duplicate {
                runner.post(&url, &method, params).await;
            }
        };
        if reorder || delay_ms > 0 {
            tokio::spawn(send);
        } else {
            send.await;
        }
    }

    pub(super) async fn post(&self, url: &str, method: &str, params: Vec<(String, String)>) {
        let _ = self.request(url, method, params).await;
    }

    /// A signed request to one of the customer's URLs; the body when it answered 2xx.
    async fn request(
        &self,
        url: &str,
        method: &str,
        params: Vec<(String, String)>,
    ) -> Option<String> {
        let token = self.emu.with(|w| {
            let account = w.calls.get(&self.sid).map(|c| c.account_sid.clone())?;
            w.accounts.get(&account).map(|a| a.auth_token.clone())
        })?;
        let http = self.emu.http();
        let request = if method.eq_ignore_ascii_case("GET") {
            let mut full = reqwest::Url::parse(url).ok()?;
            full.query_pairs_mut().extend_pairs(params.iter());
            let signature = signature::sign(&token, full.as_str(), &[]);
            http.get(full).header("X-Twilio-Signature", signature)
        } else {
            let signature = signature::sign(&token, url, &params);
            http.post(url)
                .header("X-Twilio-Signature", signature)
                .form(&params)
        };
        let response = request
            .header("User-Agent", "TwilioProxy/1.1")
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    }
}
