//! Who is asking: the signed-in caller and the role and status every layer checks. Kept in the
//! kernel because the GraphQL toolkit and the event bus filter by it as much as the domains do.

use uuid::Uuid;

use crate::text_enum;

text_enum! {
    /// What an account may do.
    pub enum Role {
        /// Administrator: manages users, Twilio accounts, numbers and compliance settings.
        Admin => "ADMIN",
        /// Customer: runs their own campaigns with their own prepaid balance.
        User => "USER",
    }
}

text_enum! {
    /// Whether an account may sign in.
    pub enum UserStatus {
        /// May sign in and use the API.
        Active => "ACTIVE",
        /// Blocked by an admin: cannot sign in, sessions ended, campaigns paused.
        Suspended => "SUSPENDED",
    }
}

text_enum! {
    /// What an API key may do on its owner's behalf; a key never does more than its owner may.
    pub enum ApiScope {
        /// Queries and subscriptions.
        Read => "READ",
        /// Campaign, contact and do-not-call mutations.
        Campaigns => "CAMPAIGNS",
        /// Top-ups.
        Billing => "BILLING",
        /// Administrator operations; only an administrator may create a key with it.
        Admin => "ADMIN",
    }
}

/// The authenticated caller of a request, re-read from the database for every request
/// so a suspension or role change takes effect at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub role: Role,
    /// `Some` when the caller signed in with an API key: only these scopes are allowed.
    /// `None` for a password sign-in, which may do everything its role may.
    pub scopes: Option<Vec<ApiScope>>,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// A password sign-in (a person), as opposed to an API key.
    pub fn is_api_key(&self) -> bool {
        self.scopes.is_some()
    }

    /// FORBIDDEN, naming the scope, when an API key lacks `scope`; a password sign-in has all.
    pub fn require_scope(&self, scope: ApiScope) -> crate::error::AppResult<()> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => Err(crate::error::AppError::Forbidden(
                format!("this API key lacks the {} scope", scope.as_str()),
            )),
            _ => Ok(()),
        }
    }
}
