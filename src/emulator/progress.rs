//! One task per call: dial, ring, answer or not, run the TwiML, hang up, with signed status
//! callbacks along the way. Time is simulated and scaled (`EMULATOR_TIME_SCALE`).

use std::time::Duration;

use chrono::Utc;
use rand::Rng;

use super::scenario::{self, Outcome, Scenario, RING_SECS};
use super::state::{sid, EmuCall, LedgerEntry, TranscriptLine, World};
use super::Emulator;
use crate::twilio::signature;
use crate::twilio::twiml::{self, Verb};
use crate::twilio::types::rfc2822;

/// Verbs followed per call before we assume a Redirect loop.
const MAX_STEPS: usize = 200;

struct Run {
    emu: Emulator,
    sid: String,
    sequence: u32,
    /// Simulated seconds since answer.
    talk_secs: f64,
}

/// What happens to a call to `to`, by the scenario in force.
fn outcome_for(w: &mut World, to: &str) -> Outcome {
    match w.scenario.clone() {
        Scenario::ByLastDigit => scenario::by_last_digit(to),
        Scenario::Random {
            busy,
            no_answer,
            failed,
            machine,
            digits,
            ..
        } => scenario::random(
            &mut w.rng,
            busy,
            no_answer,
            failed,
            machine,
            digits.as_deref(),
        ),
    }
}

/// Seconds an answered `<Dial>` leg talks (plus the callee's linger).
pub const DIAL_TALK_SECS: u32 = 20;

/// A call to one of the account's numbers: answered at once, its voice URL run.
pub async fn run_inbound(emu: Emulator, sid: String) {
    let mut run = Run {
        emu,
        sid,
        sequence: 0,
        talk_secs: 0.0,
    };
    run.set_status("ringing");
    let Some(call) = run.call() else { return };
    run.answer(&call, "human", None, 0).await;
}

pub async fn run(emu: Emulator, sid: String) {
    let mut run = Run {
        emu,
        sid,
        sequence: 0,
        talk_secs: 0.0,
    };
    run.dial().await;
}

impl Run {
    fn call(&self) -> Option<EmuCall> {
        self.emu.with(|w| w.calls.get(&self.sid).cloned())
    }

    fn end_requested(&self) -> Option<String> {
        self.emu
            .with(|w| w.calls.get(&self.sid).and_then(|c| c.end_requested.clone()))
    }

    fn set_status(&self, status: &str) {
        self.emu.with(|w| {
            if let Some(c) = w.calls.get_mut(&self.sid) {
                c.status = status.to_owned();
                c.updated = Utc::now();
                if status == "in-progress" {
                    c.start_time = Some(Utc::now());
                }
            }
            w.record_outcome(&self.sid);
        });
    }

    fn transcript(&self, kind: &'static str, detail: impl Into<String>) {
        let detail = detail.into();
        self.emu.with(|w| {
            if let Some(c) = w.calls.get_mut(&self.sid) {
                c.transcript.push(TranscriptLine { kind, detail });
            }
        });
    }

    async fn dial(&mut self) {
        // Twilio's per-account calls-per-second queue: wait for this call's slot.
        let time_scale = self.emu.time_scale();
        let slot = self.emu.with(|w| {
            let account = w.calls.get(&self.sid).map(|c| c.account_sid.clone())?;
            let a = w.accounts.get_mut(&account)?;
            let now = std::time::Instant::now();
            let start = a.next_dial_slot.max(now);
            // The queue runs in simulated time like everything else here.
            a.next_dial_slot =
                start + Duration::from_secs_f64(time_scale / a.calls_per_second.max(0.001));
            Some(start)
        });
        if let Some(slot) = slot {
            tokio::time::sleep_until(slot.into()).await;
        }
        let Some(call) = self.call() else { return };
        if call.end_requested.is_some() {
            return self.finish("canceled", None).await;
        }
        let outcome = self.emu.with(|w| outcome_for(w, &call.to));
        self.set_status("queued");
        self.progress_event("initiated", "initiated").await;
        self.emu.sleep_sim(0.5).await;
        if outcome == Outcome::Failed {
            return self.finish("failed", None).await;
        }
        self.set_status("ringing");
        self.progress_event("ringing", "ringing").await;
        let ring = match outcome {
            Outcome::NoAnswer => call.timeout_secs,
            _ => RING_SECS.min(call.timeout_secs),
        };
        self.emu.sleep_sim(f64::from(ring)).await;
        if self.end_requested().is_some() {
            return self.finish("canceled", None).await;
        }
        match outcome {
            Outcome::Busy => self.finish("busy", None).await,
            Outcome::NoAnswer | Outcome::Failed => self.finish("no-answer", None).await,
            Outcome::Answered {
                answered_by,
                digits,
                linger_secs,
            } => {
                self.answer(&call, answered_by, digits, linger_secs).await;
            }
        }
    }

