//! Which kinds of number may be called: mobile and fixed lines by default; any other type
//! (premium rate, shared cost, satellite, ...) or range only once an administrator allows it.
//! The same rule guards contacts, transfer targets and forwarding at input, and every dial.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::db::schema::number_allowances;
use crate::error::{AppError, AppResult};
use crate::phone::{self, NumberType, PhoneNumber};
use crate::text_enum;
use crate::viewer::Viewer;

text_enum! {
    /// What a number allowance covers.
    pub enum AllowanceKind {
        /// Every number of one NumberType.
        Type => "TYPE",
        /// Every number whose international digits start with a prefix.
        Prefix => "PREFIX",
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = number_allowances)]
pub struct Allowance {
    pub id: Uuid,
    pub kind: AllowanceKind,
    pub value: String,
    pub note: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Every allowance in force; a small table read whole.
#[derive(Clone, Debug, Default)]
pub struct Allowances {
    pub types: Vec<NumberType>,
    /// Digits after `+`.
    pub prefixes: Vec<String>,
}

impl Allowances {
    pub fn permit(&self, e164: &str, kind: NumberType) -> NumberFact {
        let digits = e164.trim_start_matches('+');
        let allowed = kind.callable_by_default()
            || self.types.contains(&kind)
            || self.prefixes.iter().any(|p| digits.starts_with(p.as_str()));
        NumberFact {
            number_type: kind,
            allowed,
        }
    }

    /// The parsed number back if it may be called, else why not (for per-row reports).
    pub fn callable(&self, parsed: PhoneNumber) -> Result<PhoneNumber, String> {
        let fact = self.permit(parsed.e164.as_str(), parsed.number_type);
        if fact.allowed {
            Ok(parsed)
        } else {
            Err(fact.refusal())
        }
    }
}

/// The gate's fact about the destination's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberFact {
    pub number_type: NumberType,
    pub allowed: bool,
}

impl Default for NumberFact {
    fn default() -> Self {
        Self {
            number_type: NumberType::Mobile,
            allowed: true,
        }
    }
}

impl NumberFact {
    pub fn refusal(&self) -> String {
        format!(
            "a {} number: only mobile and fixed-line numbers may be called unless an administrator allows this type or range",
            self.number_type
        )
    }
}

pub async fn load(conn: &mut AsyncPgConnection) -> AppResult<Allowances> {
    let rows: Vec<(AllowanceKind, String)> = number_allowances::table
        .select((number_allowances::kind, number_allowances::value))
        .load(conn)
        .await?;
    let mut allowances = Allowances::default();
    for (kind, value) in rows {
        match kind {
            AllowanceKind::Type => {
                if let Ok(t) = value.parse() {
                    allowances.types.push(t);
                }
            }
            AllowanceKind::Prefix => allowances.prefixes.push(value),
        }
    }
    Ok(allowances)
}

/// The facts for stored E.164 numbers, at dial time, in the order given. Mobile and fixed
/// lines need no query; the allowances are read once if any number is of another kind.
pub async fn facts(conn: &mut AsyncPgConnection, e164s: &[&str]) -> AppResult<Vec<NumberFact>> {
    let kinds: Vec<NumberType> = e164s.iter().map(|e| phone::classify(e)).collect();
    let allowances = if kinds.iter().all(|k| k.callable_by_default()) {
        Allowances::default()
    } else {
        load(conn).await?
    };
    Ok(e164s
        .iter()
        .zip(kinds)
        .map(|(e164, kind)| allowances.permit(e164, kind))
        .collect())
}

/// Parses a number given as input and refuses it (as `field`) unless it may be called.
pub async fn parse_callable(
    conn: &mut AsyncPgConnection,
    field: &'static str,
    raw: &str,
    default_country: &str,
) -> AppResult<PhoneNumber> {
    let parsed = phone::parse(raw, default_country)
        .map_err(|e| AppError::bad_input(field, format!("{raw:?} is {e}")))?;
    let e164 = parsed.e164.clone();
    load(conn)
        .await?
        .callable(parsed)
        .map_err(|why| AppError::bad_input(field, format!("{e164} is {why}")))
}

pub async fn list(conn: &mut AsyncPgConnection) -> AppResult<Vec<Allowance>> {
    Ok(number_allowances::table
        .order(number_allowances::created_at)
        .select(Allowance::as_select())
        .load(conn)
        .await?)
}

const MAX_NOTE: usize = 200;

/// Allows a type (its name) or a prefix (digits, `+` optional); audited.
pub async fn allow(
    state: &AppState,
    admin: &Viewer,
    kind: AllowanceKind,
    value: &str,
    note: Option<&str>,
) -> AppResult<Allowance> {
    let value = match kind {
        AllowanceKind::Type => value.to_owned(),
        AllowanceKind::Prefix => {
            let digits = value.trim().trim_start_matches('+');
            if digits.is_empty() || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return Err(AppError::bad_input(
                    "prefix",
                    "1 to 15 digits of the international number, such as 870 or +447624",
                ));
            }
            digits.to_owned()
        }
    };
    let note = note.unwrap_or("").trim();
    if note.chars().count() > MAX_NOTE || note.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "note",
            format!("at most {MAX_NOTE} characters, no control characters"),
        ));
    }
    let mut conn = state.conn().await?;
    diesel::insert_into(number_allowances::table)
        .values((
            number_allowances::id.eq(Uuid::now_v7()),
            number_allowances::kind.eq(kind),
            number_allowances::value.eq(&value),
            number_allowances::note.eq(note),
            number_allowances::created_by.eq(admin.id),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    let allowance: Allowance = number_allowances::table
        .filter(number_allowances::kind.eq(kind))
        .filter(number_allowances::value.eq(&value))
        .select(Allowance::as_select())
        .first(&mut conn)
        .await?;
    audit::service::record(
        &mut conn,
        Some(admin.id),
        "number_allowance.add",
        "number_allowance",
        &allowance.id.to_string(),
        json!({"kind": kind, "value": value, "note": note}),
    )
    .await?;
    Ok(allowance)
}

pub async fn revoke(state: &AppState, admin: &Viewer, id: Uuid) -> AppResult<Allowance> {
    let mut conn = state.conn().await?;
    let gone: Allowance = diesel::delete(number_allowances::table.find(id))
        .returning(Allowance::as_returning())
        .get_result(&mut conn)
        .await
        .map_err(|e| match e {
            diesel::result::Error::NotFound => AppError::NotFound("number allowance"),
            other => other.into(),
        })?;
    audit::service::record(
        &mut conn,
        Some(admin.id),
        "number_allowance.remove",
        "number_allowance",
        &id.to_string(),
        json!({"kind": gone.kind, "value": gone.value}),
    )
    .await?;
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mobile_and_fixed_lines_unless_allowed() {
        let none = Allowances::default();
        assert!(none.permit("+84912345678", NumberType::Mobile).allowed);
        assert!(
            !none
                .permit("+841900123451", NumberType::PremiumRate)
                .allowed
        );
        assert!(!none.permit("+870772123456", NumberType::Satellite).allowed);
        let some = Allowances {
            types: vec![NumberType::TollFree],
            prefixes: vec!["870".into()],
        };
        assert!(some.permit("+18005550100", NumberType::TollFree).allowed);
        assert!(some.permit("+870772123456", NumberType::Satellite).allowed);
        assert!(!some.permit("+881612345678", NumberType::Satellite).allowed);
    }
}
