//! Twilio's error body (`code`, `message`, `more_info`, `status`) as a typed error.

use serde::Deserialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error body; `code` is Twilio's (20003, 21211, ...).
    #[error("Twilio error {code:?} (HTTP {status}): {message}")]
    Api {
        status: u16,
        code: Option<i64>,
        message: String,
        more_info: Option<String>,
    },
    /// The request never reached Twilio (DNS, connect refused): nothing was processed.
    #[error("could not reach Twilio: {0}")]
    Unreachable(String),
    /// Sent, but no usable answer came back (timeout, reset, 5xx): the outcome is unknown.
    #[error("no answer from Twilio: {0}")]
    NoAnswer(String),
    #[error("unexpected response from Twilio: {0}")]
    Decode(String),
    /// Refused before sending: the base URL is neither Twilio's nor explicitly allowed.
    #[error("request not sent: {0}")]
    NotAllowed(String),
}

impl TwilioError {
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 429 (20429) is documented as never processed; a connect failure never left us.
    pub fn was_not_processed(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::NotAllowed(_)) || self.status() == Some(429)
    }

    /// Worth retrying for an idempotent request.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) | Self::NoAnswer(_) => true,
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            Self::Decode(_) | Self::NotAllowed(_) => false,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub code: Option<i64>,
    pub message: Option<String>,
    pub more_info: Option<String>,
}

/// Twilio refusing a request is the caller's to fix; Twilio not answering is not.
impl From<TwilioError> for crate::error::AppError {
    fn from(err: TwilioError) -> Self {
        use crate::error::AppError;
        match &err {
            TwilioError::Api {
                status,
                code,
                message,
                ..
            } if *status < 500 && *status != 429 => AppError::BadInput {
                message: format!(
                    "Twilio refused the request (error {}): {message}",
                    code.unwrap_or_default()
                ),
                field: None,
            },
            TwilioError::NotAllowed(reason) => AppError::Forbidden(reason.clone()),
            _ => AppError::UpstreamUnavailable(err.to_string()),
        }
    }
}
