//! One task per call: dial, ring, answer or not, run the TwiML, hang up, with signed status
//! callbacks along the way. Time is simulated and scaled (`EMULATOR_TIME_SCALE`).

use std::time::Duration;

use chrono::Utc;

use super::scenario::{self, Outcome, Scenario, RING_SECS};
use super::state::{EmuCall, TranscriptLine, World};
use super::Emulator;
use crate::twilio::twiml::Verb;

mod callbacks;
mod dial_leg;

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
