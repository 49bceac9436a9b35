//! Twilio: the REST client, its resource types and errors, TwiML and webhook signatures.

pub mod client;
pub mod endpoint;
pub mod error;
pub mod signature;
pub mod twiml;
pub mod types;

pub use client::TwilioClient;
pub use error::TwilioError;
