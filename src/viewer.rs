//! Who is asking: the signed-in caller and the role and status every layer checks. Kept in the
//! kernel because the GraphQL toolkit and the event bus filter by it as much as the domains do.

use uuid::Uuid;

use crate::text_enum;

text_enum! {
    pub enum Role {
        Admin => "ADMIN",
        User => "USER",
    }
}

text_enum! {
    pub enum UserStatus {
        Active => "ACTIVE",
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
