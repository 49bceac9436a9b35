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

/// The authenticated caller of a request, re-read from the database for every request
/// so a suspension or role change takes effect at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub role: Role,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
