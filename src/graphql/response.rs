//! A GraphQL-shaped error body for what a resolver never sees: a refused HTTP request, an
//! export route, an upload over the limit.

use async_graphql::ServerError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ErrorCode;

pub fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    let body = async_graphql::Response::from_errors(vec![error]);
    (status, axum::Json(body)).into_response()
}
