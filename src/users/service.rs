//! Account rules: validation, creation, admin updates (always audited), the first admin.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::json;
use uuid::Uuid;

use super::model::{NewUser, Role, User, UserChanges, UserFilter, UserStatus};
use crate::app::AppState;
use crate::audit;
use crate::auth::model::RefreshToken;
use crate::auth::{password, Viewer};
use crate::error::{AppError, AppResult};
use crate::events::Event;

pub const EVENT_USER_UPDATED: &str = "user.updated";
const MAX_NAME_CHARS: usize = 100;

pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub role: Role,
}

pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
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

fn parse_name(raw: Option<&str>) -> AppResult<String> {
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

pub struct UserUpdate {
    pub id: Uuid,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub name: Option<String>,
}

/// Admin update. Suspension revokes every session at once.
pub async fn update(state: &AppState, admin: &Viewer, update: UserUpdate) -> AppResult<User> {
    if update.id == admin.id
        && (update.role == Some(Role::User) || update.status == Some(UserStatus::Suspended))
    {
        return Err(AppError::bad_input(
            "id",
            "admins cannot demote or suspend themselves",
        ));
    }
    let name = update
        .name
        .as_deref()
        .map(|n| parse_name(Some(n)))
        .transpose()?;
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    let user = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before = find(conn, update.id).await?;
            let changes = UserChanges {
                name,
                role: update.role,
                status: update.status,
                password_hash: None,
                updated_at: Some(chrono::Utc::now()),
            };
            let after = User::update(conn, update.id, &changes).await?;
            if after.status == UserStatus::Suspended && before.status != UserStatus::Suspended {
                RefreshToken::revoke_all_for_user(conn, after.id, chrono::Utc::now()).await?;
            }
            audit::service::record(
                conn,
                Some(admin_id),
                "user.update",
                "user",
                &after.id.to_string(),
                json!({
                    "before": {"role": before.role, "status": before.status, "name": before.name},
                    "after": {"role": after.role, "status": after.status, "name": after.name},
                }),
            )
            .await?;
            Ok(after)
        })
        .await?;
    state
        .events
        .publish(Event::new(EVENT_USER_UPDATED, user.id))
        .await;
    Ok(user)
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

pub async fn page(
    state: &AppState,
    filter: &UserFilter,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<User>> {
    let mut conn = state.conn().await?;
    Ok(User::page(&mut conn, filter, after, limit).await?)
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
