//! Adding contacts: numbers normalised with the campaign's default country, invalid rows reported
//! with their reason, duplicates within a campaign dropped and counted.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{Contact, ContactFilter, ContactSearch, ContactState, NewContact, StateCounts};
use super::sort::ContactOrderField;
use crate::app::AppState;
use crate::campaigns;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::phone;
use crate::viewer::Viewer;

/// Contacts per `addContacts` call; bigger lists go through `importContacts`.
pub const MAX_PER_CALL: usize = 5000;
/// Limits on one contact, the same for `addContacts` and `importContacts`.
pub const MAX_NAME: usize = 200;
pub const MAX_VARS: usize = 50;
pub const MAX_VARS_BYTES: usize = 4096;

pub struct ContactInput {
    pub phone: String,
    pub name: Option<String>,
    pub vars: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Clone)]
pub struct AddReport {
    pub added: usize,
    pub duplicates: usize,
    /// (1-based position, value, reason)
    pub invalid: Vec<(usize, String, String)>,
}

pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    contacts: Vec<ContactInput>,
) -> AppResult<AddReport> {
    if contacts.len() > MAX_PER_CALL {
        return Err(AppError::bad_input(
            "contacts",
            format!("at most {MAX_PER_CALL} per call; use importContacts for more"),
        ));
    }
    let campaign = campaigns::service::owned_editable(state, viewer, campaign_id).await?;
    let allowances = crate::compliance::numbers::load(&mut *state.conn().await?).await?;
    let mut report = AddReport::default();
    let mut rows = Vec::with_capacity(contacts.len());
    let mut seen = std::collections::HashSet::new();
    for (index, contact) in contacts.into_iter().enumerate() {
        let position = index + 1;
        let parsed = match phone::parse(&contact.phone, &campaign.default_country)
            .map_err(|e| e.to_string())
            .and_then(|p| allowances.callable(p))
        {
            Ok(parsed) => parsed,
            Err(reason) => {
                report
                    .invalid
                    .push((position, contact.phone.chars().take(40).collect(), reason));
                continue;
            }
        };
        let name = contact.name.unwrap_or_default().trim().to_owned();
        let vars = Value::Object(contact.vars.unwrap_or_default());
        if let Some(reason) = refuse_extras(&name, &vars) {
            report.invalid.push((position, contact.phone, reason));
            continue;
        }
        if !seen.insert(parsed.e164.clone()) {
            report.duplicates += 1;
            continue;
        }
        rows.push(NewContact {
            campaign_id,
            phone: parsed.e164,
            country: parsed.country,
            name,
            vars,
        });
    }
    let mut conn = state.conn().await?;
    let mut added = 0;
    for chunk in rows.chunks(1000) {
        added += Contact::insert_new(&mut conn, chunk).await?;
    }
    report.duplicates += rows.len() - added;
    report.added = added;
    Ok(report)
}

/// Why a contact's name or template variables are refused, if they are: the limits above, and
/// control characters (a NUL cannot be stored in text or JSONB at all).
pub fn refuse_extras(name: &str, vars: &Value) -> Option<String> {
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Some(format!(
            "name longer than {MAX_NAME} characters or has control characters"
        ));
    }
    refuse_vars(vars)
}

/// Why a contact's template variables are refused, if they are (the CSV import's rule too).
pub fn refuse_vars(vars: &Value) -> Option<String> {
    if vars.as_object().is_some_and(|v| v.len() > MAX_VARS) {
        return Some(format!("more than {MAX_VARS} variables"));
    }
    let json = vars.to_string();
    if json.len() > MAX_VARS_BYTES {
        return Some(format!("vars larger than {MAX_VARS_BYTES} bytes"));
    }
    if has_nul(vars) {
        return Some("vars contain a NUL character".into());
    }
    None
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The campaign's contacts matching `states` and `search` (a number, read in the campaign's
/// default country, or else the start of a name), once the viewer may see the campaign.
pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    states: Option<Vec<ContactState>>,
    search: Option<&str>,
    sort: ContactOrderField,
    seek: &Seek,
) -> AppResult<(Vec<Contact>, ContactFilter)> {
    let campaign = campaigns::service::get(state, viewer, campaign_id).await?;
    let search =
        search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
            match crate::phone::parse(s, &campaign.default_country) {
                Ok(number) => ContactSearch::Phone(number.e164),
                Err(_) => ContactSearch::NamePrefix(s.to_owned()),
            }
        });
    let filter = ContactFilter { states, search };
    let rows = Contact::page(&mut *state.conn().await?, campaign_id, &filter, sort, seek).await?;
    Ok((rows, filter))
}

/// How many contacts `page` pages through. Without a search it is read from the campaign's
/// maintained counters, so a list of millions costs the same as a list of ten; a search counts
/// its index range. The caller has already been checked by `page`.
pub async fn count(state: AppState, campaign_id: Uuid, filter: ContactFilter) -> AppResult<i64> {
    if filter.search.is_some() {
        return Ok(Contact::count(&mut *state.conn().await?, campaign_id, &filter).await?);
    }
    let c = counts(&state, campaign_id).await?;
    let of = |s: ContactState| match s {
        ContactState::Pending => c.pending,
        ContactState::Calling => c.calling,
        ContactState::Done => c.done,
        ContactState::Failed => c.failed,
        ContactState::Machine => c.machine,
        ContactState::OptedOut => c.opted_out,
        ContactState::Skipped => c.skipped,
    };
    Ok(match &filter.states {
        None => c.total(),
        Some(states) => {
            let mut distinct = states.clone();
            distinct.sort_by_key(|s| s.as_str());
            distinct.dedup();
            distinct.into_iter().map(of).sum()
        }
    })
}

/// One contact, for the owner of its campaign or an ADMIN; NOT_FOUND for anyone else.
pub async fn get(state: &AppState, viewer: &Viewer, id: i64) -> AppResult<Contact> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let contact = crate::db::schema::campaign_contacts::table
        .find(id)
        .select(Contact::as_select())
        .first(&mut *state.conn().await?)
        .await
        .optional()?
        .ok_or(AppError::NotFound("contact"))?;
    campaigns::service::get(state, viewer, contact.campaign_id).await?;
    Ok(contact)
}

pub async fn counts(state: &AppState, campaign_id: Uuid) -> AppResult<StateCounts> {
    Ok(Contact::counts(&mut *state.conn().await?, campaign_id).await?)
}
