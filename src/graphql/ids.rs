//! GraphQL `ID` values are our UUIDs as strings.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub fn parse_id(field: &'static str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::bad_input(field, "not a valid id"))
}
