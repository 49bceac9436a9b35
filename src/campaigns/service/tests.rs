//! The campaign lifecycle's allowed and refused moves.

use super::*;

#[test]
fn lifecycle_moves() {
    use CampaignStatus::*;
    assert_eq!(next_status(Draft, Transition::Start, false), Some(Running));
    assert_eq!(next_status(Draft, Transition::Start, true), Some(Scheduled));
    assert_eq!(next_status(Running, Transition::Pause, false), Some(Paused));
    assert_eq!(
        next_status(Paused, Transition::Resume, false),
        Some(Running)
    );
    assert_eq!(next_status(Completed, Transition::Cancel, false), None);
    assert_eq!(next_status(Running, Transition::Start, false), None);
    assert_eq!(next_status(Cancelled, Transition::Resume, false), None);
}
