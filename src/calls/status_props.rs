//! Properties of `status::judge`, the rule behind `apply`. Twilio's callbacks arrive late, twice,
//! out of order or not at all, and reconciliation adds its own reports; the call must still end
//! where Twilio says it ended, and once there, stay.

use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::status::judge;
use super::CallStatus::{self, *};

const ALL: [CallStatus; 9] = [
    Queued, Initiated, Ringing, InProgress, Completed, Busy, NoAnswer, Failed, Canceled,
];
const FINALS: [CallStatus; 5] = [Completed, Busy, NoAnswer, Failed, Canceled];

/// Where `apply` leaves a call that starts QUEUED and receives `updates` one by one.
fn fold(updates: &[CallStatus]) -> CallStatus {
    updates
        .iter()
        .fold(Queued, |current, &next| match judge(current, next) {
            None => next,
            Some(_) => current,
        })
}

/// What Twilio reports for one call, in its order: some of the in-flight states, then at most one
/// final state (none while the call is still up).
fn lifecycle() -> impl Strategy<Value = (Vec<CallStatus>, Option<CallStatus>)> {
    (
        subsequence(vec![Initiated, Ringing, InProgress], 0..=3),
        proptest::option::weighted(0.8, select(FINALS.to_vec())),
    )
}

/// The lifecycle as delivered: each in-flight report lost or repeated up to three times, the
/// final one (if any) repeated but never lost (reconciliation finds it), all shuffled.
fn delivered() -> impl Strategy<Value = (Vec<CallStatus>, Option<CallStatus>, Vec<CallStatus>)> {
    lifecycle().prop_flat_map(|(progress, last)| {
        let copies = proptest::collection::vec(0usize..=3, progress.len());
        let final_copies = 1usize..=3;
        (Just(progress), Just(last), copies, final_copies).prop_flat_map(
            |(progress, last, copies, final_copies)| {
                let mut stream: Vec<CallStatus> = progress
                    .iter()
                    .zip(&copies)
                    .flat_map(|(s, n)| std::iter::repeat_n(*s, *n))
                    .collect();
                stream.extend(
                    last.iter()
                        .flat_map(|f| std::iter::repeat_n(*f, final_copies)),
                );
                (Just(progress), Just(last), Just(stream).prop_shuffle())
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any stream at all, even one Twilio would never send: every accepted update moves the call
    /// forward, no status is accepted twice, and a final state is never left.
    #[test]
    fn a_call_only_moves_forward_and_a_final_state_is_never_left(
        updates in proptest::collection::vec(select(ALL.to_vec()), 0..24)
    ) {
        let mut current = Queued;
        let mut accepted = vec![Queued];
        for next in updates {
            let verdict = judge(current, next);
            if current.is_final() {
                prop_assert!(verdict.is_some(), "{current:?} left for {next:?}");
            }
            if verdict.is_none() {
                prop_assert!(next.rank() > current.rank(), "{current:?} -> {next:?}");
                prop_assert!(!accepted.contains(&next), "{next:?} accepted twice");
                accepted.push(next);
                current = next;
            }
        }
        // Four steps of rank at most: a call changes state at most four times.
        prop_assert!(accepted.len() <= 5);
    }

    /// Lost, repeated and reordered callbacks converge on the state of the in-order stream:
    /// Twilio's final state if there is one, else the furthest state that arrived.
    #[test]
    fn any_delivery_order_converges_on_the_in_order_state(
        (progress, last, stream) in delivered()
    ) {
        let in_order: Vec<CallStatus> = progress.iter().copied().chain(last).collect();
        let expected = match last {
            Some(f) => f,
            None => stream.iter().copied().max_by_key(|s| s.rank()).unwrap_or(Queued),
        };
        prop_assert_eq!(fold(&in_order), last.unwrap_or(*in_order.last().unwrap_or(&Queued)));
        prop_assert_eq!(fold(&stream), expected, "stream {:?}", stream);
    }

    /// Two sources disagreeing on the outcome (a callback says NO_ANSWER, the REST API says
    /// COMPLETED): the first to arrive stands, whatever comes after it.
    #[test]
    fn the_first_final_report_stands(
        before in proptest::collection::vec(select(ALL[..4].to_vec()), 0..6),
        first in select(FINALS.to_vec()),
        after in proptest::collection::vec(select(ALL.to_vec()), 0..8),
    ) {
        let stream: Vec<CallStatus> = before.into_iter().chain([first]).chain(after).collect();
        prop_assert_eq!(fold(&stream), first);
    }
}
