//! The child leg a `<Dial>` places and bridges.

use chrono::Utc;

use super::{outcome_for, Run, DIAL_TALK_SECS};
use crate::emulator::scenario::{Outcome, RING_SECS};
use crate::emulator::state::{sid, EmuCall, LedgerEntry};

impl Run {
    /// Places the leg a `<Dial>` asks for as a child call (in the ledger like any call), with
    /// its own outcome by the scenario; the caller is bridged while it lasts. Returns the
    /// parameters Twilio sends to the `<Dial>`'s action URL.
    pub(super) async fn dial_leg(
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
}
