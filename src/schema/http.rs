//! `POST/GET /graphql`: body limit, bearer auth, request metadata, then the schema.
//!
//! The body is read through our own limit because async-graphql-axum's extractor does not
//! apply axum's body limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::http::MultipartOptions;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};

use crate::auth;
use crate::error::{AppError, ErrorCode};
use crate::forwarded::client_ip;
use crate::graphql::context::RequestMeta;
use crate::graphql::response::error_response;
use crate::schema::ServerState;

pub async fn graphql_post(
    State(server): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let upload = content_type.is_some_and(|t| t.starts_with("multipart/form-data"));
    let limits = &server.app.config.graphql;
    let max = if upload {
        limits.max_upload_bytes
    } else {
        limits.max_body_bytes
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max) {
        return too_large(max);
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let mut seen = 0usize;
    let flag = exceeded.clone();
    let reader = body
        .into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            seen += chunk.len();
            if seen > max {
                flag.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("request body too large"));
            }
            Ok(chunk)
        })
        .into_async_read();
    let options = MultipartOptions::default()
        .max_file_size(max)
        .max_num_files(4);
    let request = match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => request,
        Err(_) if exceeded.load(Ordering::Relaxed) => return too_large(max),
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &e.to_string(),
            )
        }
    };
    execute(server, &headers, peer, request).await
}

pub async fn graphql_get(
    State(server): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &e.to_string(),
            )
        }
    };
    // A GET can be triggered by any page the user visits; it must never change state.
    if has_mutation(&request.query) {
        return error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "mutations must be sent with POST",
        );
    }
    execute(server, &headers, peer, request).await
}

async fn execute(
    server: ServerState,
    headers: &HeaderMap,
    peer: SocketAddr,
    mut request: async_graphql::Request,
) -> Response {
    // An invalid token is treated as no token: `login` must work with a stale header, and
    // every protected field answers UNAUTHENTICATED on its own.
    let ip = client_ip(headers, peer, server.app.config.trust_proxy);
    if let Some(token) = bearer(headers) {
        match auth::service::authenticate(&server.app, token, Some(&ip)).await {
            Ok(signed) => request = request.data(signed.viewer),
            // An integration has no sign-in to fall back on: say at once that its key failed.
            Err(AppError::Unauthenticated(_)) if auth::api_keys::is_api_key(token) => {
                return error_response(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    "this API key is unknown, revoked or expired, or its owner is suspended",
                )
            }
            Err(AppError::Unauthenticated(_)) => {}
            Err(e) => {
                return error_response(StatusCode::SERVICE_UNAVAILABLE, e.code(), &e.message())
            }
        }
    }
    request = request.data(RequestMeta { ip });
    let response = server.schema.execute(request).await;
    async_graphql_axum::GraphQLResponse::from(response).into_response()
}

fn has_mutation(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations
            .iter()
            .any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
    })
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    strip_bearer(value)
}

pub fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn too_large(max: usize) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadUserInput,
        &format!("request body too large: the limit is {max} bytes"),
    )
}