    async fn answer(
        &mut self,
        call: &EmuCall,
        answered_by: &'static str,
        digits: Option<String>,
        linger_secs: u32,
    ) {
        let amd = call.machine_detection.is_some();
        self.emu.with(|w| {
            if let Some(c) = w.calls.get_mut(&self.sid) {
                c.answered_by = amd.then(|| answered_by.to_owned());
            }
        });
        self.set_status("in-progress");
        self.progress_event("answered", "in-progress").await;
        if amd && call.async_amd {
            if let Some(url) = &call.async_amd_callback {
                let mut params = self.base_params("in-progress");
                params.push(("AnsweredBy".into(), answered_by.into()));
                params.push(("MachineDetectionDuration".into(), "2300".into()));
                self.post(url, "POST", params).await;
            }
        }
        let mut verbs = match (&call.url, &call.twiml) {
            (Some(url), _) => {
                let mut params = self.base_params("in-progress");
                if amd && !call.async_amd {
                    params.push(("AnsweredBy".into(), answered_by.into()));
                }
                self.fetch_twiml(url, &call.method, params).await
            }
            (None, Some(doc)) => self.parse(doc),
            (None, None) => Vec::new(),
        };
        let mut digits = digits;
        let mut steps = 0;
        let mut hung_up = false;
        while !verbs.is_empty() && steps < MAX_STEPS && !hung_up {
            steps += 1;
            if self.end_requested().is_some() {
                break;
            }
            let verb = verbs.remove(0);
            match self.execute(verb, &mut digits, call).await {
                Next::Continue => {}
                Next::Replace(next) => verbs = next,
                Next::HangUp => hung_up = true,
            }
        }
        if !hung_up {
            self.talk(f64::from(linger_secs)).await;
        }
        let secs = self.talk_secs.ceil().max(1.0) as u32;
        self.finish("completed", Some(secs)).await;
    }

    async fn talk(&mut self, secs: f64) {
        self.talk_secs += secs;
        self.emu.sleep_sim(secs).await;
    }

    async fn execute(&mut self, verb: Verb, digits: &mut Option<String>, call: &EmuCall) -> Next {
        match verb {
            Verb::Say {
                text, loop_count, ..
            } => {
                let times = loop_count.unwrap_or(1).clamp(1, 10);
                self.transcript("say", &text);
                // About 12 characters a second of speech.
                self.talk(times as f64 * (text.chars().count() as f64 / 12.0).max(1.0))
                    .await;
            }
            Verb::Play { url, loop_count } => {
                self.transcript("play", &url);
                self.talk(f64::from(loop_count.unwrap_or(1).clamp(1, 10)) * 5.0)
                    .await;
            }
            Verb::Pause { length } => self.talk(f64::from(length.unwrap_or(1))).await,
            Verb::Gather(gather) => {
                for nested in gather.nested {
                    if let Verb::Say { text, .. } = &nested {
                        self.transcript("say", text);
                    }
                    if let Verb::Play { url, .. } = &nested {
                        self.transcript("play", url);
                    }
                }
                self.talk(2.0).await;
                match digits.take() {
                    Some(pressed) => {
                        self.transcript("pressed", &pressed);
                        let action = gather.action.or_else(|| call.url.clone());
                        if let Some(action) = action {
                            let mut params = self.base_params("in-progress");
                            params.push(("Digits".into(), pressed));
                            params.push(("FinishedOnKey".into(), String::new()));
                            let method = gather.method.unwrap_or_else(|| "POST".into());
                            return Next::Replace(self.fetch_twiml(&action, &method, params).await);
                        }
                    }
                    None => self.talk(f64::from(gather.timeout.unwrap_or(5))).await,
                }
            }
            Verb::Redirect { url, method } => {
                let params = self.base_params("in-progress");
                return Next::Replace(
                    self.fetch_twiml(&url, method.as_deref().unwrap_or("POST"), params)
                        .await,
                );
            }
            Verb::Dial {
                number,
                caller_id,
                timeout,
                action,
                time_limit,
            } => {
                self.transcript("dial", &number);
                let report = self
                    .dial_leg(&number, caller_id, timeout.unwrap_or(30), time_limit)
                    .await;
                // With an action, Twilio reports the leg there and runs what it answers.
                if let Some(action) = action {
                    let mut params = self.base_params("in-progress");
                    params.extend(report);
                    return Next::Replace(self.fetch_twiml(&action, "POST", params).await);
                }
            }
            Verb::Record { max_length, .. } => {
                self.transcript("record", max_length.unwrap_or(10).to_string());
                self.talk(f64::from(max_length.unwrap_or(10).min(30))).await;
            }
            Verb::Hangup => {
                self.transcript("hangup", "");
                return Next::HangUp;
            }
            Verb::Reject { reason } => {
                self.transcript("reject", reason.unwrap_or_default());
                return Next::HangUp;
            }
        }
        Next::Continue
    }

