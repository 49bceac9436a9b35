//! The campaign's usable caller IDs, read once per claim.

use diesel_async::AsyncPgConnection;

use crate::campaigns::Campaign;
use crate::dids::{Did, DidStatus};
use crate::error::AppResult;
use crate::twilio_accounts::{AccountStatus, TwilioAccount};

/// The campaign's usable caller IDs, read once per claim.
pub(super) struct CallerIds {
    pub(super) usable: Vec<(Did, TwilioAccount)>,
    /// Some numbers are fine but the accounts they sit on are not ACTIVE.
    pub(super) account_down: bool,
}

impl CallerIds {
    /// Rotated by contact so several numbers share the load.
    pub(super) fn pick(&self, contact_id: i64) -> Option<&(Did, TwilioAccount)> {
        if self.usable.is_empty() {
            return None;
        }
        self.usable
            .get((contact_id.unsigned_abs() as usize) % self.usable.len())
    }
}

/// The numbers of the campaign that are still the owner's, ACTIVE, on an ACTIVE account.
pub(super) async fn caller_ids(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
) -> AppResult<CallerIds> {
    let mut usable = Vec::new();
    let mut account_down = false;
    for id in &campaign.caller_id_dids {
        let Ok(did) = Did::find(conn, *id).await else {
            continue;
        };
        if did.status != DidStatus::Active || did.assigned_user_id != Some(campaign.owner_id) {
            continue;
        }
        match TwilioAccount::find(conn, did.twilio_account_id).await {
            Ok(account) if account.status == AccountStatus::Active => usable.push((did, account)),
            Ok(_) => account_down = true,
            Err(_) => {}
        }
    }
    Ok(CallerIds {
        usable,
        account_down,
    })
}
