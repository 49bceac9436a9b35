//! Sign-up, sign-in, tokens (JWT access + rotating refresh), login throttling.

pub mod api_keys;
pub mod graphql;
pub mod jobs;
pub mod model;
pub mod reset;
pub mod service;
pub mod throttle;
pub mod tokens;

pub use crate::viewer::Viewer;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("too many sign-ups from this address; try again in {retry_after_secs} seconds")]
    SignupThrottled { retry_after_secs: u64 },
    #[error("missing, invalid or expired token")]
    InvalidToken,
    #[error("refresh token already used; every session of this sign-in has been revoked")]
    RefreshReuse,
    #[error("this account is suspended")]
    Suspended,
    #[error("sign-up is disabled on this server")]
    SignupDisabled,
    #[error("current password is wrong")]
    WrongCurrentPassword,
    #[error("this reset link is unknown, used or expired; ask an administrator for a new one")]
    InvalidResetToken,
}

impl From<AuthError> for crate::error::AppError {
    fn from(err: AuthError) -> Self {
        use crate::error::AppError;
        match err {
            AuthError::Throttled { retry_after_secs }
            | AuthError::SignupThrottled { retry_after_secs } => AppError::RateLimited {
                message: err.to_string(),
                retry_after_secs,
            },
            AuthError::InvalidCredentials | AuthError::InvalidToken | AuthError::RefreshReuse => {
                AppError::Unauthenticated(err.to_string())
            }
            AuthError::Suspended | AuthError::SignupDisabled => {
                AppError::Forbidden(err.to_string())
            }
            AuthError::WrongCurrentPassword => {
                AppError::bad_input("currentPassword", err.to_string())
            }
            AuthError::InvalidResetToken => AppError::bad_input("token", err.to_string()),
        }
    }
}