    /// Places the leg a `<Dial>` asks for as a child call (in the ledger like any call), with
    /// its own outcome by the scenario; the caller is bridged while it lasts. Returns the
    /// parameters Twilio sends to the `<Dial>`'s action URL.
    async fn dial_leg(
        &mut self,
        number: &str,
        caller_id: Option<String>,
        timeout: u32,
        time_limit: Option<u32>,
    ) -> Vec<(String, String)> {
        let parent_sid = self.sid.clone();
        let placed = self.emu.with(|w| {
            let parent = w.calls.get(&parent_sid).cloned()?;
            let outcome = outcome_for(w, number);
            let now = Utc::now();
            let child = EmuCall {
                sid: sid("CA", &mut w.rng),
                to: number.to_owned(),
                from: caller_id.unwrap_or_else(|| parent.from.clone()),
                status: "initiated".into(),
                answered_by: None,
                created: now,
                updated: now,
                start_time: None,
                end_time: None,
                duration: None,
                url: None,
                twiml: None,
                status_callback: None,
                status_callback_events: Vec::new(),
                timeout_secs: timeout,
                machine_detection: None,
                async_amd: false,
                async_amd_callback: None,
                end_requested: None,
                direction: "outbound-dial".into(),
                parent_call_sid: Some(parent_sid.clone()),
                transcript: Vec::new(),
                ..parent
            };
            w.ledger.push(LedgerEntry {
                sid: child.sid.clone(),
                account_sid: child.account_sid.clone(),
                to: child.to.clone(),
                from: child.from.clone(),
                created_at: now,
                status: child.status.clone(),
                duration: None,
                answered_by: None,
            });
            w.call_order.push(child.sid.clone());
            w.calls.insert(child.sid.clone(), child.clone());
            Some((child.sid, outcome))
        });
        let Some((child_sid, outcome)) = placed else {
            return vec![("DialCallStatus".into(), "failed".into())];
        };
        let (status, secs) = match outcome {
            Outcome::Failed => {
                self.talk(0.5).await;
                ("failed", 0)
            }
            Outcome::Busy => {
                self.talk(f64::from(RING_SECS)).await;
                ("busy", 0)
            }
            Outcome::NoAnswer => {
                self.talk(f64::from(timeout)).await;
                ("no-answer", 0)
            }
            Outcome::Answered { linger_secs, .. } => {
                self.talk(f64::from(RING_SECS)).await;
                let secs = (DIAL_TALK_SECS + linger_secs).min(time_limit.unwrap_or(14_400));
                self.talk(f64::from(secs)).await;
                ("completed", secs)
            }
        };
        self.emu.with(|w| {
            if let Some(c) = w.calls.get_mut(&child_sid) {
                c.status = status.to_owned();
                c.duration = Some(secs);
                c.end_time = Some(Utc::now());
                c.updated = Utc::now();
            }
            w.record_outcome(&child_sid);
        });
        vec![
            ("DialCallStatus".into(), status.into()),
            ("DialCallSid".into(), child_sid),
            ("DialCallDuration".into(), secs.to_string()),
            ("DialBridged".into(), (status == "completed").to_string()),
        ]
    }

    fn parse(&self, doc: &str) -> Vec<Verb> {
        match twiml::parse(doc) {
            Ok(verbs) => verbs,
            Err(e) => {
                // Twilio plays "an application error has occurred" and hangs up.
                self.transcript("error", e.to_string());
                vec![Verb::Hangup]
            }
        }
    }

    async fn fetch_twiml(
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
    fn base_params(&self, status: &str) -> Vec<(String, String)> {
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
    async fn progress_event(&mut self, event: &str, status: &str) {
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

    async fn post(&self, url: &str, method: &str, params: Vec<(String, String)>) {
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

    async fn finish(&mut self, status: &str, duration: Option<u32>) {
        self.emu.with(|w| {
            if let Some(c) = w.calls.get_mut(&self.sid) {
                c.status = status.to_owned();
                c.duration = Some(duration.unwrap_or(0));
                c.end_time = Some(Utc::now());
                c.updated = Utc::now();
            }
            w.record_outcome(&self.sid);
        });
        self.progress_event("completed", status).await;
    }
}

enum Next {
    Continue,
    Replace(Vec<Verb>),
    HangUp,
}
