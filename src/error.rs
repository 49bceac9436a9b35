//! `AppError`: the one place where failures become GraphQL `extensions.code` values.

use async_graphql::ErrorExtensions;

pub type AppResult<T> = Result<T, AppError>;

/// Codes a client can rely on in `errors[].extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    InsufficientBalance,
    ComplianceBlocked,
    RateLimited,
    UpstreamUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::InsufficientBalance => "INSUFFICIENT_BALANCE",
            Self::ComplianceBlocked => "COMPLIANCE_BLOCKED",
            Self::RateLimited => "RATE_LIMITED",
            Self::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// Deliberately not `Display`: async-graphql converts any `Display` error into a GraphQL
/// error without a code, so `?` must only ever find the `From` impl below.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(&'static str),
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict {
        message: String,
        field: Option<&'static str>,
    },
    InsufficientBalance(String),
    ComplianceBlocked(String),
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    UpstreamUnavailable(String),
    /// The detail is logged with an id; the client only sees the id.
    Internal(anyhow::Error),
}

impl AppError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The message a client may see (never internal details).
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::InsufficientBalance(m)
            | Self::ComplianceBlocked(m)
            | Self::UpstreamUnavailable(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadInput { message, .. }
            | Self::Conflict { message, .. }
            | Self::RateLimited { message, .. } => message.clone(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// For jobs and the CLI, which report through anyhow.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Internal(source) => source,
            other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.message()),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::InsufficientBalance(_) => ErrorCode::InsufficientBalance,
            Self::ComplianceBlocked(_) => ErrorCode::ComplianceBlocked,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::UpstreamUnavailable(_) => ErrorCode::UpstreamUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code();
        let message = match &self {
            Self::Internal(source) => {
                let error_id = uuid::Uuid::new_v4();
                tracing::error!(error.id = %error_id, error = ?source, "internal error");
                format!("internal error (id {error_id})")
            }
            other => other.message(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            match &self {
                Self::BadInput {
                    field: Some(field), ..
                }
                | Self::Conflict {
                    field: Some(field), ..
                } => ext.set("field", *field),
                Self::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfter", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.into_graphql()
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => Self::NotFound("record"),
            // PostgreSQL text cannot hold NUL; any input that carried one is the caller's.
            diesel::result::Error::DatabaseError(_, ref info)
                if info.message().contains("0x00") || info.message().contains("\\u0000") =>
            {
                Self::BadInput {
                    message: "text must not contain NUL (\\u0000) characters".into(),
                    field: None,
                }
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::UpstreamUnavailable(format!("database unavailable: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(err: AppError) -> serde_json::Value {
        let gql = err.into_graphql();
        serde_json::to_value(gql.extensions).unwrap_or_default()
    }

    #[test]
    fn every_variant_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated("x".into()), "UNAUTHENTICATED"),
            (AppError::Forbidden("x".into()), "FORBIDDEN"),
            (AppError::NotFound("user"), "NOT_FOUND"),
            (AppError::bad_input("email", "bad"), "BAD_USER_INPUT"),
            (AppError::conflict("email", "taken"), "CONFLICT"),
            (
                AppError::InsufficientBalance("x".into()),
                "INSUFFICIENT_BALANCE",
            ),
            (
                AppError::ComplianceBlocked("x".into()),
                "COMPLIANCE_BLOCKED",
            ),
            (
                AppError::RateLimited {
                    message: "x".into(),
                    retry_after_secs: 3,
                },
                "RATE_LIMITED",
            ),
            (
                AppError::UpstreamUnavailable("x".into()),
                "UPSTREAM_UNAVAILABLE",
            ),
            (AppError::internal(anyhow::anyhow!("boom")), "INTERNAL"),
        ];
        for (err, code) in cases {
            assert_eq!(extensions(err)["code"], code);
        }
    }

    #[test]
    fn field_errors_carry_the_field() {
        let ext = extensions(AppError::bad_input("password", "too short"));
        assert_eq!(ext["field"], "password");
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let gql = AppError::internal(anyhow::anyhow!("password=hunter2 at db")).into_graphql();
        assert!(!gql.message.contains("hunter2"), "{}", gql.message);
        assert!(gql.message.starts_with("internal error"));
    }
}
