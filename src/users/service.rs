//! Account rules: validation, creation, admin updates (always audited), the first admin.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::json;
use uuid::Uuid;

use super::model::{NewUser, Role, User, UserChanges, UserFilter};
use super::password;
use super::sort::UserOrderField;
use crate::app::AppState;
use crate::audit;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

pub const EVENT_USER_UPDATED: &str = "user.updated";
const MAX_NAME_CHARS: usize = 100;

pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub role: Role,
}

/// One spelling per address: invisible characters (zero-width spaces, joiners, soft hyphens,
/// BOMs) removed, compatibility forms folded (NFKC: full-width letters become ASCII), lower
/// case. Applied at sign-up and sign-in, so look-alikes are one account, not several.
pub fn normalize_email(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let visible: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
    let folded: String = visible.nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect::<String>().trim().to_owned()
}

/// Format characters (Cf) and the other default-ignorable code points that render as nothing.
fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
        || matches!(c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
            | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FFA0}' | '\u{E0100}'..='\u{E01EF}')
}

/// A deliberately loose check: one `@`, something on both sides, a dot in the domain.
pub fn parse_email(raw: &str) -> AppResult<String> {
    let email = normalize_email(raw);
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(AppError::bad_input("email", "not a valid email address"))
    }
}

pub fn parse_name(raw: Option<&str>) -> AppResult<String> {
    let name = raw.unwrap_or("").trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            "name",
            format!("name must have at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "name",
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Creates an account; `actor` is the admin doing it (None for sign-up and the CLI).
pub async fn create(
    state: &AppState,
    actor: Option<&Viewer>,
    account: NewAccount,
) -> AppResult<User> {
    let mut conn = state.conn().await?;
    create_on(&mut conn, actor, account).await
}

pub async fn create_on(
    conn: &mut AsyncPgConnection,
    actor: Option<&Viewer>,
    account: NewAccount,
) -> AppResult<User> {
    let email = parse_email(&account.email)?;
    let name = parse_name(account.name.as_deref())?;
    password::validate("password", &account.password)?;
    let password_hash = password::hash(&account.password).await?;
    let actor_id = actor.map(|a| a.id);
    conn.transaction::<_, AppError, _>(async move |conn| {
        let user = NewUser {
            id: Uuid::now_v7(),
            email: &email,
            name: &name,
            password_hash: &password_hash,
            role: account.role,
        }
        .insert(conn)
        .await
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("email", "an account with this email already exists")
            }
            other => other.into(),
        })?;
        if let Some(actor_id) = actor_id {
            audit::service::record(
                conn,
                Some(actor_id),
                "user.create",
                "user",
                &user.id.to_string(),
                json!({"email": user.email, "role": user.role}),
            )
            .await?;
        }
        Ok(user)
    })
    .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<User> {
    User::find(conn, id).await.map_err(|e| match e {
        DieselError::NotFound => AppError::NotFound("user"),
        other => other.into(),
    })
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<User> {
    let mut conn = state.conn().await?;
    find(&mut conn, id).await
}

/// An account its owner or an admin may see; NOT_FOUND for anyone else, as for no account.
pub async fn get_for(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<User> {
    if id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("user"));
    }
    get(state, id).await
}

pub async fn page(
    state: &AppState,
    filter: &UserFilter,
    sort: UserOrderField,
    seek: &Seek,
) -> AppResult<Vec<User>> {
    let mut conn = state.conn().await?;
    Ok(User::page(&mut conn, filter, sort, seek).await?)
}

pub async fn count(state: AppState, filter: UserFilter) -> AppResult<i64> {
    Ok(User::count(&mut *state.conn().await?, &filter).await?)
}

/// The signed-in user's own profile: only what a user may change about themselves (the name);
/// role and status stay with admins. Open websockets of the user hear `userUpdated`.
pub async fn update_me(state: &AppState, viewer: &Viewer, name: Option<&str>) -> AppResult<User> {
    let changes = UserChanges {
        name: name.map(|n| parse_name(Some(n))).transpose()?,
        updated_at: Some(chrono::Utc::now()),
        ..UserChanges::default()
    };
    let user = User::update(&mut *state.conn().await?, viewer.id, &changes).await?;
    state
        .events
        .publish(crate::events::Event::new(EVENT_USER_UPDATED, user.id))
        .await;
    Ok(user)
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: String,
) -> AppResult<()> {
    let changes = UserChanges {
        password_hash: Some(hash),
        updated_at: Some(chrono::Utc::now()),
        ..UserChanges::default()
    };
    User::update(conn, id, &changes).await?;
    Ok(())
}

/// What `ensure_first_admin` did.
pub enum FirstAdmin {
    Exists,
    Created {
        email: String,
        generated_password: Option<String>,
    },
}

/// Creates the first admin when there is none, from the settings or with a generated password.
pub async fn ensure_first_admin(state: &AppState) -> AppResult<FirstAdmin> {
    let mut conn = state.conn().await?;
    if User::any_admin(&mut conn).await? {
        return Ok(FirstAdmin::Exists);
    }
    let email = state
        .config
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@ringcast.local".into());
    let (password, generated) = match &state.config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (
            Alphanumeric.sample_string(&mut rand::thread_rng(), 20),
            true,
        ),
    };
    let account = NewAccount {
        email: email.clone(),
        password: password.clone(),
        name: Some("Administrator".into()),
        role: Role::Admin,
    };
    match create_on(&mut conn, None, account).await {
        Ok(user) => {
            audit::service::record(
                &mut conn,
                None,
                "user.create_first_admin",
                "user",
                &user.id.to_string(),
                json!({"email": user.email}),
            )
            .await?;
            Ok(FirstAdmin::Created {
                email: user.email,
                generated_password: generated.then_some(password),
            })
        }
        // Another node created it at the same moment.
        Err(AppError::Conflict { .. }) => Ok(FirstAdmin::Exists),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_emails_normalise_to_one_address() {
        for raw in [
            "Admin@Example.com",
            " admin@example.com ",
            "ad\u{200B}min@example.com",
            "\u{FEFF}admin@exa\u{200D}mple.com\u{2060}",
            "ａｄｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "ＡＤＭＩＮ@example.com",
            "ad\u{00AD}min@example.com",
        ] {
            assert_eq!(normalize_email(raw), "admin@example.com", "{raw:?}");
        }
        assert_ne!(normalize_email("admín@example.com"), "admin@example.com");
    }
}
