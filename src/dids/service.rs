//! DID rules: buying, assigning, forwarding, re-pointing webhooks, health, release. Each lives
//! in a file of its own; this is the one path the rest of the crate calls them by.

pub use super::assignment::assign;
pub use super::forwarding::set_forwarding;
pub use super::health::{update_health, verdict, Outcomes, HEALTH_MIN_CALLS};
pub use super::import::{import, SkippedNumber, SyncReport};
pub use super::lookup::{assigned_to, count, for_user, get, get_for, page};
pub use super::numbers::{country_of, parse_e164};
pub use super::purchase::{available, purchase};
pub use super::release::{release, release_idle};
pub use super::webhooks::{configure_webhooks, webhooks_for, WebhookReport};
