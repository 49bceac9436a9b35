//! GraphQL `ID` values are our UUIDs as strings.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub fn parse_id(field: &'static str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::bad_input(field, "not a valid id"))
}

/// The id of a row keyed by a table-local number: `Kind:n`. UUIDs are unique across tables on
/// their own; numbers are not (contact 7 and ledger entry 7 both exist), so the kind makes
/// them globally unique for `node(id:)` and client caches.
pub fn numbered_id(kind: &str, n: i64) -> ID {
    ID(format!("{kind}:{n}"))
}

/// The kind and number of a `Kind:n` id; `None` for anything else (a UUID, say).
pub fn parse_numbered(id: &ID) -> Option<(&str, i64)> {
    let (kind, n) = id.as_str().split_once(':')?;
    Some((kind, n.parse().ok().filter(|n: &i64| *n > 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_ids_round_trip_and_refuse_the_rest() {
        let id = numbered_id("Contact", 42);
        assert_eq!(id.as_str(), "Contact:42");
        assert_eq!(parse_numbered(&id), Some(("Contact", 42)));
        for bad in [
            "42",
            "Contact:",
            "Contact:-1",
            "Contact:x",
            "Contact:99999999999999999999",
        ] {
            assert_eq!(parse_numbered(&ID(bad.into())), None, "{bad}");
        }
    }
}
